"""Time intervals in absolute seconds: union, subtraction, overlap, and the instant
at which an amount of counted time is reached."""
from __future__ import annotations

import bisect
from collections.abc import Iterable

Interval = tuple[int, int]


def union(intervals) -> list[Interval]:
    """Sorted, non-overlapping intervals covering the same time."""
    merged: list[Interval] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def subtract(intervals: list[Interval], removed: list[Interval]) -> list[Interval]:
    """`intervals` less any time in `removed` (both sorted and disjoint). Each interval looks
    only at the cuts that reach into it, the first found by bisection."""
    result = []
    for start, end in intervals:
        cursor = start
        for k in range(bisect.bisect_right(removed, start, key=lambda cut: cut[1]), len(removed)):
            cut_start, cut_end = removed[k]
            if cut_start >= end:
                break
            if cut_end <= cursor:
                continue
            if cut_start > cursor:
                result.append((cursor, cut_start))
            cursor = max(cursor, cut_end)
        if cursor < end:
            result.append((cursor, end))
    return result


def total(intervals: list[Interval]) -> int:
    counted = 0  # a loop: sum() over a generator makes a function each time (Python 3.11)
    for start, end in intervals:
        counted += end - start
    return counted


def overlaps(a: Interval, b: Interval) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def instant_at(intervals: list[Interval], offset: int) -> int:
    """The absolute second at which `offset` seconds of counted time have passed."""
    for start, end in intervals:
        if offset <= end - start:
            return start + offset
        offset -= end - start
    return intervals[-1][1] if intervals else 0


class Overlaps:
    """Intervals added one at a time, each with a label (a drug): whether one with another
    label overlaps a given interval, in logarithmic time. A Fenwick tree over the starts
    keeps, for the intervals starting before each point, the latest end and the latest end
    of another label; an interval overlaps (s, e) when it starts before e and ends after s.

    Example:
        seen = Overlaps([0, 60]); seen.add((0, 90), "saline")
        seen.meets_other((60, 120), "cisplatin")  # True
    """

    def __init__(self, starts: Iterable[int]):
        self.starts = sorted(set(starts))  # every start an added interval may have
        self.tree: list[tuple] = [()] * (len(self.starts) + 1)

    def add(self, interval: Interval, label) -> None:
        i = bisect.bisect_left(self.starts, interval[0]) + 1
        entry = ((interval[1], label),)
        while i < len(self.tree):
            self.tree[i] = _latest_two(self.tree[i] + entry)
            i += i & -i

    def meets_other(self, interval: Interval, label) -> bool:
        """Whether an interval added with another label than `label` overlaps `interval`."""
        i = bisect.bisect_left(self.starts, interval[1])  # how many starts come before its end
        found: tuple = ()
        while i:
            found = _latest_two(found + self.tree[i])
            i -= i & -i
        return any(end > interval[0] and other != label for end, other in found)


def _latest_two(entries: tuple) -> tuple:
    """Of (end, label) entries: the latest, and the latest with another label than its own."""
    if len(entries) < 2:
        return entries
    latest = max(entries, key=lambda entry: entry[0])
    other = max((entry for entry in entries if entry[1] != latest[1]), key=lambda entry: entry[0], default=None)
    return (latest,) if other is None else (latest, other)
