"""The columns a table may read, scope by scope: what the ruleset's declared input offers each
scope (its fields and derived facts), what the engine adds (a line's code and part, the roles
of an initial stage) and what the ruleset's own stages produce, each with its type, its
meaning and where it comes from.

An analyst writing a table asks "which columns can I use here, and what do they hold?";
the checker answers only when a name is wrong. This walks the stages in order, as the
checker does, so a column produced by a table is listed as readable after that table.
"""
from __future__ import annotations

import attrs

from dsl.checked import CheckedInitial, CheckedRuleset, CheckedTable, FieldType
from dsl.checker import Schema
from dsl.diagnostics import where

ENGINE = "the engine"


@attrs.frozen
class Column:
    """One readable column of a scope."""

    scope: str
    name: str
    kind: str
    values: tuple[str, ...]  # the words an enum column takes
    meaning: str
    source: str  # ENGINE, or the stage (and file:line) that produces it

    def as_dict(self) -> dict:
        return attrs.asdict(self)


def columns(ruleset: CheckedRuleset, meanings: dict) -> list[Column]:
    """Every column of every scope, the declared input's and the engine's first, then those
    the stages produce. `meanings` words what the engine itself offers."""
    schema = ruleset.schema
    declared = _declared(ruleset)
    found: dict = {}
    for scope, fields in schema.scopes.items():
        for name, field_type in fields.items():
            meaning, source = declared.get((scope, name)) or declared.get((None, name)) or (meanings.get(name, ""), ENGINE)
            found[(scope, name)] = _column(scope, name, field_type, meaning, source)
    for stage in ruleset.stages:
        produced = _produced(stage, ruleset, schema)
        for name, field_type in produced.items():
            origin = f"{type(stage).__name__.removeprefix('Checked').lower()} {stage.name} ({where(stage.span)})"
            meaning = meanings.get(name, f"set by {origin.split(' (')[0]}")
            for scope in _scopes_reading(stage, schema):
                found.setdefault((scope, name), _column(scope, name, field_type, meaning, origin))
    return sorted(found.values(), key=lambda c: (list(schema.scopes).index(c.scope), c.source.startswith(_STAGES),
                                                 c.name))


_STAGES = ("table ", "initial ", "merge ")


def _declared(ruleset: CheckedRuleset) -> dict:
    """(scope, name) -> (meaning, where declared) for the declared fields and facts; scope None
    for the encounter's, which every scope reads; a line reads its kind's."""
    found = {(None, f.name): (f.meaning, f"encounter ({where(f.span)})") for f in ruleset.input.fields}
    for kind in ruleset.input.kinds:
        scopes = [kind.name] + ([ruleset.schema.line_scope] if kind is ruleset.input.main else [])
        for item in (*kind.fields, *kind.derived):
            for scope in scopes:
                found[(scope, item.name)] = (item.meaning, f"events {kind.name} ({where(item.span)})")
    return found


def _column(scope: str, name: str, field_type: FieldType, meaning: str, source: str) -> Column:
    kind = field_type.form if field_type.form else field_type.kind
    return Column(scope, name, kind, tuple(field_type.values), meaning, source)


def _produced(stage, ruleset: CheckedRuleset, schema: Schema) -> dict:
    """The attributes a stage writes: a table's vocabulary outputs, an initial stage's roles."""
    if isinstance(stage, CheckedTable):
        return {name: FieldType("enum", tuple(ruleset.vocabularies[name])) for name in stage.outputs
                if name not in schema.outputs and name in ruleset.vocabularies}
    if isinstance(stage, CheckedInitial):
        return {name: (FieldType("enum", ("none", *stage.keys)) if name == schema.key_attribute else field_type)
                for name, field_type in schema.initial_writes.items()}
    return {}


def _scopes_reading(stage, schema: Schema) -> list[str]:
    """The stage's own scope and those that inherit what it produces."""
    own = stage.scope if isinstance(stage, CheckedTable) else schema.event_scope
    return [own, *(heir for heir, parent in schema.inherits.items() if parent == own)]
