"""The story `infuse explain` tells, as data: one attrs class per part of it (an
event and the row that classified it, a merge, an initial group, a code, units, an
edit, a finding, a "why not"). engine.analyst.explain builds it; engine.analyst.explain_text
words it for a terminal; `Explanation.as_dict` is the JSON form.
"""
from __future__ import annotations

import attrs


@attrs.frozen
class Condition:
    """One cell of a row against the encounter's value, in words."""

    column: str
    cell: str
    value: str
    holds: bool
    text: str


@attrs.frozen
class Decision:
    """A table's answer for one event or line (`administrations`: the ids behind it, as the
    result's lines name them)."""

    table: str
    row: str | None
    location: str | None
    administrations: tuple[str, ...]
    conditions: tuple[Condition, ...]  # the row's cells other than `*`
    outputs: tuple[tuple[str, str], ...]  # (column, value as written), blanks left out
    code: str | None = None  # the line's code, for tables per line; the event's name, for other kinds


@attrs.frozen
class EventStory:
    """One documented event of the first kind: its fields as documented (name, value), in the
    order declared, its times, and the rows that classified it."""

    id: str
    fields: tuple[tuple[str, str], ...]
    start: str | None
    stop: str | None
    minutes: str
    decisions: tuple[Decision, ...]


@attrs.frozen
class MergeStory:
    merge: str
    location: str
    administrations: tuple[str, ...]
    counted: str
    removed: str
    decisions: tuple[Decision, ...]  # what the merged time then decided


@attrs.frozen
class Member:
    administrations: tuple[str, ...]
    value: str
    rank: str  # "primary" or the 1-based place of the value in the ranking
    role: str
    reason: str


@attrs.frozen
class GroupStory:
    initial: str
    location: str
    group: tuple[tuple[str, str], ...]
    ranking: str
    distinct: str
    chosen: tuple[str, ...]
    choice: str
    members: tuple[Member, ...]


@attrs.frozen
class UnitsStory:
    rule: str
    location: str
    code: str
    counted: str
    units: int
    dates: tuple[str, ...]
    text: str


@attrs.frozen
class WhyNot:
    code: str
    administrations: tuple[str, ...]
    reason: str
    rule: str
    location: str


@attrs.frozen
class CodingStory:
    administrations: tuple[str, ...]
    inputs: tuple[tuple[str, str], ...]  # what the coding table saw, for a person
    decision: Decision
    units: tuple[UnitsStory, ...]
    modifiers: tuple[Decision, ...]
    why_not: tuple[WhyNot, ...]


@attrs.frozen
class EditStory:
    edit: str
    location: str
    action: str
    code: str
    administrations: tuple[str, ...]
    clause: str
    text: str


@attrs.frozen
class FindingStory:
    id: str
    severity: str
    administrations: tuple[str, ...]
    message: str
    rule: str
    location: str | None
    reference: str


@attrs.frozen
class Explanation:
    encounter: str
    date: str
    fields: tuple[tuple[str, str], ...]  # the encounter's other fields as documented: (name, value)
    ruleset: dict
    result: dict
    kind: str  # the first kind of events, which the merges, groups and codes are about
    events: tuple[EventStory, ...]
    merges: tuple[MergeStory, ...]
    groups: tuple[GroupStory, ...]
    coding: tuple[CodingStory, ...]
    edits: tuple[EditStory, ...]
    others: tuple[Decision, ...]  # the decisions of the tables per other kinds of events
    findings: tuple[FindingStory, ...]
    trace: list  # the pipeline's own records (engine.core.trace)

    def as_dict(self) -> dict:
        """The story as JSON data, each trace record in its flat form."""
        return {**attrs.asdict(self, filter=lambda field, _: field.name != "trace"),
                "trace": [jsonable(record.as_dict()) for record in self.trace]}


def jsonable(value):
    """Trace records as JSON data: tuples become lists, tuple keys joined with '+'."""
    if isinstance(value, dict):
        return {(" + ".join(k) if isinstance(k, tuple) else k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value
