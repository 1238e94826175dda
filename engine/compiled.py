"""Compiled decision tables: each column indexed into row bitmasks, so a decision is a
few dictionary or bisection look-ups and an AND, however many rows the table has.

Discrete columns map each value named in the column to the mask of rows accepting
it, with one mask for any other value and one for a missing value. Duration and
number columns become sorted breakpoints searched by bisection. The decision for
a combination of column buckets is memoised.
"""
from __future__ import annotations

import bisect

from dsl.checked import CheckedTable, CheckedUnits, Predicate
from engine.reference import apply_policy

_OTHER = object()


class _DiscreteIndex:
    __slots__ = ("masks", "other", "missing")

    def __init__(self, predicates: list[Predicate]):
        named = {value for p in predicates for value in p.values}
        self.masks = {value: _mask(predicates, value) for value in named}
        self.other = _mask(predicates, _OTHER)
        self.missing = _mask(predicates, None)

    def bucket(self, value):
        if value is None:
            return self.missing
        return self.masks.get(value, self.other)


class _RangeIndex:
    __slots__ = ("points", "masks", "missing")

    def __init__(self, predicates: list[Predicate]):
        bounds = sorted({b for p in predicates for b in (*p.thresholds(), *p.values)})
        # Probe each bound and each open segment between bounds once.
        self.points = []
        self.masks = []
        probes = []
        previous = None
        for bound in bounds:
            probes.append(bound - 1 if previous is None else (previous + bound) / 2)
            probes.append(bound)
            previous = bound
        probes.append((previous + 1) if previous is not None else 0)
        for probe in probes:
            self.masks.append(_mask(predicates, probe))
        # bisect over the bounds: an exact bound maps to its own probe.
        self.points = bounds
        self.missing = _mask(predicates, None)

    def bucket(self, value):
        if value is None:
            return self.missing
        i = bisect.bisect_left(self.points, value)
        if i < len(self.points) and self.points[i] == value:
            return self.masks[2 * i + 1]
        return self.masks[2 * i]


def _mask(predicates: list[Predicate], value) -> int:
    mask = 0
    for i, predicate in enumerate(predicates):
        if _accepts(predicate, value):
            mask |= 1 << i
    return mask


def _accepts(predicate: Predicate, value) -> bool:
    if value is _OTHER:  # a discrete value the column never names
        return predicate.kind in ("any", "not_in")
    return predicate.matches(value)


class CompiledTable:
    """Decides a table through per-column indexes; same answers as ReferenceTable."""

    def __init__(self, table: CheckedTable):
        self.table = table
        self.columns = table.inputs
        self.indexes = []
        for i, field_type in enumerate(table.input_types):
            predicates = [row.predicates[i] for row in table.rows]
            ranged = field_type.kind in ("duration", "number")
            self.indexes.append(_RangeIndex(predicates) if ranged else _DiscreteIndex(predicates))
        self.all_rows = (1 << len(table.rows)) - 1
        self.memo: dict = {}

    def decide(self, values) -> tuple:
        key = tuple(index.bucket(values.get(column)) for column, index in zip(self.columns, self.indexes))
        decision = self.memo.get(key)
        if decision is None:
            mask = self.all_rows
            for column_mask in key:
                mask &= column_mask
            matched = []
            while mask:
                low = mask & -mask
                matched.append(self.table.rows[low.bit_length() - 1])
                if self.table.policy in ("first", "unique"):
                    break
                mask ^= low
            decision = apply_policy(self.table, matched)
            if len(self.memo) < 65536:
                self.memo[key] = decision
        return decision


def compiled_unit_offsets(rule: CheckedUnits, counted: int) -> list[int]:
    """Closed form of reference_unit_offsets."""
    remaining = counted - rule.after - rule.part
    if remaining <= 0:
        return []
    count = (remaining - 1) // rule.period + 1
    return [rule.after + k * rule.period + rule.part + 1 for k in range(count)]
