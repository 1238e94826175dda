"""The encounter model and its validation: one decoded JSON encounter in, frozen attrs out.

Everything after this module may trust an `Encounter`: required fields are present, words come
from the ruleset's vocabularies, times parse and every stop is at or after its start. A record
that breaks the contract (../shared/contract/README.md, "Bad input") raises `EncounterError`
naming the first bad field by its path, so a batch can report it and go on.

Example:
    encounter = parse_encounter(json.loads(text), ruleset.vocabularies)
    encounter.administrations[0].start_s  # absolute seconds, offsets applied
"""

import datetime
import re
from collections.abc import Callable, Collection, Mapping

import attrs

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
_EPOCH_NAIVE = datetime.datetime(1970, 1, 1)
_SECOND = datetime.timedelta(seconds=1)
_SECONDS_PER_DAY = 86400
# The longest administration taken: a month-long pump infusion fits; a stop years after its
# start is a typing error, and would cost a line per unit of time.
MAX_SPAN_DAYS = 31
# The most administrations and E/M services one encounter may list. A real encounter lists a
# few, an oncology chair day a few dozen; beyond these a record is an export error (a day or
# a ward merged into one encounter), and it is rejected rather than coded into hundreds of
# lines. Coding one at the limit takes a few tens of milliseconds.
MAX_ADMINISTRATIONS = 1000
MAX_EM_SERVICES = 100
_ABSENT = object()


@attrs.frozen(slots=True, kw_only=True)
class Administration:
    """One documented drug administration.

    `start`/`stop` are the wall-clock times as written (naive), for dates of service and
    display; `start_s`/`stop_s` are absolute seconds since the epoch, for durations and gaps
    that stay right across offsets and midnight.
    """

    id: str
    drug: str
    category: str
    route: str
    method: str
    start: datetime.datetime
    stop: datetime.datetime | None
    start_s: int
    stop_s: int | None
    dose: str | None = None
    hormonal: bool = False
    pump: bool = False
    site: str | None = None
    session: str | None = None
    indication: str | None = None
    response: str | None = None
    drug_key: str = attrs.field(init=False)
    """The drug as compared: two administrations are the same drug when their keys are equal."""

    @drug_key.default
    def _drug_key(self) -> str:
        return self.drug.strip().casefold()


@attrs.frozen(slots=True)
class EmService:
    """One evaluation and management service documented in the encounter."""

    code: str
    separately_identifiable: bool = False
    session: str | None = None


@attrs.frozen(slots=True)
class Encounter:
    """One validated encounter, as the contract describes it."""

    id: str
    date: datetime.date
    claim: str
    pos: str | None
    payer: str | None
    primary: str | None
    administrations: tuple[Administration, ...]
    em: tuple[EmService, ...]


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


_POS = _Format(re.compile(r"[0-9]{2}"), str, "two digits")
_EM_CODE = _Format(re.compile(r"[0-9]{5}"), str, "five digits")
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


def parse_encounter(data: object, vocabularies: Mapping[str, Collection[str]]) -> Encounter:
    """Validate one decoded JSON value and build its `Encounter`.

    Args:
        data: the value `json.loads` gave for one encounter.
        vocabularies: allowed words by field name, from the ruleset; a string field whose
            name is a key here must be one of its words.

    Raises:
        EncounterError: at the first field that breaks the contract.
    """
    record = _object(data, "")
    words = vocabularies  # short, as every field below passes it on
    header = {
        "id": _text(record, "id", "", words, required=True),
        "date": _formatted(record, "date", "", words, _DATE, required=True),
        "claim": _text(record, "claim", "", words, required=True),
        "pos": _formatted(record, "pos", "", words, _POS),
        "payer": _text(record, "payer", "", words),
    }
    items = _objects(record, "administrations", "", required=True)
    if len(items) > MAX_ADMINISTRATIONS:
        raise _expected("administrations", f"at most {MAX_ADMINISTRATIONS} administrations", len(items))
    drafts = [_administration(item, path, words) for path, item in items]
    _check_unique_ids(drafts)
    zone = _local_zone(drafts)
    administrations = tuple(_placed(draft, path, zone) for draft, (path, _) in zip(drafts, items))
    primary = _text(record, "primary", "", words)
    if primary is not None and all(a.id != primary for a in administrations):
        raise _expected("primary", "the id of an administration", primary)
    em_items = _objects(record, "em", "")
    if len(em_items) > MAX_EM_SERVICES:
        raise _expected("em", f"at most {MAX_EM_SERVICES} E/M services", len(em_items))
    em = tuple(_em_service(item, path, words) for path, item in em_items)
    return Encounter(**header, primary=primary, administrations=administrations, em=em)


def _administration(record: Mapping, where: str, words: Mapping) -> dict:
    """The fields of one administration, with `start`/`stop` as parsed (naive or aware).

    Absolute seconds wait for `_placed`: a naive time takes the offset of the first aware one
    anywhere in the encounter, so every administration must be read first.
    """
    return {
        "id": _text(record, "id", where, words, required=True),
        "drug": _text(record, "drug", where, words, required=True),
        "dose": _text(record, "dose", where, words, blank=True),
        "category": _text(record, "category", where, words, required=True),
        "hormonal": _flag(record, "hormonal", where),
        "pump": _flag(record, "pump", where),
        "route": _text(record, "route", where, words, required=True),
        "method": _text(record, "method", where, words, required=True),
        "start": _formatted(record, "start", where, words, _DATE_TIME, required=True),
        "stop": _formatted(record, "stop", where, words, _DATE_TIME),
        "site": _text(record, "site", where, words),
        "session": _text(record, "session", where, words),
        "indication": _text(record, "indication", where, words, blank=True),
        "response": _text(record, "response", where, words, blank=True),
    }


def _check_unique_ids(drafts: list[dict]) -> None:
    """Reject a repeated administration id at the repeat, naming the index that has it first."""
    first: dict[str, int] = {}
    for index, draft in enumerate(drafts):
        seen = first.setdefault(draft["id"], index)
        if seen != index:
            raise _expected(
                f"administrations[{index}].id",
                f"a unique id (administrations[{seen}] has it already)",
                draft["id"],
            )


def _local_zone(drafts: list[dict]) -> datetime.tzinfo:
    """The zone of the encounter's naive times: that of its earliest aware time, else UTC.

    Chosen by time, not by position, so the order of administrations never matters.
    """
    aware = [draft[key] for draft in drafts for key in ("start", "stop")
             if draft[key] is not None and draft[key].tzinfo]
    if not aware:
        return datetime.timezone.utc
    return min(aware, key=lambda t: (t - _EPOCH, t.utcoffset())).tzinfo  # no astimezone: it overflows near year 1


def _placed(draft: dict, where: str, zone: datetime.tzinfo) -> Administration:
    """Build the administration: wall-clock times made naive, absolute seconds, stop >= start."""
    start, stop = draft["start"], draft["stop"]
    start_s = _seconds(start, zone)
    stop_s = None if stop is None else _seconds(stop, zone)
    if stop_s is not None and stop_s < start_s:
        after = f"a time at or after start {start.isoformat()}"
        raise _expected(f"{where}.stop", after, stop.isoformat())
    if stop_s is not None and stop_s - start_s > MAX_SPAN_DAYS * _SECONDS_PER_DAY:
        within = f"a time within {MAX_SPAN_DAYS} days of start {start.isoformat()}"
        raise _expected(f"{where}.stop", within, stop.isoformat())
    fields = dict(
        draft,
        start=_naive(start),
        stop=None if stop is None else _naive(stop),
        start_s=start_s,
        stop_s=stop_s,
    )
    return Administration(**fields)


def _naive(moment: datetime.datetime) -> datetime.datetime:
    return moment.replace(tzinfo=None) if moment.tzinfo else moment


def _seconds(moment: datetime.datetime, zone: datetime.tzinfo) -> int:
    """Whole seconds since the epoch; a naive `moment` is read in `zone`."""
    if moment.tzinfo:
        return (moment - _EPOCH) // _SECOND
    wall = (moment - _EPOCH_NAIVE) // _SECOND
    return wall - zone.utcoffset(moment) // _SECOND


def _em_service(record: Mapping, where: str, words: Mapping) -> EmService:
    """One E/M service; `separately_identifiable` defaults to false as the contract says."""
    return EmService(
        code=_formatted(record, "code", where, words, _EM_CODE, required=True),
        separately_identifiable=_flag(record, "separately_identifiable", where),
        session=_text(record, "session", where, words),
    )


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
    words: Mapping[str, Collection[str]],
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
        raise _expected(path, "one of: " + ", ".join(sorted(words[key])), value)
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
