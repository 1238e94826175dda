"""The index of a table's column: which rows accept a given value, as a bitmask.

Both the generated decision tree (engine.core.compiled) and the masks decider of a table too
large for one are built from these. Masks come from dsl.acceptance, by buckets and a sorted
sweep over range ends, not by testing every cell on every value.
"""
from __future__ import annotations

import bisect

from dsl.acceptance import acceptance_masks
from dsl.checked import OTHER, CheckedTable, Predicate


class DiscreteIndex:
    """A discrete column: each value the column names -> the mask of rows accepting it; one
    mask for any other value and one for a missing value."""


    __slots__ = ("masks", "other", "missing")

    def __init__(self, predicates: list[Predicate]):
        named = sorted({value for p in predicates for value in p.values}, key=repr)  # same source every run
        *masks, self.other, self.missing = acceptance_masks(predicates, [*named, OTHER, None])
        self.masks = dict(zip(named, masks))

    def bucket(self, value):
        if value is None:
            return self.missing
        return self.masks.get(value, self.other)

    def full(self) -> int:
        """The rows that accept every value of the column."""
        mask = self.other & self.missing
        for value_mask in self.masks.values():
            mask &= value_mask
        return mask


class RangeIndex:
    """A duration or number column: sorted breakpoints, with the mask of accepting rows for
    each bound and each open segment between bounds (found by bisection)."""


    __slots__ = ("points", "masks", "missing")

    def __init__(self, predicates: list[Predicate]):
        bounds = sorted({b for p in predicates for b in (*p.thresholds(), *p.values)})
        # Probe each bound and each open segment between bounds once: masks[2i] is the
        # segment below points[i], masks[2i+1] the bound itself, masks[-1] above the last.
        probes = []
        previous = None
        for bound in bounds:
            probes.append(bound - 1 if previous is None else (previous + bound) / 2)
            probes.append(bound)
            previous = bound
        probes.append((previous + 1) if previous is not None else 0)
        *self.masks, self.missing = acceptance_masks(predicates, [*probes, None])
        self.points = bounds

    def bucket(self, value):
        if value is None:
            return self.missing
        i = bisect.bisect_left(self.points, value)
        if i < len(self.points) and self.points[i] == value:
            return self.masks[2 * i + 1]
        return self.masks[2 * i]

    def full(self) -> int:
        mask = self.missing
        for segment_mask in self.masks:
            mask &= segment_mask
        return mask


def column_indexes(table: CheckedTable) -> tuple:
    """The index of each input column: by ranges for durations and numbers, else by value."""
    indexes = []
    for i, field_type in enumerate(table.input_types):
        predicates = [row.predicates[i] for row in table.rows]
        ranged = field_type.kind in ("duration", "number")
        indexes.append(RangeIndex(predicates) if ranged else DiscreteIndex(predicates))
    return tuple(indexes)
