"""The merge stage prepared once per ruleset for the compiled engine: nothing is gathered
when no event matches, and the time a merge takes away is gathered once, not brought up to
date as each group merges. The generic stage (engine.core.stages.merge) stays the oracle: it runs
whenever a trace is asked, and for a merge whose groups could change the time it takes
away (tests/engine/core/test_prepared_stages.py holds both to the same results)."""
from __future__ import annotations

import attrs

from dsl.checked import CheckedMerge
from engine.core import intervals
from engine.core.stages import grouping
from engine.core.stages.merge import merge, merged_event
from engine.core.stages.state import Event, Run


@attrs.frozen
class PreparedMerge:
    """A merge whose cuts stand still: no event it combines, nor the event it makes, meets
    its `minus` condition (it has none, or its condition is on the field the merge matches,
    with none of the values it matches, and not on the time it counts). Then the time a
    group loses is that of the events meeting the condition as they came in, as the
    generic stage's `_Cuts` keeps it."""

    stage: CheckedMerge
    duration: str
    rule: str
    still: bool  # the cuts stand still: this path may run

    @classmethod
    def of(cls, stage: CheckedMerge, duration: str) -> "PreparedMerge":
        still = not stage.minus_field or (stage.minus_field == stage.field and stage.minus_field != duration
                                          and stage.values.isdisjoint(stage.minus_values))
        return cls(stage, duration, f"merge/{stage.name}", still)

    def __call__(self, run: Run):
        if run.trace is not None or not self.still:
            merge(self.stage, self.duration, run)
            return
        field, values = self.stage.field, self.stage.values
        events = run.events
        matching = []  # a loop: a list comprehension makes a function each time (Python 3.11)
        for event in events:
            if event.values.get(field) in values:
                matching.append(event)
        if not matching:
            return
        if len(matching) == 1:
            groups = (matching,)
        else:
            by_key: dict = {}
            for event, key in zip(matching, grouping.group_keys(self.stage.keys, matching)):
                by_key.setdefault(key, []).append(event)
            groups = by_key.values()
        cuts = self._cuts(events) if self.stage.minus_field else None
        merged_for: dict = {}  # id of a member merged -> the merged event for the first, None for the others
        for members in groups:
            for member in members[1:]:
                merged_for[id(member)] = None
            merged_for[id(members[0])] = self._merged(members, cuts)
        kept = []  # loops, not comprehensions: Python 3.11 makes a function object for each
        for event in events:
            event = merged_for.get(id(event), event)
            if event is not None:
                kept.append(event)
        run.events = kept

    def _cuts(self, events: list) -> dict:
        """The time taken away, by the values of the `minus` keys: the union of the intervals
        of the events meeting the `minus` condition."""
        field, values, keys = self.stage.minus_field, self.stage.minus_values, self.stage.minus_keys
        spans: dict = {}
        for event in events:
            if event.values.get(field) in values:
                spans.setdefault(tuple(map(event.values.get, keys)), []).extend(event.intervals)
        return {key: intervals.union(found) for key, found in spans.items()}

    def _merged(self, members: list, cuts: dict | None) -> Event:
        """The one event a group merges into, as the generic stage makes it."""
        first = members[0]
        spans = []
        for member in members:
            spans += member.intervals
        if len(spans) == 1 and spans[0][1] <= spans[0][0]:  # an instant: no time
            spans = []
        elif len(spans) > 1:
            spans = intervals.union(spans)
        removed = cuts.get(tuple(map(first.values.get, self.stage.minus_keys))) if cuts else None
        counted = intervals.subtract(spans, removed) if removed else spans
        return merged_event(members, counted, self.duration, self.rule)
