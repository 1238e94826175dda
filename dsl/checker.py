"""The semantic checker: names, types, units and table analysis, all errors at once.

`check` walks the statements of a ruleset (its base first, then a variant's
overrides already merged by the loader) and returns a CheckedRuleset, or raises
RulesetError with every independent diagnostic sorted by position. It knows no
encounter field by itself: the caller's Schema says which attributes each scope
offers, which attributes an `initial` stage writes, and which output columns
have a meaning of their own.
"""
from __future__ import annotations

import datetime
import itertools
import re

import attrs

from dsl import ast
from dsl.checked import (ANY, CheckedEdit, CheckedInitial, CheckedLimit, CheckedMerge, CheckedPair,
                         CheckedRequire, CheckedRow, CheckedRuleset, CheckedTable, CheckedUnits,
                         FieldType, FindingInfo, Predicate)
from dsl.diagnostics import Diagnostic, RulesetError, did_you_mean
from dsl.overlaps import overlapping_pairs

POLICIES = ("first", "unique", "collect", "priority")
SEVERITIES = ("error", "warning", "info")
CODE_KINDS = ("initial", "addon", "standalone", "em")
TIES = ("primary", "earliest start", "latest start", "longest duration", "shortest duration")
BOOLEAN_WORDS = {"yes": True, "no": False}


@attrs.frozen
class Schema:
    """What the engine offers the rules: attributes per scope and special outputs.

    `scopes` maps a scope ("administration", "line", "em") to its readable
    attributes; an enum type with no values takes the ruleset's vocabulary of the
    same name. `initial_writes` are the attributes an `initial` stage produces
    (with the key names added to `distinct`). `outputs` maps special output column
    names to their kind: "code", "units", "modifier", "finding", "bool".
    """

    scopes: dict
    initial_writes: dict
    outputs: dict
    required_vocabularies: tuple[str, ...] = ()
    inherits: dict = attrs.Factory(dict)  # scope -> the scope whose produced attributes it also reads
    event_scope: str = "event"  # the scope `merge` and `initial` stages act on
    line_scope: str = "line"  # the scope `edit` stages act on
    key_attribute: str = "distinct"  # the attribute an `initial` stage fills with its key names


@attrs.define
class _Context:
    diagnostics: list
    vocabularies: dict = attrs.Factory(dict)
    sets: dict = attrs.Factory(dict)  # name -> (field, frozenset)
    consts: dict = attrs.Factory(dict)  # name -> ast value (resolved later)
    codes: dict = attrs.Factory(dict)
    modifiers: dict = attrs.Factory(dict)
    findings: dict = attrs.Factory(dict)
    sources: dict = attrs.Factory(dict)
    units: dict = attrs.Factory(dict)
    used_findings: set = attrs.Factory(set)

    def error(self, code: str, message: str, span: ast.Span, hint: str | None = None):
        self.diagnostics.append(Diagnostic(code, message, span, hint=hint))

    def unknown(self, kind: str, name: str, span: ast.Span, candidates):
        self.error("E-name", f"unknown {kind} '{name}'", span, did_you_mean(name, candidates))


def check(statements: list, schema: Schema, digest: str, sources_text: dict[str, str]) -> CheckedRuleset:
    """Check merged statements; raise RulesetError listing every problem found."""
    ctx = _Context(diagnostics=[])
    fallback = ast.Span(next(iter(sources_text), "<ruleset>"), 1, 1, 1, 2)
    header = _header(statements, ctx, fallback)
    _declare(statements, ctx)
    _check_citations(statements, ctx)
    for name in schema.required_vocabularies:
        if name not in ctx.vocabularies:
            ctx.error("E-vocabulary", f"the ruleset must declare 'vocabulary {name}'", header["span"])
    consts = {name: _const_value(node.value, ctx) for name, node in ctx.consts.items()}
    units = {name: _check_units(node, ctx, consts) for name, node in ctx.units.items()}
    stages = _check_stages(statements, ctx, schema, consts, units)
    payer_routes = _payer_routes(statements, ctx)
    _check_findings_used(ctx)
    if any(d.severity == "error" for d in ctx.diagnostics):
        raise RulesetError(ctx.diagnostics, sources_text)
    return CheckedRuleset(
        name=header["name"], version=header["version"], payer=header["payer"], base=header["base"],
        effective=header["effective"], digest=digest,
        sources={k: v.text for k, v in ctx.sources.items()},
        vocabularies={k: tuple(v.text for v in node.values) for k, node in ctx.vocabularies.items()},
        codes={k: (v.kind, v.text) for k, v in ctx.codes.items()},
        modifiers={k: v.text for k, v in ctx.modifiers.items()},
        findings={k: FindingInfo(k, v.severity, v.message, tuple(r.source for r in v.refs)) for k, v in ctx.findings.items()},
        consts=consts, units=units, stages=tuple(stages),
        texts={s.span.file: sources_text[s.span.file] for s in statements if s.span.file in sources_text},
        statements=tuple(statements), payer_routes=payer_routes)


# ----- header and declarations ------------------------------------------------

def _header(statements, ctx, fallback: ast.Span) -> dict:
    found = {"name": None, "version": None, "payer": None, "base": None, "effective": None,
             "span": statements[0].span if statements else fallback}
    for node in statements:
        if isinstance(node, ast.RulesetHeader):
            found.update(name=node.name, version=node.version, span=node.span)
        elif isinstance(node, ast.PayerDecl):
            found["payer"] = node.payer
        elif isinstance(node, ast.Extends):
            found["base"] = node.base
        elif isinstance(node, ast.Effective):
            for text in (node.start, node.end):
                try:
                    datetime.date.fromisoformat(text)
                except ValueError:
                    ctx.error("E-effective", f"'{text}' is not a real date", node.span)
            if node.start > node.end:
                ctx.error("E-effective", f"effective dates run backwards: {node.start} .. {node.end}", node.span)
            found["effective"] = (node.start, node.end)
    if found["name"] is None:
        ctx.error("E-header", "a ruleset starts with 'ruleset NAME VERSION'", found["span"])
    if found["effective"] is None:
        ctx.error("E-header", "the ruleset needs 'effective START .. END'", found["span"])
        found["effective"] = ("0001-01-01", "9999-12-31")
    return found


_DECLARATIONS = {
    ast.Vocabulary: ("vocabularies", "vocabulary"), ast.ValueSet: ("sets", "set"),
    ast.Const: ("consts", "constant"), ast.CodeDecl: ("codes", "code"),
    ast.ModifierDecl: ("modifiers", "modifier"), ast.FindingDecl: ("findings", "finding"),
    ast.Source: ("sources", "source"), ast.Units: ("units", "units rule"),
}


def _declare(statements, ctx):
    """Fill the symbol tables; a name declared twice in one ruleset is an error."""
    for node in statements:
        entry = _DECLARATIONS.get(type(node))
        if entry is None:
            continue
        table, kind = entry
        key = _declared_name(node)
        symbols = getattr(ctx, table)
        if key in symbols:
            ctx.error("E-duplicate", f"{kind} '{key}' is declared twice", node.span,
                      f"first declared at {_where(_node_of(symbols[key]).span)}")
            continue
        symbols[key] = node if not isinstance(node, ast.ValueSet) else (node, node.field,
                                                                        frozenset(v.text for v in node.values))
    for node in statements:
        if isinstance(node, ast.FindingDecl) and node.severity not in SEVERITIES:
            ctx.error("E-severity", f"unknown severity '{node.severity}'; expected error, warning or info",
                      node.span, did_you_mean(node.severity, SEVERITIES))
        if isinstance(node, ast.CodeDecl) and node.kind not in CODE_KINDS:
            ctx.error("E-code-kind", f"unknown code kind '{node.kind}'; expected {', '.join(CODE_KINDS)}",
                      node.span, did_you_mean(node.kind, CODE_KINDS))


def _declared_name(node) -> str:
    for attribute in ("name", "code", "id"):
        if hasattr(node, attribute):
            return getattr(node, attribute)
    raise AssertionError(node)


def _where(span: ast.Span) -> str:
    return f"{span.file}:{span.line}"


def _node_of(entry):
    return entry[0] if isinstance(entry, tuple) else entry


def _check_citations(statements, ctx):
    """Every rule cites at least one declared source."""
    for node in statements:
        refs = getattr(node, "refs", None)
        if refs is None:
            continue
        if not refs and not isinstance(node, ast.Amend):
            what = f"route payer ... to {node.target}" if isinstance(node, ast.PayerRoute) else _declared_name(node)
            ctx.error("E-cite", f"'{what}' cites no source; add [source-id]", node.span)
        for ref in refs:
            if ref.source not in ctx.sources:
                ctx.unknown("source", ref.source, ref.span, ctx.sources)


def _const_value(value, ctx):
    if isinstance(value, ast.Duration):
        return value.seconds
    if isinstance(value, ast.Number):
        return value.value
    if value.text in ctx.modifiers or value.text in ctx.codes:
        return value.text
    ctx.unknown("constant value", value.text, value.span, [*ctx.modifiers, *ctx.codes])
    return value.text


def _duration(value, ctx, consts, what: str) -> int:
    """Seconds of a duration literal or a duration constant."""
    if isinstance(value, ast.Duration):
        return value.seconds
    if isinstance(value, ast.Name) and value.text in consts and isinstance(ctx.consts[value.text].value, ast.Duration):
        return consts[value.text]
    if isinstance(value, ast.Name) and value.text not in consts:
        ctx.unknown("constant", value.text, value.span, [k for k, v in ctx.consts.items() if isinstance(v.value, ast.Duration)])
    else:
        ctx.error("E-type", f"{what} must be a duration such as '30 min'", value.span)
    return 0


def _check_units(node: ast.Units, ctx, consts) -> CheckedUnits:
    period = _duration(node.period, ctx, consts, "the unit period")
    if period <= 0:
        ctx.error("E-units", "the unit period must be longer than zero", node.period.span)
    return CheckedUnits(node.name, tuple(r.source for r in node.refs), node.doc, period,
                        _duration(node.after, ctx, consts, "'after'"),
                        _duration(node.part, ctx, consts, "the final part"), span=node.span)


def _check_findings_used(ctx):
    for name, node in ctx.findings.items():
        if name not in ctx.used_findings:
            ctx.diagnostics.append(Diagnostic("W-unused", f"finding '{name}' is never raised", node.span, "warning"))


def _payer_routes(statements, ctx) -> dict:
    """Payer name -> the variant (or base) it takes; a name routed twice is an error, as it
    would leave the payer's policy to the order of the files. The targets are the loader's
    to check: only it sees the variants."""
    routes, where = {}, {}
    for node in statements:
        if not isinstance(node, ast.PayerRoute):
            continue
        for name in node.names:
            if name.text in routes:
                ctx.error("E-duplicate", f"payer '{name.text}' is routed twice", name.span,
                          f"first routed at {_where(where[name.text])}")
                continue
            routes[name.text], where[name.text] = node.target, name.span
    return routes


# ----- stages -----------------------------------------------------------------

def _check_stages(statements, ctx, schema, consts, units) -> list:
    available = {scope: dict(fields) for scope, fields in schema.scopes.items()}
    for fields in available.values():
        for name, field_type in list(fields.items()):
            fields[name] = _bind_vocabulary(name, field_type, ctx)
    _check_sets(ctx, available)
    stages = []
    seen: dict = {}
    for node in statements:
        if isinstance(node, (ast.Table, ast.Merge, ast.Initial, ast.Edit)):
            key = (type(node).__name__, node.name)
            if key in seen:
                ctx.error("E-duplicate", f"{type(node).__name__.lower()} '{node.name}' is declared twice", node.span,
                          f"first declared at {_where(seen[key])}")
                continue
            seen[key] = node.span
        if isinstance(node, ast.Table):
            table = _check_table(node, ctx, schema, available, consts, units)
            if table is not None:
                stages.append(table)
        elif isinstance(node, ast.Merge):
            stages.append(_check_merge(node, ctx, available[schema.event_scope]))
        elif isinstance(node, ast.Initial):
            stages.append(_check_initial(node, ctx, schema, available))
        elif isinstance(node, ast.Edit):
            stages.append(_check_edit(node, ctx, consts, available[schema.line_scope]))
    return stages


def _check_sets(ctx, available: dict):
    """Every set names an attribute the rules can read (or a vocabulary a table produces) and
    holds only values that attribute can take: a member that can never match is an error."""
    for name, (node, field, _members) in ctx.sets.items():
        field_type = next((fields[field] for fields in available.values() if field in fields), None)
        if field_type is None and field in ctx.vocabularies:
            field_type = _bind_vocabulary(field, FieldType("enum"), ctx)
        if field_type is None:
            readable = {f for fields in available.values() for f in fields} | set(ctx.vocabularies)
            ctx.unknown("attribute", field, node.span, readable)
            continue
        for value in node.values:
            _member_values(value, field, field_type, ctx, {})


def _bind_vocabulary(name: str, field_type: FieldType, ctx) -> FieldType:
    if field_type.kind == "enum" and not field_type.values and name in ctx.vocabularies:
        return FieldType("enum", tuple(v.text for v in ctx.vocabularies[name].values))
    return field_type


def _check_table(node: ast.Table, ctx, schema, available, consts, units) -> CheckedTable | None:
    if node.policy not in POLICIES:
        ctx.error("E-policy", f"unknown hit policy '{node.policy}'; expected {', '.join(POLICIES)}",
                  node.span, did_you_mean(node.policy, POLICIES))
    if node.scope not in available:
        ctx.unknown("scope", node.scope, node.span, available)
        return None
    if not node.inputs or node.inputs[0].name != "id":
        ctx.error("E-header", "the first column of a table is 'id'", node.inputs[0].span if node.inputs else node.span)
    fields = available[node.scope]
    input_columns = node.inputs[1:]
    for columns in (input_columns, node.outputs):
        names = [c.name for c in columns]
        for i, column in enumerate(columns):
            if column.name in names[:i]:
                ctx.error("E-duplicate", f"column '{column.name}' appears twice in table '{node.name}'", column.span)
    input_types = []
    for column in input_columns:
        if column.name not in fields:
            ctx.unknown("column", column.name, column.span, fields)
        input_types.append(fields.get(column.name, _UNKNOWN_TYPE))
    output_kinds = []
    for column in node.outputs:
        kind = schema.outputs.get(column.name)
        if kind is None:
            if column.name in ctx.vocabularies:
                kind = "attribute"
            else:
                ctx.error("E-output", f"output column '{column.name}' is neither a result column nor a vocabulary",
                          column.span, did_you_mean(column.name, [*schema.outputs, *ctx.vocabularies]))
        output_kinds.append(kind)
    rows, seen = [], {}
    for row in node.rows:
        if row.id in seen:
            ctx.error("E-duplicate", f"row id '{row.id}' is used twice in table '{node.name}'", row.span,
                      f"first used at {_where(seen[row.id])}")
        seen[row.id] = row.span
        if len(row.inputs) != len(input_columns):
            ctx.error("E-row", f"row '{row.id}' has {len(row.inputs)} input cells; the table has {len(input_columns)} input columns", row.span)
            continue
        if len(row.outputs) > len(node.outputs):
            ctx.error("E-row", f"row '{row.id}' has {len(row.outputs)} output cells; the table has {len(node.outputs)} output columns", row.span)
            continue
        predicates = tuple(_predicate(cell, column.name, field_type, ctx, consts)
                           for cell, column, field_type in zip(row.inputs, input_columns, input_types))
        outputs = tuple(_output(cell, column.name, kind, ctx, consts, units)
                        for cell, column, kind in itertools.zip_longest(row.outputs, node.outputs, output_kinds))
        rows.append(CheckedRow(row.id, predicates, outputs, span=row.span, node=row))
    for column, kind in zip(node.outputs, output_kinds):
        if kind == "attribute":
            produced = FieldType("enum", tuple(v.text for v in ctx.vocabularies[column.name].values))
            fields[column.name] = produced
            for heir, parent in schema.inherits.items():
                if parent == node.scope:
                    available[heir][column.name] = produced
    table = CheckedTable(node.name, node.policy, node.scope, tuple(r.source for r in node.refs), node.doc,
                         tuple(c.name for c in input_columns), tuple(input_types),
                         tuple(c.name for c in node.outputs), tuple(rows),
                         priority=_priority_order(node, output_kinds, ctx), span=node.span)
    if node.policy == "unique":
        _check_unique(table, ctx)
    return table


def _priority_order(node, output_kinds, ctx) -> tuple[str, ...]:
    if node.policy != "priority":
        return ()
    if not node.outputs or output_kinds[0] != "attribute":
        ctx.error("E-policy", "a priority table ranks rows by its first output, which must be a vocabulary", node.span)
        return ()
    return tuple(v.text for v in ctx.vocabularies[node.outputs[0].name].values)


def _symbol_text(value) -> str:
    """A value as written: text columns compare text, so a number `02` stays "02"."""
    return value.text


_UNKNOWN_TYPE = FieldType("unknown")  # an unknown column: its cells are not checked again


def _predicate(cell, column: str, field_type: FieldType, ctx, consts) -> Predicate:
    """Turn one input cell into a Predicate, checking it against the column's type."""
    if field_type is _UNKNOWN_TYPE or cell is None or isinstance(cell, ast.AnyCell):
        return ANY
    if isinstance(cell, ast.BlankCell):
        ctx.error("E-cell", "an input cell cannot be blank ('-'); use '*' for any value", cell.span)
        return ANY
    if isinstance(cell, ast.MissingCell):
        return Predicate("missing")
    if isinstance(cell, (ast.Alternatives, ast.Negated)):
        alternatives = cell if isinstance(cell, ast.Alternatives) else cell.alternatives
        values = frozenset().union(*(_member_values(v, column, field_type, ctx, consts) for v in alternatives.values))
        return Predicate("in" if isinstance(cell, ast.Alternatives) else "not_in", values)
    if field_type.kind not in ("duration", "number"):
        ctx.error("E-type", f"column '{column}' holds {field_type.kind} values; a comparison needs a duration or number column", cell.span)
        return ANY
    if isinstance(cell, ast.Comparison):
        bound = _scalar(cell.value, column, field_type, ctx, consts)
        return {"<": Predicate("range", high=bound, high_inclusive=False),
                "<=": Predicate("range", high=bound),
                ">": Predicate("range", low=bound, low_inclusive=False),
                ">=": Predicate("range", low=bound)}[cell.operator]
    low = _scalar(cell.low, column, field_type, ctx, consts)
    high = _scalar(cell.high, column, field_type, ctx, consts)
    if low > high:
        ctx.error("E-range", "the range runs backwards", cell.span)
    return Predicate("range", low=low, high=high)


def _scalar(value, column, field_type: FieldType, ctx, consts) -> int:
    if field_type.kind == "duration":
        return _duration(value, ctx, consts, f"a bound of column '{column}'")
    if isinstance(value, ast.Number):
        return value.value
    if isinstance(value, ast.Name) and isinstance(consts.get(value.text), int) and not isinstance(ctx.consts[value.text].value, ast.Duration):
        return consts[value.text]
    ctx.error("E-type", f"column '{column}' compares numbers; '{_symbol_text(value)}' is not one", value.span)
    return 0


def _member_values(value, column, field_type: FieldType, ctx, consts) -> frozenset:
    """The values one alternative stands for: itself, or the members of a named set."""
    if isinstance(value, ast.Duration) or field_type.kind in ("duration", "number"):
        if field_type.kind in ("duration", "number"):
            return frozenset({_scalar(value, column, field_type, ctx, consts)})
        ctx.error("E-type", f"column '{column}' holds {field_type.kind} values, not durations", value.span)
        return frozenset()
    text = _symbol_text(value)
    if text in ctx.sets:
        set_node, set_field, members = ctx.sets[text]
        if set_field != column:
            ctx.error("E-type", f"set '{text}' holds values of '{set_field}', not of '{column}'", value.span)
        return members
    if field_type.kind == "bool":
        if text not in BOOLEAN_WORDS:
            ctx.error("E-value", f"column '{column}' is yes or no; got '{text}'", value.span, did_you_mean(text, BOOLEAN_WORDS))
        return frozenset({BOOLEAN_WORDS.get(text, False)})
    if field_type.kind == "enum" and text not in field_type.values:
        ctx.error("E-value", f"'{text}' is not a value of '{column}'", value.span,
                  did_you_mean(text, [*field_type.values, *ctx.sets]) or f"expected one of: {', '.join(field_type.values)}")
    if field_type.pattern is not None and not re.fullmatch(field_type.pattern, text):
        ctx.error("E-value", f"'{text}' can never match column '{column}', whose values are {field_type.form}",
                  value.span, _padded_hint(text, field_type))
    return frozenset({text})


def _padded_hint(text: str, field_type: FieldType) -> str | None:
    """'did you mean' the value written with the leading zeros the form needs (2 -> 02)."""
    for width in range(len(text) + 1, len(text) + 4):
        padded = text.zfill(width)
        if re.fullmatch(field_type.pattern, padded):
            return f"did you mean '{padded}'?"
    return None


def _output(cell, column: str, kind, ctx, consts, units):
    """Resolve one output cell to the value the engine uses (None for blank)."""
    if cell is None or isinstance(cell, ast.BlankCell) or kind is None:
        return None
    if not isinstance(cell, ast.Alternatives):
        ctx.error("E-cell", f"output column '{column}' takes a value, not a condition", cell.span)
        return None
    durations = [v for v in cell.values if isinstance(v, ast.Duration)]
    if durations:
        ctx.error("E-type", f"output column '{column}' takes a name, not a duration", durations[0].span)
        return None
    if kind == "finding":
        for value in cell.values:
            if _symbol_text(value) not in ctx.findings:
                ctx.unknown("finding", _symbol_text(value), value.span, ctx.findings)
            ctx.used_findings.add(_symbol_text(value))
        return tuple(_symbol_text(v) for v in cell.values)
    if len(cell.values) != 1:
        ctx.error("E-cell", f"output column '{column}' takes one value", cell.span)
        return None
    value = cell.values[0]
    text = _symbol_text(value)
    if kind == "code":
        if text not in ctx.codes:
            ctx.unknown("code", text, value.span, ctx.codes)
        return text
    if kind == "units":
        if text not in units and text not in ctx.units:
            ctx.unknown("units rule", text, value.span, ctx.units)
        return text
    if kind == "modifier":
        resolved = str(consts[text]) if text in ctx.consts else text
        if resolved not in ctx.modifiers:
            ctx.unknown("modifier", text, value.span, [*ctx.modifiers, *ctx.consts])
        return resolved
    if kind == "bool":
        if text not in BOOLEAN_WORDS:
            ctx.error("E-value", f"column '{column}' is yes or no; got '{text}'", value.span, did_you_mean(text, BOOLEAN_WORDS))
        return BOOLEAN_WORDS.get(text)
    allowed = [v.text for v in ctx.vocabularies[column].values]
    if text not in allowed:
        ctx.error("E-value", f"'{text}' is not a value of '{column}'", value.span, did_you_mean(text, allowed))
    return text


_MAX_OVERLAPS = 10  # per table: enough to act on, and the check stays fast on huge tables


def _check_unique(table: CheckedTable, ctx):
    """Two rows of a `unique` table that can match one input are an error; show that input."""
    for found, (first, second, example) in enumerate(overlapping_pairs(table)):
        if found == _MAX_OVERLAPS:
            ctx.error("E-overlap", f"more overlapping rows in unique table '{table.name}' are not listed", table.span)
            return
        ctx.error("E-overlap", f"rows '{first.id}' and '{second.id}' of unique table '{table.name}' both match "
                  f"{', '.join(example) or 'every input'}", second.span, f"row '{first.id}' is at line {first.span.line}")


def _check_merge(node: ast.Merge, ctx, fields) -> CheckedMerge:
    for key in (*node.keys, *node.minus_keys):
        if key not in fields:
            ctx.unknown("grouping key", key, node.span, fields)
    values = _condition_values(node.combine, ctx, fields)
    minus_values = _condition_values(node.minus, ctx, fields) if node.minus else frozenset()
    return CheckedMerge(node.name, tuple(r.source for r in node.refs), node.combine.field, values, node.keys,
                        node.minus.field if node.minus else None, minus_values, node.minus_keys, span=node.span)


def _condition_values(condition: ast.Condition, ctx, fields) -> frozenset:
    field_type = fields.get(condition.field)
    if field_type is None:
        ctx.unknown("attribute", condition.field, condition.span, fields)
        return frozenset()
    return frozenset().union(*(_member_values(v, condition.field, field_type, ctx, {}) for v in condition.values))


def _check_initial(node: ast.Initial, ctx, schema, available) -> CheckedInitial:
    fields = available[schema.event_scope]
    for key in node.keys:
        if key not in fields:
            ctx.unknown("grouping key", key, node.span, fields)
    rankings = {}
    selector_values = ()
    if node.selector is not None:
        if node.selector not in fields:
            ctx.unknown("attribute", node.selector, node.span, fields)
        else:
            selector_values = fields[node.selector].values
    primary_of = {}
    for ranking in node.rankings:
        if ranking.key is not None and selector_values and ranking.key not in selector_values:
            ctx.error("E-value", f"'{ranking.key}' is not a value of '{node.selector}'", ranking.span,
                      did_you_mean(ranking.key, selector_values))
        order = [name.text for name in ranking.order]
        for value in ranking.primary_of:
            if value.text not in order:
                ctx.error("E-rank", f"'primary({value.text})': '{value.text}' is not in this ranking", value.span,
                          did_you_mean(value.text, order))
        if ranking.primary_of and "primary" not in order:
            ctx.error("E-rank", "only 'primary' takes a list of values", ranking.span)
        if ranking.key in rankings:
            ctx.error("E-duplicate", f"a second ranking for '{ranking.key}'", ranking.span)
        rankings[ranking.key] = tuple(order)
        primary_of[ranking.key] = frozenset(v.text for v in ranking.primary_of)
    ranked_values = {v for order in rankings.values() for v in order if v != "primary"}
    ranked_field = _ranked_field(ranked_values, fields, ctx, node)
    for tie in node.ties:
        if tie not in TIES:
            ctx.error("E-ties", f"unknown tie-breaker '{tie}'", node.span, did_you_mean(tie, TIES) or f"expected: {', '.join(TIES)}")
    for name in node.concurrent:
        if name.text not in ranked_values:
            ctx.error("E-value", f"concurrent value '{name.text}' is not ranked in '{node.name}'", name.span,
                      did_you_mean(name.text, ranked_values))
    for attribute, field_type in schema.initial_writes.items():
        if attribute == schema.key_attribute:
            known = fields[attribute].values if attribute in fields else field_type.values
            field_type = FieldType("enum", tuple(dict.fromkeys((*known, *node.keys))))
        fields[attribute] = field_type
        for heir, parent in schema.inherits.items():
            if parent == schema.event_scope:
                available[heir][attribute] = field_type
    return CheckedInitial(node.name, tuple(r.source for r in node.refs), node.keys, node.selector,
                          ranked_field, rankings, primary_of, node.ties,
                          frozenset(n.text for n in node.concurrent), span=node.span)


def _ranked_field(values, fields, ctx, node) -> str:
    """The attribute whose values the ranking lists (the one enum holding them all)."""
    for name, field_type in reversed(fields.items()):  # attributes the rules produced come last: prefer them
        if field_type.kind == "enum" and values and values <= set(field_type.values):
            return name
    for value in sorted(values):
        ctx.error("E-value", f"ranked value '{value}' is not a value of any attribute", node.span,
                  did_you_mean(value, [v for t in fields.values() if t.kind == "enum" for v in t.values]))
        break
    return ""


def _check_edit(node: ast.Edit, ctx, consts, line_fields: dict) -> CheckedEdit:
    clauses = []
    for clause in node.clauses:
        if isinstance(clause, ast.Require):
            clauses.append(CheckedRequire(_codes(clause.addons, ctx), _codes(clause.primaries, ctx)))
        elif isinstance(clause, ast.Limit):
            if clause.per != "encounter":
                ctx.error("E-edit", f"limits count per encounter; got per '{clause.per}'", clause.span)
            clauses.append(CheckedLimit(next(iter(_codes((clause.code,), ctx)), ""), clause.units, clause.per))
        else:
            if clause.per != "encounter" and clause.per not in line_fields:
                ctx.unknown("attribute of a line", clause.per, clause.span, [*line_fields, "encounter"])
            distinctions = []
            for distinction in clause.distinctions:
                if distinction.attribute not in line_fields:
                    ctx.unknown("attribute of a line", distinction.attribute, distinction.span, line_fields)
                modifier = _output(ast.Alternatives((distinction.modifier,)), "modifier", "modifier", ctx, consts, {})
                distinctions.append((distinction.attribute, modifier))
            clauses.append(CheckedPair(_codes(clause.column1, ctx), _codes(clause.column2, ctx), clause.per,
                                       tuple(distinctions)))
    if node.finding not in ctx.findings:
        ctx.unknown("finding", node.finding, node.finding_span, ctx.findings)
    ctx.used_findings.add(node.finding)
    return CheckedEdit(node.name, tuple(r.source for r in node.refs), tuple(clauses), node.finding, span=node.span)


def _codes(names, ctx) -> frozenset:
    for name in names:
        if _symbol_text(name) not in ctx.codes:
            ctx.unknown("code", _symbol_text(name), name.span, ctx.codes)
    return frozenset(_symbol_text(n) for n in names)
