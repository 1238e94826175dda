"""engine.core.events: the facts a ruleset derives for its events (`derive NAME = ...`), each
built-in on small hand-made encounters, read through the input of tests/fixtures/input.rules
with the derivations below added to it (tests/declared.py)."""
from __future__ import annotations

import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.core.encounter import parse_encounter
from engine.core.events import build_events, count_lines
from engine.core.stages.state import WorkLine
from engine.core.trace import TableRecord
from tests.declared import declared_input
from tests.strategies import encounters

MINUTE = 60

ADMINISTRATION_FACTS = """\
  derive since_push = time since previous where method = push
  derive pushes_before = count of previous where method = push
  derive pushes_in_session_before = count of previous where method = push per session
  derive drug_before = count of previous per drug
  derive overlapping = overlaps previous
  derive overlapping_drug = overlaps previous per drug
  derive drug_changed = previous differs in drug
  derive drug_changed_in_session = previous per session differs in drug
  derive run_days = days between start and stop
"""
# An untimed kind with times of its own: `time from` reads them as wall clock.
NOTES = """
events note from notes [cpt]
  field about: id of administration
  field written: time, required
  field read: time
  derive delay = time from written to read
"""
DECLARED = declared_input(administration=ADMINISTRATION_FACTS, extra=NOTES)
DERIVED = {kind.name: [fact.name for fact in kind.derived] for kind in DECLARED.kinds}


def given_at(id, drug, start, stop=None, method="push", **extra) -> dict:
    """An administration on 2026-03-14 (times as HH:MM, or whole ISO date-times)."""
    def stamp(time):
        return time if "T" in time else f"2026-03-14T{time}"
    record = {"id": id, "drug": drug, "category": "therapeutic", "route": "iv", "method": method,
              "start": stamp(start), **extra}
    return dict(record, stop=stamp(stop)) if stop else record


def encounter(*administrations, **extra) -> dict:
    return {"id": "e", "date": "2026-03-14", "claim": "facility", "administrations": list(administrations), **extra}


def events(data: dict, kind: str = "administration") -> list:
    return build_events(parse_encounter(data, DECLARED), DECLARED)[kind]


def fact(data: dict, name: str, kind: str = "administration") -> dict:
    """Event id -> the value of derived fact `name`."""
    return {event.ids[0]: event.values[name] for event in events(data, kind)}


# Given out of order on purpose: the facts follow the start times, not the record's order.
#   a1 ondansetron push      10:00-10:02  session 1
#   a2 normal saline infusion 10:01-11:00 session 1
#   a3 ondansetron push      10:30-10:31  session 2
#   a5 normal saline infusion 10:45-11:15 session 2
#   a4 normal saline push    11:30 (no stop) session 2, written with other case and spaces
DAY = encounter(
    given_at("a4", "  Normal SALINE", "11:30", session="2"),
    given_at("a2", "normal saline", "10:01", "11:00", method="infusion", session="1"),
    given_at("a5", "normal saline", "10:45", "11:15", method="infusion", session="2"),
    given_at("a1", "ondansetron", "10:00", "10:02", session="1"),
    given_at("a3", "ondansetron", "10:30", "10:31", session="2"),
)


def test_events_come_in_start_order_whatever_the_records_order():
    assert [event.ids for event in events(DAY)] == [("a1",), ("a2",), ("a3",), ("a5",), ("a4",)]
    assert [event.order for event in events(DAY)] == [0, 1, 2, 3, 4]


def test_time_between_start_and_stop_is_missing_without_a_stop():
    assert fact(DAY, "duration") == {"a1": 2 * MINUTE, "a2": 59 * MINUTE, "a3": MINUTE, "a5": 30 * MINUTE, "a4": None}


def test_time_between_takes_the_offsets_into_account():
    data = encounter(given_at("a1", "d", "2026-03-14T10:00+02:00", "2026-03-14T09:30+01:00"))
    assert fact(data, "duration") == {"a1": 30 * MINUTE}


def test_time_between_tells_the_stop_by_its_name_not_by_its_wall_clock():
    # An hour apart, though the stop's wall clock reads as the start's: before, the stop was
    # taken for the start and the infusion lasted no time at all.
    data = encounter(given_at("a1", "d", "2026-03-14T10:00+01:00", "2026-03-14T10:00+00:00"))
    assert fact(data, "duration") == {"a1": 60 * MINUTE}


@pytest.mark.parametrize("coder_name", ["compiled_coder", "reference_coder"])
def test_an_hour_written_in_two_offsets_codes_as_an_infusion_on_both_engines(coder_name, request):
    data = encounter(given_at("a1", "ceftriaxone", "2026-03-14T10:00+01:00", "2026-03-14T10:00+00:00",
                              method="infusion", site="L-forearm"))
    lines = request.getfixturevalue(coder_name).code(data).as_dict()["lines"]
    assert [line["code"] for line in lines] == ["96365"]


def test_time_between_in_an_untimed_kind_reads_the_wall_clock():
    data = encounter(given_at("a1", "d", "10:00"), notes=[
        {"about": "a1", "written": "2026-03-14T10:00", "read": "2026-03-14T10:05"},
        {"written": "2026-03-14T23:50", "read": "2026-03-15T00:10"},
        {"written": "2026-03-14T12:00"}])
    # Untimed events come ordered by their values, the missing first: the two about nothing
    # (by the time written), then the one about a1.
    assert [event.values["delay"] for event in events(data, "note")] == [None, 20 * MINUTE, 5 * MINUTE]


def test_time_since_previous_per_drug_is_the_gap_since_the_same_drug_ended():
    # The first of each drug has no gap; a5 starts before a2 ends; a4 (the same drug folded)
    # counts from the latest end of the earlier ones, a5's.
    assert fact(DAY, "gap") == {"a1": None, "a2": None, "a3": 28 * MINUTE, "a5": -15 * MINUTE, "a4": 15 * MINUTE}


def test_time_since_previous_where_method_is_push_is_since_the_last_push_of_any_drug():
    # Every event gets it, matching or not; only pushes end the time it counts from.
    assert fact(DAY, "since_push") == {"a1": None, "a2": -1 * MINUTE, "a3": 28 * MINUTE, "a5": 14 * MINUTE,
                                       "a4": 59 * MINUTE}


def test_time_since_is_missing_while_nothing_earlier_matches():
    data = encounter(given_at("a1", "d", "10:00", "10:30", method="infusion"), given_at("a2", "d", "11:00"))
    assert fact(data, "since_push") == {"a1": None, "a2": None}
    assert fact(data, "gap") == {"a1": None, "a2": 30 * MINUTE}


def test_count_of_previous_where_and_per():
    assert fact(DAY, "pushes_before") == {"a1": 0, "a2": 1, "a3": 1, "a5": 2, "a4": 2}
    assert fact(DAY, "pushes_in_session_before") == {"a1": 0, "a2": 1, "a3": 0, "a5": 1, "a4": 1}
    assert fact(DAY, "drug_before") == {"a1": 0, "a2": 0, "a3": 1, "a5": 1, "a4": 2}


def test_overlaps_previous_with_and_without_per():
    # a4 has no stop, so no time to overlap; a3 overlaps a2, another drug.
    assert fact(DAY, "overlapping") == {"a1": False, "a2": True, "a3": True, "a5": True, "a4": False}
    assert fact(DAY, "overlapping_drug") == {"a1": False, "a2": False, "a3": False, "a5": True, "a4": False}


def test_touching_times_do_not_overlap():
    data = encounter(given_at("a1", "d", "10:00", "10:30"), given_at("a2", "e", "10:30", "10:40"))
    assert fact(data, "overlapping") == {"a1": False, "a2": False}


def test_previous_differs_in_drug_compares_with_the_earlier_event_that_ended_last():
    # a3 follows a2 (ended 11:00), not a1; a5 is the same drug as a2; a4 the same as a5 once folded.
    assert fact(DAY, "drug_changed") == {"a1": None, "a2": True, "a3": True, "a5": False, "a4": False}
    # Per session: a3 is the first of session 2.
    assert fact(DAY, "drug_changed_in_session") == {"a1": None, "a2": True, "a3": None, "a5": True, "a4": False}


def test_previous_differs_takes_the_later_of_two_that_end_together():
    data = encounter(given_at("b1", "x", "10:00", "10:30"), given_at("b2", "y", "10:10", "10:30"),
                     given_at("b3", "y", "10:40"))
    assert fact(data, "drug_changed") == {"b1": None, "b2": True, "b3": False}


@pytest.mark.parametrize(("start", "days"), [
    ("2026-03-14T00:00", 0), ("2026-03-14T23:59", 0), ("2026-03-16T00:30", 2),
    ("2026-03-13T23:00", 1),  # before the date of service: whole days either way
    ("2026-03-15T00:30+05:00", 1),  # the start's own (wall-clock) date
])
def test_days_between_the_date_and_the_start(start, days):
    assert fact(encounter(given_at("a1", "d", start)), "days_from_date") == {"a1": days}


def test_days_between_start_and_stop_is_missing_without_a_stop():
    data = encounter(given_at("a1", "d", "23:30", "2026-03-15T00:15"), given_at("a2", "d", "23:40"))
    assert fact(data, "run_days") == {"a1": 1, "a2": None}


def line(kind: str, session: str | None) -> WorkLine:
    return WorkLine("X", 1, "2026-03-14", {"session": session}, ("a1",), [], kind)


def test_count_of_administration_lines_per_session():
    data = encounter(given_at("a1", "d", "10:00", session="1"),
                     em=[{"code": "99213", "session": "1"}, {"code": "99214", "session": "2"},
                         {"code": "99215", "session": "3"}, {"code": "99211"}])
    em = events(data, "em")
    (counted,) = DECLARED.kind("em").derived
    lines = [line("administration", "1"), line("administration", "1"), line("administration", "2"),
             line("em", "1")]  # a line of another kind does not count
    count_lines(counted, em, lines)
    # 99211 has no session: the first documented one's ("1"), `else first in administration`.
    assert {event.values["code"]: event.values["administration_lines"] for event in em} == {
        "99211": 2, "99213": 2, "99214": 1, "99215": 0}


def test_the_em_table_reads_the_administration_lines_of_its_session(compiled_coder):
    """End to end: the count is taken when the `em` table runs, from the lines made before it."""
    data = encounter(given_at("a1", "ondansetron", "10:00", "10:02", session="1"),
                     given_at("a2", "famotidine", "10:10", "10:12", session="1"),
                     given_at("a3", "ceftriaxone", "12:00", "12:02", session="2"),
                     em=[{"code": "99213", "session": "1"}, {"code": "99214", "session": "3"}])
    ruleset, parsed = compiled_coder.select(data)
    trace: list = []
    result = compiled_coder.pipeline(ruleset).run(parsed, trace=trace)
    seen = {record.subject: record.inputs["administration_lines"] for record in trace
            if isinstance(record, TableRecord) and record.scope == "em"}
    in_session_1 = [line for line in result.lines if set(line.administrations) & {"a1", "a2"}]
    assert in_session_1 and seen == {("99213",): len(in_session_1), ("99214",): 0}


def derived_facts(data: dict) -> dict:
    """Every derived fact of every event: by id, and the untimed E/M services (no ids) by their values."""
    built = build_events(parse_encounter(data, DECLARED), DECLARED)
    facts = {event.ids: {name: event.values[name] for name in DERIVED["administration"]}
             for event in built["administration"]}
    em = sorted(repr(sorted(event.values.items())) for event in built["em"])
    return {"administration": facts, "em": em}


@settings(derandomize=True, max_examples=150, deadline=None)
@given(data=st.data(), record=st.one_of(encounters(max_administrations=8), encounters(mixed_offsets=True)))
def test_shuffling_the_events_never_changes_the_derived_facts(data, record):
    shuffled = dict(record, administrations=data.draw(st.permutations(record["administrations"])),
                    em=data.draw(st.permutations(record.get("em", []))))
    assert derived_facts(shuffled) == derived_facts(record)


def test_derived_times_are_seconds_and_days_whole_numbers():
    (first,) = events(encounter(given_at("a1", "d", "10:00:30", "10:01")))
    assert first.values["duration"] == 30
    assert isinstance(first.values["days_from_date"], int)
    assert first.wall_start == datetime.datetime(2026, 3, 14, 10, 0, 30)
