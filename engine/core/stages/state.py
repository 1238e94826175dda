"""What the stages act on: the events, the lines and the state of one encounter as it goes
through them. Apart from the pipeline, so that the stages and the pipeline that runs them
share it without importing one another. Events, lines and the run are msgspec Structs that
compare by identity (a stage tells apart two events or lines whose values are equal): made
several times per encounter, a Struct costs half what an attrs class does to make
(engine.core.encounter says why)."""
from __future__ import annotations

import datetime

import msgspec

from engine.core import intervals
from engine.core.day_text import day_text
from engine.core.encounter import Encounter


class Event(msgspec.Struct, eq=False):
    """One documented event, or several merged, as the stages see it (untimed: no times)."""

    ids: tuple
    values: dict
    start_s: int | None
    stop_s: int | None
    wall_start: datetime.datetime | None
    intervals: list
    order: int
    trail: list
    kind: str

    def wall_date(self, instant: int) -> str:
        return day_text((self.wall_start + datetime.timedelta(seconds=instant - self.start_s)).date())

    def unit_dates(self, offsets, encounter_date: str) -> list[str]:
        """The date of service of each unit earned at `offsets` seconds of counted time: the
        wall-clock date at the instant it is reached (an infusion past midnight earns its
        later units on the next day), or the encounter's date for an untimed event."""
        if self.wall_start is None:
            return [encounter_date] * len(offsets)
        dates = []  # a loop: a list comprehension makes a function each time (Python 3.11)
        for offset in offsets:
            dates.append(self.wall_date(intervals.instant_at(self.intervals, offset)))
        return dates


class WorkLine(msgspec.Struct, eq=False):
    code: str
    units: int
    date: str
    values: dict
    administrations: tuple
    rules: list
    kind: str  # the kind of event it was coded for
    modifiers: list = msgspec.field(default_factory=list)


class Run(msgspec.Struct, eq=False):
    """The state of one encounter while it goes through the stages."""

    encounter: Encounter
    events: list  # the main kind's: the events merges and initial stages act on
    others: dict  # kind -> its events, for the other kinds
    lines: list = msgspec.field(default_factory=list)
    findings: dict = msgspec.field(default_factory=dict)  # (id, rule) -> administration ids (a dict, as an ordered set)
    details: dict = msgspec.field(default_factory=dict)  # (id, rule) -> what its message names in this encounter (ordered set)
    trace: list | None = None  # when a list, a record of every decision goes to it (engine.core.trace)

    def raise_finding(self, finding: str, rule: str, administrations=(), detail: str | None = None):
        self.findings.setdefault((finding, rule), {}).update(dict.fromkeys(administrations))
        if detail is not None:
            self.details.setdefault((finding, rule), {})[detail] = None
