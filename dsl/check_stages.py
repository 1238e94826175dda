"""The checker's pass over the stages, in the order written: tables (columns, cells, hit
policies, `unique` overlaps), merges, initial stages and edits. Each stage may read only what
the schema offers its scope and what earlier stages produced.
"""
from __future__ import annotations

import itertools

from dsl import ast
from dsl.check_cells import UNKNOWN_TYPE, member_values, output_value, predicate, symbol_text
from dsl.checked import DATA_PER, CheckedLimitsFrom, CheckedPairsFrom
from dsl.checked import (CheckedEdit, CheckedInitial, CheckedLimit, CheckedMerge, CheckedPair,
                         CheckedRequire, CheckedRow, CheckedTable, FieldType)
from dsl.diagnostics import did_you_mean, where
from dsl.edit_data import LimitTable, PairTable
from dsl.overlaps import overlapping_pairs

POLICIES = ("first", "unique", "collect", "priority")
TIES = ("primary", "earliest start", "latest start", "longest duration", "shortest duration")


def check_stages(statements, ctx, schema, consts, units) -> list:
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
                          f"first declared at {where(seen[key], node.span, ctx.variants)}")
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
            member_values(value, field, field_type, ctx, {})


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
        if column.name not in fields:  # nothing close: say what the scope offers (infuse columns: more)
            ctx.error("E-name", f"unknown column '{column.name}'", column.span,
                      did_you_mean(column.name, fields) or f"columns per {node.scope} here: {', '.join(sorted(fields))}")
        input_types.append(fields.get(column.name, UNKNOWN_TYPE))
    output_kinds = []
    for column in node.outputs:
        kind = schema.outputs.get(column.name)
        if kind is None:
            if column.name in ctx.vocabularies:
                kind = "attribute"
            else:
                ctx.error("E-output", f"output column '{column.name}' is neither a result column nor a vocabulary",
                          column.span, did_you_mean(column.name, [*schema.outputs, *ctx.vocabularies]))
        if kind == "bool" and column.name == "report" and "code" not in fields:
            ctx.error("E-output", f"'report' reports the event's own code, but events per {node.scope} have no "
                                  "'code' field", column.span, "declare 'field code: ...' in its events, or use 'code'")
        output_kinds.append(kind)
    rows, seen = [], {}
    for row in node.rows:
        if row.id in seen:
            ctx.error("E-duplicate", f"row id '{row.id}' is used twice in table '{node.name}'", row.span,
                      f"first used at {where(seen[row.id], row.span, ctx.variants)}")
        seen[row.id] = row.span
        if len(row.inputs) != len(input_columns):
            ctx.error("E-row", f"row '{row.id}' has {len(row.inputs)} input cells; the table has {len(input_columns)} input columns", row.span)
            continue
        if len(row.outputs) > len(node.outputs):
            ctx.error("E-row", f"row '{row.id}' has {len(row.outputs)} output cells; the table has {len(node.outputs)} output columns", row.span)
            continue
        predicates = tuple(predicate(cell, column.name, field_type, ctx, consts)
                           for cell, column, field_type in zip(row.inputs, input_columns, input_types))
        outputs = tuple(output_value(cell, column.name, kind, ctx, consts, units)
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


_MAX_OVERLAPS = 10  # per table: enough to act on, and the check stays fast on huge tables


def _check_unique(table: CheckedTable, ctx):
    """Two rows of a `unique` table that can match one input are an error; show that input."""
    for found, (first, second, example) in enumerate(overlapping_pairs(table)):
        if found == _MAX_OVERLAPS:
            ctx.error("E-overlap", f"more overlapping rows in unique table '{table.name}' are not listed", table.span)
            return
        ctx.error("E-overlap", f"rows '{first.id}' and '{second.id}' of unique table '{table.name}' both match "
                  f"{', '.join(example) or 'every input'}", second.span,
                  f"row '{first.id}' is at {where(first.span, second.span, ctx.variants)}")


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
    return frozenset().union(*(member_values(v, condition.field, field_type, ctx, {}) for v in condition.values))


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
        elif isinstance(clause, (ast.PairsFrom, ast.LimitsFrom)):
            clauses.append(_check_data_clause(clause, ctx, consts, line_fields))
        else:
            if clause.per != "encounter" and clause.per not in line_fields:
                ctx.unknown("attribute of a line", clause.per, clause.span, [*line_fields, "encounter"])
            clauses.append(CheckedPair(_codes(clause.column1, ctx), _codes(clause.column2, ctx), clause.per,
                                       _distinctions(clause, ctx, consts, line_fields),
                                       _missing(clause, ctx)))
    if node.finding not in ctx.findings:
        ctx.unknown("finding", node.finding, node.finding_span, ctx.findings)
    ctx.used_findings.add(node.finding)
    return CheckedEdit(node.name, tuple(r.source for r in node.refs), tuple(clauses), node.finding, span=node.span)


def _check_data_clause(clause, ctx, consts, line_fields: dict):
    """A `pairs from` or `limit from` clause: counted per date of service or per encounter;
    its file was read by the loader (dsl.loader reads it, or reports why it could not); the
    statements of one file checked alone, without their folder, have its clauses with no rows."""
    if clause.per not in DATA_PER:
        ctx.error("E-edit", f"national edit data counts per date (of service) or per encounter; got per "
                            f"'{clause.per}'", clause.span, did_you_mean(clause.per, list(DATA_PER)))
    data = clause.data
    if data is None:  # statements checked without their folder (dsl.checker.check alone): no rows
        data = (LimitTable if isinstance(clause, ast.LimitsFrom) else PairTable)(clause.path, "", 0, {})
    where = tuple((c.field, _condition_values(c, ctx, line_fields)) for c in clause.where)
    if isinstance(clause, ast.LimitsFrom):
        return CheckedLimitsFrom(clause.path, clause.digest or "", clause.per, data, where)
    return CheckedPairsFrom(clause.path, clause.digest or "", clause.per,
                            _distinctions(clause, ctx, consts, line_fields), data, _missing(clause, ctx), where)


def _distinctions(clause, ctx, consts, line_fields: dict) -> tuple:
    """The (attribute, modifier) of each `distinct by` line of a pair clause, checked."""
    distinctions = []
    for distinction in clause.distinctions:
        if distinction.attribute not in line_fields:
            ctx.unknown("attribute of a line", distinction.attribute, distinction.span, line_fields)
        modifier = output_value(ast.Alternatives((distinction.modifier,)), "modifier", "modifier", ctx, consts, {})
        distinctions.append((distinction.attribute, modifier))
    return tuple(distinctions)


def _missing(clause, ctx) -> tuple:
    """The (attribute, finding) of each `distinct by` line naming a finding for when the line's
    attribute is missing; the finding must be declared."""
    for distinction in clause.distinctions:
        if distinction.missing is not None:
            if distinction.missing not in ctx.findings:
                ctx.unknown("finding", distinction.missing, distinction.missing_span, ctx.findings)
            ctx.used_findings.add(distinction.missing)
    return tuple((d.attribute, d.missing) for d in clause.distinctions if d.missing is not None)


def _codes(names, ctx) -> frozenset:
    for name in names:
        if symbol_text(name) not in ctx.codes:
            ctx.unknown("code", symbol_text(name), name.span, ctx.codes)
    return frozenset(symbol_text(n) for n in names)
