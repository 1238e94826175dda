"""The story of one result, for a coder: why each line came out and why others did not.

It runs the encounter once through the reference semantics with a trace and tells that
trace in order: what each event is (as the ruleset declares its fields) and the row that
decided it, how time was merged, how the initial service of each group was chosen and why
the others are add-ons, the row behind each code, how each unit count follows from the
minutes, each modifier, edit and finding. The lines shown are the traced run's own, so
the story cannot disagree with the result. It words the facts the trace records hold
(engine.core.trace: ranks and tie keys, the partner of a concurrent event, the offset of each
unit, the distinction that held) and works none of them out again.

"Why not" answers come from the same semantics: for each event, the rows a
coder might have expected (rows of its service with another role, rows across a duration
threshold, the row the deciding row shadowed) are forced in turn into a rerun of the
reference pipeline; every code such a rerun gives that the real run did not is reported
with the first cell that failed, worded with the encounter's value and the ruleset's
constant by name and value. No number or code is written here: all come from the ruleset.

The story's data is engine.analyst.story and its wording engine.analyst.explain_text; what is
left here (about 440 lines) is the teller and its "why not" reruns, which share one state.

Example:
    story = explain(Registry.from_path("rulesets/2026"), json.loads(text))
    print(render_text(story))  # engine.analyst.explain_text
"""
from __future__ import annotations

from dsl import ast
from dsl.checked import (CheckedEdit, CheckedInitial, CheckedMerge, CheckedRuleset, CheckedTable,
                         CheckedUnits)
from dsl.durations import duration_text, minutes_text
from dsl.show import input_text
from engine.core.coder import Coder
from engine.core.encounter import Encounter
from engine.core.encounter import canonical
from engine.core.pipeline import Pipeline
from engine.core.reference import ReferenceTable, apply_policy, reference_unit_offsets
from engine.core.registry import Registry
from engine.core.result import Result
from engine.core.schema import SCHEMA
from engine.analyst.story import (EventStory, CodingStory, Condition, Decision, EditStory, Explanation,
                                  FindingStory, GroupStory, Member, MergeStory, UnitsStory, WhyNot)
from engine.analyst.tables import RulesetSource, WrittenCell, location
from engine.core.trace import Candidate, EditRecord, InitialRecord, MergeRecord, Role, TableRecord, UnitsRecord

_COMPARISONS = {">": ("is more than", "is not more than"), ">=": ("is at least", "is less than"),
                "<": ("is less than", "is not less than"), "<=": ("is at most", "is more than")}
_THRESHOLD_KINDS = ("duration", "number")


def explain(registry: Registry, data: object, payer: str | None = None) -> Explanation:
    """Code one decoded JSON encounter with the reference semantics and tell how.

    Raises EncounterError, naming the field, for an encounter that breaks the contract.
    """
    coder = Coder(registry, "reference", payer)
    ruleset, encounter = coder.select(data)
    trace: list = []
    result = coder.pipeline(ruleset).run(encounter, trace=trace)
    return _Teller(ruleset, encounter, trace, result).tell()


class _Forced:
    """A reference decider that answers one chosen call of one table with chosen rows."""

    def __init__(self, table: CheckedTable, target: CheckedTable, call: int, rows: tuple):
        self.reference = ReferenceTable(table)
        self.forced = table is target
        self.call, self.rows, self.calls = call, rows, 0

    def decide(self, values) -> tuple:
        self.calls += 1
        if self.forced and self.calls == self.call:
            return self.rows
        return self.reference.decide(values)


class _Teller:
    """Walks one trace and turns each record into its part of the story."""

    def __init__(self, ruleset: CheckedRuleset, encounter: Encounter, trace: list, result: Result):
        self.ruleset, self.encounter, self.trace, self.result = ruleset, encounter, trace, result
        self.source = RulesetSource(ruleset)
        self.tables = {s.name: s for s in ruleset.stages if isinstance(s, CheckedTable)}
        self.stages = {(type(s), s.name): s for s in ruleset.stages if not isinstance(s, CheckedTable)}
        self.declared = ruleset.input
        self.main = self.declared.main
        self.documented = {event.id: event for event in encounter.events[self.main.name]}
        self._written: dict = {}
        self.rules = self._rule_locations()

    def tell(self) -> Explanation:
        decisions: dict = {}  # subject -> the list its next decisions go to
        merges, groups, coding, edits, others = [], [], [], [], []
        before_merge: dict = {}  # event -> its decisions before it was merged
        for index, record in enumerate(self.trace):
            if isinstance(record, TableRecord):
                table = self.tables[record.table]
                if record.scope == self.ruleset.schema.line_scope:
                    continue
                if record.scope != self.main.name:
                    others.extend(self._decisions(table, record, code=record.subject[0]))
                elif _makes_codes(table):
                    coding.append(self._coding(table, record, index))
                else:
                    decisions.setdefault(record.subject, []).extend(self._decisions(table, record))
            elif isinstance(record, MergeRecord) and (len(record.members) > 1 or record.removed):
                for ids in record.subject:
                    before_merge.setdefault((ids,), decisions.get((ids,), []))
                decisions[record.subject] = []
                merges.append((record, decisions[record.subject]))
            elif isinstance(record, InitialRecord):
                groups.append(self._group(record))
            elif isinstance(record, EditRecord):
                edits.append(self._edit(record))
        encounter = self.encounter
        shown = tuple((f.name, _shown(encounter.values[f.name])) for f in self.declared.fields
                      if not f.unique and f.type.kind != "date" and encounter.values.get(f.name) is not None)
        return Explanation(
            encounter.id, encounter.date.isoformat(), shown,
            {"name": self.ruleset.name, "version": self.ruleset.version,
             "payer": self.ruleset.payer, "digest": self.ruleset.digest},
            self.result.as_dict(), self.main.name,
            tuple(self._event(e, before_merge.get((e.id,), decisions.get((e.id,), ())))
                  for e in canonical(encounter.events[self.main.name])),
            tuple(self._merge(record, after) for record, after in merges),
            tuple(groups), tuple(coding), tuple(edits), tuple(others), self._findings(), self.trace)

    # ----- rows and cells -----
    def _rule_locations(self) -> dict:
        found = {}
        for stage in self.ruleset.stages:
            if isinstance(stage, CheckedTable):
                found.update({f"{stage.name}/{row.id}": location(row.span) for row in stage.rows})
            else:
                kind = {CheckedMerge: "merge", CheckedInitial: "initial", CheckedEdit: "edit"}[type(stage)]
                found[f"{kind}/{stage.name}"] = location(stage.span)
        found.update({f"units/{name}": location(rule.span) for name, rule in self.ruleset.units.items()})
        return found

    def _written_row(self, table: CheckedTable, row):
        key = (table.name, row.id)
        if key not in self._written:
            self._written[key] = self.source.row(table, row)
        return self._written[key]

    def _row(self, table: CheckedTable, row_id: str):
        return next(row for row in table.rows if row.id == row_id)

    def _condition(self, table: CheckedTable, row, column_index: int, value) -> Condition:
        cell = self._written_row(table, row).inputs[column_index]
        kind = table.input_types[column_index].kind
        holds = row.predicates[column_index].matches(value)
        return Condition(cell.column, cell.text, input_text(value, kind), holds, _phrase(cell, kind, value, holds))

    def _conditions(self, table: CheckedTable, row, inputs: dict, columns=None) -> tuple[Condition, ...]:
        """The row's cells other than `*` (or only those in `columns`), against the inputs."""
        return tuple(self._condition(table, row, i, inputs.get(column))
                     for i, column in enumerate(table.inputs)
                     if row.predicates[i].kind != "any" and (columns is None or i in columns))

    def _decision(self, table: CheckedTable, row, record: TableRecord, code: str | None = None) -> Decision:
        written = self._written_row(table, row)
        return Decision(table.name, row.id, written.location, record.subject,
                        self._conditions(table, row, record.inputs),
                        tuple((c.column, c.text) for c in written.outputs if c.text not in ("", "-")), code)

    def _decisions(self, table: CheckedTable, record: TableRecord, code: str | None = None) -> list[Decision]:
        return [self._decision(table, self._row(table, row_id), record, code) for row_id in record.rows]

    # ----- events and merges -----
    def _event(self, event, decisions) -> EventStory:
        """An event as documented: its fields but its id and times, then its times."""
        timed = (self.main.start, self.main.stop)
        fields = tuple((f.name, _shown(event.values[f.name])) for f in self.main.fields
                       if not f.unique and f.name not in timed and event.values.get(f.name) not in (None, False))
        start = _when(event.start) if event.start is not None else None
        stop = _when(event.stop) if event.stop is not None else None
        minutes = minutes_text(event.stop_s - event.start_s) if event.stop_s is not None else "unknown"
        return EventStory(event.id, fields, start, stop, minutes, tuple(decisions))

    def _merge(self, record: MergeRecord, decisions) -> MergeStory:
        stage = self.stages[(CheckedMerge, record.merge)]
        counted = record.counted
        return MergeStory(stage.name, location(stage.span), record.subject,
                          minutes_text(counted) if counted is not None else "unknown",
                          minutes_text(record.removed), tuple(decisions))

    # ----- initial services -----
    def _group(self, record: InitialRecord) -> GroupStory:
        stage: CheckedInitial = self.stages[(CheckedInitial, record.initial)]
        eligible = record.primary_of
        shown = [f"primary({', '.join(sorted(eligible))})" if item == "primary" and eligible else item
                 for item in record.ranking]
        by = f"by {stage.selector} ({input_text(record.selector, 'enum')}): " if stage.selector else ""
        roles = {given.ids: given for given in record.roles}
        members = tuple(Member(c.ids, c.value, "primary" if c.promoted else str(c.rank + 1), roles[c.ids].role,
                               self._role_reason(roles[c.ids], record.chosen))
                        for c in record.candidates)
        group = tuple((key, input_text(value, "text") if value is not None else "(none)")
                      for key, value in record.group.items())
        return GroupStory(stage.name, location(stage.span), group, by + " > ".join(shown), record.distinct,
                          record.chosen, _choice(record), members)

    def _role_reason(self, given: Role, chosen) -> str:
        """Why a member has its role, naming the event that gave it, as the record does."""
        if given.role == "initial":
            return "the initial service of this group"
        alike = self.main.alike or "event"
        if given.role == "concurrent":
            return (f"a different {alike} running at the same time as {_ids(given.partner)} "
                    f"({self._alike(given.partner)})")
        if given.role == "repeat":
            return f"the same {alike} ({self._alike(given.ids)}) as {_ids(given.repeat_of)}, given again"
        return f"a new {alike} ({self._alike(given.ids)}) in this group; {_ids(chosen)} is the initial service"

    def _alike(self, ids) -> str:
        """What makes an event alike others, as documented: its first event's value (its id without one)."""
        first = self.documented[ids[0]]
        return first.values[self.main.alike] if self.main.alike else first.id

    # ----- coding, units, modifiers and why not -----
    def _coding(self, table: CheckedTable, record: TableRecord, index: int) -> CodingStory:
        subject = record.subject
        if record.rows:
            decision = self._decisions(table, record)[0]
        else:
            decision = Decision(table.name, None, None, subject, (), ())
        units = []
        for later in self.trace[index + 1:]:  # the units of its lines are recorded right after it
            if not isinstance(later, UnitsRecord) or later.subject != subject:
                break
            units.append(self._units(later))
        modifiers = [decision for later in self.trace[index + 1:]
                     if isinstance(later, TableRecord) and later.scope == "line" and later.subject == subject
                     for decision in self._decisions(self.tables[later.table], later, code=later.code)]
        seen = tuple((column, input_text(record.inputs.get(column), field_type.kind))
                     for column, field_type in zip(table.inputs, table.input_types))
        return CodingStory(subject, seen, decision, tuple(units), tuple(modifiers), self._why_not(subject, units))

    def _units(self, record: UnitsRecord) -> UnitsStory:
        rule: CheckedUnits = self.ruleset.units[record.rule]
        text = _units_text(record, self._part(rule), rule.inclusive)
        dates = list(dict.fromkeys(record.dates))
        if len(dates) == 1:
            text += f" on {dates[0]}"
        elif dates:
            text += " on " + ", ".join(f"{d} ({record.dates.count(d)})" for d in dates)
        return UnitsStory(rule.name, location(rule.span), record.code, minutes_text(record.counted), record.units,
                          record.dates, text)

    def _why_not(self, subject: tuple, units: list) -> tuple[WhyNot, ...]:
        have = self._codes(self.result, subject)
        found: dict = {}
        for story in units:
            if story.units == 0 and story.code not in have:
                rule = self.ruleset.units[story.rule]
                past = f" past the first {duration_text(rule.after)}" if rule.after else ""
                found[story.code] = WhyNot(story.code, subject,
                                           f"{story.counted} counted is {_BELOW[rule.inclusive]} {self._part(rule)}{past}",
                                           f"units/{story.rule}", story.location)
        calls: dict = {}
        for record in self.trace:
            if not isinstance(record, TableRecord):
                continue
            calls[record.table] = calls.get(record.table, 0) + 1
            table = self.tables[record.table]
            if table.scope != self.main.name or table.policy == "collect" or not set(record.subject) & set(subject):
                continue
            for rows, reason, row in self._alternatives(table, record):
                rerun = Pipeline(self.ruleset, lambda t: _Forced(t, table, calls[table.name], rows),
                                 reference_unit_offsets).run(self.encounter)
                for code in self._codes(rerun, subject):
                    if code in have:
                        continue
                    found.setdefault(code, WhyNot(code, subject, reason, f"{table.name}/{row.id}", location(row.span)))
        return tuple(found.values())

    def _part(self, rule: CheckedUnits) -> str:
        """The final-part threshold of a units rule as written, a constant with its value."""
        written: ast.Units = self.source.statement(rule.span)
        return self.source.value_text(written.part, "duration")

    def _codes(self, result: Result, subject) -> dict:
        """The codes of the lines for these events, in claim order (a dict as an ordered set)."""
        return dict.fromkeys(line.code for line in result.lines if set(line.administrations) & set(subject))

    def _alternatives(self, table: CheckedTable, record: TableRecord):
        """(rows to force, why they did not decide, the row to cite) for one table call."""
        inputs = record.inputs
        values = [inputs.get(column) for column in table.inputs]
        decided = [self._row(table, row_id) for row_id in record.rows]
        derived = self._derived_columns(table)
        codes = _makes_codes(table)
        for row in table.rows:
            failing = [i for i, (p, v) in enumerate(zip(row.predicates, values)) if not p.matches(v)]
            if not failing:
                continue
            if codes:
                near = all(table.inputs[i] not in derived for i in failing)
            else:
                near = all(table.input_types[i].kind in _THRESHOLD_KINDS and row.predicates[i].kind != "missing"
                           for i in failing)
            if near:
                yield (row,), self._condition(table, row, failing[0], values[failing[0]]).text, row
        for row in decided:
            matched = [r for r in table.rows if r is not row
                       and all(p.matches(v) for p, v in zip(r.predicates, values))]
            instead = apply_policy(table, matched)
            columns = {i for i, p in enumerate(row.predicates)
                       if not instead or p != instead[0].predicates[i]}
            conditions = "; ".join(c.text for c in self._conditions(table, row, inputs, columns))
            verb = "matched first" if instead else "matched"
            yield instead, f"row {table.name}/{row.id} {verb}: {conditions or 'any input'}", row

    def _derived_columns(self, table: CheckedTable) -> set:
        """Attributes that tables before this one write (their values are explained upstream)."""
        derived = set()
        for stage in self.ruleset.stages:
            if stage is table:
                return derived
            if isinstance(stage, CheckedTable):
                derived.update(c for c in stage.outputs if c not in SCHEMA.outputs)
        return derived

    # ----- edits and findings -----
    def _edit(self, record: EditRecord) -> EditStory:
        stage: CheckedEdit = self.stages[(CheckedEdit, record.edit.split("/", 1)[1])]
        written: ast.Edit = self.source.statement(stage.span)
        code, ids, action = record.code, record.subject, record.action
        clause = written.clauses[record.clause]
        clause_text = self._clause_text(clause)
        owner = f"{code} for {_ids(ids)}" if ids else code
        if record.row is not None:
            text = self._data_edit(record, owner, clause)
        elif action == "limit":
            kept = record.kept
            text = f"{owner} cut to {kept} unit{'s' if kept != 1 else ''}" if kept else f"{owner} not reported: the limit is reached"
        elif action == "modifier":
            held = next(d for d in clause.distinctions if d.attribute == record.attribute)
            text = (f"{owner} is beside a code it bundles into, but not in its {record.attribute}: "
                    f"modifier {self.source.value_text(held.modifier, 'modifier')}")
        elif isinstance(clause, ast.Pair):
            text = f"{owner} removed: {_not_distinct(clause, record.missing, 'a code it bundles into')}"
        else:
            text = f"{owner} removed: none of its primary codes is on the claim"
        return EditStory(stage.name, location(stage.span), action, code, ids, clause_text, text)

    def _data_edit(self, record: EditRecord, owner: str, clause) -> str:
        """What a row of national edit data did, citing the row (file:line)."""
        if record.action == "limit":
            kept, per = record.kept, ("line" if record.indicator == "1" else "date of service")
            cut = f"cut to {kept} unit{'s' if kept != 1 else ''}" if kept else "not reported"
            return (f"{owner} {cut}: the medically unlikely edit at {record.row} allows {record.allowed} "
                    f"per {per} (adjudication indicator {record.indicator})")
        if record.action == "modifier":
            held = next(d for d in clause.distinctions if d.attribute == record.attribute)
            modifier = self.source.value_text(held.modifier, "modifier")
            done = "already carries" if record.present else "gets"
            return (f"{owner} is column 2 to {record.partner} (PTP row {record.row}, modifier indicator 1), but not "
                    f"in its {record.attribute}: it {done} modifier {modifier}")
        if record.indicator == "0":
            return (f"{owner} removed: column 2 to {record.partner} (PTP row {record.row}, modifier indicator 0: "
                    "never reported separately)")
        if record.missing:
            return (f"{owner} removed: column 2 to {record.partner} (PTP row {record.row}, modifier indicator 1); "
                    f"{_not_distinct(clause, record.missing, record.partner)}")
        shared = " or ".join(d.attribute for d in clause.distinctions) or "nothing that could"
        return (f"{owner} removed: column 2 to {record.partner} (PTP row {record.row}, modifier indicator 1), "
                f"and no distinct {shared} is documented")

    def _clause_text(self, clause) -> str:
        if isinstance(clause, (ast.LimitsFrom, ast.PairsFrom)):
            where = " and ".join(f"{c.field} = {', '.join(v.text for v in c.values)}" for c in clause.where)
            where = f" where {where}" if where else ""
            if isinstance(clause, ast.LimitsFrom):
                return f'limit from "{clause.path}" per {clause.per}{where}'
            distinct = "".join(f", {self._distinction_text(d)}" for d in clause.distinctions)
            return f'pairs from "{clause.path}" per {clause.per}{where}{distinct}'

        def codes(names):
            return ", ".join(n.text if isinstance(n, ast.Name) else str(n.value) for n in names)
        if isinstance(clause, ast.Require):
            return f"require {codes(clause.addons)} with {codes(clause.primaries)}"
        if isinstance(clause, ast.Limit):
            return f"limit {codes((clause.code,))} to {clause.units} per {clause.per}"
        distinct = "; ".join(self._distinction_text(d) for d in clause.distinctions)
        return f"pair {codes(clause.column1)} with {codes(clause.column2)} per {clause.per}, {distinct}"

    def _distinction_text(self, distinction: ast.Distinction) -> str:
        missing = f", when missing finding {distinction.missing}" if distinction.missing else ""
        modifier = self.source.value_text(distinction.modifier, "modifier")
        return f"distinct by {distinction.attribute}: {modifier}{missing}"

    def _findings(self) -> tuple[FindingStory, ...]:
        return tuple(FindingStory(f.id, f.severity, f.administrations, f.message, f.rule, self.rules.get(f.rule),
                                  f.reference) for f in self.result.findings)


def _makes_codes(table: CheckedTable) -> bool:
    return any(SCHEMA.outputs.get(column) == "code" for column in table.outputs)


def _phrase(cell: WrittenCell, kind: str, value, holds: bool) -> str:
    """One condition in words: the column, the encounter's value, the cell with its constants' values."""
    column, node, shown = cell.column, cell.node, input_text(value, kind)
    if isinstance(node, ast.MissingCell):
        return f"{column} is {cell.text}" if holds else f"{column} is {shown}, not {cell.text}"
    if isinstance(node, ast.Comparison):
        yes, no = _COMPARISONS[node.operator]
        bound = cell.text[len(node.operator):].strip()
        if value is None:
            return f"{column} is {shown}, so not {yes.removeprefix('is ')} {bound}"
        return f"{column} {shown} {yes if holds else no} {bound}"
    if isinstance(node, ast.Between):
        return f"{column} {shown} is {'' if holds else 'not '}between {cell.text.replace(' .. ', ' and ')}"
    if isinstance(node, ast.Negated):
        inner = cell.text.removeprefix("not ")
        return f"{column} {shown} is not {inner}" if holds else f"{column} is {shown}, which the row excludes ({cell.text})"
    single = isinstance(node, ast.Alternatives) and len(node.values) == 1 and cell.text == shown
    if holds:
        return f"{column} is {shown}" if single else f"{column} {shown} is one of {cell.text}"
    several = isinstance(node, ast.Alternatives) and len(node.values) > 1
    return f"{column} is {shown}, not {'one of ' if several else ''}{cell.text}"


_ABOVE = {False: "more than", True: "at least"}  # a final part that counts, by `>` or `>=`
_BELOW = {False: "not more than", True: "less than"}


def _units_text(record: UnitsRecord, part: str, inclusive: bool) -> str:
    """How a unit count follows from the minutes, in the rule's own terms (`part` as written,
    `inclusive` for `>=`)."""
    period, after = duration_text(record.period), duration_text(record.after)
    head = f"{minutes_text(record.counted)} counted"
    if not record.beyond:
        return f"{head}, nothing beyond the first {after}: no unit"
    full, rest = record.periods
    counted = record.final_part_counted
    if counted is None:
        return f"{head}: {_count(record.units)} by the rule"
    text = f"{head}: the first {after}, then {minutes_text(record.beyond)}" if record.after else f"{head} from the start"
    steps = [f"{full} x {period}"] if full else []
    if rest:
        verdict = f"counted, {_ABOVE[inclusive]}" if counted else f"not counted, {_BELOW[inclusive]}"
        steps.append(f"a final {minutes_text(rest)} ({verdict} {part})")
    return f"{text}: {' and '.join(steps)}: {_count(record.units)}"


def _choice(record: InitialRecord) -> str:
    """Why the chosen one is initial: promoted as the primary reason, ranked highest, or the
    ties (and at last the canonical order) that set it above those of its rank."""
    chosen = record.candidates[0]
    if chosen.promoted:
        return (f"{_ids(chosen.ids)} is the documented primary reason, which the ranking for "
                f"{input_text(record.selector, 'enum')} puts above its {chosen.value}")
    tied = record.tied()
    if len(tied) == 1:
        return f"{_ids(chosen.ids)} ({chosen.value}) ranks highest"
    text = f"{', '.join(_ids(c.ids) for c in tied)} tie at {chosen.value}"
    for step in record.tie_breaks():
        if step.tie is None:
            return text + "; then the order of administration (start, stop, id) decides"
        text += f"; {step.tie} decides ({', '.join(f'{_ids(c.ids)} {_tie_shown(step.tie, c)}' for c in step.among)})"
    return text


def _tie_shown(tie: str, candidate: Candidate) -> str:
    """What a tie compared of a candidate, in words."""
    if tie == "primary":
        return "is the primary reason" if candidate.primary else "is not"
    if tie.endswith("start"):
        return f"started {_clock(candidate.start)}"
    return "ran " + (minutes_text(candidate.duration) if candidate.duration is not None else "an unknown time")


def _shown(value) -> str:
    """A documented value in words: yes or no for a flag."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _count(units: int) -> str:
    return "no unit" if units == 0 else f"{units} unit{'s' if units != 1 else ''}"


def _ids(ids) -> str:
    return " + ".join(ids)


def _when(moment) -> str:
    return moment.isoformat(sep=" ", timespec="minutes" if moment.second == 0 else "seconds")


def _clock(moment) -> str:
    return moment.strftime("%H:%M" if moment.second == 0 else "%H:%M:%S")


def _not_distinct(clause, missing: tuple, partner: str) -> str:
    """Why no distinction of a pair clause kept a line: the attributes it shares with its
    partner, and those it does not document (a documentation gap, not a shared value)."""
    shared = " or ".join(d.attribute for d in clause.distinctions if d.attribute not in missing)
    if not missing:
        return f"it shares its {shared} with {partner}"
    gap = f"its {' or '.join(missing)} is not documented, so it is not shown distinct"
    return f"it shares its {shared} with {partner}, and {gap}" if shared else f"{gap} from {partner}"
