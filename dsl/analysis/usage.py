"""What the rules of one ruleset refer to, and what their reachable rows produce.

The unused-name and add-on analyses both read it: a declaration is used when some rule
names it, a code or value is produced when a row that decides for some input writes it.
"""
from __future__ import annotations

import attrs

from dsl import ast
from dsl.checked import CheckedEdit, CheckedInitial, CheckedRuleset, CheckedTable
from dsl.checker import Schema


@attrs.frozen
class Usage:
    """What the rules refer to and what their reachable rows produce."""

    names: frozenset  # every bare word a cell, units rule, edit or constant refers to
    cited: frozenset  # source ids
    produced: dict  # output kind (an attribute's own name) -> {value: [rule ids]}, from reachable rows
    unreachable_outputs: dict  # the same, for values only unreachable rows produce
    named: dict  # attribute -> values named by a predicate, merge, ranking or concurrent list
    edit_codes: frozenset
    edit_findings: frozenset
    edit_modifiers: frozenset

    @classmethod
    def collect(cls, ruleset: CheckedRuleset, reachable: set, schema: Schema) -> "Usage":
        """`reachable`: the (table, row id) of every row that decides for some input."""
        names, cited = set(), set()
        for node in ruleset.statements:
            cited.update(ref.source for ref in getattr(node, "refs", ()) or ())
            names.update(_names_in(node))
        produced: dict = {}
        unreachable: dict = {}
        named: dict = {}
        edit_codes, edit_findings, edit_modifiers = set(), set(), set()
        for stage in ruleset.stages:
            if isinstance(stage, CheckedTable):
                for column, name in enumerate(stage.inputs):
                    for row in stage.rows:
                        named.setdefault(name, set()).update(row.predicates[column].values)
                for row in stage.rows:
                    target = produced if (stage.name, row.id) in reachable else unreachable
                    for column, value in zip(stage.outputs, row.outputs):
                        kind = schema.outputs.get(column, column)
                        for item in (value if isinstance(value, tuple) else (value,)):
                            if item is not None:
                                target.setdefault(kind, {}).setdefault(item, []).append(f"{stage.name}/{row.id}")
            elif isinstance(stage, CheckedInitial):
                named.setdefault(stage.ranked_field, set()).update(
                    v for order in stage.rankings.values() for v in order)
                named[stage.ranked_field].update(stage.concurrent)
                if stage.selector:
                    named.setdefault(stage.selector, set()).update(k for k in stage.rankings if k is not None)
            elif isinstance(stage, CheckedEdit):
                edit_findings.add(stage.finding)
                for clause in stage.clauses:
                    edit_findings.update(finding for _, finding in getattr(clause, "missing", ()))
                    edit_codes.update(getattr(clause, "addons", ()), getattr(clause, "primaries", ()),
                                      getattr(clause, "column1", ()), getattr(clause, "column2", ()))
                    if getattr(clause, "code", None):
                        edit_codes.add(clause.code)
                    edit_modifiers.update(modifier for _, modifier in getattr(clause, "distinctions", ()))
                    for attribute, values in getattr(clause, "where", ()):  # a data clause's `where`
                        named.setdefault(attribute, set()).update(values)
            else:
                named.setdefault(stage.field, set()).update(stage.values)
                if stage.minus_field:
                    named.setdefault(stage.minus_field, set()).update(stage.minus_values)
        for kind, values in produced.items():
            for value in values:
                unreachable.get(kind, {}).pop(value, None)
        declared = ruleset.input
        edit_findings.update(f for f in (declared.undeclared, *(k.undeclared for k in declared.kinds)) if f)  # raised on reading
        return cls(frozenset(names), frozenset(cited), produced, unreachable,
                   {k: frozenset(v) for k, v in named.items()}, frozenset(edit_codes),
                   frozenset(edit_findings), frozenset(edit_modifiers))

    def outputs(self, kind: str) -> dict:
        return self.produced.get(kind, {})

    def only_unreachable(self, kind: str, value) -> list:
        return self.unreachable_outputs.get(kind, {}).get(value, [])


def _names_in(node) -> set:
    """The bare words a statement refers to (constants, sets, codes, modifiers, values)."""
    found = set()
    values = []
    if isinstance(node, (ast.Table, ast.Amend)):
        for row in node.rows:
            for cell in (*row.inputs, *row.outputs):
                values.extend(cell_values(cell))
    elif isinstance(node, ast.Units):
        values = [node.period, node.after, node.part]
    elif isinstance(node, ast.Const):
        values = [node.value]
    elif isinstance(node, ast.Merge):
        values = [*node.combine.values, *(node.minus.values if node.minus else ())]
    elif isinstance(node, ast.Edit):
        for clause in node.clauses:
            if isinstance(clause, (ast.Pair, ast.PairsFrom)):
                values.extend(d.modifier for d in clause.distinctions)
    for value in values:
        if isinstance(value, (ast.Name, ast.Number)):
            found.add(value.text)  # a code may be written as a number
    return found


def cell_values(cell) -> list:
    """The values an input or output cell writes (the bounds of a comparison or range)."""
    if isinstance(cell, ast.Alternatives):
        return list(cell.values)
    if isinstance(cell, ast.Negated):
        return list(cell.alternatives.values)
    if isinstance(cell, ast.Comparison):
        return [cell.value]
    if isinstance(cell, ast.Between):
        return [cell.low, cell.high]
    return []
