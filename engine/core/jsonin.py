"""Decoding one JSON encounter, with nothing taken silently that json.loads would take.

json.loads keeps the last of two values given for one key, so {"claim": "facility", "claim":
"professional"} would be coded as a professional claim; it reads NaN and Infinity, which are
not JSON; and it cannot hold an integer of more than 4,300 digits, which would reject the
record as a whole instead of naming the field. Here a duplicated key and NaN or Infinity
reject the record at their path, and a number Python cannot hold becomes a BigNumber, so
that validation (engine.core.encounter) names its field like any other value of the wrong type.

A batch decodes millions of records, so the usual record is decoded by msgspec (`_fast`),
which is several times faster than json.loads but keeps the last of a duplicated key without a
word. Three cheap checks make its answer certain, else the record goes the careful way below
(the std json decoder with hooks), which alone gives every value and every message on a bad
record, so a record reads the same either way:

- duplicated keys: in a record msgspec accepts, every ':' outside a string separates a key
  from its value, so the record's ':' count is its pairs plus the ':' in its strings. The
  value decoded, encoded again by msgspec (no ':' escaped), counts the pairs kept plus the same
  ':' in strings: the counts are equal exactly when no pair was lost, unless a string wrote
  ':' as an escape (\\u003a), which the raw text would not count; text holding any
  backslash goes the careful way.
- nesting: json and msgspec stop at depths set differently; a record with more than
  `_FAST_BRACKETS` brackets goes the careful way, so "nested too deeply" is said as before.
  A decoding into types (`decode_typed`) is not counted: it nests no deeper than its types.
- text: bytes that are not ASCII are decoded as UTF-8 here first (a byte order mark
  allowed), so msgspec reads only text Python has checked; NaN, Infinity, lone surrogates
  (\\ud800), numbers out of range, and everything msgspec refuses, go the careful way.

The path of a problem is looked for only once there is one, by decoding the record again
with every pair kept and walking it in document order. Which key holds the record's id is the
ruleset's to declare (dsl.checked.CheckedInput.id_field): the caller names it, for the error.

Example:
    decode_record(b'{"id": "e1", "claim": "facility", "claim": "professional"}', id_field="id")
    # raises DecodeError("claim", "duplicated key 'claim'", encounter="e1")
"""
from __future__ import annotations

import json
import math
from collections.abc import Callable

import attrs
import msgspec

from engine.core.encounter import EncounterError


@attrs.frozen
class DecodeError(EncounterError):
    """A record that is not one JSON value without doubt: not UTF-8, not JSON, a key given
    twice, NaN. `encounter` is the record's id (under the `id_field` the caller names) when
    it has one beyond doubt, for the error record; `line` the line of the text where JSON syntax breaks (1 otherwise)."""

    encounter: str | None = None
    line: int = 1


@attrs.frozen(repr=False)
class BigNumber:
    """Stands in for a JSON number Python cannot hold: an integer of more digits than int()
    reads (sys.get_int_max_str_digits), or a number beyond the range of a float.

    Its repr is what an error message shows after "got": "a number of 5,000 digits".
    """

    description: str

    def __repr__(self) -> str:
        return self.description


def decode_record(raw: bytes | str, id_field: str | None = None) -> object:
    """The JSON value of one record: UTF-8 text (a byte order mark allowed), or text.
    `id_field` names the key of the record's id, for DecodeError.encounter (None: no id).

    Raises:
        DecodeError: the record is not UTF-8, not JSON, empty, nested too deeply, gives a key
            twice in one object or holds NaN or Infinity; the path names where, when known.
    """
    value = _fast(raw)
    if value is not _UNSURE:
        return value
    return decode_slowly(raw, id_field)


def decode_typed(raw: bytes, decode: Callable[[bytes | str], object]) -> object | None:
    """The record as `decode` (a msgspec Decoder's, into types made from a declaration) reads
    it, or None when the careful way (`decode_record`) might read it otherwise: a key given
    twice, what `decode` refuses, anything `_fast` is not sure of.

    The count of pairs kept holds only when encoding writes exactly the pairs the record gave:
    the types' defaults must be omitted when encoded, and no value given may equal one. The
    brackets are not counted: a decoder into types refuses an array or object where its types
    have none, at once, so it nests no deeper than they do.
    """
    value = _fast(raw, decode, typed=True)
    return None if value is _UNSURE else value


def decode_slowly(raw: bytes | str, id_field: str | None = None) -> object:
    """`decode_record` by the std json decoder alone: the reference the fast path must match."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise DecodeError("", f"not UTF-8 text (byte {error.start})") from None
    try:
        return _parse(_STRICT, raw)
    except _NotPlain:
        pass
    raise _first_problem(_parse(_KEEPING, raw), id_field)


_UNSURE = object()
_FAST_BRACKETS = 256
"""At most this many '[' and '{' (in strings too) for the fast path: far below the depth at
which either decoder gives up when called from any ordinary depth (both count against Python's
recursion limit, 1,000 by default). A longer record (hundreds of administrations) goes the
careful way, which costs little beside coding it, unless it is decoded into types (decode_typed)."""
_msgspec_decode = msgspec.json.Decoder().decode
_msgspec_encode = msgspec.json.Encoder().encode


def _fast(raw: bytes | str, decode: Callable[[bytes | str], object] = _msgspec_decode,
          typed: bool = False) -> object:
    """The record's value by msgspec, or _UNSURE when it may differ from the careful way's.

    A record with an escape goes the careful way: an escaped colon in a string would be one
    more colon in the encoding than in the record, and hide a key given twice from the count.
    Looking for a backslash costs a tenth of looking for that escape alone (one byte is found
    by memchr; `find`, as `in` on bytes takes a buffer first at twice the cost), and records
    seldom hold one. `typed`: `decode` reads into types (see decode_typed).
    """
    if isinstance(raw, bytes) and not raw.isascii():
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            return _UNSURE
    colon, backslash, square, curly = _BYTE_MARKS if isinstance(raw, bytes) else _TEXT_MARKS
    if raw.find(backslash) >= 0 or not typed and raw.count(square) + raw.count(curly) > _FAST_BRACKETS:
        return _UNSURE
    try:
        value = decode(raw)
        kept = _msgspec_encode(value).count(b":")
    except Exception:  # msgspec's refusal, a lone surrogate in a str, ...: the careful way says why
        return _UNSURE
    return value if kept == raw.count(colon) else _UNSURE


_BYTE_MARKS = (b":", b"\\", b"[", b"{")
_TEXT_MARKS = (":", "\\", "[", "{")


class _NotPlain(Exception):
    """A duplicated key or NaN met by the strict decoder; its place is found afterwards."""


def _parse(decoder: json.JSONDecoder, text: str) -> object:
    try:
        return decoder.decode(text)
    except RecursionError:
        raise DecodeError("", "the record is nested too deeply") from None
    except json.JSONDecodeError as error:
        if not text.strip():
            raise DecodeError("", "an empty record; expected an encounter (a JSON object)") from None
        raise DecodeError("", f"not valid JSON: {error}", line=error.lineno) from None


def _unique(pairs: list) -> dict:
    value = dict(pairs)
    if len(value) != len(pairs):
        raise _NotPlain
    return value


def _refuse(name: str) -> None:
    raise _NotPlain


def _int(text: str) -> int | BigNumber:
    try:
        return int(text)
    except ValueError:  # more digits than int() reads
        return BigNumber(f"a number of {len(text.lstrip('-')):,} digits")


def _float(text: str) -> float | BigNumber:
    value = float(text)
    if math.isinf(value):
        shown = text if len(text) <= 24 else f"{text[:21]}..."
        return BigNumber(f"the number {shown} (too large to hold)")
    return value


_STRICT = json.JSONDecoder(object_pairs_hook=_unique, parse_constant=_refuse, parse_int=_int, parse_float=_float)


class _Pairs(list):
    """A JSON object as its (key, value) pairs in order, duplicates kept."""


@attrs.frozen
class _Constant:
    """NaN, Infinity or -Infinity, where it stood."""

    name: str


_KEEPING = json.JSONDecoder(object_pairs_hook=_Pairs, parse_constant=_Constant, parse_int=_int, parse_float=_float)


def _first_problem(tree: object, id_field: str | None) -> DecodeError:
    """The first duplicated key or NaN in document order, as a DecodeError naming its path.

    The walk keeps its own stack: a record may nest as deep as the decoder allows.
    """
    stack: list[tuple[str, object]] = [("", tree)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, DecodeError):
            return attrs.evolve(value, encounter=_identity(tree, id_field))
        if isinstance(value, _Constant):
            return DecodeError(path, f"not valid JSON: {value.name} is not a JSON value", _identity(tree, id_field))
        if isinstance(value, _Pairs):
            children, seen = [], set()
            for key, item in value:
                where = f"{path}.{key}" if path else key
                if key in seen:
                    children.append((where, DecodeError(where, f"duplicated key {key!r}")))
                    break
                seen.add(key)
                children.append((where, item))
            stack += reversed(children)
        elif isinstance(value, list):
            stack += reversed([(f"{path}[{index}]", item) for index, item in enumerate(value)])
    raise AssertionError("the strict decoder refused a record that holds no duplicated key or NaN")


def _identity(tree: object, id_field: str | None) -> str | None:
    """The record's id when it gives one text id under `id_field`, else None (two ids leave
    it in doubt)."""
    ids = [value for key, value in tree if key == id_field] if isinstance(tree, _Pairs) else []
    return ids[0] if len(ids) == 1 and isinstance(ids[0], str) else None
