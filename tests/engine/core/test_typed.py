"""The typed way (engine.core.typed, Coder.select_json: a record decoded straight into msgspec
types made from the declared input) reads every record it answers for as the careful way
(engine.core.jsonin.decode_record, then Coder.select) does, and a batch codes every record,
good or bad, to the same output record either way: the same result, or the same error path,
message and encounter id. The records are valid encounters, then broken field by field (a
wrong type, null, empty, a word of no vocabulary, a bad time, a stop before its start, a
repeated id, a field of no declared name, too many events) and as JSON (tests/engine/core/
test_jsonin_fast.py's mutations: a key given twice, NaN, deep nesting, bytes not UTF-8).
"""
from __future__ import annotations

import functools
import json

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

import engine
from engine.core.coder import Coder
from engine.analyst.cases import load_cases
from engine.core.encounter import EncounterError, parse_encounter
from engine.core.jsonin import DecodeError, decode_record
from engine.core.events import build_events
from engine.core.generated_events import generated_builder
from engine.core.typed import TypedReading
from engine.io.batch import code_record
from tests.conftest import ROOT, RULESET_2026
from tests.declared import declared_input
from tests.engine.core.test_generated_events import _shown
from tests.engine.core.test_jsonin_fast import _MUTATIONS, PROPERTY
from tests.strategies import encounters


class _Careful(Coder):
    """A Coder that never takes the typed way: the reference the typed way must match."""

    def select_json(self, raw: bytes):
        return None

    def select_object(self, data):
        return None


@pytest.fixture(scope="module", params=[None, "medicare"])
def coders(request):
    coder = engine.load(RULESET_2026, payer=request.param)
    return coder, _Careful(coder.registry, payer=request.param)


_ENCOUNTER_KEYS = ["id", "date", "claim", "pos", "payer", "primary", "administrations", "em", "unknown"]
_EVENT_KEYS = ["id", "drug", "dose", "category", "hormonal", "pump", "route", "method", "start", "stop", "site",
               "session", "indication", "response", "purpose", "lesions", "code", "separately_identifiable", "zz"]
_TIMES = ["2026-03-14", "2026-02-30", "2025-12-31", "2026-03-14T10:02", "2026-03-14T09:02", "2026-03-14T25:00",
          "2026-03-14T10:02:03.1234567", "2026-03-14 10:02", "2026-03-14T10:02:60", "2026-03-14T10:02+05:00",
          "2026-03-14t10:02z", "2026-03-14T10:02\n", "20260314", "2026-03-14T10:02:03Z", "2026-04-20T10:02"]
_TEXTS = [None, "", " ", 1, "x", "a1", "a2", "medicare", "nobody", "facility", "iv", "push", "hydration"]
_VALUES = {
    **dict.fromkeys(["date", "start", "stop"], _TIMES + [None, "", 20260314]),
    **dict.fromkeys(["hormonal", "pump", "separately_identifiable"], [None, 0, 1, "true", False, True]),
    "lesions": [None, 0, 3, 2.5, -0.0, True, "3", 10**30],
    **dict.fromkeys(["code", "pos"], ["99213", "9921", "02", "2", "", 99213, None]),
    **dict.fromkeys(["administrations", "em"], [None, [], {}, [{}], "x", [1]]),
}


@st.composite
def _broken(draw, encounter: dict) -> dict:
    """`encounter` with one or two of its fields (or its events' fields) changed or dropped,
    or an event given twice."""
    record = json.loads(json.dumps(encounter))
    for _ in range(draw(st.integers(1, 2))):
        holder = record
        events = [e for key in ("administrations", "em") for e in record.get(key) or () if isinstance(e, dict)]
        if events and draw(st.booleans()):
            holder, key = draw(st.sampled_from(events)), draw(st.sampled_from(_EVENT_KEYS))
        else:
            key = draw(st.sampled_from(_ENCOUNTER_KEYS))
        action = draw(st.sampled_from(["set", "set", "drop", "repeat"]))
        if action == "drop":
            holder.pop(key, None)
        elif action == "repeat" and isinstance(record.get("administrations"), list) and record["administrations"]:
            record["administrations"].append(record["administrations"][0])
        else:
            holder[key] = draw(st.sampled_from(_VALUES.get(key, _TEXTS)))
    return record


def _careful_select(coder: Coder, raw: bytes):
    try:
        return "selected", coder.select(decode_record(raw, coder.id_field))
    except (DecodeError, EncounterError) as error:
        return "rejected", (error.path, error.message)


@PROPERTY
@given(data=st.data())
def test_a_broken_encounter_reads_and_codes_alike(coders, data):
    _alike(coders, json.dumps(data.draw(_broken(data.draw(encounters()))), ensure_ascii=data.draw(st.booleans())).encode())


@PROPERTY
@given(data=st.data(), mutation=st.sampled_from(_MUTATIONS), broken=st.booleans())
def test_a_record_broken_as_json_reads_and_codes_alike(coders, data, mutation, broken):
    record = data.draw(encounters())
    _alike(coders, mutation(json.dumps(data.draw(_broken(record)) if broken else record).encode()))


def _alike(coders, raw: bytes) -> None:
    """Read the typed way from JSON text and, once decoded, from the object (Coder.code_dict,
    as an embedder codes): the same encounter, result or error as the careful way."""
    fast, careful = coders
    selected = fast.select_json(raw)
    if selected is not None:
        assert _careful_select(careful, raw) == ("selected", selected)
    assert code_record(fast, 7, raw) == code_record(careful, 7, raw)
    try:
        data = decode_record(raw)
    except DecodeError:
        return
    selected = fast.select_object(data)
    if selected is not None:
        assert careful.select(data) == selected
    assert _coded_dict(fast, data) == _coded_dict(careful, data)


def _coded_dict(coder: Coder, data) -> tuple:
    try:
        return "coded", coder.code_dict(data)
    except EncounterError as error:
        return "rejected", (error.path, error.message)


@PROPERTY
@given(encounter=encounters())
def test_a_valid_encounter_takes_the_typed_way(coders, encounter):
    fast, careful = coders
    raw = json.dumps(encounter).encode()
    assert fast.select_json(raw) == careful.select(decode_record(raw))
    assert fast.select_object(encounter) == careful.select(encounter)


def test_a_declaration_msgspec_cannot_type_goes_the_careful_way(coders, monkeypatch):
    fast, _ = coders
    monkeypatch.setattr("engine.core.typed.msgspec.defstruct", _refuse)
    typed = TypedReading._made(fast.declared)
    assert typed.decode is None and typed.read(b'{"id": "e1"}') is None


def _refuse(*args, **kwargs):
    raise TypeError("not a field name msgspec takes")


_VALID = {"id": "e1", "date": "2026-03-14", "claim": "facility", "pos": "22", "payer": "medicare", "primary": "a1",
          "administrations": [
              {"id": "a1", "drug": "ondansetron", "dose": "4 mg", "category": "therapeutic", "route": "iv",
               "method": "push", "start": "2026-03-14T10:00", "stop": "2026-03-14T10:02", "lesions": 2},
              {"id": "a2", "drug": "normal saline", "category": "hydration", "route": "iv", "method": "infusion",
               "start": "2026-03-14T10:05-05:00", "stop": "2026-03-14T11:35-05:00", "pump": True, "session": "1"}],
          "em": [{"code": "99284", "separately_identifiable": True}]}


def test_every_field_broken_every_way_reads_and_codes_alike(coders):
    """Each field of a valid encounter, of the encounter and of its first events, set to each
    value of its pool in turn, or dropped."""
    assert coders[0].select_json(json.dumps(_VALID).encode()) is not None
    for path in [(), ("administrations", 0), ("administrations", 1), ("em", 0)]:
        for key in _EVENT_KEYS if path else _ENCOUNTER_KEYS:
            for value in [*_VALUES.get(key, _TEXTS), _DROP]:
                record = json.loads(json.dumps(_VALID))
                holder = record
                for step in path:
                    holder = holder[step]
                if value is _DROP:
                    holder.pop(key, None)
                else:
                    holder[key] = value
                _alike(coders, json.dumps(record).encode())


_DROP = object()


CRITICAL_CARE = ROOT / "examples" / "rulesets" / "critical-care"
DIFFERENT_DRUG_PUSH = ROOT / "tests" / "rulesets" / "different-drug-push"


@pytest.mark.parametrize("folder", [RULESET_2026, CRITICAL_CARE, DIFFERENT_DRUG_PUSH], ids=lambda f: f.name)
def test_every_case_of_a_ruleset_reads_as_the_careful_way_reads_it(folder):
    """The reader generated for each declaration (its kinds timed or not, its references
    and `else first in` fields) gives each test case's encounter the careful way gives it, or
    leaves it to the careful way (a folded word in another case, as `KVO`, is one msgspec
    refuses); most take the typed way."""
    registry = engine.load(folder).registry
    declared = registry.latest.base.input
    cases, errors = load_cases(folder / "tests", declared)
    assert cases and not errors
    reading = TypedReading.of(declared)
    typed = 0
    for case in cases:
        raw = json.dumps(case.encounter).encode()
        read = reading.read(raw)
        try:
            careful = parse_encounter(decode_record(raw), declared)
        except EncounterError:
            assert read is None, case.where
        else:
            assert read is None or _read_alike(read, careful, declared), case.where
            typed += read is not None
    assert typed > len(cases) / 2


@functools.cache
def _declared_2026():
    return engine.load(RULESET_2026).registry.latest.base.input


def _read_alike(read: tuple, careful, declared) -> bool:
    """The typed reader's (Encounter, events) are the careful way's Encounter and the events
    the builders make of it (events None: the reader left them to be built)."""
    encounter, events = read
    if encounter != careful:
        return False
    if events is None:
        return True
    built = generated_builder(declared)(careful)
    return _shown(built) == _shown(build_events(careful, declared)) and _unordered(events) == _unordered(built)


def _unordered(built: dict) -> dict:
    """`_shown` with each event's values as a dict: the reader makes them from a copy of the
    fields as read (engine.core.generated_events.EventsWriter.values_from_draft), so their keys
    stand in another order than the builders', which no step reads (tables look values up by name)."""
    return {kind: [(*msgspec.structs.astuple(event)[:1], event.values, *msgspec.structs.astuple(event)[2:])
                   for event in events] for kind, events in built.items()}


@PROPERTY
@given(data=st.one_of(encounters(), encounters(mixed_offsets=True)), sessions=st.lists(
    st.sampled_from([None, "1", " Two ", "two"]), min_size=3, max_size=3))
def test_the_events_built_as_a_record_is_read_are_those_of_its_encounter(data, sessions):
    """Events in any input order, with and without sessions to fill in (`else first in`), times
    with offsets (left to the builder) and E/M services among them."""
    declared = _declared_2026()
    for event, session in zip([*data["administrations"], *data.get("em", [])], sessions):
        if session is None:
            event.pop("session", None)
        else:
            event["session"] = session
    raw = json.dumps(data).encode()
    read = TypedReading.of(declared).read(raw)
    try:
        careful = parse_encounter(decode_record(raw), declared)
    except EncounterError:
        assert read is None
        return
    assert read is None or _read_alike(read, careful, declared)


def test_a_record_of_many_events_takes_the_typed_way(coders):
    """More brackets than the untyped fast decoding takes (jsonin._FAST_BRACKETS): a decoder
    into types nests no deeper than they do, so the count is not made for it."""
    fast, careful = coders
    record = json.loads(json.dumps(_VALID))
    first = record["administrations"][0]
    record["administrations"] = [{**first, "id": f"a{n}", "start": f"2026-03-14T{10 + n // 60:02d}:{n % 60:02d}",
                                  "stop": None} for n in range(300)]
    for administration in record["administrations"]:
        del administration["stop"]
    raw = json.dumps(record).encode()
    assert raw.count(b"[") + raw.count(b"{") > 256
    selected = fast.select_json(raw)
    assert selected is not None and ("selected", selected) == _careful_select(careful, raw)
    assert code_record(fast, 1, raw) == code_record(careful, 1, raw)


def test_an_event_field_named_as_an_encounter_field_reads_as_its_own():
    """An event's values hold the encounter's readable fields and its own beside them, its own
    winning a shared name even when absent (the reader copies the fields as read and adds the
    encounter's: the copy must not let the encounter's `claim` through); its unread fields (an
    id, a time) are not among them."""
    declared = declared_input(extra="""
events note from notes [cpt]
  field id: text, required, unique
  field claim: text, folded
  field written: time
""")
    record = {"id": "e1", "date": "2026-03-14", "claim": "facility", "pos": "22",
              "administrations": [{"id": "a1", "drug": "ondansetron", "category": "therapeutic", "route": "iv",
                                   "method": "push", "start": "2026-03-14T10:00", "stop": "2026-03-14T10:02"}],
              "notes": [{"id": "n1", "claim": " Mine ", "written": "2026-03-14T10:00"}, {"id": "n2"}]}
    raw = json.dumps(record).encode()
    read = TypedReading.of(declared).read(raw)
    assert read is not None and read[1] is not None
    assert _read_alike(read, parse_encounter(decode_record(raw), declared), declared)
    notes = {event.ids[0]: event.values for event in read[1]["note"]}
    assert notes["n1"]["claim"] == "mine" and notes["n2"]["claim"] is None
    assert {"id", "written"}.isdisjoint(notes["n1"]) and notes["n1"]["pos"] == "22"


@pytest.mark.parametrize("payer", [None, "medicare"])
def test_the_rulesets_chosen_are_kept_by_date_and_payer(monkeypatch, payer):
    """The typed way keeps the ruleset of each (date, payer) it met, an unknown payer's None
    too, and starts again past its bound; the period is checked for each encounter, a kept
    choice or not; a long payer is not kept. Each record is selected as the careful way selects
    it, by a Coder for any payer or for one."""
    from engine.core import coder as coder_module

    monkeypatch.setattr(coder_module, "_MAX_CHOICES", 2)
    fast, careful = engine.load(RULESET_2026, payer=payer), _Careful(engine.load(RULESET_2026).registry, payer=payer)
    late = [{**_VALID["administrations"][0], "start": "2027-01-02T10:00", "stop": "2027-01-02T10:02"}]
    records = [dict(_VALID, payer=who, date=date)
               for who in ("medicare", "commercial", "nobody", None) for date in ("2026-03-14", "2026-03-15")]
    records += [dict(_VALID, date="2026-03-14", administrations=late),  # after its (date, payer) is kept
                dict(_VALID, date="2031-01-01"), dict(_VALID, payer="x" * 65)]
    outcomes = []
    for record in [*records, *reversed(records)]:
        raw = json.dumps({key: value for key, value in record.items() if value is not None}).encode()
        expected = _careful_select(careful, raw)
        selected = fast.select_json(raw)
        assert ("selected", selected) == expected if selected is not None else expected[0] == "rejected"
        assert len(fast._chosen_for) <= 2 and all(key[1] != "x" * 65 for key in fast._chosen_for)
        outcomes.append((expected[0], selected is not None))
    assert outcomes.count(("selected", True)) == (12 if payer is None else 18)
    assert outcomes.count(("rejected", False)) == (10 if payer is None else 4)


_CROSSED = declared_input(administration="""  field label: text, folded, else first in note
  field claim: text, folded
  field payer: time
""", extra="""
events note from notes [cpt]
  field id: text, unique
  field label: text, folded
  field pos: text, folded, else first in visit

events visit from visits, timed at .. until [cpt]
  field at: time, required
  field until: time
  field pos: text, folded, else first in note
""")
_LABELS = st.sampled_from([None, "A", " b ", "B"])


def _given(**fields) -> st.SearchStrategy:
    """A dict of the fields drawn, those drawn None left out."""
    return st.fixed_dictionaries(fields).map(lambda drawn: {k: v for k, v in drawn.items() if v is not None})


@PROPERTY
@given(administrations=st.lists(_given(
    id=st.sampled_from(["a1"]), drug=st.just("x"), category=st.just("therapeutic"), route=st.just("iv"),
    method=st.just("push"), start=st.sampled_from(["2026-03-14T09:00", "2026-03-14T10:00+01:00"]),
    label=_LABELS, claim=st.sampled_from([None, " X "]), payer=st.sampled_from([None, "2026-03-14T07:00"])),
    max_size=1), notes=st.lists(_given(label=_LABELS, pos=st.sampled_from([None, " P "])), max_size=3),
    visits=st.lists(_given(at=st.sampled_from(["2026-03-14T08:00", "2026-03-14T11:00"]),
                           pos=st.sampled_from([None, "V"])), max_size=2))
def test_fields_taking_the_first_value_of_another_kind_read_as_built(administrations, notes, visits):
    """`else first in` from another kind (an administration's label from the notes, a note's
    place from the visits and a visit's from the notes), and event fields named like the
    encounter's, read (claim) or not (payer, a time): the typed reader's events are the builders'."""
    record = {"id": "e1", "date": "2026-03-14", "claim": "facility", "pos": "22", "payer": "medicare",
              "administrations": administrations, "notes": notes, "visits": visits}
    raw = json.dumps(record).encode()
    read = TypedReading.of(_CROSSED).read(raw)
    assert read is not None
    assert _read_alike(read, parse_encounter(decode_record(raw), _CROSSED), _CROSSED)
