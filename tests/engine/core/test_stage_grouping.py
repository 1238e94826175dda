"""The merge, initial and edit stages find each event's group, role and cuts and each line's
partners by look-up, not by passing over every other event or line for each one, so an
encounter of thousands of administrations codes in about linear time. Their results must be
those of the passes they replace, to the byte:

- the stage records (merge, initial, edit) and results of every golden case are kept in
  tests/golden/stages.txt, written by the stages as they were, each record in its flat form
  (`as_dict()`) (INFUSE_REGENERATE=1 rewrites it, to be read before it is committed);
- random encounters code alike, results and every trace record (the partner of a concurrent
  event and the event a repeat repeats too), with the stages' look-ups (`_Cuts`,
  `group_keys`, `Roles`, `_Partners`, `require`) replaced by the straightforward passes
  below, kept here as the definition. They run on the bundled
  rulesets and on a copy whose hydration merge also takes hydration time away, so that
  each group merged changes the time the next one loses.
"""
import contextlib
import difflib
import json
import os
import shutil
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import engine
from dsl.checked import CheckedEdit, CheckedLimit, CheckedPair, CheckedRequire
from engine.core import intervals
from engine.core.stages import edits, grouping, initial, merge
from engine.core.stages.state import Run, WorkLine
from engine.core.trace import EditRecord
from bench import corpus
from tests.conftest import CASES, ROOT, RULESET_2026
from tests.golden import load_cases
from tests.strategies import encounters

GOLDEN = ROOT / "tests" / "golden" / "stages.txt"
STAGES = ("merge", "initial", "edit")


# ----- the definition: each event or line against all the others --------------------------

class ScanningCuts:
    """The time a group loses: every event as the list stands, searched for each group."""

    def __init__(self, stage, events):
        self.stage = stage
        self.events = list(events)

    def removed(self, first):
        stage = self.stage
        return intervals.union(
            span for other in self.events
            if stage.minus_field and other.values.get(stage.minus_field) in stage.minus_values
            and all(other.values.get(k) == first.values.get(k) for k in stage.minus_keys)
            for span in other.intervals)

    def replace(self, members, merged):
        first, member_ids = members[0], {id(m) for m in members}
        self.events = [merged if e is first else e for e in self.events if e is first or id(e) not in member_ids]


def scanning_group_keys(keys, events):
    """A missing key value: the first documented one among the events agreeing on the keys before it."""
    found = []
    for event in events:
        key = []
        for i, name in enumerate(keys):
            value = event.values.get(name)
            if value is None:
                value = next((other.values.get(name) for other in events
                              if other.values.get(name) is not None
                              and all(other.values.get(k) == v for k, v in zip(keys[:i], key))), None)
            key.append(value)
        found.append(tuple(key))
    return found


class ScanningRoles:
    """Each role from every other event of the group, as the values stand when it is asked."""

    def __init__(self, stage, initial, events, facts):
        # `facts` (what makes two events alike) is not read: the definition compares the
        # drugs itself, as the bundled rulesets declare (`alike by drug`).
        assert facts.alike == "drug"
        self.stage, self.initial, self.events = stage, initial, events

    def role(self, event):
        field, concurrent = self.stage.ranked_field, self.stage.concurrent
        if event.values.get(field) in concurrent:
            for other in self.events:
                if other is event or not (other is self.initial or other.order < event.order):
                    continue
                if (other.values.get(field) in concurrent and other.values["drug"] != event.values["drug"]
                        and any(intervals.overlaps(a, b) for a in other.intervals for b in event.intervals)):
                    return "concurrent"
        if any(o.order < event.order and o.values["drug"] == event.values["drug"] for o in self.events if o is not event):
            return "repeat"
        return "sequential"

    def repeats(self, event):
        field = self.stage.ranked_field
        return next((o.values["role"] for o in reversed(self.events) if o.order < event.order
                     and o.values["drug"] == event.values["drug"]
                     and o.values.get(field) == event.values.get(field)), None)

    def partner(self, event):
        """The initial event when it makes `event` concurrent, else the earliest that does."""
        field, concurrent = self.stage.ranked_field, self.stage.concurrent
        return next((other for other in sorted(self.events, key=lambda o: (o is not self.initial, o.order))
                     if other is not event and (other is self.initial or other.order < event.order)
                     and other.values.get(field) in concurrent and other.values["drug"] != event.values["drug"]
                     and any(intervals.overlaps(a, b) for a in other.intervals for b in event.intervals)), None)

    def repeat_of(self, event):
        return next(o for o in self.events if o.order < event.order and o.values["drug"] == event.values["drug"])

    def given(self, event):
        pass


class ScanningPartners(edits._Partners):
    def distinct(self, line, attribute):
        value = line.values.get(attribute)
        return value is not None and all(p.values.get(attribute) != value for p in self.of(line))


def scanning_require(clauses, finding, rule, run):
    """Remove the first add-on line left without a primary code, and search again from the top."""
    while True:
        codes = {line.code for line in run.lines}
        stranded = next(((line, index) for line in run.lines for index, clause in clauses
                         if line.code in clause.addons and not codes & clause.primaries), None)
        if stranded is None:
            return
        line, index = stranded
        run.raise_finding(finding, rule, line.administrations)
        if run.trace is not None:
            run.trace.append(EditRecord(rule, index, "remove", line.code, line.administrations))
        run.lines = [other for other in run.lines if other is not line]


@contextlib.contextmanager
def scanning():
    """The stages with the definitions above in place of their look-ups, while it lasts."""
    with (mock.patch.object(merge, "_Cuts", ScanningCuts),
          mock.patch.object(grouping, "group_keys", scanning_group_keys),
          mock.patch.object(initial, "Roles", ScanningRoles),
          mock.patch.multiple(edits, _Partners=ScanningPartners, require=scanning_require)):
        yield


def coded(coder, data, by_scanning: bool = False) -> tuple:
    """The lines and findings (without the texts the rules quote) and the trace of one
    encounter, or its error; `by_scanning`, with the definitions in place."""
    try:
        ruleset, encounter = coder.select(data)
    except engine.core.encounter.EncounterError as error:
        return ("error", str(error)), []
    trace: list = []
    with scanning() if by_scanning else contextlib.nullcontext():
        result = coder.pipeline(ruleset).run(encounter, trace=trace).as_dict()
    findings = [{key: finding[key] for key in ("id", "rule", "administrations")} for finding in result["findings"]]
    return {"lines": result["lines"], "findings": findings}, trace


def agree(coder, data) -> bool:
    return coded(coder, data) == coded(coder, data, by_scanning=True)


def self_subtracting_ruleset(folder: Path) -> Path:
    """A copy of the 2026 ruleset whose hydration merge also takes away the hydration time of
    the same drug: a group merged (as its first member's drug) takes time from the next."""
    target = folder / "2026"
    shutil.copytree(RULESET_2026, target)
    rules = target / "hydration.rules"
    text = rules.read_text()
    old = "minus overlap with service = infusion, chemo_infusion, chemo_pump, subq_infusion per session\n"
    assert old in text
    rules.write_text(text.replace(old, "minus overlap with service = hydration, infusion, chemo_infusion, chemo_pump, "
                                       "subq_infusion per session, drug\n"))
    return target


@pytest.fixture(scope="module")
def bundled():
    return engine.load(RULESET_2026)


@pytest.fixture(scope="module")
def self_subtracting(tmp_path_factory):
    return engine.load(self_subtracting_ruleset(tmp_path_factory.mktemp("rules")))


# ----- the golden stage records ------------------------------------------------------------

def stage_records() -> str:
    """Every golden case's merge, initial and edit records and its result, one per line."""
    coder = engine.load(RULESET_2026)
    parts = []
    for name, case in load_cases(CASES):
        result, trace = coded(coder, case["encounter"])
        parts.append(f"## {name}")
        parts.extend(repr(record.as_dict()) for record in trace if record.stage in STAGES)
        parts.append(json.dumps(result, sort_keys=True))
    return "\n".join(parts) + "\n"


def test_stage_records_of_the_golden_cases_match_their_golden_file():
    text = stage_records()
    if os.environ.get("INFUSE_REGENERATE") == "1":
        GOLDEN.write_text(text, encoding="utf-8")
    expected = GOLDEN.read_text(encoding="utf-8")
    diff = "".join(difflib.unified_diff(expected.splitlines(True), text.splitlines(True), "golden", "now", n=1))
    assert text == expected, f"stage records changed (INFUSE_REGENERATE=1 accepts it):\n{diff[:5000]}"


# ----- random encounters against the definition -------------------------------------------

AGREE = settings(derandomize=True, max_examples=300, deadline=None)


@AGREE
@given(encounter=encounters(max_administrations=14))
def test_stages_agree_with_the_scanning_definition(encounter, bundled):
    assert agree(bundled, encounter)


@AGREE
@given(encounter=encounters(max_administrations=14))
def test_stages_agree_when_merged_groups_change_what_the_next_loses(encounter, self_subtracting):
    assert agree(self_subtracting, encounter)


@pytest.mark.parametrize("drugs", (1, 3, 40))
@pytest.mark.parametrize("documented", (True, False))
def test_large_encounters_agree_with_the_scanning_definition(drugs, documented, bundled, self_subtracting):
    """Forty administrations over a day, sixty times: groups, repeats and overlaps the small
    encounters rarely reach."""
    for data in corpus.many_administrations(60, seed=drugs, administrations=40, drugs=drugs, documented=documented):
        assert agree(bundled, data) and agree(self_subtracting, data)


CODES = ("P", "A", "B", "C")
codes = st.frozensets(st.sampled_from(CODES), min_size=1, max_size=2)
requires = st.builds(CheckedRequire, codes, codes)
clauses = st.one_of(
    requires, requires,
    st.builds(CheckedLimit, st.sampled_from(CODES), st.integers(0, 3), st.just("encounter")),
    st.builds(CheckedPair, codes, codes, st.sampled_from(("encounter", "session")),
              st.lists(st.tuples(st.sampled_from(("session", "site")), st.sampled_from(("M1", "M2"))),
                       max_size=2).map(tuple)))
lines = st.lists(st.builds(lambda code, units, session, site, n: WorkLine(
    code, units, "2026-03-14", {"session": session, "site": site}, (f"a{n}",), [], "administration"),
    st.sampled_from(CODES), st.integers(1, 3), st.sampled_from(("1", "2", None)), st.sampled_from(("L", "R", None)),
    st.integers(0, 5)), max_size=14)


@settings(derandomize=True, max_examples=500, deadline=None)
@given(written=st.lists(clauses, min_size=1, max_size=5), made=lines)
@example(written=[CheckedRequire(frozenset("A"), frozenset("B")), CheckedRequire(frozenset("B"), frozenset("P"))],
         made=[WorkLine(code, 1, "2026-03-14", {}, (f"a{i}",), [], "administration") for i, code in enumerate("AB")])
def test_edits_agree_with_the_scanning_definition(written, made):
    """Lines and clauses of any mix: pairs by session or per encounter, limits, an add-on
    whose primary is itself an add-on removed later (the example: A needs B, B needs P)."""
    plan = edits.EditPlan.of(CheckedEdit("e", (), tuple(written), "f"))
    runs = []
    for by_scanning in (False, True):
        copies = [WorkLine(line.code, line.units, line.date, line.values, line.administrations, [], line.kind)
                  for line in made]
        run = Run(None, [], {}, lines=copies, trace=[])
        with scanning() if by_scanning else contextlib.nullcontext():
            edits.edit(plan, run)
        runs.append(([(line.code, line.units, line.modifiers, line.rules, line.administrations) for line in run.lines],
                     {key: list(ids) for key, ids in run.findings.items()}, run.trace))
    assert runs[0] == runs[1]


# ----- the interval tools the stages use ---------------------------------------------------

spans = st.lists(st.tuples(st.integers(0, 40), st.integers(1, 15)).map(lambda s: (s[0], s[0] + s[1])), max_size=12)


@settings(derandomize=True, max_examples=300, deadline=None)
@given(added=st.lists(st.tuples(st.tuples(st.integers(0, 40), st.integers(0, 15)).map(lambda s: (s[0], s[0] + s[1])),
                                st.sampled_from("abc")), max_size=12),
       asked=st.tuples(st.integers(0, 40), st.integers(0, 15)).map(lambda s: (s[0], s[0] + s[1])),
       label=st.sampled_from("abc"))
def test_overlaps_answers_as_a_scan_of_every_interval(added, asked, label):
    seen = intervals.Overlaps(start for (start, _), _ in added)
    for interval, other in added:
        seen.add(interval, other)
    assert seen.meets_other(asked, label) == any(intervals.overlaps(interval, asked) and other != label
                                                 for interval, other in added)


@settings(derandomize=True, max_examples=300, deadline=None)
@given(kept=spans, removed=spans)
def test_subtract_keeps_exactly_the_time_outside_the_cuts(kept, removed):
    kept, removed = intervals.union(kept), intervals.union(removed)
    left = intervals.subtract(kept, removed)
    seconds = {t for start, end in kept for t in range(start, end)} - {t for start, end in removed for t in range(start, end)}
    assert {t for start, end in left for t in range(start, end)} == seconds
    assert left == intervals.union(left) and all(start < end for start, end in left)
