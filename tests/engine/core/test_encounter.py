"""Tests of engine.core.encounter: the contract's example parses, and each kind of bad input is
rejected at the path a person needs to fix. What a record carries is the ruleset's to declare:
here tests/fixtures/input.rules with the contract's vocabularies (tests/declared.py)."""

import copy
import datetime

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.core.encounter import Documented, EncounterError, parse_encounter, whole_seconds
from engine.core.events import build_events
from tests.declared import VOCABULARIES, declared_input

DECLARED = declared_input()

# The example of ../shared/contract/README.md, verbatim.
EXAMPLE = {
    "id": "ed-2026-0001",
    "date": "2026-03-14",
    "claim": "facility",
    "pos": "23",
    "payer": "medicare",
    "primary": "a2",
    "administrations": [
        {"id": "a1", "drug": "ondansetron", "dose": "4 mg", "category": "therapeutic",
         "route": "iv", "method": "push",
         "start": "2026-03-14T10:02", "stop": "2026-03-14T10:04",
         "site": "L-forearm", "session": "1", "indication": "nausea",
         "response": "nausea resolved"},
        {"id": "a2", "drug": "normal saline", "dose": "1000 mL", "category": "hydration",
         "route": "iv", "method": "infusion",
         "start": "2026-03-14T10:05", "stop": "2026-03-14T11:20", "site": "L-forearm"},
    ],
    "em": [{"code": "99284", "separately_identifiable": True}],
}

MINIMAL_ADMINISTRATION = {
    "id": "a1", "drug": "ondansetron", "category": "therapeutic",
    "route": "iv", "method": "push", "start": "2026-03-14T10:02",
}


def example(change=None):
    """A deep copy of EXAMPLE, changed in place by `change` if given."""
    data = copy.deepcopy(EXAMPLE)
    if change:
        change(data)
    return data


def with_times(*pairs):
    """An encounter whose administrations have these (start, stop) pairs, ids a0, a1, ..."""
    administrations = [
        dict(MINIMAL_ADMINISTRATION, id=f"a{i}", start=start, **({"stop": stop} if stop else {}))
        for i, (start, stop) in enumerate(pairs)
    ]
    return {"id": "e", "date": "2026-03-14", "claim": "facility",
            "administrations": administrations}


def rejected(data, declared=DECLARED):
    with pytest.raises(EncounterError) as caught:
        parse_encounter(data, declared)
    return caught.value


def test_contract_example_parses():
    encounter = parse_encounter(EXAMPLE, DECLARED)

    assert encounter.id == "ed-2026-0001"
    assert encounter.date == datetime.date(2026, 3, 14)
    assert (encounter.values["claim"], encounter.values["pos"], encounter.payer, encounter.primary) == (
        "facility", "23", "medicare", "a2")
    first, second = encounter.events["administration"]
    start, stop = datetime.datetime(2026, 3, 14, 10, 2), datetime.datetime(2026, 3, 14, 10, 4)
    assert first == Documented(
        "administration", 0, "a1",
        {"id": "a1", "drug": "ondansetron", "dose": "4 mg", "category": "therapeutic",
         "hormonal": False, "pump": False, "route": "iv", "method": "push", "start": start, "stop": stop,
         "site": "L-forearm", "session": "1", "indication": "nausea", "response": "nausea resolved"},
        start, stop, first.start_s, first.start_s + 120,
    )
    assert second.stop_s - second.start_s == 75 * 60
    assert encounter.events["em"] == (
        Documented("em", 0, None, {"code": "99284", "session": "1", "separately_identifiable": True}),)


def test_optional_fields_take_their_defaults():
    encounter = parse_encounter(with_times(("2026-03-14T10:02", None)), DECLARED)

    assert (encounter.values["pos"], encounter.payer, encounter.primary, encounter.events["em"]) == (
        None, None, None, ())
    (administration,) = encounter.events["administration"]
    assert administration.stop is None and administration.stop_s is None
    values = administration.values
    assert (values["dose"], values["site"], values["session"], values["indication"], values["response"]) == (None,) * 5
    assert values["hormonal"] is False and values["pump"] is False
    # Was: EmService("99213") defaults (separately_identifiable False, session None); the
    # defaults now come from the declaration, so they are checked on a parsed E/M service.
    data = dict(with_times(("2026-03-14T10:02", None)), em=[{"code": "99213"}])
    (service,) = parse_encounter(data, DECLARED).events["em"]
    assert service.values == {"code": "99213", "session": None, "separately_identifiable": False}


def test_em_without_separately_identifiable_defaults_to_false():
    data = example(lambda e: e["em"][0].pop("separately_identifiable"))

    assert parse_encounter(data, DECLARED).events["em"][0].values["separately_identifiable"] is False


def test_free_text_fields_may_be_empty_and_extra_fields_are_ignored():
    def change(e):
        e["administrations"][0].update(dose="", indication="", response="", note="x")
        e["source"] = "ehr"

    first = parse_encounter(example(change), DECLARED).events["administration"][0]

    assert (first.values["dose"], first.values["indication"], first.values["response"]) == ("", "", "")
    assert "note" not in first.values


@pytest.mark.parametrize("drug", ["Normal Saline", "  normal saline ", "NORMAL SALINE"])
def test_drug_key_ignores_case_and_surrounding_space(drug):
    # Was Administration.drug_key; now the field is declared `folded`, so the record keeps the
    # drug as written and the events the stages read (engine.core.events) carry it folded.
    data = example(lambda e: e["administrations"][1].update(drug=drug))

    encounter = parse_encounter(data, DECLARED)

    assert encounter.events["administration"][1].values["drug"] == drug
    events = build_events(encounter, DECLARED)["administration"]
    assert [event.values["drug"] for event in events] == ["ondansetron", "normal saline"]


def test_vocabularies_come_from_the_ruleset():
    wider = declared_input(vocabularies=VOCABULARIES.replace("intra_arterial", "intra_arterial, oral"))
    data = example(lambda e: e["administrations"][0].update(route="oral"))

    assert parse_encounter(data, wider).events["administration"][0].values["route"] == "oral"
    assert rejected(data).path == "administrations[0].route"
    # Was `parse_encounter(example(), {})`: without a vocabulary any claim is taken. A claim
    # declared as plain text is the equivalent now.
    plain = declared_input(replace={"field claim: claim,": "field claim: text,"})
    assert parse_encounter(example(lambda e: e.update(claim="anything")), plain).values["claim"] == "anything"
    payers = declared_input(vocabularies=VOCABULARIES + "vocabulary payer: commercial [cpt]\n",
                            replace={"field payer: text, picks payer": "field payer: payer"})
    assert rejected(example(), payers).path == "payer"


class TestTimes:
    def test_naive_times_without_any_offset_are_read_as_utc(self):
        (a,) = parse_encounter(with_times(("2026-03-14T10:02", None)), DECLARED).events["administration"]

        expected = datetime.datetime(2026, 3, 14, 10, 2, tzinfo=datetime.timezone.utc)
        assert a.start_s == int(expected.timestamp())

    def test_offset_gives_the_utc_instant_and_keeps_the_wall_clock(self):
        data = with_times(("2026-03-14T10:02+02:00", "2026-03-14T10:04:30+02:00"))

        (a,) = parse_encounter(data, DECLARED).events["administration"]

        utc = datetime.datetime(2026, 3, 14, 8, 2, tzinfo=datetime.timezone.utc)
        assert a.start_s == int(utc.timestamp())
        assert a.stop_s - a.start_s == 150
        assert a.start == datetime.datetime(2026, 3, 14, 10, 2)
        assert a.start.tzinfo is None and a.stop.tzinfo is None

    def test_z_means_utc(self):
        data = with_times(("2026-03-14T10:02Z", None), ("2026-03-14T10:02", None))

        a, b = parse_encounter(data, DECLARED).events["administration"]

        assert a.start_s == b.start_s

    def test_naive_times_take_the_offset_of_the_earliest_aware_time(self):
        data = with_times(
            ("2026-03-14T10:00", "2026-03-14T10:30"),
            ("2026-03-14T10:30", "2026-03-14T11:00-05:00"),
            ("2026-03-14T12:00+01:00", None),
        )

        a, b, c = parse_encounter(data, DECLARED).events["administration"]

        assert a.stop_s - a.start_s == 30 * 60
        assert a.stop_s == b.start_s
        # 12:00+01:00 (11:00Z) is earlier than 11:00-05:00 (16:00Z), so naive times are read at +01:00:
        # b runs from 09:30Z to 16:00Z whatever the order of the administrations.
        assert b.stop_s - b.start_s == 390 * 60
        assert c.start_s - b.stop_s == -5 * 3600
        reordered = dict(data, administrations=data["administrations"][::-1])
        # Equal but for `index`, the place in the record's array (new in Documented).
        same = [msgspec.structs.replace(d, index=i) for i, d in enumerate(parse_encounter(reordered, DECLARED).events["administration"][::-1])]
        assert same == [a, b, c]

    def test_seconds_and_fractions_are_accepted(self):
        data = with_times(("2026-03-14T10:02:03Z", "2026-03-14T10:04:05.250Z"))

        (a,) = parse_encounter(data, DECLARED).events["administration"]

        assert a.stop_s - a.start_s == 122
        assert a.stop == datetime.datetime(2026, 3, 14, 10, 4, 5, 250000)

    def test_crossing_midnight(self):
        data = with_times(("2026-03-14T23:30", "2026-03-15T00:45"))

        (a,) = parse_encounter(data, DECLARED).events["administration"]

        assert a.stop_s - a.start_s == 75 * 60
        assert a.stop.date() == datetime.date(2026, 3, 15)

    def test_stop_equal_to_start_is_accepted(self):
        data = with_times(("2026-03-14T10:00", "2026-03-14T10:00"))

        (a,) = parse_encounter(data, DECLARED).events["administration"]

        assert a.stop_s == a.start_s

    def test_stop_before_start_in_absolute_time_is_rejected(self):
        # Later on the wall clock, earlier in fact: 10:30+02:00 is 08:30Z.
        error = rejected(with_times(("2026-03-14T10:00+00:00", "2026-03-14T10:30+02:00")))

        assert error.path == "administrations[0].stop"


def _set(path, value):
    """A change that sets one field, `path` a sequence of keys and indexes."""
    def change(data):
        *parents, last = path
        for step in parents:
            data = data[step]
        data[last] = value
    return change


def _drop(path):
    """A change that removes one field."""
    def change(data):
        *parents, last = path
        for step in parents:
            data = data[step]
        del data[last]
    return change


A0, A1, EM0 = ("administrations", 0), ("administrations", 1), ("em", 0)

BAD = [
    # missing required fields
    (_drop(["id"]), "id", "required field is missing"),
    (_drop(["date"]), "date", "required field is missing"),
    (_drop(["claim"]), "claim", "required field is missing"),
    (_drop(["administrations"]), "administrations", "required field is missing"),
    *[(_drop([*A1, key]), f"administrations[1].{key}", "required field is missing")
      for key in ("id", "drug", "category", "route", "method", "start")],
    (_drop([*EM0, "code"]), "em[0].code", "required field is missing"),
    # unknown vocabulary words, the allowed ones listed sorted
    (_set(["claim"], "institutional"), "claim",
     "expected one of: facility, professional; got 'institutional'"),
    (_set([*A1, "route"], "oral"), "administrations[1].route",
     "expected one of: im, intra_arterial, intralesional, iv, subq; got 'oral'"),
    (_set([*A0, "category"], "Therapeutic"), "administrations[0].category",
     "expected one of: chemotherapy, diagnostic, hydration, prophylactic, therapeutic; "
     "got 'Therapeutic'"),
    (_set([*A0, "method"], "drip"), "administrations[0].method", "got 'drip'"),
    # wrong JSON types
    (_set(["id"], 17), "id", "expected a string; got 17"),
    (_set([*A0, "drug"], True), "administrations[0].drug", "expected a string; got True"),
    (_set(["payer"], None), "payer", "expected a string; got None"),
    (_set([*A0, "stop"], None), "administrations[0].stop", "expected a string; got None"),
    (_set([*A0, "dose"], 4), "administrations[0].dose", "expected a string; got 4"),
    (_set([*A0, "hormonal"], "true"), "administrations[0].hormonal",
     "expected true or false; got 'true'"),
    (_set([*A0, "pump"], 1), "administrations[0].pump", "expected true or false; got 1"),
    (_set([*EM0, "separately_identifiable"], 0), "em[0].separately_identifiable",
     "expected true or false; got 0"),
    (_set(["administrations"], {"a1": {}}), "administrations", "expected an array; got {"),
    (_set(["em"], "99284"), "em", "expected an array; got '99284'"),
    (_set(["administrations", 1], "a2"), "administrations[1]", "expected an object; got 'a2'"),
    (_set(["em", 0], ["99284"]), "em[0]", "expected an object; got ['99284']"),
    # empty strings where a value is needed
    (_set(["id"], ""), "id", "expected a non-empty string; got ''"),
    (_set([*A0, "drug"], ""), "administrations[0].drug", "expected a non-empty string"),
    (_set([*A0, "site"], ""), "administrations[0].site", "expected a non-empty string"),
    (_set([*EM0, "session"], ""), "em[0].session", "expected a non-empty string"),
    # formats
    (_set(["pos"], "2"), "pos", "expected two digits; got '2'"),
    (_set(["pos"], "23 "), "pos", "expected two digits"),
    (_set(["pos"], "23\n"), "pos", "expected two digits"),
    (_set(["pos"], 23), "pos", "expected a string; got 23"),
    (_set([*EM0, "code"], "9928"), "em[0].code", "expected five digits; got '9928'"),
    (_set([*EM0, "code"], "9928A"), "em[0].code", "expected five digits"),
    (_set(["date"], "2026-02-30"), "date", "expected an ISO date like 2026-03-14; got '2026-02-30'"),
    (_set(["date"], "20260314"), "date", "expected an ISO date"),
    (_set(["date"], "2026-03-14T10:00"), "date", "expected an ISO date"),
    (_set(["date"], "14/03/2026"), "date", "expected an ISO date"),
    (_set([*A1, "start"], "2026-03-14"), "administrations[1].start",
     "expected an ISO date-time like 2026-03-14T10:02; got '2026-03-14'"),
    (_set([*A1, "start"], "2026-03-14 10:05"), "administrations[1].start", "expected an ISO"),
    (_set([*A1, "start"], "2026-03-14T25:00"), "administrations[1].start", "expected an ISO"),
    (_set([*A1, "stop"], "2026-02-30T11:20"), "administrations[1].stop", "expected an ISO"),
    (_set([*A1, "stop"], "2026-03-14T11:20+2"), "administrations[1].stop", "expected an ISO"),
    (_set([*A1, "stop"], "11:20"), "administrations[1].stop", "expected an ISO"),
    # cross-field rules
    (_set([*A1, "stop"], "2026-03-14T10:00"), "administrations[1].stop",
     "expected a time at or after start 2026-03-14T10:05:00; got '2026-03-14T10:00:00'"),
    (_set([*A1, "id"], "a1"), "administrations[1].id",
     "expected a unique id (administrations[0] has it already); got 'a1'"),
    (_set(["primary"], "a9"), "primary", "expected the id of an administration; got 'a9'"),
    (_set(["primary"], ""), "primary", "expected a non-empty string"),
]


@pytest.mark.parametrize(("change", "path", "message"), BAD)
def test_bad_input_names_the_field(change, path, message):
    error = rejected(example(change))

    assert error.path == path
    assert message in error.message
    assert str(error) == f"{path}: {error.message}"


FOLDED = declared_input(vocabularies=VOCABULARIES + "vocabulary purpose: hydration, kvo [cpt]\n",
                        administration="  field purpose: purpose, folded\n")


@pytest.mark.parametrize(("value", "folded"), [("kvo", "kvo"), ("KVO", "kvo"), (" Kvo\t", "kvo"), (None, None)])
def test_a_folded_vocabulary_takes_its_words_in_any_case(value, folded):
    data = copy.deepcopy(EXAMPLE)
    if value is not None:
        data["administrations"][1]["purpose"] = value
    encounter = parse_encounter(data, FOLDED)
    events = build_events(encounter, FOLDED)["administration"]
    assert [e.values["purpose"] for e in events if e.ids == ("a2",)] == [folded]


@pytest.mark.parametrize(("value", "message"), [
    ("kov", "expected one of: hydration, kvo (ignoring case and surrounding space); got 'kov'"),
    ("k vo", "expected one of: hydration, kvo (ignoring case and surrounding space); got 'k vo'"),
    ("", "expected a non-empty string; got ''"),
    (7, "expected a string; got 7"),
])
def test_a_folded_vocabulary_rejects_other_words_at_their_path(value, message):
    data = copy.deepcopy(EXAMPLE)
    data["administrations"][1]["purpose"] = value
    error = rejected(data, FOLDED)
    assert (error.path, error.message) == ("administrations[1].purpose", message)


@pytest.mark.parametrize("data", [None, [], "encounter", 3, True])
def test_top_level_must_be_an_object(data):
    error = rejected(data)

    assert error.path == ""
    assert error.message.startswith("expected an object; got ")
    assert str(error) == error.message


def test_duplicate_id_names_the_first_index_that_has_it():
    data = with_times(*[("2026-03-14T10:00", None)] * 3)
    data["administrations"][2]["id"] = "a0"

    error = rejected(data)

    assert error.path == "administrations[2].id"
    assert "administrations[0]" in error.message


def test_long_values_are_shortened_in_messages():
    error = rejected(example(_set(["claim"], "x" * 500)))

    assert len(error.message) < 130
    assert error.message.endswith("...")


@given(st.timedeltas())
def test_whole_seconds_are_the_floor_of_a_timedelta_in_seconds(delta):
    assert whole_seconds(delta) == delta // datetime.timedelta(seconds=1)
