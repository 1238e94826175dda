"""Which cells of a column accept each of many values, as row bit masks, without testing
every cell on every value.

The compiled tables index a column by the rows each value (or each segment between bounds)
reaches, and the analyses group a column's values by the rows that accept them. Testing
every cell on every value costs rows x values: on a table of thousands of ranges, each
with its own bounds, that is tens of millions of tests. Here each cell is read once: a
named value goes into a bucket, a `not` cell is a wildcard less its bucket, and a range
is swept over the sorted values (its bit added where it opens, removed where it closes),
so the cost is a sort and a few bit operations per value and per cell. The answer is
`Predicate.matches`, to the letter; tests/dsl/test_acceptance.py holds the cell-by-cell
definition it is checked against.

Example:
    acceptance_masks([Predicate("range", low=0, high=60), ANY], [30, None])  # [0b11, 0b10]
"""
from __future__ import annotations

import bisect
from collections.abc import Sequence

from dsl.checked import Predicate


def acceptance_masks(predicates: Sequence[Predicate], values: Sequence) -> list[int]:
    """For each value, the mask of the predicates that accept it (bit i for predicates[i]).

    None is a missing value; a value no cell names is accepted by `*` and every `not`
    cell. Ranges compare, so the values must be numbers when any predicate is a range.
    """
    anything = missing = excluded_all = 0
    named: dict = {}  # value -> the `in` cells naming it
    excluded: dict = {}  # value -> the `not` cells naming it
    ranges = []
    for i, predicate in enumerate(predicates):
        bit = 1 << i
        if predicate.kind == "any":
            anything |= bit
        elif predicate.kind == "missing":
            missing |= bit
        elif predicate.kind == "in":
            for value in predicate.values:
                named[value] = named.get(value, 0) | bit
        elif predicate.kind == "not_in":
            excluded_all |= bit
            for value in predicate.values:
                excluded[value] = excluded.get(value, 0) | bit
        elif predicate.kind == "range":
            ranges.append((bit, predicate))
    ranged = _swept(ranges, {value for value in values if value is not None}) if ranges else {}
    return [anything | missing if value is None else
            anything | named.get(value, 0) | (excluded_all & ~excluded.get(value, 0)) | ranged.get(value, 0)
            for value in values]


def _swept(ranges: list, values: set) -> dict:
    """value -> the mask of the ranges holding it: each range holds a run of the sorted
    values, found by bisection; one pass adds its bit at the run's start, drops it after."""
    points = sorted(values)
    opens = [0] * (len(points) + 1)
    closes = [0] * (len(points) + 1)
    for bit, predicate in ranges:
        start = 0 if predicate.low is None else (
            bisect.bisect_left if predicate.low_inclusive else bisect.bisect_right)(points, predicate.low)
        end = len(points) if predicate.high is None else (
            bisect.bisect_right if predicate.high_inclusive else bisect.bisect_left)(points, predicate.high)
        if start < end:
            opens[start] |= bit
            closes[end] |= bit
    held = {}
    active = 0
    for k, point in enumerate(points):
        active = (active & ~closes[k]) | opens[k]
        held[point] = active
    return held


def positions(mask: int) -> list[int]:
    """The indexes of the set bits of `mask`, lowest first: found in its binary digits, where
    testing each bit would shift the whole mask once per bit."""
    digits = bin(mask)[:1:-1]  # lowest first, without the "0b"
    found = []
    i = digits.find("1")
    while i >= 0:
        found.append(i)
        i = digits.find("1", i + 1)
    return found
