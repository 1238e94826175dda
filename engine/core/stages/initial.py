"""The initial stage: one initial event per group, by rank and ties, and the role each other
event of the group takes from those before it (concurrent, repeat or sequential)."""
from __future__ import annotations

import itertools
import operator
from typing import TYPE_CHECKING

import attrs

from dsl.checked import CheckedInitial
from engine.core import intervals
from engine.core.stages import grouping
from engine.core.stages.state import Event, Run

if TYPE_CHECKING:
    from engine.core.trace import InitialRecord


@attrs.frozen
class Facts:
    """What the stage reads of the kind of event it ranks: the field that makes two events
    alike (the same substance; each event is its own without one) and its counted time."""

    alike: str | None
    duration: str | None

    def same(self, event: Event):
        return event.values.get(self.alike) if self.alike else event.ids

    def time(self, event: Event) -> int | None:
        return event.values.get(self.duration) if self.duration else None


def initial(stage: CheckedInitial, ranked: frozenset, facts: Facts, run: Run):
    """One initial event per group, by rank and ties; roles for the others.

    `ranked` holds every value the stage's rankings list (`ranked_values`), to pass over
    the other events at once.
    """
    primary = run.encounter.primary
    groups: dict = {}
    candidates: list = []  # (rank, tie key, event, rank of its own value, its selector value)
    for event in run.events:
        value = event.values.get(stage.ranked_field)
        if value not in ranked:
            continue
        selector = event.values.get(stage.selector) if stage.selector else None
        ranking = _ranking(stage, selector)
        if ranking is None or value not in ranking:
            continue
        own = rank = ranking.index(value)
        if primary in event.ids and "primary" in ranking:
            eligible = _promotable(stage, selector)
            if (not eligible or value in eligible) and ranking.index("primary") < rank:
                rank = ranking.index("primary")
        candidates.append((rank, _tie_key(stage.ties, event, primary, facts), event, own, selector))
    for candidate, key in zip(candidates, grouping.group_keys(stage.keys, [c[2] for c in candidates])):
        groups.setdefault(key, []).append(candidate)
    ordered_groups = sorted(groups.items(), key=lambda item: min(c[2].order for c in item[1]))
    first_key = ordered_groups[0][0] if ordered_groups else None
    for key, members in ordered_groups:
        distinct = next((stage.keys[i] for i, (a, b) in enumerate(zip(key, first_key)) if a != b), "none")
        initial = min(members, key=BY_RANK)[2]
        events = sorted((c[2] for c in members), key=lambda e: e.order)
        roles = Roles(stage, initial, events, facts)
        recorded = [] if run.trace is not None else None  # the roles, for the trace
        if recorded is not None:
            from engine.core.trace import Role  # loads with the first trace (bench/startup.py)
        for event in events:
            event.values["distinct"] = distinct
            role = event.values["role"] = "initial" if event is initial else roles.role(event)
            event.values["repeats"] = roles.repeats(event)
            event.trail.append(f"initial/{stage.name}")
            if recorded is not None:  # asked before `given`, as the role was
                recorded.append(Role(event.ids, role, roles.partner(event).ids if role == "concurrent" else None,
                                     roles.repeat_of(event).ids if role == "repeat" else None))
            roles.given(event)
        if recorded is not None:
            run.trace.append(_initial_record(stage, dict(zip(stage.keys, key)), distinct, members, recorded, primary,
                                             facts))


BY_RANK = operator.itemgetter(0, 1)  # a candidate's rank, then its tie key: the smallest is initial


def _initial_record(stage: CheckedInitial, group: dict, distinct: str, members: list, roles: list,
                    primary, facts: Facts) -> InitialRecord:
    """One group's choice as its trace record holds it: the candidates by rank, the ranking
    that ranked the chosen one."""
    from engine.core.trace import Candidate, InitialRecord  # loads with the first trace (bench/startup.py)

    ranked = sorted(members, key=BY_RANK)
    selector = ranked[0][4]
    candidates = tuple(Candidate(event.ids, event.values.get(stage.ranked_field), rank, own, tie_key,
                                 event.wall_start, facts.time(event), primary in event.ids)
                       for rank, tie_key, event, own, _ in ranked)
    return InitialRecord(stage.name, group, distinct, selector, _ranking(stage, selector), _promotable(stage, selector),
                         stage.ties, candidates, tuple(roles))


def ranked_values(stage: CheckedInitial) -> frozenset:
    """Every value some ranking of the stage lists: the events the stage looks at."""
    return frozenset(v for order in stage.rankings.values() for v in order)


def _ranking(stage: CheckedInitial, selector) -> tuple | None:
    """The ranking for a selector value: its own, else the stage's default."""
    return stage.rankings.get(selector, stage.rankings.get(None))


def _promotable(stage: CheckedInitial, selector) -> frozenset | None:
    """The values `primary` may promote in the ranking for a selector value (empty: any)."""
    return stage.primary_of.get(selector, stage.primary_of.get(None))


_TIE_KEYS = {
    "primary": lambda event, primary, facts: 0 if primary in event.ids else 1,
    "earliest start": lambda event, primary, facts: event.start_s,
    "latest start": lambda event, primary, facts: -event.start_s,
    "longest duration": lambda event, primary, facts: -(facts.time(event) or 0),
    "shortest duration": lambda event, primary, facts: facts.time(event) or 0,
}


def _tie_key(ties, event: Event, primary, facts: Facts) -> tuple:
    return (*(_TIE_KEYS[t](event, primary, facts) for t in ties), event.order)


class Roles:
    """The roles in one group, given event by event in order, each from what came before it.

    An event is concurrent when its value is one the stage lists as concurrent and its time
    overlaps that of an earlier such event (or of the initial one) not alike; else a
    repeat when an earlier event is alike; else sequential. `repeats` is the role of the
    last earlier alike event of the same ranked value. What came before is kept as it is
    given (`given`): the concurrent events' intervals by substance, the first event of each,
    the last role per substance and value; so each event costs a few look-ups, not a pass over the
    group. Which event made another concurrent (`partner`) is asked only for a trace, and
    found by a pass.
    """

    def __init__(self, stage: CheckedInitial, initial: Event, events: list, facts: Facts):
        self.field = stage.ranked_field
        self.same = facts.same
        self.concurrent = stage.concurrent
        self.initial = initial
        self.events = events
        self.earlier = intervals.Overlaps(start for event in events for start, _ in event.intervals)
        # Until its turn, the initial event counts with the value it had before this stage.
        self.ahead = intervals.Overlaps(start for start, _ in initial.intervals)
        if initial.values.get(self.field) in self.concurrent:
            for span in initial.intervals:
                self.ahead.add(span, self.same(initial))
        self.first: dict = {}  # substance -> the first event of it given
        self.last_role: dict = {}  # (substance, ranked value) -> role of the last event given

    def role(self, event: Event) -> str:
        substance = self.same(event)
        if event.values.get(self.field) in self.concurrent:
            before_initial = event.order < self.initial.order
            for span in event.intervals:
                if self.earlier.meets_other(span, substance) or (before_initial and self.ahead.meets_other(span, substance)):
                    return "concurrent"
        return "repeat" if substance in self.first else "sequential"

    def repeats(self, event: Event) -> str | None:
        return self.last_role.get((self.same(event), event.values.get(self.field)))

    def partner(self, event: Event) -> Event | None:
        """The event whose time makes a concurrent `event` concurrent: the initial one when
        it does, else the first earlier one that does."""
        earlier = itertools.takewhile(lambda other: other.order < event.order, self.events)
        return next((other for other in (self.initial, *earlier) if other is not event
                     and other.values.get(self.field) in self.concurrent
                     and self.same(other) != self.same(event)
                     and any(intervals.overlaps(a, b) for a in other.intervals for b in event.intervals)), None)

    def repeat_of(self, event: Event) -> Event | None:
        """The first earlier event alike a repeat."""
        return self.first.get(self.same(event))

    def given(self, event: Event):
        substance = self.same(event)
        if event.values.get(self.field) in self.concurrent:
            for span in event.intervals:
                self.earlier.add(span, substance)
        self.first.setdefault(substance, event)
        self.last_role[(substance, event.values.get(self.field))] = event.values["role"]
