"""The fast decoder (msgspec, engine.core.jsonin._fast) reads every record as the careful one
(the std json decoder with hooks, `decode_slowly`) does: the same value, of the same types in
the same order, or the same DecodeError, for valid records and for records broken every way
the careful one looks out for (a key given twice, NaN, 1e400, deep nesting, bytes that are
not UTF-8, a byte order mark, lone surrogates) or at random.
"""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.core.jsonin import _FAST_BRACKETS, _UNSURE, DecodeError, _fast, decode_record, decode_slowly
from tests.strategies import encounters

PROPERTY = settings(derandomize=True, max_examples=400, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

class _Literal(str):
    """A number written exactly as this text (so the float parsers meet every form)."""


class _Object(list):
    """A JSON object as its pairs, a key possibly given twice."""


_NUMBER = st.from_regex(r"-?(0|[1-9][0-9]{0,25})(\.[0-9]{1,25})?([eE][+-]?[0-9]{1,3})?", fullmatch=True)
_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12) | st.sampled_from(
    ["", ":", "a:b", "10:02", "dexaméthasone", "💊", "\u2028", "\x00\x1f\x7f", '"\\', "\ufeff", "{[", "id"])
_KEYS = st.sampled_from(["id", "a", "b", "claim", "drug", ":", "a:", "é", "", "\\"]) | st.text(max_size=4)
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | _TEXT
    | _NUMBER.map(lambda text: _Literal(text)),
    lambda inner: st.lists(inner, max_size=4) | st.lists(st.tuples(_KEYS, inner), max_size=5).map(_Object),
    max_leaves=25)


def _write(value, ascii_only: bool, spaced: bool) -> str:
    """JSON text of `value`: what json.dumps would write, but with _Literal numbers as written
    and _Object keys as given (repeats included)."""
    comma, colon = (", ", ": ") if spaced else (",", ":")
    if isinstance(value, _Literal):
        return str(value)
    if isinstance(value, _Object):
        return "{" + comma.join(json.dumps(k, ensure_ascii=ascii_only) + colon + _write(v, ascii_only, spaced)
                                for k, v in value) + "}"
    if isinstance(value, list):
        return "[" + comma.join(_write(v, ascii_only, spaced) for v in value) + "]"
    return json.dumps(value, ensure_ascii=ascii_only)


def _outcome(decode, raw):
    """What `decode` makes of `raw`, comparable exactly: types, float signs and key order kept."""
    try:
        return "value", _typed(decode(raw, "id"))
    except DecodeError as error:
        return "error", (error.path, error.message, error.encounter, error.line)  # exceptions compare by identity


def _typed(value):
    if isinstance(value, dict):
        return ("object", [(key, _typed(item)) for key, item in value.items()])
    if isinstance(value, list):
        return ("array", [_typed(item) for item in value])
    if isinstance(value, float):
        return ("float", repr(value))
    return (type(value).__name__, value)


def _same(raw) -> None:
    assert _outcome(decode_record, raw) == _outcome(decode_slowly, raw), raw


_MUTATIONS = [
    lambda t: t,
    lambda t: t.replace(b'"id"', b'"id": 1, "id"', 1),
    lambda t: t.replace(b'":', b'": {"k": 1, "k": 2}, "zz":', 1),
    lambda t: t.replace(b'"', b'"\\u003a', 1),
    lambda t: t.replace(b'"id"', b'"id": 1, "id"', 1).replace(b'": "', b'": "\\u003a', 1),
    lambda t: t.replace(b":", b": NaN, \"nan\":", 1),
    lambda t: t.replace(b":", b": -Infinity, \"inf\":", 1),
    lambda t: t.replace(b":", b": 1e400, \"big\":", 1),
    lambda t: t.replace(b":", b": " + b"7" * 5000 + b", \"long\":", 1),
    lambda t: t.replace(b":", b": " + b"[" * 3000 + b"]" * 3000 + b", \"deep\":", 1),
    lambda t: t.replace(b":", b": " + b"[" * (_FAST_BRACKETS + 1) + b"]" * (_FAST_BRACKETS + 1) + b", \"d\":", 1),
    lambda t: b"\xef\xbb\xbf" + t,
    lambda t: b"\xef\xbb\xbf\xef\xbb\xbf" + t,
    lambda t: t + b"\xff",
    lambda t: t.replace(b'"', b'"\xed\xa0\x80', 1),  # a surrogate written in UTF-8: not UTF-8
    lambda t: t.replace(b'"', b'"\\ud800', 1),
    lambda t: t.replace(b'"', b'"\\udc00\\ud800', 1),
    lambda t: t[: len(t) // 2],
    lambda t: t + b" ",
    lambda t: b"\t\r\n " + t + b"\n",
    lambda t: t + b"\x0c",
]


@PROPERTY
@given(value=_VALUES, ascii_only=st.booleans(), spaced=st.booleans(), mutation=st.sampled_from(_MUTATIONS),
       flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=2))
def test_any_value_decodes_alike(value, ascii_only, spaced, mutation, flips):
    raw = bytearray(mutation(_write(value, ascii_only, spaced).encode("utf-8", "surrogatepass")))
    _same(bytes(raw))
    for place, byte in flips:
        if raw:
            raw[place % len(raw)] = byte
    _same(bytes(raw))
    _same(bytes(raw).decode("utf-8", "surrogateescape"))  # text, as `infuse explain` and case files pass it


@PROPERTY
@given(encounter=encounters(), mutation=st.sampled_from(_MUTATIONS), ascii_only=st.booleans())
def test_any_encounter_decodes_alike(encounter, mutation, ascii_only):
    _same(mutation(json.dumps(encounter, ensure_ascii=ascii_only).encode()))


@PROPERTY
@given(encounter=encounters())
def test_a_plain_encounter_takes_the_fast_way(encounter):
    assert _fast(json.dumps(encounter).encode()) is not _UNSURE
    assert _fast(json.dumps(encounter, ensure_ascii=False).encode()) is not _UNSURE


@pytest.mark.parametrize("raw,path,message", [
    (b'{"id": "e1", "claim": "facility", "claim": "professional"}', "claim", "duplicated key 'claim'"),
    # the one duplicate the ':' count alone would miss: a ':' written as an escape makes up for the pair lost
    (b'{"k": 1, "k": 2, "v": "\\u003a"}', "k", "duplicated key 'k'"),
    (b'{"k": 1, "k": 2, "v": "\\u003A"}', "k", "duplicated key 'k'"),
    (b'{"x": [{"k": "10:02", "k": "10:03"}]}', "x[0].k", "duplicated key 'k'"),
    (b'{"x": {"y": 1e400, "y": 2}}', "x.y", "duplicated key 'y'"),
    (b'{"a": NaN}', "a", "not valid JSON: NaN is not a JSON value"),
])
def test_a_record_msgspec_would_take_is_still_rejected(raw, path, message):
    with pytest.raises(DecodeError) as error:
        decode_record(raw)
    assert (error.value.path, error.value.message) == (path, message)
    _same(raw)


@pytest.mark.parametrize("raw,id_field,encounter", [
    (b'{"visit": "v1", "id": "e1", "k": 1, "k": 2}', "visit", "v1"),
    (b'{"visit": "v1", "id": "e1", "k": 1, "k": 2}', "id", "e1"),
    (b'{"visit": "v1", "id": "e1", "k": 1, "k": 2}', None, None),
    (b'{"id": "e1", "k": 1, "k": 2}', "visit", None),  # no declared id: none, though "id" is there
    (b'{"visit": 7, "k": 1, "k": 2}', "visit", None),
    (b'{"visit": "v1", "visit": "v2"}', "visit", None),  # two ids leave it in doubt
])
def test_a_rejected_record_is_named_by_the_declared_id_field(raw, id_field, encounter):
    with pytest.raises(DecodeError) as error:
        decode_record(raw, id_field)
    assert error.value.encounter == encounter


def test_text_and_numbers_msgspec_reads_as_json_does():
    assert decode_record(b'{"a": -0, "b": -0.0, "c": 1E2, "d": 1e-400, "e": 123456789012345678901234567890}') == {
        "a": 0, "b": -0.0, "c": 100.0, "d": 0.0, "e": 123456789012345678901234567890}
    assert decode_record('{"drug": "dexaméthasone \\ud83d\\udc8a"}'.encode()) == {"drug": "dexaméthasone 💊"}
    assert decode_record(b'\xef\xbb\xbf{"drug": "\xc3\xa9"}') == {"drug": "é"}
