"""The merge and edit stages as the compiled engine runs them, prepared once per ruleset
(engine.core.stages.prepared_edits, prepared_merge), must leave every encounter in the state
the generic stages do, their oracle, after every step (each field of its events and lines,
its findings): the same tables decided the same way, the compiled engine's path
(`generated`) against the generic one. Checked on

- the corpus shapes (bench/corpus.py) through the 2026 ruleset and each payer variant, and
  through copies whose national files act far more (every pair of the ruleset's codes with
  any indicator and dates in and out of force, small unit limits of each adjudication
  indicator; per date and per encounter) or are national-size (bench/ncci.py), and whose
  hydration merge takes hydration time away (the prepared merge hands that one to the
  generic stage);
- the example rulesets (critical care, different-drug-push) on their cases and generated ones;
- random edits of every kind of clause over random lines (hypothesis).
"""
from __future__ import annotations

import random
import shutil
from pathlib import Path

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from bench import corpus, ncci
from dsl.checked import CheckedEdit, CheckedLimit, CheckedLimitsFrom, CheckedPair, CheckedPairsFrom, CheckedRequire
from dsl.edit_data import LimitTable, PairTable
from engine.analyst.cases import load_cases
from engine.core.compiled import CompiledTable, compiled_unit_offsets
from engine.core.encounter import EncounterError, parse_encounter
from engine.core.pipeline import Pipeline
from engine.core.stages import edits, merge
from engine.core.stages.prepared_edits import prepared_edit, prepared_edits
from engine.core.stages.state import Run, WorkLine
from tests.conftest import ROOT, RULESET_2026
from tests.engine.core.test_stage_grouping import self_subtracting_ruleset
from tests.strategies import encounters

CRITICAL_CARE = ROOT / "examples" / "rulesets" / "critical-care"
DIFFERENT_DRUG_PUSH = ROOT / "tests" / "rulesets" / "different-drug-push"
SHAPES = {"domain": 150, "typical_day": 300, "oncology": 40, "adversarial": 8}


class Both:
    """The prepared and the generic pipeline of each ruleset of a folder, and whether they
    leave an encounter in the same state after every step."""

    def __init__(self, folder: Path):
        self.registry = engine.load(folder).registry
        self.rulesets = [ruleset for family in self.registry.families
                         for ruleset in (family.base, *family.variants.values())]
        self.pipelines = {id(ruleset): tuple(Pipeline(ruleset, CompiledTable, compiled_unit_offsets,
                                                      generated=generated) for generated in (True, False))
                          for ruleset in self.rulesets}

    def disagreements(self, data: dict) -> list:
        """(ruleset number, encounter id, step) where `data` stands one way prepared and
        another generic."""
        found = []
        for n, ruleset in enumerate(self.rulesets):
            try:
                encounter = parse_encounter(data, ruleset.input)
            except EncounterError:
                continue
            prepared, generic = self.pipelines[id(ruleset)]
            runs = prepared.start(encounter), generic.start(encounter)
            for (name, step), (_, oracle) in zip(prepared.steps, generic.steps):
                step(runs[0])
                oracle(runs[1])
                if state(runs[0]) != state(runs[1]):
                    found.append((n, data.get("id"), name))
                    break
            else:
                if prepared.as_dict(runs[0]) != generic.as_dict(runs[1]):
                    found.append((n, data.get("id"), "result"))
        return found


def state(run: Run) -> tuple:
    """Every field of every event and line of a run, and its findings."""
    return ([msgspec.structs.astuple(event) for event in run.events],
            [msgspec.structs.astuple(line) for line in run.lines],
            {key: list(ids) for key, ids in run.findings.items()}, {key: list(ids) for key, ids in run.details.items()})


def corpus_encounters() -> list[dict]:
    return [*(data for shape, count in SHAPES.items() for data in getattr(corpus, shape)(count, seed=3)),
            *corpus.many_administrations(3, seed=3, administrations=200)]


def test_the_compiled_engine_runs_the_prepared_stages_and_the_reference_engine_the_generic():
    for name, generic in (("compiled", False), ("reference", True)):
        coder = engine.load(RULESET_2026, engine=name)
        steps = dict(coder.pipeline(coder.registry.latest.base).steps)
        assert [getattr(steps[step], "func", None) in (edits.edit, merge.merge)
                for step in ("edit:ncci-mue", "merge:hydration")] == [generic, generic]


@pytest.fixture(scope="module")
def shapes():
    return corpus_encounters()


def test_the_corpus_codes_alike_through_2026_and_its_payer_variants(shapes):
    both = Both(RULESET_2026)
    assert len(both.rulesets) == 1 + len(both.registry.latest.variants) >= 4
    assert [found for data in shapes for found in both.disagreements(data)] == []


def dense_edit_data(folder: Path, seed: int, per: str = "date") -> Path:
    """A copy of the 2026 ruleset whose PTP files pair every two of its codes half the time,
    with indicator 0, 1 or 9 and rows in force or not on 2026 dates, and whose MUE files
    limit each code to 1-3 units by line or by date; `per` the PTP and MUE clauses' `per`."""
    target = folder / f"dense-{seed}-{per}"
    shutil.copytree(RULESET_2026, target)
    rng = random.Random(seed)
    codes = sorted(engine.load(RULESET_2026).registry.latest.base.codes)
    for name in ncci.PTP_FILES:
        rows = [ncci.PTP_HEADER]
        for column1 in codes:
            for column2 in codes:
                if column1 != column2 and rng.random() < 0.5:
                    effective = rng.choice(("20090101", "20260301", "20260701", "20270101"))
                    deletion = rng.choice(("*", "*", "*", "20260601", "20261001"))
                    deletion = deletion if deletion > effective else "*"
                    indicator = rng.choice("0119")
                    rows.append(f"{column1},{column2},,{effective},{deletion},{indicator},Mutually exclusive\n")
        (target / "data" / name).write_text("".join(rows))
    for name in ncci.MUE_FILES:
        rows = [ncci.MUE_HEADER, *(f"{code},{rng.randint(1, 3)},{rng.choice(ncci.MAI)},Clinical: Data\n"
                                   for code in codes if rng.random() < 0.8)]
        (target / "data" / name).write_text("".join(rows))
    rules = target / "ncci.rules"
    rules.write_text(rules.read_text().replace(" per date ", f" per {per} "))
    return target


def national_size_data(folder: Path) -> Path:
    """A copy of the 2026 ruleset with PTP and MUE files as bench/ncci.py writes them."""
    target = folder / "national"
    shutil.copytree(RULESET_2026, target)
    data = target / "data"
    for name in ncci.PTP_FILES:
        ncci.write_ptp(data / name, 20_000, RULESET_2026 / "data" / name)
    for name in ncci.MUE_FILES:
        ncci.write_mue(data / name, 2_000, RULESET_2026 / "data" / name)
    return target


@pytest.mark.parametrize("made", ("dense-1-date", "dense-2-encounter", "national", "self-subtracting"))
def test_the_corpus_codes_alike_where_the_edits_and_merges_act_more(made, shapes, tmp_path):
    if made.startswith("dense"):
        _, seed, per = made.split("-")
        folder = dense_edit_data(tmp_path, int(seed), per)
    elif made == "national":
        folder = national_size_data(tmp_path)
    else:
        folder = self_subtracting_ruleset(tmp_path)
    both = Both(folder)
    assert [found for data in shapes for found in both.disagreements(data)] == []


@settings(derandomize=True, max_examples=200, deadline=None)
@given(encounter=st.one_of(encounters(max_administrations=14), encounters(mixed_offsets=True)))
def test_generated_encounters_code_alike(encounter, both_2026):
    assert both_2026.disagreements(encounter) == []


@pytest.fixture(scope="module")
def both_2026():
    return Both(RULESET_2026)


@pytest.mark.parametrize("folder", (CRITICAL_CARE, DIFFERENT_DRUG_PUSH), ids=lambda folder: folder.name)
def test_the_example_rulesets_code_their_cases_alike(folder):
    both = Both(folder)
    cases, problems = load_cases(folder / "tests", both.registry.latest.base.input)
    assert cases and not problems
    assert [found for case in cases for found in both.disagreements(case.encounter)] == []


periods = st.lists(st.builds(lambda activity, start, minutes, stopped: (activity, start, minutes if stopped else None),
                             st.sampled_from(("care", "care", "procedure")), st.integers(0, 300),
                             st.integers(0, 150), st.booleans()), min_size=1, max_size=8)


@settings(derandomize=True, max_examples=150, deadline=None)
@given(made=periods)
def test_critical_care_periods_merge_alike(made, both_critical_care):
    """Periods of care and of procedures overlapping at random, some without a stop."""
    def at(minute: int) -> str:
        return f"2026-05-04T{8 + minute // 60:02d}:{minute % 60:02d}"
    data = {"id": "cc", "date": "2026-05-04", "payer": "medicare",
            "periods": [{"id": f"p{n}", "activity": activity, "start": at(start),
                         **({} if minutes is None else {"stop": at(start + minutes)})}
                        for n, (activity, start, minutes) in enumerate(made)]}
    assert both_critical_care.disagreements(data) == []


@pytest.fixture(scope="module")
def both_critical_care():
    return Both(CRITICAL_CARE)


# ----- random edits over random lines ----------------------------------------------------

CODES = ("P", "A", "B", "C")
DATES = ("2026-03-14", "2026-03-15")
codes = st.frozensets(st.sampled_from(CODES), min_size=1, max_size=2)
distinctions = st.lists(st.tuples(st.sampled_from(("session", "site")), st.sampled_from(("M1", "M2"))),
                        max_size=2).map(tuple)
missing = st.lists(st.tuples(st.sampled_from(("session", "site")), st.sampled_from(("g1", "g2"))),
                   max_size=2).map(tuple)
where = st.sampled_from(((), (("claim", frozenset({"facility"})),),
                         (("claim", frozenset({"facility", "professional"})), ("site", frozenset({"L"})))))
pair_rows = st.dictionaries(st.sampled_from(CODES), st.dictionaries(
    st.sampled_from(CODES), st.lists(st.tuples(st.sampled_from(("2026-01-01", "2026-03-15")),
                                               st.sampled_from((None, "2026-03-15", "2027-01-01")),
                                               st.sampled_from("019")), min_size=1, max_size=2)))
limit_rows = st.dictionaries(st.sampled_from(CODES), st.tuples(st.integers(0, 3), st.sampled_from("123")))


def pair_table(made: dict) -> PairTable:
    by_column2 = {column2: {column1: tuple((column1, column2, effective, deletion, indicator, n)
                                           for n, (effective, deletion, indicator) in enumerate(rows))
                            for column1, rows in partners.items()}
                  for column2, partners in made.items()}
    return PairTable("ptp.csv", "", 0, by_column2)


clauses = st.one_of(
    st.builds(CheckedRequire, codes, codes),
    st.builds(CheckedLimit, st.sampled_from(CODES), st.integers(0, 3), st.just("encounter")),
    st.builds(CheckedPair, codes, codes, st.sampled_from(("encounter", "session")), distinctions, missing),
    st.builds(lambda per, made, distinct, gaps, acting: CheckedPairsFrom("ptp.csv", "", per, distinct,
                                                                          pair_table(made), gaps, acting),
              st.sampled_from(("date", "encounter")), pair_rows, distinctions, missing, where),
    st.builds(lambda per, made, acting: CheckedLimitsFrom(
        "mue.csv", "", per, LimitTable("mue.csv", "", 0, {code: (code, units, mai, 1)
                                                          for code, (units, mai) in made.items()}), acting),
        st.sampled_from(("date", "encounter")), limit_rows, where))
lines = st.lists(st.builds(lambda code, units, date, claim, session, site, modifiers, n: WorkLine(
    code, units, date, {"claim": claim, "session": session, "site": site}, (f"a{n}",), [], "administration",
    list(modifiers)),
    st.sampled_from(CODES), st.integers(1, 3), st.sampled_from(DATES), st.sampled_from(("facility", "professional")),
    st.sampled_from(("1", "2", None)), st.sampled_from(("L", "R", None)), st.lists(st.sampled_from(("M1", "XE")),
                                                                                  max_size=1),
    st.integers(0, 5)), max_size=12)


@settings(derandomize=True, max_examples=600, deadline=None)
@given(written=st.lists(clauses, min_size=1, max_size=5), made=lines)
def test_random_edits_act_alike(written, made):
    """Any mix of clauses on any lines: what is left of each line, in order, and the findings."""
    plan = edits.EditPlan.of(CheckedEdit("e", (), tuple(written), "f"))
    _act_alike(prepared_edit(plan), lambda run: edits.edit(plan, run), made)


@settings(derandomize=True, max_examples=400, deadline=None)
@given(written=st.lists(st.lists(clauses, min_size=1, max_size=3), min_size=2, max_size=4), made=lines)
def test_edits_that_follow_one_another_act_as_one_step_alike(written, made):
    """Edits joined into one step (the codes gathered once, the requires of a later edit after
    an earlier one took lines away) leave what each edit in turn leaves."""
    plans = tuple(edits.EditPlan.of(CheckedEdit(f"e{n}", (), tuple(clauses_), f"f{n}"))
                  for n, clauses_ in enumerate(written))

    def each(run):
        for plan in plans:
            edits.edit(plan, run)
    _act_alike(prepared_edits(plans), each, made)


def test_a_requires_after_a_requires_sees_the_lines_it_took_away():
    """The second edit's add-on B needs A, which the first edit took away (its primary P is not
    on the claim): the codes gathered before the first requires no longer hold for the second."""
    plans = tuple(edits.EditPlan.of(CheckedEdit(f"e{n}", (), (CheckedRequire(frozenset(addon), frozenset(primary)),),
                                                f"f{n}")) for n, (addon, primary) in enumerate(("AP", "BA")))
    made = [WorkLine(code, 1, DATES[0], {}, (f"a{code}",), [], "administration", []) for code in "AB"]

    def each(run):
        for plan in plans:
            edits.edit(plan, run)
    _act_alike(prepared_edits(plans), each, made)
    run = Run(None, [], {}, lines=list(made))
    prepared_edits(plans)(run)
    assert run.lines == []


def _act_alike(prepared, generic, made: list):
    outcomes = []
    for act in (prepared, generic):
        copies = [WorkLine(line.code, line.units, line.date, line.values, line.administrations, [], line.kind,
                           list(line.modifiers)) for line in made]
        run = Run(None, [], {}, lines=copies)
        act(run)
        outcomes.append(([(line.code, line.units, line.modifiers, line.rules, line.administrations)
                          for line in run.lines], {key: list(ids) for key, ids in run.findings.items()}))
    assert outcomes[0] == outcomes[1]
