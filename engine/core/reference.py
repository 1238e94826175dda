"""The reference semantics of tables and unit rules: rows tried in order, units counted
one by one. Slow on purpose; it is the definition every faster path is tested against."""
from __future__ import annotations

from dsl.checked import CheckedTable, CheckedUnits


def apply_policy(table: CheckedTable, matched: list) -> tuple:
    """Which of the matching rows (in table order) decide, by the table's hit policy."""
    if not matched:
        return ()
    if table.policy == "collect":
        return tuple(matched)
    if table.policy == "priority":
        rank = {value: i for i, value in enumerate(table.priority)}
        return (min(matched, key=lambda row: rank.get(row.outputs[0], len(rank))),)
    return (matched[0],)


class ReferenceTable:
    """Decides a table by trying every row against the inputs, top to bottom."""

    def __init__(self, table: CheckedTable):
        self.table = table

    def decide(self, values) -> tuple:
        inputs = [values.get(column) for column in self.table.inputs]
        matched = [row for row in self.table.rows
                   if all(p.matches(v) for p, v in zip(row.predicates, inputs))]
        return apply_policy(self.table, matched)


def reference_unit_offsets(rule: CheckedUnits, counted: int) -> list[int]:
    """For each unit earned, the counted second at which it was earned.

    Unit k is earned once the time runs more than `part` (at least `part`, for `>=`) into
    the k-th period after `after`; counted one unit at a time, as the rule reads.
    """
    offsets = []
    while True:
        threshold = rule.after + len(offsets) * rule.period + rule.bar
        if counted <= threshold:
            return offsets
        offsets.append(threshold + 1)
