"""The checker's pass over the declared input: forms, the encounter's fields, each kind of
event and the facts derived for it.

What it returns is all the engine knows of a record: it parses, validates and describes
records from it, and the tables may read what it offers (`scopes`).
"""
from __future__ import annotations

import re
import warnings

from dsl import ast
from dsl.check_cells import member_values
from dsl.checked import CheckedInput, DerivedFact, EventKind, FieldType, InputField
from dsl.diagnostics import did_you_mean, where

BUILT_IN_TYPES = {"text": FieldType("text"), "flag": FieldType("bool"), "number": FieldType("number"),
                  "date": FieldType("date"), "time": FieldType("time")}
# What each built-in derives, by the type of its value.
DERIVED_TYPES = {"time_between": FieldType("duration"), "time_since": FieldType("duration"),
                 "days_between": FieldType("number"), "count_previous": FieldType("number"),
                 "count_lines": FieldType("number"), "overlaps_previous": FieldType("bool"),
                 "previous_differs": FieldType("bool")}
_ON_EARLIER_EVENTS = ("time_since", "count_previous", "overlaps_previous", "previous_differs")
# Fields the tables do not read: times and dates (derived facts measure them) and ids.
_NOT_READ = ("date", "time", "id")


def check_input(statements, ctx, header: ast.Span) -> CheckedInput | None:
    """The declared input, or None (with diagnostics) when the ruleset declares none; that
    is reported at `header`, the ruleset's header (or where one is missing)."""
    forms = _forms(statements, ctx)
    blocks = [node for node in statements if isinstance(node, ast.InputDecl)]
    encounters = [node for node in blocks if node.kind is None]
    kinds = [node for node in blocks if node.kind is not None]
    for later in encounters[1:]:
        ctx.error("E-duplicate", "the encounter is declared twice", later.span,
                  f"first declared at {where(encounters[0].span, later.span, ctx.variants)}")
    if not encounters or not kinds:
        missing = "'encounter'" if not encounters else "'events KIND from KEY'"
        ctx.error("E-input", f"the ruleset must declare its input: {missing} with its fields", header)
        return None
    names = _unique_kinds(kinds, ctx)
    encounter = encounters[0]
    for derived in encounter.derived:
        ctx.error("E-input", f"'derive {derived.name}' belongs to a kind of events: facts are derived per event",
                  derived.span)
    fields = tuple(_field(node, None, forms, names, ctx) for node in _unique_fields(encounter, ctx))
    _check_encounter(encounter, fields, ctx)
    checked_kinds = tuple(_kind(node, fields, forms, names, ctx) for node in kinds)
    for field in fields:
        if field.first_in is not None:
            ctx.error("E-input", f"'else first in {field.first_in}' belongs to a field of a kind of events: "
                      f"an encounter's field is read as documented, never filled in", field.span)
    for node, kind in zip(kinds, checked_kinds):
        _check_first_in(node, kind.fields, checked_kinds, ctx)
    return CheckedInput(fields, checked_kinds, encounter.doc or "", _undeclared(encounter, ctx))


def scopes(checked: CheckedInput) -> dict:
    """What a table per each kind of event may read: the encounter's fields, the event's and
    its derived facts."""
    shared = {f.name: f.type for f in checked.fields if _readable(f)}
    return {kind.name: {**shared, **{f.name: f.type for f in kind.fields if _readable(f)},
                        **{d.name: d.type for d in kind.derived}}
            for kind in checked.kinds}


def always_present(checked: CheckedInput) -> frozenset:
    """The attributes no record lacks: required fields, flags (false when absent), fields
    that default to another's value, and the counts and day differences of required times."""
    found = set()
    for fields in (checked.fields, *(k.fields for k in checked.kinds)):
        found |= {f.name for f in fields if f.required or f.type.kind == "bool"}
    for kind in checked.kinds:
        found |= {d.name for d in kind.derived if d.builtin in ("count_previous", "count_lines")}
        found |= {d.name for d in kind.derived if d.builtin == "days_between" and set(d.fields) <= found}
    return frozenset(found)


def _readable(field: InputField) -> bool:
    return not field.unique and field.type.kind not in _NOT_READ


def _forms(statements, ctx) -> dict:
    forms: dict = {}
    for node in statements:
        if not isinstance(node, ast.Form):
            continue
        if node.name in forms:
            ctx.error("E-duplicate", f"form '{node.name}' is declared twice", node.span,
                      f"first declared at {where(forms[node.name][1], node.span, ctx.variants)}")
            continue
        try:
            with warnings.catch_warnings(record=True) as warned:  # said here, located, not on the terminal
                warnings.simplefilter("always")
                re.compile(node.pattern)
        except (re.error, OverflowError) as error:  # a repetition count past the re module's limit overflows
            ctx.error("E-form", f"form '{node.name}' is not a valid pattern: {error}", node.span)
            continue
        if warned:  # a pattern whose meaning may change under it is as unusable as a wrong one
            ctx.error("E-form", f"form '{node.name}': {warned[0].message}", node.span,
                      "a future Python may read this pattern otherwise; escape the character")
            continue
        forms[node.name] = (FieldType("text", pattern=node.pattern, form=node.described), node.span)
    return {name: field_type for name, (field_type, _) in forms.items()}


def _unique_kinds(kinds: list, ctx) -> set:
    seen: dict = {}
    for node in kinds:
        for what, name in (("kind of event", node.kind), ("key", node.key)):
            if (what, name) in seen:
                ctx.error("E-duplicate", f"{what} '{name}' is declared twice", node.span,
                          f"first declared at {where(seen[(what, name)], node.span, ctx.variants)}")
            seen.setdefault((what, name), node.span)
    return {node.kind for node in kinds}


def _unique_fields(node: ast.InputDecl, ctx) -> list:
    seen: dict = {}
    kept = []
    for item in (*node.fields, *node.derived):
        if item.name in seen:
            ctx.error("E-duplicate", f"field '{item.name}' is declared twice", item.span,
                      f"first declared at {where(seen[item.name], item.span, ctx.variants)}")
            continue
        seen[item.name] = item.span
        if isinstance(item, ast.FieldDecl):
            kept.append(item)
    return kept


def _field(node: ast.FieldDecl, kind: str | None, forms: dict, kinds: set, ctx) -> InputField:
    field_type = _field_type(node, forms, kinds, ctx)
    options = set(node.options)
    for option, allowed in (("blank", ("text",)), ("folded", ("text", "enum")), ("unique", ("text",)),
                            ("picks payer", ("text",))):
        if option in options and field_type.kind not in allowed:
            ctx.error("E-input", f"'{option}' is for {' or '.join(allowed)} fields; '{node.name}' is {field_type.kind}",
                      node.span)
    unfolded = [w for w in field_type.values if w != w.strip().casefold()] if "folded" in options else []
    if unfolded:  # a record's word is folded before it is looked up, so it could never be this one
        ctx.error("E-input", f"'{node.name}' is folded, but its vocabulary has the word '{unfolded[0]}', which no "
                  "folded value equals", node.span, f"write it '{unfolded[0].strip().casefold()}'")
    if "picks payer" in options and kind is not None:
        ctx.error("E-input", "'picks payer' is for a field of the encounter, not of an event", node.span)
    if {"picks payer", "folded"} <= options:
        ctx.error("E-input", "a payer is picked by its name as written (payer variants and routes name it so); "
                  "'picks payer' cannot be folded", node.span)
    if "required" in options and field_type.kind == "bool":
        ctx.error("E-input", f"flag '{node.name}' is false when absent; it cannot be required", node.span)
    return InputField(node.name, field_type, required="required" in options, blank="blank" in options,
                      folded="folded" in options, unique="unique" in options, picks_payer="picks payer" in options,
                      first_in=node.first_in, refers_to=node.refers_to, meaning=node.meaning or "", span=node.span)


def _field_type(node: ast.FieldDecl, forms: dict, kinds: set, ctx) -> FieldType:
    if node.type == "id":
        if node.refers_to not in kinds:
            ctx.unknown("kind of event", node.refers_to, node.span, kinds)
        return FieldType("id")
    if node.type in BUILT_IN_TYPES:
        return BUILT_IN_TYPES[node.type]
    if node.type in forms:
        return forms[node.type]
    if node.type in ctx.vocabularies:
        return FieldType("enum", tuple(v.text for v in ctx.vocabularies[node.type].values))
    ctx.error("E-name", f"unknown type '{node.type}' of field '{node.name}'", node.span,
              did_you_mean(node.type, [*BUILT_IN_TYPES, *forms, *ctx.vocabularies])
              or f"expected {', '.join(BUILT_IN_TYPES)}, a form or a vocabulary")
    return FieldType("text")


def _check_encounter(node: ast.InputDecl, fields: tuple, ctx):
    """The engine needs the encounter's id (echoed in the result) and its date of service."""
    ids = [f for f in fields if f.unique]
    dates = [f for f in fields if f.type.kind == "date"]
    if len(ids) != 1 or not ids[0].required:
        ctx.error("E-input", "the encounter needs one required 'unique' text field: the id its result echoes", node.span)
    if len(dates) != 1 or not dates[0].required:
        ctx.error("E-input", "the encounter needs one required date field: its date of service", node.span)
    if sum(f.picks_payer for f in fields) > 1:
        ctx.error("E-input", "only one field of the encounter may pick the payer", node.span)


def _kind(node: ast.InputDecl, encounter: tuple, forms: dict, kinds: set, ctx) -> EventKind:
    fields = tuple(_field(f, node.kind, forms, kinds, ctx) for f in _unique_fields(node, ctx))
    by_name = {f.name: f for f in fields}
    options = {option[0]: option[1:] for option in node.options}
    start, stop = options.get("timed", (None, None))
    for name in (start, stop):
        if name is not None and (name not in by_name or by_name[name].type.kind != "time"):
            times = [n for n, f in by_name.items() if f.type.kind == "time"]
            ctx.error("E-input", f"'timed {start} .. {stop}' needs '{name}' to be a time field of '{node.kind}'",
                      node.span, did_you_mean(name, times))
    if start in by_name and not by_name[start].required:
        ctx.error("E-input", f"the start of a timed event is required: write 'field {start}: time, required'",
                  by_name[start].span)
    alike = options.get("alike", (None,))[0]
    if alike is not None and alike not in by_name:
        ctx.unknown("field", alike, node.span, by_name)
    if sum(f.unique for f in fields) > 1:
        ctx.error("E-input", f"only one field of '{node.kind}' may be unique: its id", node.span)
    facts = {f.name: f.type for f in (*encounter, *fields)}
    derived = tuple(_derived(d, node.kind, by_name, facts, start, kinds, ctx) for d in node.derived)
    duration = next((d.name for d in derived if d.builtin == "time_between" and d.fields == (start, stop)), None)
    return EventKind(node.kind, node.key, fields, derived, required=("required",) in node.options,
                     at_most=options.get("at_most", (None,))[0], start=start, stop=stop, alike=alike,
                     duration=duration, meaning=node.doc or "", undeclared=_undeclared(node, ctx), span=node.span)


def _undeclared(node: ast.InputDecl, ctx) -> str | None:
    """The finding the block's `undeclared fields => finding` line names, checked to exist."""
    first, *more = node.undeclared or (None,)
    for later in more:
        ctx.error("E-duplicate", "'undeclared fields' is said twice in one block", later.span,
                  f"first said at {where(first.span, later.span, ctx.variants)}")
    if first is None:
        return None
    if first.finding not in ctx.findings:
        ctx.unknown("finding", first.finding, first.span, ctx.findings)
    ctx.used_findings.add(first.finding)
    return first.finding


def _derived(node: ast.DerivedDecl, kind: str, own: dict, facts: dict, start, kinds: set, ctx) -> DerivedFact:
    derivation = node.derivation
    builtin = derivation.builtin
    if builtin in ("time_between", "days_between"):
        wanted = ("time",) if builtin == "time_between" else ("date", "time")
        for name in derivation.fields:
            if name not in facts or facts[name].kind not in wanted:
                ctx.error("E-input", f"'{name}' is not a {' or '.join(wanted)} field of '{kind}' or the encounter",
                          derivation.span, did_you_mean(name, [n for n, t in facts.items() if t.kind in wanted]))
    if builtin in _ON_EARLIER_EVENTS and start is None:
        ctx.error("E-input", f"'{node.name}' looks at earlier events, so '{kind}' must be timed (timed START .. STOP)",
                  derivation.span)
    if builtin == "count_lines" and derivation.fields[0] not in kinds:
        ctx.unknown("kind of event", derivation.fields[0], derivation.span, kinds)
    compared = [*derivation.per, *(derivation.fields if builtin == "previous_differs" else ())]
    for name in compared:
        if name not in own:
            ctx.unknown(f"field of '{kind}'", name, derivation.span, own)
    where = tuple((c.field, _condition_values(c, own, ctx)) for c in derivation.where)
    return DerivedFact(node.name, builtin, DERIVED_TYPES[builtin], derivation.fields, where, derivation.per,
                       node.meaning or "", span=node.span)


def _condition_values(condition: ast.Condition, own: dict, ctx) -> frozenset:
    if condition.field not in own:
        ctx.unknown("field", condition.field, condition.span, own)
        return frozenset()
    field = own[condition.field]
    return frozenset().union(*(member_values(v, condition.field, field.type, ctx, {}) for v in condition.values))


def _check_first_in(node: ast.InputDecl, fields: tuple, kinds: tuple, ctx):
    """`else first in KIND` of an event's field names a kind that has the field."""
    by_kind = {k.name: k for k in kinds}
    for field in fields:
        if field.first_in is None:
            continue
        source = by_kind.get(field.first_in)
        if source is None:
            ctx.unknown("kind of event", field.first_in, field.span, by_kind)
        elif field.name not in {f.name for f in source.fields}:
            ctx.error("E-input", f"'else first in {field.first_in}' needs a field '{field.name}' there", field.span)
