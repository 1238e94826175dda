"""parse_encounter reads whatever a ruleset declares: field types, references between
events, defaults from another kind, limits, unique ids, and a second timed kind with time
fields of its own names, each error at the path of the record it names."""
from __future__ import annotations

import datetime

import pytest

from engine.core.encounter import EncounterError, parse_encounter
from tests.declared import declared_input

# A second timed kind, timed by fields of its own names, with a number, a reference to an
# administration, a session defaulting to the administrations' and a short limit.
CHECKS = """
events check from checks, at most 2, timed begun .. ended [cpt]
  field ref: text, unique
  field volume: number
  field after: id of administration
  field session: text, else first in administration
  field begun: time, required
  field ended: time
  derive took = time from begun to ended
"""
DECLARED = declared_input(extra=CHECKS)


def administration(id="a1", start="2026-03-14T10:00", **extra) -> dict:
    return {"id": id, "drug": "d", "category": "therapeutic", "route": "iv", "method": "push", "start": start,
            **extra}


def check(**fields) -> dict:
    return {"begun": "2026-03-14T11:00", **fields}


def record(*checks, administrations=None, **extra) -> dict:
    return {"id": "e", "date": "2026-03-14", "claim": "facility",
            "administrations": administrations or [administration()], "checks": list(checks), **extra}


def rejected(data) -> EncounterError:
    with pytest.raises(EncounterError) as caught:
        parse_encounter(data, DECLARED)
    return caught.value


def checks(data) -> tuple:
    return parse_encounter(data, DECLARED).events["check"]


@pytest.mark.parametrize("volume", [0, 250, 2.5, -1])
def test_a_number_field_takes_json_numbers(volume):
    assert checks(record(check(volume=volume)))[0].values["volume"] == volume


def test_a_missing_number_is_none():
    assert checks(record(check()))[0].values["volume"] is None


@pytest.mark.parametrize(("volume", "shown"), [(True, "True"), (False, "False"), ("250", "'250'"), (None, "None"),
                                               ([1], "[1]")])
def test_a_number_field_rejects_booleans_strings_and_null(volume, shown):
    error = rejected(record(check(), check(volume=volume)))
    assert (error.path, error.message) == ("checks[1].volume", f"expected a number; got {shown}")


def test_an_id_of_a_kind_must_name_an_event_of_that_kind():
    data = record(check(after="a1"), administrations=[administration("a1"), administration("a2")])
    assert checks(data)[0].values["after"] == "a1"
    error = rejected(record(check(after="a1"), check(after="zz")))
    assert (error.path, error.message) == ("checks[1].after", "expected the id of an administration; got 'zz'")


def test_an_id_of_a_kind_is_not_the_id_of_another_kind():
    error = rejected(record(check(ref="c1"), check(ref="c2", after="c1")))
    assert error.path == "checks[1].after"


def test_the_encounters_id_of_a_kind_is_checked_too():
    error = rejected(record(primary="c1"))
    assert (error.path, error.message) == ("primary", "expected the id of an administration; got 'c1'")


def test_else_first_in_takes_the_first_session_documented_in_start_order():
    administrations = [administration("a1", "2026-03-14T12:00", session="late"),
                       administration("a2", "2026-03-14T09:00"),
                       administration("a3", "2026-03-14T10:00", session="early")]
    parsed = parse_encounter(record(check(), check(session="own"), administrations=administrations), DECLARED)
    # a2 is the first by start, but documents no session: a3's is the first documented.
    assert [a.values["session"] for a in parsed.events["administration"]] == ["late", "early", "early"]
    assert [c.values["session"] for c in parsed.events["check"]] == ["early", "own"]


def test_else_first_in_leaves_the_field_missing_when_none_is_documented():
    assert checks(record(check()))[0].values["session"] is None


def test_a_list_past_its_declared_limit_names_the_list():
    assert len(checks(record(check(), check()))) == 2
    error = rejected(record(check(), check(), check()))
    assert (error.path, error.message) == ("checks", "expected at most 2 entries; got 3")


def test_the_limit_is_read_before_the_entries():
    error = rejected(record(check(volume="x"), check(), check()))
    assert error.path == "checks"


def test_a_unique_id_may_be_absent_but_not_repeated():
    assert [c.id for c in checks(record(check(), check()))] == [None, None]
    assert [c.id for c in checks(record(check(ref="c1"), check()))] == ["c1", None]
    error = rejected(record(check(ref="c1"), check(ref="c1")))
    assert (error.path, error.message) == ("checks[1].ref", "expected a unique id (checks[0] has it already); got 'c1'")


def test_a_second_timed_kind_is_timed_by_its_own_fields():
    (timed,) = checks(record(check(begun="2026-03-14T11:00+01:00", ended="2026-03-14T11:45+01:00")))
    assert (timed.start, timed.stop) == (datetime.datetime(2026, 3, 14, 11, 0), datetime.datetime(2026, 3, 14, 11, 45))
    assert timed.stop_s - timed.start_s == 45 * 60
    assert timed.values["begun"] == timed.start


def test_a_second_timed_kind_rejects_a_stop_before_its_start_at_its_own_path():
    error = rejected(record(check(), check(begun="2026-03-14T11:00", ended="2026-03-14T10:59")))
    assert (error.path, error.message) == (
        "checks[1].ended", "expected a time at or after begun 2026-03-14T11:00:00; got '2026-03-14T10:59:00'")


def test_a_second_timed_kind_rejects_a_stop_too_long_after_its_start():
    error = rejected(record(check(begun="2026-03-14T11:00", ended="2026-05-14T11:00")))
    assert error.path == "checks[0].ended" and "within 31 days of begun" in error.message


def test_a_second_timed_kind_reads_its_naive_times_in_the_encounters_zone():
    """The contract: a time without an offset is in the local time of the encounter, whatever
    list it is in. Here the only aware time, +05:00, is an administration's."""
    data = record(check(begun="2026-03-14T11:00"),
                  administrations=[administration(start="2026-03-14T10:00+05:00")])
    (timed,) = parse_encounter(data, DECLARED).events["check"]
    at_plus_five = datetime.datetime(2026, 3, 14, 11, tzinfo=datetime.timezone(datetime.timedelta(hours=5)))
    assert timed.start_s == int(at_plus_five.timestamp())


def test_a_kind_not_required_may_be_absent_but_a_required_one_may_not():
    data = record()
    del data["checks"]
    assert parse_encounter(data, DECLARED).events["check"] == ()
    del data["administrations"]
    assert rejected(data).path == "administrations"
