"""Reading a JSON record straight into msgspec types made from the ruleset's declared input.

The careful way decodes a record to dicts (engine.core.jsonin.decode_record) and then reads
each declared field in Python (engine.core.encounter.parse_encounter). Here msgspec decodes
into one Struct type per kind of event and one for the encounter, made from the declaration
(CheckedInput) once, so that the checks a record passes field by field are made in C as it
is decoded: JSON types, required fields, non-empty text, words of a vocabulary, flags, numbers,
at most N events, no field the declaration does not name. What msgspec cannot say is checked
after, as the careful way checks it: the formats of dates, times and declared forms (their
pattern, then their parser), unique ids, references, times in order: by the reader generated
for the declaration (engine.core.typed_reader).

This way only answers for a record it reads without a doubt. On anything else (a record msgspec
refuses, a field of no declared name, a bad value, a key given twice) `read` answers None and
the caller goes the careful way, which alone words the error: a record reads the same either
way, and a bad one gets the same path and message.

An absent optional field defaults to None, which no present value can be (JSON null is refused
as a value of the wrong type, as the careful way refuses it), so that encoding with
`omit_defaults` writes exactly the pairs present, and jsonin's count of ':' proves no key was
given twice.

The reader also builds the record's events as the compiled engine's builder for the same
declaration would (engine.core.typed_reader), so `read` gives (Encounter, events), the events
None where the reader left the record to the generic `assembled`.

Example:
    read = TypedReading.of(ruleset.input).read(raw)  # (Encounter, events or None), or None: go the careful way
"""
from __future__ import annotations

from typing import Annotated, Literal

import attrs
import msgspec

from dsl.checked import CheckedInput, EventKind, InputField
from engine.core.encounter import Encounter, EncounterError, per_declaration
from engine.core.jsonin import decode_typed
from engine.core.typed_reader import generated_reader

_NOT_BLANK = msgspec.Meta(min_length=1)


@attrs.frozen
class TypedReading:
    """The msgspec types of one declaration and their decoder (None when the declaration
    cannot be typed, so that every record goes the careful way)."""

    declared: CheckedInput
    type: object  # the encounter's Struct type
    decode: object
    assemble: object  # the Struct decoded -> (its Encounter, its events or None), or None (engine.core.typed_reader)

    @classmethod
    def of(cls, declared: CheckedInput) -> "TypedReading":
        return per_declaration(_TYPED, declared, cls._made)

    @classmethod
    def _made(cls, declared: CheckedInput) -> "TypedReading":
        try:
            kinds = [(kind.key, _list_of(kind), msgspec.NODEFAULT if kind.required else None)
                     for kind in declared.kinds]
            record = _struct("encounter", [*map(_typed, declared.fields), *kinds])
            decode = msgspec.json.Decoder(record).decode
        except (TypeError, ValueError):  # a name msgspec cannot take as a field
            record = decode = None
        return cls(declared, record, decode, generated_reader(declared) if decode else None)

    def read(self, raw: bytes) -> tuple[Encounter, dict | None] | None:
        """The Encounter of `raw` (JSON text) and its events (None: build them from the
        Encounter), or None: the careful way must read it."""
        if self.decode is None:
            return None
        return self._assembled(decode_typed(raw, self.decode))

    def read_object(self, data: object) -> tuple[Encounter, dict | None] | None:
        """`read` for `data` (a decoded JSON value: dicts, lists, str, numbers, bools). Only a
        plain dict is converted: an embedder's own mapping or value types go the careful way,
        which reads them as they are."""
        if self.decode is None or type(data) is not dict:
            return None
        try:
            record = msgspec.convert(data, self.type)
        except (msgspec.ValidationError, TypeError, ValueError):
            return None
        return self._assembled(record)

    def _assembled(self, record) -> tuple[Encounter, dict | None] | None:
        if record is None:
            return None
        try:
            return self.assemble(record)  # no undeclared field: the types forbid them
        except (EncounterError, ValueError):  # a date like 2026-02-30, a stop before its start with offsets, ...
            return None


_TYPED: dict = {}


def _struct(name: str, fields: list) -> type:
    """A Struct whose optional fields default to None and are omitted when encoded."""
    return msgspec.defstruct(name, fields, kw_only=True, omit_defaults=True, forbid_unknown_fields=True)


def _typed(field: InputField) -> tuple:
    """(name, type, default) of one field; a format is checked after, by the generated reader."""
    kind = field.type.kind
    if kind == "bool":
        value = bool
    elif kind == "number":
        value = int | float
    elif kind == "enum":
        value = Literal[tuple(word for word in field.type.values if word or field.blank)]
    elif field.blank or kind in ("date", "time") or field.type.pattern is not None:
        value = str
    else:
        value = Annotated[str, _NOT_BLANK]
    return field.name, value, msgspec.NODEFAULT if field.required else None


def _list_of(kind: EventKind) -> object:
    items = list[_struct(kind.name, [_typed(field) for field in kind.fields])]
    return items if kind.at_most is None else Annotated[items, msgspec.Meta(max_length=kind.at_most)]
