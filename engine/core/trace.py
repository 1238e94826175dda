"""What the pipeline decided, as it decided it: one frozen record per decision.

`Pipeline.run(encounter, trace=[])` appends a record for each decision in the order it is
taken: a table's rows (`TableRecord`), a merge (`MergeRecord`), an initial service chosen
in a group (`InitialRecord`), the units of a code (`UnitsRecord`), an edit acting on a
line (`EditRecord`). Without a trace none is built.

The records hold the facts the pipeline worked out (the candidates in rank order with
their keys, the event that made another concurrent, the counted second of each unit, the
distinction that held) so that what reads a trace, `engine.analyst.explain` and the coverage of
`infuse test`, words or counts them and never works them out again: a second copy of the
pipeline's ordering, ranking, roles or unit arithmetic would one day disagree with it.

`as_dict()` gives a record as the flat dict the trace held before its records had types,
the shape `infuse explain --format json` shows.

Example:
    trace = []
    pipeline.run(encounter, trace=trace)
    (group,) = [r for r in trace if isinstance(r, InitialRecord)]
    [(role.ids, role.role, role.partner) for role in group.roles]
"""
from __future__ import annotations

import datetime
from typing import ClassVar

import attrs

Ids = tuple[str, ...]  # an event by its administrations, the first first (the event's start and drug are its)


@attrs.frozen
class TableRecord:
    """The rows of one table that decided for one event, line or E/M service."""

    stage: ClassVar[str] = "table"
    table: str
    scope: str  # "administration", "line" or "em"
    subject: Ids  # the administrations decided for; for an E/M service, its code
    inputs: dict  # input column -> the value the table saw
    rows: tuple[str, ...]  # ids of the rows that decided, by the hit policy
    code: str | None = None  # the line's code, for a table per line

    def as_dict(self) -> dict:
        code = {"code": self.code} if self.code is not None else {}
        return {"stage": self.stage, "table": self.table, "scope": self.scope, "subject": self.subject, **code,
                "inputs": self.inputs, "rows": list(self.rows)}


@attrs.frozen
class MergeRecord:
    """Events combined into one by a merge, with the time it counts for them."""

    stage: ClassVar[str] = "merge"
    merge: str
    members: tuple[Ids, ...]  # the events combined, in order
    counted: int | None  # seconds: the union of their time less the overlap; None when none has a stop
    removed: int  # seconds of their time taken away as overlap
    intervals: tuple[tuple[int, int], ...]  # the counted time, in absolute seconds

    @property
    def subject(self) -> Ids:
        """The merged event: the administrations of its members."""
        return tuple(a for ids in self.members for a in ids)

    def as_dict(self) -> dict:
        return {"stage": self.stage, "merge": self.merge, "subject": self.subject, "counted": self.counted,
                "removed": self.removed}


@attrs.frozen
class Candidate:
    """An event an initial stage ranked in its group, with what it was ranked by."""

    ids: Ids
    value: str  # its value of the ranked attribute
    rank: int  # its place in the ranking (0 first), after any promotion by `primary`
    own_rank: int  # the place of its own value, before any promotion
    tie_key: tuple  # what breaks ties of rank, smallest first: a part per tie of the stage, then its order
    start: datetime.datetime  # its start as written, which the start ties compare
    duration: int | None  # seconds, which the duration ties compare
    primary: bool  # it is the documented primary reason, which the primary tie prefers

    @property
    def promoted(self) -> bool:
        """Whether `primary` ranked it above its own value."""
        return self.rank < self.own_rank


@attrs.frozen
class Role:
    """The role one event was given, with the earlier event that gave it."""

    ids: Ids
    role: str  # "initial", "sequential", "repeat" or "concurrent"
    partner: Ids | None = None  # concurrent: the event of another drug it overlaps, the initial one if that does
    repeat_of: Ids | None = None  # repeat: the first earlier event of its drug


@attrs.frozen
class TieBreak:
    """One step of the choice among the candidates of the best rank."""

    tie: str | None  # the tie of the stage that left fewer of them; None: the order of administration
    among: tuple[Candidate, ...]  # the candidates it chose among, in the order of administration


@attrs.frozen
class InitialRecord:
    """The initial service an initial stage chose in one group, and the others' roles."""

    stage: ClassVar[str] = "initial"
    initial: str  # the stage's name
    group: dict  # key attribute -> the group's value
    distinct: str  # the first key this group differs in from the first group, or "none"
    selector: object  # the chosen event's value of the stage's selector (None without one)
    ranking: tuple[str, ...]  # the ranking that value picks, with "primary" where it ranks
    primary_of: frozenset | None  # the values "primary" may promote there (empty or None: any)
    ties: tuple[str, ...]  # the stage's ties, naming the parts of each tie key
    candidates: tuple[Candidate, ...]  # by rank then tie key: the chosen initial first
    roles: tuple[Role, ...]  # one per candidate, in the order of administration

    @property
    def chosen(self) -> Ids:
        return self.candidates[0].ids

    def in_order(self) -> list[Candidate]:
        """The candidates in the order of administration."""
        by_ids = {candidate.ids: candidate for candidate in self.candidates}
        return [by_ids[role.ids] for role in self.roles]

    def tied(self) -> list[Candidate]:
        """The candidates of the chosen one's rank, in the order of administration."""
        rank = self.candidates[0].rank
        return [candidate for candidate in self.in_order() if candidate.rank == rank]

    def tie_breaks(self) -> tuple[TieBreak, ...]:
        """How the chosen one won among `tied()`: each tie, in the stage's order, at which
        fewer of them share the chosen one's key, with those it chose among; last, with tie
        None, the order of administration when the ties leave more than one."""
        chosen, among, steps = self.candidates[0], self.tied(), []
        for i, tie in enumerate(self.ties):
            kept = [candidate for candidate in among if candidate.tie_key[i] == chosen.tie_key[i]]
            if len(kept) < len(among):
                steps.append(TieBreak(tie, tuple(among)))
                among = kept
        if len(among) > 1:
            steps.append(TieBreak(None, tuple(among)))
        return tuple(steps)

    def as_dict(self) -> dict:
        ordered = self.in_order()
        return {"stage": self.stage, "initial": self.initial, "group": self.group, "distinct": self.distinct,
                "ranking": [candidate.ids for candidate in self.candidates], "chosen": self.chosen,
                "roles": {role.ids: role.role for role in self.roles},
                "ranked_by": [(candidate.ids, candidate.value, candidate.rank) for candidate in ordered],
                "promoted": [candidate.ids for candidate in ordered if candidate.promoted]}


@attrs.frozen
class UnitsRecord:
    """The units of one code from the time counted, by a units rule."""

    stage: ClassVar[str] = "units"
    rule: str
    code: str
    subject: Ids
    counted: int  # seconds of time the rule counted
    after: int  # the rule's times, in seconds: the first `after` earns nothing,
    period: int  # then a unit per `period`,
    part: int  # a final part earning one when longer than `part` (the rule's CheckedUnits.bar)
    offsets: tuple[int, ...]  # for each unit, the counted second at which it was earned
    dates: tuple[str, ...]  # for each unit, its date of service

    @property
    def units(self) -> int:
        return len(self.offsets)

    @property
    def beyond(self) -> int:
        """Seconds counted past the first `after`."""
        return max(0, self.counted - self.after)

    @property
    def periods(self) -> tuple[int, int]:
        """`beyond` as whole periods and the final part left: the terms the rule is written in."""
        return divmod(self.beyond, self.period)

    @property
    def final_part_counted(self) -> bool | None:
        """Whether the final part earned a unit: the units are the whole periods, and one more
        when it did. None when the units are neither (a rule whose part is longer than its period)."""
        extra = self.units - self.periods[0]
        return bool(extra) if extra in (0, 1) else None

    def as_dict(self) -> dict:
        return {"stage": self.stage, "rule": self.rule, "code": self.code, "subject": self.subject,
                "counted": self.counted, "units": self.units, "dates": list(self.dates)}


@attrs.frozen
class EditRecord:
    """One clause of an edit acting on one line."""

    stage: ClassVar[str] = "edit"
    edit: str  # the rule, "edit/NAME"
    clause: int  # the clause's index in the edit as written
    action: str  # "limit" (units cut), "modifier" (a distinction held) or "remove"
    code: str
    subject: Ids
    kept: int | None = None  # limit: the units left
    attribute: str | None = None  # modifier: the attribute of the distinction that held
    modifier: str | None = None  # modifier: the modifier that distinction adds
    row: str | None = None  # a data clause: the row of its file that acted, "data/ncci-ptp-hospital.csv:17"
    partner: str | None = None  # a pairs row: the column 1 code the line bundles into
    indicator: str | None = None  # a pairs row's modifier indicator (0, 1), an MUE row's MAI (1, 2, 3)
    present: bool = False  # modifier: the line already carried it, so the edit changed nothing
    allowed: int | None = None  # an MUE row's units
    missing: tuple = ()  # remove: the attributes of `when missing` distinctions the line does not document

    def as_dict(self) -> dict:
        said = {"limit": {"kept": self.kept}, "modifier": {"modifier": self.modifier}}.get(self.action, {})
        if self.row is not None:
            said = {**said, "row": self.row, "indicator": self.indicator,
                    **({"partner": self.partner} if self.partner is not None else {}),
                    **({"present": True} if self.present else {}),
                    **({"allowed": self.allowed} if self.allowed is not None else {})}
        if self.missing:
            said = {**said, "missing": list(self.missing)}
        return {"stage": self.stage, "edit": self.edit, "clause": self.clause, "action": self.action,
                "code": self.code, "subject": self.subject, **said}
