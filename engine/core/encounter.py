"""The encounter model and its validation: one decoded JSON encounter in, frozen records out.

What a record carries is the ruleset's to declare (its `encounter` and `events` statements,
dsl.checked.CheckedInput); this module reads any declaration. Everything after it may trust
an `Encounter`: required fields are present, words come from their vocabularies, times parse
and every stop is at or after its start. A record that breaks the declaration (and so the
contract, ../shared/contract/README.md, "Bad input") raises `EncounterError` naming the first
bad field by its path, so a batch can report it and go on.

The records an encounter is made of (Encounter, Documented) are frozen msgspec Structs, not
attrs classes as elsewhere: a batch makes one per event, millions, and a Struct is made in C
(80 ns against 630 for a frozen attrs class, whose __init__ sets each field through
object.__setattr__); they compare by value, print their fields and refuse assignment.

Example:
    encounter = parse_encounter(json.loads(text), ruleset.input)
    encounter.events["administration"][0].start_s  # absolute seconds, offsets applied
"""

import datetime
import re
from collections.abc import Callable, Mapping

import attrs
import msgspec

from dsl.checked import CheckedInput, EventKind, InputField
from engine.core.undeclared import Watch

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
EPOCH_NAIVE = datetime.datetime(1970, 1, 1)
_SECONDS_PER_DAY = 86400
# The longest timed event taken: a month-long pump infusion fits; a stop years after its
# start is a typing error, and would cost a line per unit of time.
MAX_SPAN_DAYS = 31
MAX_SPAN_SECONDS = MAX_SPAN_DAYS * _SECONDS_PER_DAY
_ABSENT = object()


class Documented(msgspec.Struct, frozen=True):
    """One documented event of a declared kind, its fields as validated.

    `values` holds every field present (times as written, naive); `start`/`stop` are the
    wall-clock times of a timed kind, for dates of service and display; `start_s`/`stop_s`
    are absolute seconds since the epoch, for durations and gaps that stay right across
    offsets and midnight. `index` is its place in the record's array, for error paths.
    """

    kind: str
    index: int
    id: str | None
    values: Mapping
    start: datetime.datetime | None = None
    stop: datetime.datetime | None = None
    start_s: int | None = None
    stop_s: int | None = None


class Encounter(msgspec.Struct, frozen=True):
    """One validated encounter: its own fields, and its events by kind in input order.

    `payer` is the value of the field that picks the payer variant, `primary` that of the
    field naming the event a ranking's `primary` stands for."""

    id: str
    date: datetime.date
    values: Mapping
    events: Mapping  # kind name -> tuple of Documented
    payer: str | None = None
    primary: str | None = None
    undeclared: tuple = ()  # engine.core.undeclared.Undeclared: fields the declaration does not name


@attrs.frozen
class EncounterError(Exception):
    """A record that breaks the contract: where it breaks it and what was expected there.

    Data, not prose, so a batch can put it in an error record and a person can find the field;
    `path` is like "administrations[1].stop", "" for the whole record.
    """

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


@attrs.frozen
class _Format:
    """A string format: the pattern it must match, the parser of its value, its name in errors."""

    pattern: re.Pattern[str]
    parse: Callable[[str], object]
    name: str


_DATE = _Format(
    re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"),
    datetime.date.fromisoformat,
    "an ISO date like 2026-03-14",
)
# fromisoformat alone would also take a bare date, week dates and the basic format.
_DATE_TIME = _Format(
    re.compile(
        r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}"
        r"(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2})?"
    ),
    datetime.datetime.fromisoformat,
    "an ISO date-time like 2026-03-14T10:02",
)
_FORMATS = {"date": _DATE, "time": _DATE_TIME}


def format_pattern(kind: str) -> str:
    """The regular expression the text of a "date" or "time" field must fullmatch before it
    is parsed (the parser then rejects what no pattern can see, like 2026-02-30)."""
    return _FORMATS[kind].pattern.pattern


def parse_encounter(data: object, declared: CheckedInput) -> Encounter:
    """Validate one decoded JSON value against a ruleset's declared input and build its `Encounter`.

    The encounter's fields are read in the order declared, then each kind of event (its
    fields, its ids), then their times are placed (a naive time is read in the encounter's
    one zone, which needs every kind's times read), then the fields that name an event.

    Raises:
        EncounterError: at the first field that breaks the declaration.
    """
    plan = _Reading.of(declared)
    record = _object(data, "")
    own = {name: read(record, "") for name, read in plan.own}
    drafts = {kind.kind.name: _drafts(record, kind) for kind in plan.kinds}
    return assembled(declared, record, own, drafts, plan.watch.found(record))


def assembled(declared: CheckedInput, record: Mapping, own: dict, drafts: dict,
              undeclared: tuple = ()) -> Encounter:
    """The `Encounter` of fields read: `own` the encounter's fields that name no event,
    `drafts` each kind's (path, fields) in input order, their ids already checked unique (by
    check_unique_ids, or by the reader generated for typed records, engine.core.typed_reader);
    the fields that name an event are read from `record` here, once the events are placed;
    `undeclared` the fields the record carries that the declaration does not name (Watch.found).

    Raises:
        EncounterError: at the first field that breaks the declaration.
    """
    plan = _Reading.of(declared)
    zone = _local_zone(declared.kinds, drafts)
    events = {kind.kind.name: _placed_all(kind, drafts[kind.kind.name], zone) for kind in plan.kinds}
    for field in plan.references:
        own[field.name] = _reference(record, field, events[field.refers_to])
    for kind, field in plan.event_references:
        for event in events[kind.name]:
            _check_reference(f"{kind.key}[{event.index}].{field.name}", field, event.values[field.name],
                             events[field.refers_to])
    fill_firsts(plan.firsts, events)
    return Encounter(own[plan.id_field], own[plan.date_field], own, events,
                     payer=own.get(plan.payer_field) if plan.payer_field else None,
                     primary=own.get(plan.primary_field) if plan.primary_field else None,
                     undeclared=undeclared)


@attrs.frozen
class _KindReading:
    """How one kind of event is read: its fields' readers, its id field, its time fields."""

    kind: EventKind
    readers: tuple
    id_field: str | None
    times: tuple


@attrs.frozen
class _Reading:
    """How records of one declaration are read, worked out once per declaration (kept with
    it, so its id stays its own), as every record reads every field."""

    declared: CheckedInput
    own: tuple  # (name, read) of the encounter's fields that name no event
    kinds: tuple  # _KindReading, as declared
    references: tuple  # the encounter's fields `id of KIND`
    event_references: tuple  # (kind, field) of the events' fields `id of KIND`
    firsts: tuple  # (kind name, field name, source kind name) for `else first in`
    id_field: str
    date_field: str
    payer_field: str | None
    primary_field: str | None
    watch: Watch

    @classmethod
    def of(cls, declared: CheckedInput) -> "_Reading":
        return per_declaration(_READINGS, declared, cls._made)

    @classmethod
    def _made(cls, declared: CheckedInput) -> "_Reading":
        kinds = tuple(_KindReading(kind, tuple((f.name, _reader(f)) for f in kind.fields), kind.id_field,
                                   tuple(f.name for f in kind.fields if f.type.kind == "time"))
                      for kind in declared.kinds)
        return cls(declared, tuple((f.name, _reader(f)) for f in declared.fields if f.refers_to is None), kinds,
                   tuple(f for f in declared.fields if f.refers_to is not None),
                   tuple((kind, f) for kind in declared.kinds for f in kind.fields if f.refers_to is not None),
                   tuple((kind.name, f.name, f.first_in) for kind in declared.kinds for f in kind.fields
                         if f.first_in is not None),
                   declared.id_field, declared.date_field, declared.payer_field, declared.primary_field,
                   Watch.of(declared))


_READINGS: dict = {}


def per_declaration(kept: dict, declared: CheckedInput, make: Callable):
    """`make(declared)` (an object whose `declared` is it), made once per declaration and
    kept in `kept` by its id, with it, so that the id stays its own."""
    found = kept.get(id(declared))
    if found is None or found.declared is not declared:
        found = kept[id(declared)] = make(declared)
    return found


def _drafts(record: Mapping, reading: _KindReading) -> list[tuple[str, dict]]:
    """(path, fields as read) of each event of a kind, its ids checked unique."""
    kind = reading.kind
    items = _objects(record, kind.key, "", required=kind.required)
    if kind.at_most is not None and len(items) > kind.at_most:
        raise _expected(kind.key, f"at most {kind.at_most} entries", len(items))
    readers = reading.readers
    drafts = [(path, {name: read(item, path) for name, read in readers}) for path, item in items]
    if reading.id_field:
        check_unique_ids([draft for _, draft in drafts], kind)
    return drafts


def _placed_all(reading: _KindReading, drafts: list, zone: datetime.tzinfo) -> tuple:
    return tuple(_placed(reading.kind, reading.id_field, reading.times, index, draft, path, zone)
                 for index, (path, draft) in enumerate(drafts))


def _reader(field: InputField) -> Callable:
    """The validated value of one field: None when optional and absent; flags false. The
    usual value, or an optional field's absence, returns at once; anything else goes the way
    that names what is wrong."""
    name, kind, required, blank = field.name, field.type.kind, field.required, field.blank
    if kind == "bool":
        def read_flag(record, where):
            value = record.get(name, _ABSENT)
            if type(value) is bool:
                return value
            return False if value is _ABSENT else _flag(record, name, where)
        return read_flag
    if kind == "number":
        return lambda record, where: _number(record, name, where, required)
    words = {name: frozenset(field.type.values)} if kind == "enum" else {}
    form = field_format(field)
    if form is not None:
        def read_formatted(record, where):
            value = record.get(name, _ABSENT)
            if type(value) is str and form.pattern.fullmatch(value):
                try:
                    return form.parse(value)
                except ValueError:
                    pass
            elif value is _ABSENT and not required:
                return None
            return _formatted(record, name, where, words, form, required=required)
        return read_formatted
    if words and field.folded:
        words = {name: _Folded(words[name])}
    allowed = words.get(name)

    def read_text(record, where):
        value = record.get(name, _ABSENT)
        if type(value) is str and (value or blank) and (allowed is None or value in allowed):
            return value
        if value is _ABSENT and not required:
            return None
        return _text(record, name, where, words, required=required, blank=blank)
    return read_text


def field_format(field: InputField) -> "_Format | None":
    """The format a text field's value must have (a date, a time, a declared form), if any."""
    if field.type.kind in _FORMATS:
        return _FORMATS[field.type.kind]
    return _Format(re.compile(field.type.pattern), str, field.type.form) if field.type.pattern is not None else None


class _Folded(frozenset):
    """The words of a `folded` vocabulary field: a value is one of them when it is, ignoring
    case and surrounding space (`KVO `), as the events compare it (engine.core.events)."""

    def __contains__(self, value) -> bool:
        return isinstance(value, str) and super().__contains__(value.strip().casefold())


def _listed(words: frozenset) -> str:
    """The words a vocabulary field takes, as an error names them."""
    listed = ", ".join(sorted(words))
    return f"{listed} (ignoring case and surrounding space)" if isinstance(words, _Folded) else listed


def _reference(record: Mapping, field: InputField, events: tuple):
    value = _text(record, field.name, "", {}, required=field.required)
    _check_reference(field.name, field, value, events)
    return value


def _check_reference(path: str, field: InputField, value, events: tuple) -> None:
    """A field `id of KIND` names an event of that kind, when present."""
    if value is not None and all(event.id != value for event in events):
        article = "an" if field.refers_to[:1] in "aeiou" else "a"
        raise _expected(path, f"the id of {article} {field.refers_to}", value)


def check_unique_ids(drafts: list[dict], kind: EventKind) -> None:
    """Reject a repeated id at the repeat, naming the index that has it first."""
    first: dict = {}
    name = kind.id_field
    for index, draft in enumerate(drafts):
        if draft[name] is None:  # an optional id not given: nothing to repeat
            continue
        seen = first.setdefault(draft[name], index)
        if seen != index:
            raise _expected(
                f"{kind.key}[{index}].{name}",
                f"a unique id ({kind.key}[{seen}] has it already)",
                draft[name],
            )


def _local_zone(kinds: tuple, drafts: dict) -> datetime.tzinfo:
    """The zone of the encounter's naive times: that of its earliest aware time (of any kind of
    timed event), else UTC. Chosen by time, not by position, so the order of events never matters.
    """
    aware = [draft[key] for kind in kinds if kind.start is not None for _, draft in drafts[kind.name]
             for key in (kind.start, kind.stop) if key and draft.get(key) is not None and draft[key].tzinfo]
    if not aware:
        return datetime.timezone.utc
    return min(aware, key=lambda t: (t - _EPOCH, t.utcoffset())).tzinfo  # no astimezone: it overflows near year 1


def _placed(kind: EventKind, id_field: str | None, times: tuple, index: int, draft: dict, where: str,
            zone: datetime.tzinfo) -> Documented:
    """Build the event: absolute seconds, stop >= start, and wall-clock times (`times`, its
    time fields) made naive."""
    event_id = draft[id_field] if id_field else None
    start_s = stop_s = None
    if kind.start is not None:
        start, stop = draft[kind.start], draft.get(kind.stop) if kind.stop else None
        start_s = _seconds(start, zone)
        stop_s = None if stop is None else _seconds(stop, zone)
        if stop_s is not None and stop_s < start_s:
            after = f"a time at or after {kind.start} {start.isoformat()}"
            raise _expected(f"{where}.{kind.stop}", after, stop.isoformat())
        if stop_s is not None and stop_s - start_s > MAX_SPAN_SECONDS:
            within = f"a time within {MAX_SPAN_DAYS} days of {kind.start} {start.isoformat()}"
            raise _expected(f"{where}.{kind.stop}", within, stop.isoformat())
    for name in times:
        if draft[name] is not None and draft[name].tzinfo:
            draft[name] = draft[name].replace(tzinfo=None)
    if kind.start is None:
        return Documented(kind.name, index, event_id, draft)
    return Documented(kind.name, index, event_id, draft, draft[kind.start], draft.get(kind.stop), start_s, stop_s)


def canonical(events) -> list:
    """Events of one kind in the order every stage sees, whatever the input's: timed events by
    (start, stop, id), others by their fields' values in the order declared (missing first)."""
    return sorted(events, key=canonical_key)


def canonical_key(event: Documented) -> tuple:
    """The key `canonical` sorts by (engine.core.typed_reader writes it out for the timed
    events it reads, and sorts untimed ones by it)."""
    if event.start_s is not None:
        return (0, event.start_s, event.stop_s if event.stop_s is not None else event.start_s, event.id or "")
    return (1, *((v is not None, v) for v in event.values.values()))


def fill_firsts(firsts: tuple, events: dict) -> None:
    """Fields declared `else first in KIND` take, when missing, the first value documented
    in events of that kind, in their canonical order (the contract: without a session label,
    a single session)."""
    found: dict = {}
    for kind, name, source in firsts:
        key = (source, name)
        if key not in found:
            documented = []  # a loop: a list comprehension makes a function each time (Python 3.11)
            for event in events[source]:
                if event.values.get(name) is not None:
                    documented.append(event)
            found[key] = min(documented, key=canonical_key).values[name] if documented else None
        if found[key] is None:
            continue
        for event in events[kind]:
            if event.values.get(name) is None:
                event.values[name] = found[key]  # still being built: no one holds it yet


def _seconds(moment: datetime.datetime, zone: datetime.tzinfo) -> int:
    """Whole seconds since the epoch; a naive `moment` is read in `zone`."""
    if moment.tzinfo:
        return whole_seconds(moment - _EPOCH)
    return whole_seconds(moment - EPOCH_NAIVE) - whole_seconds(zone.utcoffset(moment))


def whole_seconds(delta: datetime.timedelta) -> int:
    """`delta // timedelta(seconds=1)`: a timedelta keeps days and seconds apart, its
    microseconds always from 0 up, so days and seconds alone are the floor, without the
    division through microseconds (ten times the work; the typed reader writes it out)."""
    return delta.days * _SECONDS_PER_DAY + delta.seconds


def _number(record: Mapping, key: str, where: str, required: bool):
    """An optional JSON number (not a boolean)."""
    path = _join(where, key)
    value = _field(record, key, path, required)
    if value is _ABSENT:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _expected(path, "a number", value)
    return value


def _object(value: object, path: str) -> Mapping:
    """A JSON object, or an error at `path`."""
    if not isinstance(value, Mapping):
        raise _expected(path, "an object", value)
    return value


def _objects(
    record: Mapping, key: str, where: str, *, required: bool = False
) -> list[tuple[str, Mapping]]:
    """A JSON array of objects, each with its own path so later errors can name the index."""
    path = _join(where, key)
    value = _field(record, key, path, required)
    if value is _ABSENT:
        return []
    if not isinstance(value, list | tuple):
        raise _expected(path, "an array", value)
    return [(f"{path}[{i}]", _object(item, f"{path}[{i}]")) for i, item in enumerate(value)]


def _flag(record: Mapping, key: str, where: str) -> bool:
    """An optional JSON boolean, false when absent; 0, 1 and "true" are not booleans."""
    value = record.get(key, _ABSENT)
    if type(value) is bool:
        return value
    path = _join(where, key)
    value = _field(record, key, path, False)
    if value is _ABSENT:
        return False
    if not isinstance(value, bool):
        raise _expected(path, "true or false", value)
    return value


def _text(
    record: Mapping,
    key: str,
    where: str,
    words: Mapping,
    *,
    required: bool = False,
    blank: bool = False,
) -> str | None:
    """A JSON string, None when optional and absent.

    Empty only where `blank` (the schema's free-text fields); one of `words[key]` when the
    ruleset has a vocabulary of that name, so vocabularies live in the ruleset, not here.
    """
    value = record.get(key, _ABSENT)
    if type(value) is str and (value or blank) and (key not in words or value in words[key]):
        return value  # the usual case, without building the path an error would need
    path = _join(where, key)
    value = _field(record, key, path, required)
    if value is _ABSENT:
        return None
    if not isinstance(value, str):
        raise _expected(path, "a string", value)
    if not value and not blank:
        raise _expected(path, "a non-empty string", value)
    if key in words and value not in words[key]:
        raise _expected(path, f"one of: {_listed(words[key])}", value)
    return value


def _formatted(
    record: Mapping, key: str, where: str, words: Mapping, form: _Format, *, required: bool = False
) -> object:
    """A JSON string in `form`, parsed; None when optional and absent.

    The pattern rejects what the parser would wrongly accept, the parser what the pattern
    cannot see (2026-02-30, 25:00).
    """
    value = _text(record, key, where, words, required=required, blank=True)
    if value is None:
        return None
    try:
        if form.pattern.fullmatch(value):
            return form.parse(value)
    except ValueError:
        pass
    raise _expected(_join(where, key), form.name, value)


def _field(record: Mapping, key: str, path: str, required: bool) -> object:
    """The raw value of `key`, or `_ABSENT`; JSON null is a value of the wrong type, not absence."""
    if key in record:
        return record[key]
    if required:
        raise EncounterError(path, "required field is missing")
    return _ABSENT


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _expected(path: str, what: str, got: object) -> EncounterError:
    """The error people read: what was expected and, shortened, what came instead."""
    shown = repr(got)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return EncounterError(path, f"expected {what}; got {shown}")
