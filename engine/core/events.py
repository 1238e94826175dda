"""The events the stages act on, built from a validated encounter: each kind's events in the
canonical order, their values the encounter's and their own readable fields, and the facts the
ruleset derives for them (dsl.checked.DerivedFact) worked out by the generic built-ins here."""
from __future__ import annotations

import datetime

import attrs

from dsl.checked import CheckedInput, DerivedFact, EventKind
from engine.core import intervals
from engine.core.encounter import Documented, Encounter, canonical, per_declaration
from engine.core.stages.state import Event

# Field types the tables do not read (dsl.check_input keeps them out of every scope).
_NOT_READ = ("date", "time", "id")
_EPOCH = datetime.datetime(1970, 1, 1)


def build_events(encounter: Encounter, declared: CheckedInput) -> dict:
    """Kind name -> its events in canonical order, so input order never matters."""
    plan = per_declaration(_PLANS, declared, _Plan.of)
    shared = _read_into({}, encounter.values, plan.shared)
    return {kind.name: _kind_events(encounter, kind, read, derived, shared) for kind, read, derived in plan.kinds}


@attrs.frozen
class _Plan:
    """What building events reads of a declaration, worked out once per declaration: the
    encounter's readable (name, folded) fields, and per kind its readable (name, folded)
    fields and (fact, built-in) pairs."""

    declared: CheckedInput
    shared: tuple
    kinds: tuple

    @classmethod
    def of(cls, declared: CheckedInput) -> "_Plan":
        return cls(declared, tuple((f.name, f.folded) for f in declared.fields if readable(f)),
                   tuple((kind, tuple((f.name, f.folded) for f in kind.fields if readable(f)),
                          tuple((fact, BUILT_INS[fact.builtin]) for fact in kind.derived
                                if fact.builtin in BUILT_INS))
                         for kind in declared.kinds))


_PLANS: dict = {}


def _read_into(values: dict, source, fields: tuple) -> dict:
    """`values` with those of `fields` ((name, folded) pairs) from `source`, a folded one
    ignoring case and surrounding space, as the tables compare it."""
    for name, folded in fields:
        value = source.get(name)
        values[name] = value.strip().casefold() if folded and value is not None else value
    return values


def readable(field) -> bool:
    return not field.unique and field.type.kind not in _NOT_READ


def _kind_events(encounter: Encounter, kind: EventKind, read: tuple, derived: tuple, shared: dict) -> list:
    ordered = canonical(encounter.events[kind.name])
    events = []
    for order, documented in enumerate(ordered):
        values = _read_into(dict(shared), documented.values, read)
        start, stop = documented.start_s, documented.stop_s
        spans = [(start, stop)] if stop is not None and stop > start else []
        ids = (documented.id,) if documented.id is not None else ()
        events.append(Event(ids, values, start, stop, documented.start, spans, order, [], kind.name))
    for fact, derive in derived:
        derive(fact, kind, events, ordered, encounter)
    return events


def _time_between(fact: DerivedFact, kind: EventKind, events: list, ordered: list, encounter: Encounter):
    first, second = fact.fields
    for event, documented in zip(events, ordered):
        a, b = _seconds(documented, first, kind), _seconds(documented, second, kind)
        event.values[fact.name] = None if a is None or b is None else b - a


def _seconds(documented: Documented, name: str, kind: EventKind) -> int | None:
    """A time field in absolute seconds: the timed pair's start and stop have them, placed
    with their own offsets (told by name: a stop of 10:00+00:00 after a start of 10:00+01:00
    is an hour later, though its wall clock reads the same); another is read as wall clock
    (from the start's, or, in an untimed kind, from the epoch)."""
    if name == kind.start:
        return documented.start_s
    if name == kind.stop:
        return documented.stop_s
    value = documented.values.get(name)
    if value is None:
        return None
    if documented.start is None:
        return int((value - _EPOCH).total_seconds())
    return documented.start_s + int((value - documented.start).total_seconds())


def _days_between(fact: DerivedFact, kind: EventKind, events: list, ordered: list, encounter: Encounter):
    first, second = fact.fields
    for event, documented in zip(events, ordered):
        a, b = _day(documented, encounter, first), _day(documented, encounter, second)
        event.values[fact.name] = None if a is None or b is None else abs((b - a).days)


def _day(documented: Documented, encounter: Encounter, name: str):
    """The date of a date or time field, the event's or else the encounter's."""
    value = documented.values[name] if name in documented.values else encounter.values.get(name)
    return value.date() if isinstance(value, datetime.datetime) else value


def _matches(fact: DerivedFact, event: Event) -> bool:
    return all(event.values.get(field) in values for field, values in fact.where)


def _key(fact: DerivedFact, event: Event) -> tuple:
    return tuple(map(event.values.get, fact.per))


def _end(event: Event) -> int:
    return event.stop_s if event.stop_s is not None else event.start_s


def _time_since(fact: DerivedFact, kind: EventKind, events: list, ordered: list, encounter: Encounter):
    """Time from the latest end among the earlier matching events sharing `per` to the start."""
    last_end: dict = {}
    for event in events:
        key = _key(fact, event)
        previous = last_end.get(key)
        event.values[fact.name] = None if previous is None else event.start_s - previous
        if _matches(fact, event):
            last_end[key] = _end(event) if previous is None else max(_end(event), previous)


def _count_previous(fact: DerivedFact, kind: EventKind, events: list, ordered: list, encounter: Encounter):
    counts: dict = {}
    for event in events:
        key = _key(fact, event)
        event.values[fact.name] = counts.get(key, 0)
        if _matches(fact, event):
            counts[key] = counts.get(key, 0) + 1


def _overlaps_previous(fact: DerivedFact, kind: EventKind, events: list, ordered: list, encounter: Encounter):
    spans: dict = {}
    for event in events:
        key = _key(fact, event)
        earlier = spans.get(key, ())
        event.values[fact.name] = any(intervals.overlaps(a, b) for a in earlier for b in event.intervals)
        if _matches(fact, event):
            spans.setdefault(key, []).extend(event.intervals)


def _previous_differs(fact: DerivedFact, kind: EventKind, events: list, ordered: list, encounter: Encounter):
    """Whether the earlier matching event sharing `per` that ended last (the later one on a
    tie) has another value of the compared field; missing when there is none."""
    compared = fact.fields[0]
    latest: dict = {}
    for event in events:
        key = _key(fact, event)
        previous = latest.get(key)
        event.values[fact.name] = None if previous is None else previous.values.get(compared) != event.values.get(compared)
        if _matches(fact, event) and (previous is None or _end(event) >= _end(previous)):
            latest[key] = event


BUILT_INS = {"time_between": _time_between, "days_between": _days_between, "time_since": _time_since,
              "count_previous": _count_previous, "overlaps_previous": _overlaps_previous,
              "previous_differs": _previous_differs}  # count_lines waits for the lines (engine.core.pipeline)


def count_lines(fact: DerivedFact, events: list, lines: list):
    """The lines of `fact.fields[0]`'s events sharing `per` with each event: counted when a
    table reads them, as the tables before it made the lines."""
    counts: dict = {}
    for line in lines:
        if line.kind == fact.fields[0]:
            key = tuple(map(line.values.get, fact.per))
            counts[key] = counts.get(key, 0) + 1
    for event in events:
        event.values[fact.name] = counts.get(_key(fact, event), 0)
