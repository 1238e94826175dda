"""The threshold report: every duration and number bound, with the rules it splits.

`infuse check` lists it so an analyst sees what moving a constant moves; `infuse diff`
generates encounters on both sides of every bound (`boundaries`).
"""
from __future__ import annotations

import attrs

from dsl import ast
from dsl.analysis.usage import cell_values
from dsl.checked import CheckedRuleset, CheckedTable
from dsl.show import value_text


@attrs.frozen
class Threshold:
    """A duration or number bound, by constant name (or as written), with the rules it splits."""

    name: str
    value: int
    kind: str  # "duration" or "number"
    constant: bool
    columns: tuple[str, ...]
    uses: tuple[str, ...]  # "table/row" or "units/name"

    @property
    def text(self) -> str:
        return value_text(self.value, self.kind)

    @property
    def label(self) -> str:
        return f"{self.name} = {self.text}" if self.constant else f"{self.text} on {', '.join(self.columns)}"

    def as_dict(self) -> dict:
        return {"name": self.name if self.constant else None, "value": self.value, "text": self.text,
                "kind": self.kind, "columns": list(self.columns), "uses": list(self.uses)}


def thresholds(ruleset: CheckedRuleset) -> tuple[Threshold, ...]:
    """Every duration and number bound of the tables and unit rules, with the rules it splits.

    Constants come first, by name; bounds written as literals follow, by column and value.
    """
    tables = {stage.name: stage for stage in ruleset.stages if isinstance(stage, CheckedTable)}
    constants = {node.name for node in ruleset.statements if isinstance(node, ast.Const)}
    found: dict = {}

    def add(value, kind: str, column: str, use: str):
        if isinstance(value, ast.Name) and value.text in constants:
            key = (0, value.text, 0)
            entry = found.setdefault(key, [value.text, ruleset.consts[value.text], kind, True, [], []])
        else:
            amount = value.seconds if isinstance(value, ast.Duration) else value.value
            key = (1, column, amount)
            entry = found.setdefault(key, [column, amount, kind, False, [], []])
        if column not in entry[4]:
            entry[4].append(column)
        if use not in entry[5]:
            entry[5].append(use)

    for node in ruleset.statements:
        if isinstance(node, ast.Table) and node.name in tables:
            types = dict(zip(tables[node.name].inputs, tables[node.name].input_types))
            for row in node.rows:
                for column, cell in zip(node.inputs[1:], row.inputs):
                    field_type = types.get(column.name)
                    if field_type is None or field_type.kind not in ("duration", "number"):
                        continue
                    for value in cell_values(cell):
                        add(value, field_type.kind, column.name, f"{node.name}/{row.id}")
        elif isinstance(node, ast.Units):
            add(node.part, "duration", "duration", f"units/{node.name}")
    return tuple(Threshold(name, value, kind, constant, tuple(columns), tuple(uses))
                 for (_, _, _), (name, value, kind, constant, columns, uses)
                 in sorted(found.items(), key=lambda item: item[0]))


def boundaries(ruleset: CheckedRuleset, column: str) -> list[int]:
    """Every bound a table of the ruleset puts on `column`, and for `duration` where each unit
    rule starts counting another unit (its first three), sorted."""
    bounds = set()
    for stage in ruleset.stages:
        if isinstance(stage, CheckedTable) and column in stage.inputs:
            index = stage.inputs.index(column)
            for row in stage.rows:
                predicate = row.predicates[index]
                bounds.update(predicate.thresholds())
                bounds.update(v for v in predicate.values if isinstance(v, int) and not isinstance(v, bool))
    if column == "duration":
        for rule in ruleset.units.values():
            bounds.update(rule.after + k * rule.period + rule.part for k in range(3))
    return sorted(bounds)
