"""The JSON Schema (draft 2020-12) of the encounter a ruleset accepts, from its declared input
(the `encounter` and `events` statements, dsl.checked.CheckedInput), vocabularies included.

It says what engine.core.encounter checks where a schema can say it: required fields, strings,
booleans and numbers, the words of each vocabulary (of a `folded` one, a pattern taking them
in any case with surrounding space, the words as `examples`), forms as anchored patterns,
dates and date-times as a `format` (an annotation most validators do not assert) and a
pattern matching what the engine takes, non-empty text, and at most N events of a kind. What
it cannot say is left to the engine: an event id used twice, an id naming no event, a stop
before its start, a date that is not in the calendar (2026-02-30 matches the pattern), the
few letters whose Unicode case folding is a folded word's ASCII letter (the Kelvin sign for
k). Fields it does not list are allowed: the contract passes other fields on, so there is no
`additionalProperties: false`; where a block watches for them (`undeclared fields => finding
NAME`), its description says so.

Example:
    schema = encounter_schema(ruleset.input, f"{ruleset.name} {ruleset.version} encounter")
"""
from __future__ import annotations


from dsl.checked import CheckedInput, EventKind, InputField
from engine.core.encounter import format_pattern

DRAFT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID = "encounter.schema.json"
_FORMATS = {"date": "date", "time": "date-time"}


def encounter_schema(declared: CheckedInput, title: str) -> dict:
    """The schema as a JSON-ready dict, its keys and fields in the order they are declared."""
    schema = {"$schema": DRAFT, "$id": SCHEMA_ID, "title": title}
    arrays = {kind.key: _array(kind) for kind in declared.kinds}
    schema |= _object(_described(declared.meaning, declared.undeclared), declared.fields, arrays,
                      [k.key for k in declared.kinds if k.required])
    schema["$defs"] = {kind.name: _object(_described(kind.meaning, kind.undeclared), kind.fields)
                       for kind in declared.kinds}
    return schema


def _described(meaning: str, undeclared: str | None) -> str:
    """A block's meaning, and what a field it does not list raises, when it watches for them."""
    if undeclared is None:
        return meaning
    return f"{meaning} A field not listed here is not read, and raises the finding '{undeclared}'.".lstrip()


def _object(meaning: str, fields: tuple[InputField, ...], more: dict | None = None, more_required=()) -> dict:
    """One object: the encounter (with its arrays of events in `more`) or one kind of event."""
    found = {"description": meaning} if meaning else {}
    found["type"] = "object"
    found["required"] = [f.name for f in fields if f.required] + list(more_required)
    found["properties"] = {f.name: _property(f) for f in fields} | (more or {})
    return found


def _array(kind: EventKind) -> dict:
    """The encounter's list of events of `kind`; the kind's meaning is on its $defs entry."""
    found = {"type": "array", "items": {"$ref": f"#/$defs/{kind.name}"}}
    if kind.at_most is not None:
        found["maxItems"] = kind.at_most
    return found


def _property(field: InputField) -> dict:
    """What one field's value may be, as engine.core.encounter._value reads it."""
    kind = field.type.kind
    found = {"description": field.meaning} if field.meaning else {}
    if kind == "bool":
        return found | {"type": "boolean"}
    if kind == "number":
        return found | {"type": "number"}
    if kind in _FORMATS:
        return found | {"type": "string", "format": _FORMATS[kind], "pattern": _anchored(format_pattern(kind))}
    if kind not in ("text", "enum", "id"):
        raise ValueError(f"a field of type {kind!r} is not input: {field.name}")
    found["type"] = "string"
    if kind == "enum" and field.folded:
        words = "|".join(_any_case(word) for word in field.type.values)
        return found | {"pattern": f"^\\s*(?:{words})\\s*$", "examples": list(field.type.values)}
    if kind == "enum":
        found["enum"] = list(field.type.values)
    if field.type.pattern is not None:
        found["pattern"] = _anchored(field.type.pattern)  # the pattern alone decides on ""
    elif kind != "enum" and not field.blank:
        found["minLength"] = 1
    return found


def _any_case(word: str) -> str:
    """A pattern of `word` in any case (`[kK][vV][oO]`), for JSON Schema's regular expressions,
    which have no flag for it. Other characters are escaped as ECMA-262 in unicode mode allows
    (`\\.` but a bare `-`: `\\-` outside a class is an error there)."""
    return "".join(f"[{c}{c.upper()}]" if c.upper() != c else _ECMA_ESCAPES.get(c, c) for c in word)


# Characters special in an ECMA-262 pattern outside a class, each with the escape it allows.
_ECMA_ESCAPES = {c: "\\" + c for c in "^$\\.*+?()[]{}|/"}


def _anchored(pattern: str) -> str:
    """`pattern` matching whole strings, as the engine's fullmatch does (a schema's pattern
    may match anywhere); grouped when it has alternatives, so the anchors hold for each."""
    return f"^(?:{pattern})$" if "|" in pattern else f"^{pattern}$"
