"""The merge stage: matching events combined per key into one, their counted time the union
of theirs less the time of the events the merge takes away (`minus`)."""
from __future__ import annotations

import collections

from dsl.checked import CheckedMerge
from engine.core import intervals
from engine.core.stages import grouping
from engine.core.stages.state import Event, Run


def merge(stage: CheckedMerge, duration: str, run: Run):
    """Combine matching events per key; their counted time (the fact `duration`) is the union
    less the overlaps.

    Groups merge one after another, each taking away the time of the events as they stand
    then (a group merged before stands as its one merged event)."""
    groups: dict = {}
    matching = [event for event in run.events if event.values.get(stage.field) in stage.values]
    for event, key in zip(matching, grouping.group_keys(stage.keys, matching)):
        groups.setdefault(key, []).append(event)
    rule = f"merge/{stage.name}"
    cuts = _Cuts(stage, run.events)
    replaced: dict = {}  # id of a member merged -> the merged event for the first, None for the others
    for members in groups.values():
        first = members[0]
        spans = intervals.union(s for m in members for s in m.intervals)
        counted = intervals.subtract(spans, cuts.removed(first))
        merged = merged_event(members, counted, duration, rule)
        if run.trace is not None:
            from engine.core.trace import MergeRecord  # loads with the first trace (bench/startup.py)

            time = merged.values[duration]
            run.trace.append(MergeRecord(stage.name, tuple(m.ids for m in members), time,
                                         intervals.total(spans) - time if time is not None else 0, tuple(counted)))
        cuts.replace(members, merged)
        replaced.update(dict.fromkeys(map(id, members)))
        replaced[id(first)] = merged
    events = []
    for event in run.events:
        event = replaced.get(id(event), event)
        if event is not None:
            events.append(event)
    run.events = events


def merged_event(members: list, counted: list, duration: str, rule: str) -> Event:
    """The one event a group merges into: the first member's values and place, every member's
    ids, the latest stop, and as its time (`duration`) the total of `counted`, missing when no
    member had a time."""
    first = members[0]
    if len(members) == 1:  # most groups: no passes over the members
        ids, has_time, stop = first.ids, first.values.get(duration) is not None, first.stop_s
    else:
        ids = tuple(a for m in members for a in m.ids)
        has_time = any(m.values.get(duration) is not None for m in members)
        stop = max((m.stop_s for m in members if m.stop_s is not None), default=None)
    values = first.values.copy()  # a display after ** would build a second dict to merge
    values[duration] = intervals.total(counted) if has_time else None
    return Event(ids, values, first.start_s, stop, first.wall_start, counted, first.order, [*first.trail, rule],
                 first.kind)


class _Cuts:
    """The time a merge takes away, by the values of its `minus` keys: the intervals of the
    events that meet its `minus` condition, brought up to date as each group merges, and
    their union worked out once per key until it changes (not gathered again from every
    event for every group)."""

    def __init__(self, stage: CheckedMerge, events: list):
        self.stage = stage
        self.spans: dict = {}  # key -> Counter of intervals
        self.unions: dict = {}  # key -> union of its intervals
        for event in events:
            self._count(event, 1)

    def removed(self, event: Event) -> list:
        """The time to take away from the group whose first event is `event`."""
        key = tuple(event.values.get(k) for k in self.stage.minus_keys)
        if key not in self.unions:
            self.unions[key] = intervals.union(self.spans.get(key, ()))
        return self.unions[key]

    def replace(self, members: list, merged: Event):
        for member in members:
            self._count(member, -1)
        self._count(merged, 1)

    def _count(self, event: Event, step: int):
        stage = self.stage
        if not stage.minus_field or event.values.get(stage.minus_field) not in stage.minus_values:
            return
        key = tuple(event.values.get(k) for k in stage.minus_keys)
        spans = self.spans.setdefault(key, collections.Counter())
        for span in event.intervals:
            spans[span] += step
            if not spans[span]:
                del spans[span]
        self.unions.pop(key, None)
