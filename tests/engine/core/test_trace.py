"""The pipeline's trace records (engine.core.trace) hold what it decided, on both engines: the event
that made another concurrent, the primary promoted, the offset and date of every unit, the
distinction that added a modifier, the ties that chose the initial service; none is built
when no trace is asked for.
"""
import collections
import copy
from unittest import mock

import pytest
from hypothesis import given, settings

from engine.core import intervals

from engine.core import trace as trace_module
from engine.core.reference import reference_unit_offsets
from engine.core.trace import EditRecord, InitialRecord, MergeRecord, Role, TableRecord, TieBreak, UnitsRecord
from tests.conftest import CASES
from tests.golden import load_cases
from tests.strategies import encounters

CASE_DATA = dict(load_cases(CASES))
ENGINES = ("compiled", "reference")


@pytest.fixture(params=ENGINES)
def coder(request, compiled_coder, reference_coder):
    return {"compiled": compiled_coder, "reference": reference_coder}[request.param]


def traced(coder, data: dict) -> tuple:
    """The result of one encounter and its trace records."""
    ruleset, encounter = coder.select(copy.deepcopy(data))
    trace: list = []
    return coder.pipeline(ruleset).run(encounter, trace=trace), trace


def case(name: str) -> dict:
    return CASE_DATA[f"{name}.json"]["encounter"]


def the(kind, trace: list):
    (record,) = [record for record in trace if isinstance(record, kind)]
    return record


def administration(ident: str, drug: str, category: str, start: str, stop: str) -> dict:
    return {"id": ident, "drug": drug, "dose": "1 mg", "category": category, "route": "iv", "method": "infusion",
            "start": f"2026-03-14T{start}", "stop": f"2026-03-14T{stop}", "indication": "x", "response": "y"}


def test_a_concurrent_infusion_names_the_initial_one_it_overlaps(coder):
    record = the(InitialRecord, traced(coder, case("41-three-concurrent-infusions-96368-once"))[1])
    assert record.chosen == ("a1",)
    assert record.roles == (Role(("a1",), "initial"), Role(("a2",), "concurrent", partner=("a1",)),
                            Role(("a3",), "concurrent", partner=("a1",)))


def test_a_concurrent_infusion_of_the_initial_drug_names_another_drug(coder):
    """a2 is cisplatin, as the initial a3 is: the event that makes it concurrent is a1; a1, given
    before the initial service, is concurrent with it."""
    data = {"id": "t", "date": "2026-03-14", "claim": "facility", "pos": "19", "administrations": [
        administration("a1", "ondansetron", "therapeutic", "09:00", "10:00"),
        administration("a2", "cisplatin", "therapeutic", "09:10", "09:50"),
        administration("a3", "cisplatin", "chemotherapy", "09:20", "10:30")]}
    record = the(InitialRecord, traced(coder, data)[1])
    assert record.chosen == ("a3",)
    assert record.roles == (Role(("a1",), "concurrent", partner=("a3",)),
                            Role(("a2",), "concurrent", partner=("a1",)), Role(("a3",), "initial"))


def test_a_repeat_names_the_earlier_event_of_its_drug(coder):
    record = the(InitialRecord, traced(coder, case("56-repeat-push-30-min-after-stop"))[1])
    assert record.roles == (Role(("a1",), "initial"), Role(("a2",), "repeat", repeat_of=("a1",)))


def test_a_promoted_primary_is_marked_with_its_own_rank(coder):
    record = the(InitialRecord, traced(coder, case("64-professional-primary-push-wins"))[1])
    (first, second) = record.candidates
    assert (first.ids, first.value, first.rank, first.own_rank, first.promoted, first.primary) == (
        ("a2",), "push", 2, 4, True, True)
    assert (second.ids, second.rank, second.own_rank, second.promoted) == (("a1",), 3, 3, False)
    assert record.selector == "professional"
    assert record.ranking[record.candidates[0].rank] == "primary"
    assert record.primary_of == frozenset({"infusion", "push"})


def test_tie_breaks_name_the_tie_that_decided(coder):
    record = the(InitialRecord, traced(coder, case("56-repeat-push-30-min-after-stop"))[1])
    assert [c.ids for c in record.tied()] == [("a1",), ("a2",)]
    assert record.ties == ("primary", "earliest start", "longest duration")
    assert [c.tie_key[0] for c in record.candidates] == [1, 1]  # neither is the primary reason
    (step,) = record.tie_breaks()
    assert step.tie == "earliest start" and [c.ids for c in step.among] == [("a1",), ("a2",)]


def test_the_order_of_administration_breaks_what_the_ties_leave(coder):
    data = {"id": "t", "date": "2026-03-14", "claim": "facility", "pos": "19", "administrations": [
        administration("a1", "vancomycin", "therapeutic", "09:00", "10:00"),
        administration("a2", "cefazolin", "therapeutic", "09:00", "10:00")]}
    record = the(InitialRecord, traced(coder, data)[1])
    assert record.tie_breaks() == (TieBreak(None, record.candidates),)


def test_units_records_list_offsets_that_match_the_line_units(coder):
    """Midnight crossing: a unit's date is that of the second it is earned at."""
    result, trace = traced(coder, case("67-infusion-crossing-midnight"))
    ruleset = coder.select(copy.deepcopy(case("67-infusion-crossing-midnight")))[0]
    units = [record for record in trace if isinstance(record, UnitsRecord)]
    assert units
    for record in units:
        assert record.units == len(record.dates)
        assert list(record.offsets) == reference_unit_offsets(ruleset.units[record.rule], record.counted)
        lines = collections.Counter({line.date: line.units for line in result.lines if line.code == record.code})
        assert collections.Counter(record.dates) == lines
    hours = next(record for record in units if record.rule == "additional_hours")
    assert (hours.counted, hours.after, hours.period, hours.part) == (110 * 60, 3600, 3600, 1800)
    assert (hours.offsets, hours.dates) == ((90 * 60 + 1,), ("2026-04-07",))  # 00:40, after a start at 23:10


@pytest.mark.parametrize("minutes,units,split,final", [
    (45, 0, (0, 0), None), (75, 0, (0, 15 * 60), False), (125, 1, (1, 5 * 60), False), (151, 2, (1, 31 * 60), True)])
def test_units_records_split_the_time_as_the_rule_reads(minutes, units, split, final, coder):
    hours, rest = divmod(9 * 60 + minutes, 60)
    data = {"id": "t", "date": "2026-03-14", "claim": "facility", "pos": "19", "administrations": [
        administration("a1", "vancomycin", "therapeutic", "09:00", f"{hours:02d}:{rest:02d}")]}
    record = the(UnitsRecord, traced(coder, data)[1])
    assert (record.counted, record.units, record.periods) == (minutes * 60, units, split)
    assert record.beyond == max(0, minutes * 60 - 3600)
    if record.beyond:
        assert record.final_part_counted is final


def test_an_edit_record_names_the_distinction_attribute(coder):
    """The IM injection sits at a documented site the push does not share; the session is the same."""
    for payer, modifier in ((None, "XS"), ("commercial", "59")):
        data = {**case("05-office-migraine-push-and-im"), **({"payer": payer} if payer else {})}
        result, trace = traced(coder, data)
        record = the(EditRecord, [r for r in trace if getattr(r, "edit", None) == "edit/injection-with-iv"])
        assert (record.edit, record.clause, record.action, record.code, record.subject) == (
            "edit/injection-with-iv", 0, "modifier", "96372", ("a2",))
        national = the(EditRecord, [r for r in trace if getattr(r, "edit", None) == "edit/ncci-ptp"])
        assert (national.action, national.modifier, national.present) == ("modifier", modifier, True)
        assert (record.attribute, record.modifier) == ("site", modifier)
        assert [line.modifiers for line in result.lines if line.code == "96372"] == [(modifier,)]


def test_a_merge_record_holds_its_members_and_time(coder):
    record = the(MergeRecord, traced(coder, case("21-hydration-overlap-subtracted"))[1])
    assert record.subject == tuple(a for ids in record.members for a in ids)
    assert record.removed == 3600
    assert record.counted == intervals.total(list(record.intervals))


def test_table_records_hold_the_rows_and_what_the_table_saw(coder):
    trace = traced(coder, case("11-infusion-15-min-is-push"))[1]
    service = next(record for record in trace if isinstance(record, TableRecord) and record.table == "service")
    assert (service.scope, service.subject, service.rows) == ("administration", ("a1",), ("push",))
    assert service.inputs["duration"] == 15 * 60


@pytest.mark.parametrize("name", sorted(CASE_DATA))
def test_both_engines_record_the_same_decisions(name, compiled_coder, reference_coder):
    data = CASE_DATA[name]["encounter"]
    assert traced(compiled_coder, data)[1] == traced(reference_coder, data)[1]


def test_no_record_is_built_without_a_trace(compiled_coder):
    """The stages import a record's class where they build one (engine.core.trace loads with
    the first trace), so refusing the classes there refuses every record."""
    def refused(*args, **kwargs):
        raise AssertionError("a trace record built for an untraced run")
    names = ("TableRecord", "UnitsRecord", "MergeRecord", "InitialRecord", "Role", "Candidate", "EditRecord")
    with mock.patch.multiple(trace_module, **dict.fromkeys(names, refused)):
        for name, data in CASE_DATA.items():
            ruleset, encounter = compiled_coder.select(copy.deepcopy(data["encounter"]))
            compiled_coder.pipeline(ruleset).run(encounter)


@pytest.mark.parametrize("name", ["TableRecord", "UnitsRecord", "MergeRecord", "InitialRecord", "Role",
                                  "Candidate", "EditRecord"])
def test_every_kind_of_record_is_built_from_the_trace_module(name, compiled_coder):
    """A traced run over the cases meets each class refused in engine.core.trace: no stage
    builds a record from a class of its own, which the refusal above would miss."""
    def refused(*args, **kwargs):
        raise LookupError(name)
    with mock.patch.object(trace_module, name, refused), pytest.raises(LookupError, match=name):
        for data in CASE_DATA.values():
            ruleset, encounter = compiled_coder.select(copy.deepcopy(data["encounter"]))
            compiled_coder.pipeline(ruleset).run(encounter, trace=[])


@settings(derandomize=True, max_examples=200, deadline=None)
@given(data=encounters(max_administrations=10))
def test_every_role_names_the_event_behind_it(data, compiled_coder):
    """Concurrent: a ranked event of another drug whose time overlaps; repeat: an earlier ranked
    event of the same drug; the candidates are in rank order, the chosen one first."""
    ruleset, encounter = compiled_coder.select(copy.deepcopy(data))
    trace: list = []
    compiled_coder.pipeline(ruleset).run(encounter, trace=trace)
    administrations = encounter.events["administration"]
    drug = {a.id: a.values["drug"].strip().casefold() for a in administrations}  # `drug` is declared folded
    spans = {(a.id,): [(a.start_s, a.stop_s)] if a.stop_s is not None and a.stop_s > a.start_s else []
             for a in administrations}
    spans.update((record.subject, list(record.intervals)) for record in trace if isinstance(record, MergeRecord))
    for record in (r for r in trace if isinstance(r, InitialRecord)):
        assert [(c.rank, c.tie_key) for c in record.candidates] == sorted((c.rank, c.tie_key) for c in record.candidates)
        ranked = {c.ids for c in record.candidates}
        assert [role.ids for role in record.roles] == [c.ids for c in record.in_order()]
        for role in record.roles:
            assert (role.partner is not None) == (role.role == "concurrent")
            assert (role.repeat_of is not None) == (role.role == "repeat")
            if role.partner is not None:
                assert role.partner in ranked and drug[role.partner[0]] != drug[role.ids[0]]
                assert any(intervals.overlaps(a, b) for a in spans[role.partner] for b in spans[role.ids])
            if role.repeat_of is not None:
                assert role.repeat_of in ranked and drug[role.repeat_of[0]] == drug[role.ids[0]]
