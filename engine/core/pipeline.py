"""The run-time pipeline: an encounter through the ruleset's stages, in the order written.

Stages are generic: tables decide attributes, lines and findings for each event,
line or E/M service; a merge combines events and their time; an initial stage
ranks events per group and gives the others their role; edits act on the lines of
the whole claim. The ruleset gives every one of them its meaning.
"""
from __future__ import annotations

import collections
import datetime
import functools
import itertools
import operator

import attrs

from dsl.checked import (CheckedEdit, CheckedInitial, CheckedLimit, CheckedMerge, CheckedPair,
                         CheckedRequire, CheckedRuleset, CheckedTable)
from engine.core import intervals
from engine.core.encounter import Encounter
from engine.core.result import Finding, Line, Result
from engine.core.trace import Candidate, EditRecord, InitialRecord, MergeRecord, Role, TableRecord, UnitsRecord

_SPECIAL_OUTPUTS = {"code", "addon", "units", "addon_units", "modifier", "finding", "report"}


@attrs.define(slots=True, eq=False)
class Event:
    """One administration, or several merged, as the stages see it."""

    ids: tuple
    values: dict
    start_s: int
    stop_s: int | None
    wall_start: datetime.datetime
    intervals: list
    order: int
    trail: list

    def wall_date(self, instant: int) -> str:
        return (self.wall_start + datetime.timedelta(seconds=instant - self.start_s)).date().isoformat()


@attrs.define(slots=True, eq=False)
class WorkLine:
    code: str
    units: int
    date: str
    values: dict
    administrations: tuple
    rules: list
    modifiers: list = attrs.Factory(list)
    from_administration: bool = True


@attrs.define(eq=False)
class _Run:
    """The state of one encounter while it goes through the stages."""

    encounter: Encounter
    events: list
    lines: list = attrs.Factory(list)
    findings: dict = attrs.Factory(dict)  # (id, rule) -> administration ids (a dict, as an ordered set)
    trace: list | None = None  # when a list, a record of every decision goes to it (engine.core.trace)

    def raise_finding(self, finding: str, rule: str, administrations=()):
        self.findings.setdefault((finding, rule), {}).update(dict.fromkeys(administrations))


@attrs.frozen
class _Effect:
    """What one table row does when it decides, worked out once per ruleset."""

    rule: str
    attributes: tuple  # (column, value) pairs that set event attributes
    findings: tuple
    code: str | None
    units: str | None
    addon: str | None
    addon_units: str | None
    modifier: str | None
    report: bool | None

    @classmethod
    def of(cls, table: CheckedTable, row) -> "_Effect":
        out = dict(zip(table.outputs, row.outputs))
        attributes = tuple((c, v) for c, v in out.items() if v is not None and c not in _SPECIAL_OUTPUTS)
        return cls(f"{table.name}/{row.id}", attributes, out.get("finding") or (), out.get("code"), out.get("units"),
                   out.get("addon"), out.get("addon_units"), out.get("modifier"), out.get("report"))


class Pipeline:
    """Runs a checked ruleset with a given way of deciding tables and counting units."""

    def __init__(self, ruleset: CheckedRuleset, make_decider, unit_offsets):
        self.ruleset = ruleset
        self.unit_offsets = unit_offsets
        self.header = {"name": ruleset.name, "version": ruleset.version, "digest": ruleset.digest}
        kinds = ("initial", "addon", "standalone", "em")
        self._claim_rank = {code: kinds.index(kind) for code, (kind, _) in ruleset.codes.items()}
        self._effects = {}
        self._steps = []
        for stage in ruleset.stages:
            if isinstance(stage, CheckedTable):
                for row in stage.rows:
                    self._effects[id(row)] = _Effect.of(stage, row)
                step = getattr(self, f"_table_per_{stage.scope}")
                self._steps.append(functools.partial(step, stage, make_decider(stage).decide))
            elif isinstance(stage, CheckedMerge):
                self._steps.append(functools.partial(_merge, stage))
            elif isinstance(stage, CheckedInitial):
                self._steps.append(functools.partial(_initial, stage, _ranked_values(stage)))
            elif isinstance(stage, CheckedEdit):
                self._steps.append(functools.partial(_edit, _EditPlan.of(stage)))

    def run(self, encounter: Encounter, trace: list | None = None) -> Result:
        """Code one encounter; with `trace`, append a record of every decision to it
        (engine.core.trace), built only then."""
        run = _Run(encounter, _events(encounter), trace=trace)
        for step in self._steps:
            step(run)
        return Result(encounter.id, self.header, _final_lines(run.lines, self._claim_rank), self._findings(run))

    # ----- tables -----
    def _table_per_administration(self, table: CheckedTable, decide, run: _Run):
        for event in run.events:
            rows = decide(event.values)
            if run.trace is not None:
                run.trace.append(TableRecord(table.name, "administration", event.ids, _inputs(table, event.values),
                                             _row_ids(rows)))
            for row in rows:
                self._apply_row(self._effects[id(row)], event, run)

    def _apply_row(self, effect: _Effect, event: Event, run: _Run):
        for column, value in effect.attributes:
            event.values[column] = value
            event.trail.append(effect.rule)
        for finding in effect.findings:
            run.raise_finding(finding, effect.rule, event.ids)
        if effect.code:
            base = self._emit(effect.code, effect.units, "base", event, effect.rule, run)
            if effect.modifier:
                for line in base:
                    line.modifiers.append(effect.modifier)
        if effect.addon:
            self._emit(effect.addon, effect.addon_units, "addon", event, effect.rule, run)

    def _emit(self, code: str, units_rule: str | None, part: str, event: Event, rule: str, run: _Run) -> list:
        """Lines for one code of an event: one unit, or units from time, each dated."""
        values = {**event.values, "code": code, "part": part}
        rules = [*event.trail, rule]
        if units_rule is None:
            dates = [event.wall_start.date().isoformat()]
        else:
            counted = event.values.get("duration") or 0
            counting = self.ruleset.units[units_rule]
            offsets = self.unit_offsets(counting, counted)
            dates = [event.wall_date(intervals.instant_at(event.intervals, o)) for o in offsets]
            rules.append(f"units/{units_rule}")
            if run.trace is not None:
                run.trace.append(UnitsRecord(units_rule, code, event.ids, counted, counting.after, counting.period,
                                             counting.part, tuple(offsets), tuple(dates)))
        made = []
        for date, units in collections.Counter(dates).items():
            line = WorkLine(code, units, date, values, event.ids, list(rules))
            run.lines.append(line)
            made.append(line)
        return made

    def _table_per_line(self, table: CheckedTable, decide, run: _Run):
        for line in run.lines:
            if not line.from_administration:
                continue
            rows = decide(line.values)
            if run.trace is not None:
                run.trace.append(TableRecord(table.name, "line", line.administrations, _inputs(table, line.values),
                                             _row_ids(rows), line.code))
            for row in rows:
                effect = self._effects[id(row)]
                if effect.modifier and effect.modifier not in line.modifiers:
                    line.modifiers.append(effect.modifier)
                    line.rules.append(effect.rule)
                for finding in effect.findings:
                    run.raise_finding(finding, effect.rule, line.administrations)

    def _table_per_em(self, table: CheckedTable, decide, run: _Run):
        encounter = run.encounter
        if not encounter.em:
            return
        lines_by_session = collections.Counter(line.values.get("session") for line in run.lines
                                               if line.from_administration)
        session = default_session(canonical(encounter.administrations))
        for service in sorted(encounter.em, key=lambda s: (s.code, s.session or "", s.separately_identifiable)):
            own_session = service.session or session
            values = {"claim": encounter.claim, "pos": encounter.pos, "payer": encounter.payer,
                      "code": service.code, "session": own_session,
                      "separately_identifiable": service.separately_identifiable,
                      "administration_lines": lines_by_session[own_session]}  # in the E/M's own session
            rows = decide(values)
            if run.trace is not None:
                run.trace.append(TableRecord(table.name, "em", (service.code,), _inputs(table, values),
                                             _row_ids(rows)))
            for row in rows:
                effect = self._effects[id(row)]
                for finding in effect.findings:
                    run.raise_finding(finding, effect.rule)
                if effect.report:
                    modifiers = [effect.modifier] if effect.modifier else []
                    run.lines.append(WorkLine(service.code, 1, encounter.date.isoformat(), values, (), [effect.rule],
                                              modifiers, from_administration=False))

    def _findings(self, run: _Run) -> tuple:
        found = []
        for (finding_id, rule), administrations in run.findings.items():
            info = self.ruleset.findings[finding_id]
            found.append(Finding(finding_id, info.severity, info.message, tuple(administrations), rule,
                                 self.ruleset.reference(info.refs)))
        return tuple(found)


def _inputs(table: CheckedTable, values: dict) -> dict:
    """What a table saw of the values, for its trace record."""
    return {column: values.get(column) for column in table.inputs}


def _row_ids(rows) -> tuple:
    return tuple(row.id for row in rows)


def canonical(administrations) -> list:
    """Administrations by (start, stop, id): the order every stage sees, whatever the input's."""
    return sorted(administrations, key=lambda a: (a.start_s, a.stop_s if a.stop_s is not None else a.start_s, a.id))


def _events(encounter: Encounter) -> list:
    """Events in the canonical order, so input order never matters."""
    ordered = canonical(encounter.administrations)
    session = default_session(ordered)
    last_end: dict = {}
    events = []
    for order, a in enumerate(ordered):
        previous_end = last_end.get(a.drug_key)
        values = {"claim": encounter.claim, "pos": encounter.pos, "payer": encounter.payer,
                  "category": a.category, "route": a.route, "method": a.method, "hormonal": a.hormonal,
                  "pump": a.pump, "drug": a.drug_key, "dose": a.dose, "indication": a.indication,
                  "response": a.response, "site": a.site, "session": a.session or session,
                  "duration": None if a.stop_s is None else a.stop_s - a.start_s,
                  "gap": None if previous_end is None else a.start_s - previous_end,
                  "days_from_date": abs((a.start.date() - encounter.date).days)}
        end = a.stop_s if a.stop_s is not None else a.start_s
        last_end[a.drug_key] = max(end, previous_end) if previous_end is not None else end
        spans = [(a.start_s, a.stop_s)] if a.stop_s is not None and a.stop_s > a.start_s else []
        events.append(Event((a.id,), values, a.start_s, a.stop_s, a.start, spans, order, []))
    return events


def default_session(ordered_administrations) -> str | None:
    """The session of an administration documented without one: the encounter's first
    documented session (the contract: without a label, a single session)."""
    return next((a.session for a in ordered_administrations if a.session), None)


# ----- merge ------------------------------------------------------------------

def _merge(stage: CheckedMerge, run: _Run):
    """Combine matching events per key; their counted time is the union less the overlaps.

    Groups merge one after another, each taking away the time of the events as they stand
    then (a group merged before stands as its one merged event)."""
    groups: dict = {}
    matching = [event for event in run.events if event.values.get(stage.field) in stage.values]
    for event, key in zip(matching, _group_keys(stage.keys, matching)):
        groups.setdefault(key, []).append(event)
    rule = f"merge/{stage.name}"
    cuts = _Cuts(stage, run.events)
    replaced: dict = {}  # id of a member merged -> the merged event for the first, None for the others
    for members in groups.values():
        first = members[0]
        spans = intervals.union(s for m in members for s in m.intervals)
        counted = intervals.subtract(spans, cuts.removed(first))
        has_time = any(m.values.get("duration") is not None for m in members)
        values = {**first.values, "duration": intervals.total(counted) if has_time else None}
        merged = Event(tuple(a for m in members for a in m.ids), values, first.start_s,
                       max((m.stop_s for m in members if m.stop_s is not None), default=None),
                       first.wall_start, counted, first.order, [*first.trail, rule])
        if run.trace is not None:
            run.trace.append(MergeRecord(stage.name, tuple(m.ids for m in members), values["duration"],
                                         intervals.total(spans) - intervals.total(counted) if has_time else 0,
                                         tuple(counted)))
        cuts.replace(members, merged)
        replaced.update(dict.fromkeys(map(id, members)))
        replaced[id(first)] = merged
    events = []
    for event in run.events:
        event = replaced.get(id(event), event)
        if event is not None:
            events.append(event)
    run.events = events


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


# ----- initial ----------------------------------------------------------------

def _initial(stage: CheckedInitial, ranked: frozenset, run: _Run):
    """One initial event per group, by rank and ties; roles for the others.

    `ranked` holds every value the stage's rankings list (`_ranked_values`), to pass over
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
        candidates.append((rank, _tie_key(stage.ties, event, primary), event, own, selector))
    for candidate, key in zip(candidates, _group_keys(stage.keys, [c[2] for c in candidates])):
        groups.setdefault(key, []).append(candidate)
    ordered_groups = sorted(groups.items(), key=lambda item: min(c[2].order for c in item[1]))
    first_key = ordered_groups[0][0] if ordered_groups else None
    for key, members in ordered_groups:
        distinct = next((stage.keys[i] for i, (a, b) in enumerate(zip(key, first_key)) if a != b), "none")
        initial = min(members, key=_BY_RANK)[2]
        events = sorted((c[2] for c in members), key=lambda e: e.order)
        roles = _Roles(stage, initial, events)
        recorded = [] if run.trace is not None else None  # the roles, for the trace
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
            run.trace.append(_initial_record(stage, dict(zip(stage.keys, key)), distinct, members, recorded, primary))


_BY_RANK = operator.itemgetter(0, 1)  # a candidate's rank, then its tie key: the smallest is initial


def _initial_record(stage: CheckedInitial, group: dict, distinct: str, members: list, roles: list,
                    primary) -> InitialRecord:
    """One group's choice as its trace record holds it: the candidates by rank, the ranking
    that ranked the chosen one."""
    ranked = sorted(members, key=_BY_RANK)
    selector = ranked[0][4]
    candidates = tuple(Candidate(event.ids, event.values.get(stage.ranked_field), rank, own, tie_key,
                                 event.wall_start, event.values.get("duration"), primary in event.ids)
                       for rank, tie_key, event, own, _ in ranked)
    return InitialRecord(stage.name, group, distinct, selector, _ranking(stage, selector), _promotable(stage, selector),
                         stage.ties, candidates, tuple(roles))


def _group_keys(keys: tuple, events: list) -> list[tuple]:
    """Each event's group: its key values, a missing one taking the first documented value
    among the events that agree on the keys before it (an administration with no documented
    site is at the access already in use, not at a second one). The first documented value
    after each run of key values is noted in one pass, then looked up."""
    first: dict = {}  # (i, values of keys[:i]) -> the first documented value of keys[i] after them
    for event in events:
        for i, name in enumerate(keys):
            value = event.values.get(name)
            if value is not None:
                first.setdefault((i, tuple(event.values.get(k) for k in keys[:i])), value)
    found = []
    for event in events:
        key: list = []
        for i, name in enumerate(keys):
            value = event.values.get(name)
            key.append(first.get((i, tuple(key))) if value is None else value)
        found.append(tuple(key))
    return found


def _ranked_values(stage: CheckedInitial) -> frozenset:
    """Every value some ranking of the stage lists: the events the stage looks at."""
    return frozenset(v for order in stage.rankings.values() for v in order)


def _ranking(stage: CheckedInitial, selector) -> tuple | None:
    """The ranking for a selector value: its own, else the stage's default."""
    return stage.rankings.get(selector, stage.rankings.get(None))


def _promotable(stage: CheckedInitial, selector) -> frozenset | None:
    """The values `primary` may promote in the ranking for a selector value (empty: any)."""
    return stage.primary_of.get(selector, stage.primary_of.get(None))


_TIE_KEYS = {
    "primary": lambda event, primary: 0 if primary in event.ids else 1,
    "earliest start": lambda event, primary: event.start_s,
    "latest start": lambda event, primary: -event.start_s,
    "longest duration": lambda event, primary: -(event.values.get("duration") or 0),
    "shortest duration": lambda event, primary: event.values.get("duration") or 0,
}


def _tie_key(ties, event: Event, primary) -> tuple:
    return (*(_TIE_KEYS[t](event, primary) for t in ties), event.order)


class _Roles:
    """The roles in one group, given event by event in order, each from what came before it.

    An event is concurrent when its value is one the stage lists as concurrent and its time
    overlaps that of an earlier such event (or of the initial one) of another drug; else a
    repeat when an earlier event has its drug; else sequential. `repeats` is the role of the
    last earlier event of the same drug and ranked value. What came before is kept as it is
    given (`given`): the concurrent events' intervals by drug, the first event of each drug,
    the last role per drug and value; so each event costs a few look-ups, not a pass over the
    group. Which event made another concurrent (`partner`) is asked only for a trace, and
    found by a pass.
    """

    def __init__(self, stage: CheckedInitial, initial: Event, events: list):
        self.field = stage.ranked_field
        self.concurrent = stage.concurrent
        self.initial = initial
        self.events = events
        self.earlier = intervals.Overlaps(start for event in events for start, _ in event.intervals)
        # Until its turn, the initial event counts with the value it had before this stage.
        self.ahead = intervals.Overlaps(start for start, _ in initial.intervals)
        if initial.values.get(self.field) in self.concurrent:
            for span in initial.intervals:
                self.ahead.add(span, initial.values["drug"])
        self.first: dict = {}  # drug -> the first event of it given
        self.last_role: dict = {}  # (drug, ranked value) -> role of the last event given

    def role(self, event: Event) -> str:
        drug = event.values["drug"]
        if event.values.get(self.field) in self.concurrent:
            before_initial = event.order < self.initial.order
            for span in event.intervals:
                if self.earlier.meets_other(span, drug) or (before_initial and self.ahead.meets_other(span, drug)):
                    return "concurrent"
        return "repeat" if drug in self.first else "sequential"

    def repeats(self, event: Event) -> str | None:
        return self.last_role.get((event.values["drug"], event.values.get(self.field)))

    def partner(self, event: Event) -> Event | None:
        """The event whose time makes a concurrent `event` concurrent: the initial one when
        it does, else the first earlier one that does."""
        earlier = itertools.takewhile(lambda other: other.order < event.order, self.events)
        return next((other for other in (self.initial, *earlier) if other is not event
                     and other.values.get(self.field) in self.concurrent
                     and other.values["drug"] != event.values["drug"]
                     and any(intervals.overlaps(a, b) for a in other.intervals for b in event.intervals)), None)

    def repeat_of(self, event: Event) -> Event | None:
        """The first earlier event of a repeat's drug."""
        return self.first.get(event.values["drug"])

    def given(self, event: Event):
        drug = event.values["drug"]
        if event.values.get(self.field) in self.concurrent:
            for span in event.intervals:
                self.earlier.add(span, drug)
        self.first.setdefault(drug, event)
        self.last_role[(drug, event.values.get(self.field))] = event.values["role"]


# ----- edits ------------------------------------------------------------------

@attrs.frozen
class _EditPlan:
    """An edit with its clauses sorted by kind once per ruleset."""

    rule: str
    finding: str
    ordered: tuple  # (index, clause) of the limits and pairs, in the order written
    requires: tuple  # (index, clause) of the requires

    @classmethod
    def of(cls, stage: CheckedEdit) -> "_EditPlan":
        numbered = tuple(enumerate(stage.clauses))
        return cls(f"edit/{stage.name}", stage.finding,
                   tuple((i, c) for i, c in numbered if isinstance(c, (CheckedLimit, CheckedPair))),
                   tuple((i, c) for i, c in numbered if isinstance(c, CheckedRequire)))


def _edit(plan: _EditPlan, run: _Run):
    """Limits and pairs in the order written, then requires until no add-on is left alone.
    Trace records name the clause (its index in the edit) that acted."""
    for index, clause in plan.ordered:
        if isinstance(clause, CheckedLimit):
            _limit(clause, index, plan.finding, plan.rule, run)
        else:
            _pair(clause, index, plan.finding, plan.rule, run)
    if plan.requires:
        _require(plan.requires, plan.finding, plan.rule, run)


def _limit(clause: CheckedLimit, index: int, finding: str, rule: str, run: _Run):
    used = 0
    for line in run.lines:
        if line.code != clause.code:
            continue
        allowed = max(0, clause.units - used)
        if line.units > allowed:
            run.raise_finding(finding, rule, line.administrations)
            if run.trace is not None:
                run.trace.append(EditRecord(rule, index, "limit", line.code, line.administrations, kept=allowed))
            line.units = allowed
            line.rules.append(rule)
        used += line.units
    run.lines = [line for line in run.lines if line.units > 0]


def _pair(clause: CheckedPair, index: int, finding: str, rule: str, run: _Run):
    """Column 2 lines beside a column 1 line sharing `per`: the first distinction that holds
    adds its modifier; with none, the line bundles (is removed)."""
    partners = _Partners(clause, run.lines)
    kept = []
    for line in run.lines:
        if line.code not in clause.column2 or not partners.of(line):
            kept.append(line)
            continue
        held = next(((attribute, m) for attribute, m in clause.distinctions if partners.distinct(line, attribute)),
                    None)
        if held is not None:
            attribute, modifier = held
            if modifier not in line.modifiers:
                line.modifiers.append(modifier)
            if run.trace is not None:
                run.trace.append(EditRecord(rule, index, "modifier", line.code, line.administrations,
                                            attribute=attribute, modifier=modifier))
            line.rules.append(rule)
            kept.append(line)
        else:
            run.raise_finding(finding, rule, line.administrations)
            if run.trace is not None:
                run.trace.append(EditRecord(rule, index, "remove", line.code, line.administrations))
    run.lines = kept


class _Partners:
    """The column 1 lines of a pair clause by their `per` value, and the values they hold of
    each attribute, gathered once for all the column 2 lines that ask."""

    def __init__(self, clause: CheckedPair, lines: list):
        self.per = clause.per
        self.by_key: dict = {}
        for line in lines:
            if line.code in clause.column1:
                self.by_key.setdefault(self.key(line), []).append(line)
        self.held: dict = {}  # (key, attribute) -> the values the partners of that key hold

    def key(self, line: WorkLine):
        return None if self.per == "encounter" else line.values.get(self.per)

    def of(self, line: WorkLine) -> list:
        return self.by_key.get(self.key(line), [])

    def distinct(self, line: WorkLine, attribute: str) -> bool:
        """Distinct when the line's own value is documented and no partner shares it."""
        value = line.values.get(attribute)
        if value is None:
            return False
        key = (self.key(line), attribute)
        if key not in self.held:
            self.held[key] = {partner.values.get(attribute) for partner in self.of(line)}
        return value not in self.held[key]


def _require(clauses, finding: str, rule: str, run: _Run):
    """Remove add-on lines none of whose primary codes is on the claim, one at a time, the
    first such line first, until none is left alone. Removing a line strands an earlier one
    only when it takes the last line of its code away, so the scan goes on after the line
    removed and starts over only then (at most once per code)."""
    lines = run.lines
    counts = collections.Counter(line.code for line in lines)
    removed: set = set()  # ids of the lines removed
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if id(line) in removed:
            continue
        index = next((index for index, clause in clauses
                      if line.code in clause.addons and not any(code in counts for code in clause.primaries)), None)
        if index is None:
            continue
        run.raise_finding(finding, rule, line.administrations)
        if run.trace is not None:
            run.trace.append(EditRecord(rule, index, "remove", line.code, line.administrations))
        removed.add(id(line))
        counts[line.code] -= 1
        if not counts[line.code]:
            del counts[line.code]
            i = 0
    run.lines = [line for line in lines if id(line) not in removed]


def _final_lines(work_lines: list, claim_rank: dict) -> tuple:
    """Combine lines that say the same thing, summing their units; order them as on a
    claim: by date, initial codes before their add-ons, then standalone codes, then E/M."""
    combined: dict = {}
    for line in work_lines:
        key = (line.code, tuple(line.modifiers), line.date, line.administrations)
        if key in combined:
            units, rules = combined[key]
            combined[key] = (units + line.units, rules + [r for r in line.rules if r not in rules])
        else:
            combined[key] = (line.units, list(dict.fromkeys(line.rules)))
    lines = [Line(code, units, modifiers, date, administrations, tuple(rules))
             for (code, modifiers, date, administrations), (units, rules) in combined.items()]
    position = {id(line): i for i, line in enumerate(lines)}
    return tuple(sorted(lines, key=lambda line: (line.date, claim_rank.get(line.code, len(claim_rank)),
                                                 position[id(line)])))
