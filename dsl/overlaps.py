"""The pairs of rows of a table that one input can match, each with such an input.

A `unique` table promises that no input matches two of its rows; the checker reports every
pair that breaks the promise. Trying every pair costs rows² witness searches, minutes on a
table of thousands of rows, so the pairs are narrowed column by column first: in each
column, the rows whose cells may share a value with a given row's cell, as a bit mask
(ranges by their sorted bounds, named values by bucket, `*` and `not` cells as wildcards).
A pair is a candidate when its rows may share a value in every column, and only candidates
get the witness search, which decides. The filters may let through a pair that shares no
value (a `not` cell beside the words it excludes, a list of numbers by its lowest and
highest), never hold back one that does, so the pairs found are those of the pairwise
definition, in its order (tests/dsl/test_overlaps.py checks both against it).

Example:
    for first, second, example in overlapping_pairs(table):
        print(first.id, second.id, ", ".join(example))  # a b route=im, duration=30 min
"""
from __future__ import annotations

import bisect
from collections.abc import Iterator

from dsl.checked import OTHER, CheckedTable, FieldType, Predicate
from dsl.show import value_text

NONE = object()  # no value is accepted by both predicates
_UNBOUNDED = float("inf")


def overlapping_pairs(table: CheckedTable) -> Iterator[tuple]:
    """(first row, second row, the input both match as 'column=value' texts) for every pair
    of rows some input matches, in the order of itertools.combinations(table.rows, 2)."""
    filters = [_filter([row.predicates[c] for row in table.rows], field_type)
               for c, field_type in enumerate(table.input_types)]
    rows = table.rows
    everyone = (1 << len(rows)) - 1
    for i, first in enumerate(rows):
        candidates = everyone & ~((2 << i) - 1)  # the rows after this one
        for column_filter in filters:
            if not candidates:
                break
            candidates &= column_filter.partners(i)
        while candidates:
            low = candidates & -candidates
            candidates ^= low
            second = rows[low.bit_length() - 1]
            example = common_input(table, first, second)
            if example is not None:
                yield first, second, example


def common_input(table: CheckedTable, first, second) -> list[str] | None:
    """An input both rows match, as 'column=value' texts, or None when there is none."""
    example = []
    for column, field_type, p, q in zip(table.inputs, table.input_types, first.predicates, second.predicates):
        witness = common_value(p, q, field_type)
        if witness is NONE:
            return None
        example.append(f"{column}={value_text(witness, field_type.kind)}")
    return example


def common_value(p: Predicate, q: Predicate, field_type: FieldType):
    """A value both predicates accept, or NONE; None stands for a missing value.

    The candidates are the values where acceptance can change: every value named, each
    bound and the numbers beside it, the words of an enum. A number beside each named one
    finds the value a `not` cell leaves inside a range it would otherwise fill.
    """
    candidates = [None, *sorted(p.values | q.values, key=str)]
    if field_type.kind == "enum":
        candidates += list(field_type.values)
    elif field_type.kind == "bool":
        candidates += [True, False]
    elif field_type.kind in ("duration", "number"):
        for bound in (*p.thresholds(), *q.thresholds()):
            candidates += [bound - 1, bound, bound + 1]
        candidates.append(0)
        for value in sorted(p.values | q.values):
            candidates += [value - 1, value + 1]
    else:
        candidates.append(OTHER)
    for candidate in candidates:
        if p.matches(candidate) and q.matches(candidate):
            return candidate
    return NONE


def _filter(predicates: list[Predicate], field_type: FieldType):
    if field_type.kind in ("duration", "number"):
        return _NumberFilter(predicates, field_type)
    return _WordFilter(predicates, field_type)


class _WordFilter:
    """A column of words (or yes/no): `in` cells by the words they name, `not` cells as
    wildcards except for the words they exclude when the other cell names words."""

    def __init__(self, predicates: list[Predicate], field_type: FieldType):
        self.predicates = predicates
        self.anything, self.missing, self.listed, self.excluding, self.empty = _kinds(predicates, field_type)
        self.named: dict = {}  # word -> the `in` cells naming it
        self.excluded: dict = {}  # word -> the `not` cells naming it
        for i, predicate in enumerate(predicates):
            if predicate.kind in ("in", "not_in") and not (1 << i) & self.empty:
                buckets = self.named if predicate.kind == "in" else self.excluded
                for value in predicate.values:
                    buckets[value] = buckets.get(value, 0) | 1 << i

    def partners(self, i: int) -> int:
        predicate = self.predicates[i]
        if (1 << i) & self.empty:
            return 0
        if predicate.kind == "in":
            found = self.anything
            for value in predicate.values:
                found |= self.named.get(value, 0) | (self.excluding & ~self.excluded.get(value, 0))
            return found
        return _wildcard_partners(self, predicate)


class _NumberFilter:
    """A duration or number column: each `in` or range cell as the interval from its lowest
    to its highest value; two intervals meet unless one ends before the other starts, so a
    row's partners are all intervals less those ending before it and those starting after."""

    def __init__(self, predicates: list[Predicate], field_type: FieldType):
        self.predicates = predicates
        self.anything, self.missing, self.listed, self.excluding, self.empty = _kinds(predicates, field_type)
        self.intervals = [None if (1 << i) & self.empty else _interval(p) for i, p in enumerate(predicates)]
        spans = [(span, 1 << i) for i, span in enumerate(self.intervals) if span is not None]
        by_end = sorted(spans, key=lambda item: item[0][1])
        self.ends = [span[1] for span, _ in by_end]
        self.ended = _running_or(bit for _, bit in by_end)  # ended[k]: the first k by end
        by_start = sorted(spans, key=lambda item: item[0][0], reverse=True)
        self.starts = [span[0] for span, _ in reversed(by_start)]
        self.started = _running_or(bit for _, bit in by_start)[::-1]  # started[k]: all from k on by start

    def partners(self, i: int) -> int:
        span = self.intervals[i]
        if span is None:
            return 0 if (1 << i) & self.empty else _wildcard_partners(self, self.predicates[i])
        low, high = span
        before = self.ended[bisect.bisect_left(self.ends, low)]
        after = self.started[bisect.bisect_right(self.starts, high)]
        return self.anything | self.excluding | (self.listed & ~before & ~after)


def _wildcard_partners(column, predicate: Predicate) -> int:
    """Partners of a `*`, `missing` or `not` cell: every row that accepts a missing value, or
    every row that accepts some present value (all but `missing` cells)."""
    if predicate.kind == "any":
        return column.anything | column.missing | column.listed | column.excluding
    if predicate.kind == "missing":
        return column.anything | column.missing
    return column.anything | column.listed | column.excluding


def _kinds(predicates: list[Predicate], field_type: FieldType) -> tuple[int, ...]:
    """Masks of the `*` cells, the `missing` cells, the `in` and range cells, the `not` cells,
    and the cells no value satisfies (each kept out of the others)."""
    masks = {"any": 0, "missing": 0, "listed": 0, "not_in": 0, "empty": 0}
    for i, predicate in enumerate(predicates):
        if common_value(predicate, predicate, field_type) is NONE:
            kind = "empty"
        else:
            kind = "listed" if predicate.kind in ("in", "range") else predicate.kind
        masks[kind] |= 1 << i
    return masks["any"], masks["missing"], masks["listed"], masks["not_in"], masks["empty"]


def _interval(predicate: Predicate) -> tuple | None:
    """The whole numbers from the lowest to the highest a listed cell accepts (None otherwise)."""
    if predicate.kind == "in":
        return min(predicate.values), max(predicate.values)
    if predicate.kind != "range":
        return None
    low = -_UNBOUNDED if predicate.low is None else predicate.low + (0 if predicate.low_inclusive else 1)
    high = _UNBOUNDED if predicate.high is None else predicate.high - (0 if predicate.high_inclusive else 1)
    return low, high


def _running_or(bits) -> list[int]:
    """[0, b0, b0|b1, ...]: the union of the first k bits, for every k."""
    unions = [0]
    for bit in bits:
        unions.append(unions[-1] | bit)
    return unions
