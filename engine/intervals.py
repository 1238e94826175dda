"""Time intervals in absolute seconds: union, subtraction, overlap, and the instant
at which an amount of counted time is reached."""
from __future__ import annotations

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
    """`intervals` less any time in `removed` (both sorted and disjoint)."""
    result = []
    for start, end in intervals:
        cursor = start
        for cut_start, cut_end in removed:
            if cut_end <= cursor or cut_start >= end:
                continue
            if cut_start > cursor:
                result.append((cursor, cut_start))
            cursor = max(cursor, cut_end)
        if cursor < end:
            result.append((cursor, end))
    return result


def total(intervals: list[Interval]) -> int:
    return sum(end - start for start, end in intervals)


def overlaps(a: Interval, b: Interval) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def instant_at(intervals: list[Interval], offset: int) -> int:
    """The absolute second at which `offset` seconds of counted time have passed."""
    for start, end in intervals:
        if offset <= end - start:
            return start + offset
        offset -= end - start
    return intervals[-1][1] if intervals else 0
