"""The run-time pipeline: an encounter through the ruleset's stages, in the order written.

Stages are generic: tables decide attributes, lines and findings for each event,
line or E/M service; a merge combines events and their time; an initial stage
ranks events per group and gives the others their role; edits act on the lines of
the whole claim. The ruleset gives every one of them its meaning. The tables run here;
the merge, initial and edit stages have a module each (engine.core.stages).
"""
from __future__ import annotations

import collections
import functools

import attrs

from dsl.checked import CheckedEdit, CheckedInitial, CheckedMerge, CheckedRuleset, CheckedTable
from engine.core import fast_tables
from engine.core.day_text import day_text
from engine.core.encounter import Encounter
from engine.core.events import build_events, count_lines
from engine.core.generated_events import generated_builder
from engine.core.result import Finding, Line, Result
from engine.core.stages.edits import EditPlan, edit
from engine.core.stages.generated_initial import generated_initial
from engine.core.stages.initial import Facts, initial, ranked_values
from engine.core.stages.merge import merge
from engine.core.stages.prepared_edits import prepared_edit, prepared_edits
from engine.core.stages.prepared_merge import PreparedMerge
from engine.core.stages.state import Event, Run, WorkLine
from engine.core.undeclared import raise_undeclared

_SPECIAL_OUTPUTS = {"code", "addon", "units", "addon_units", "modifier", "finding", "report"}


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

    def __init__(self, ruleset: CheckedRuleset, make_decider, unit_offsets, generated: bool = False):
        """`generated`: build events, run initial stages and apply the rows tables decide by
        the code generated for the declaration, the stage and the table (engine.core.generated_events,
        engine.core.stages.generated_initial, engine.core.fast_tables), and merge and edit
        stages as prepared for the ruleset (engine.core.stages.prepared_merge, prepared_edits),
        as the compiled engine does; else by the generic code, the definition the reference
        engine keeps. A run asked for a trace takes the generic steps either way."""
        self.ruleset = ruleset
        self.unit_offsets = unit_offsets
        self.header = {"name": ruleset.name, "version": ruleset.version, "digest": ruleset.digest}
        kinds = ("initial", "addon", "standalone", "em")
        self._claim_order = _claim_order({code: kinds.index(kind) for code, (kind, _) in ruleset.codes.items()})
        self.declared = ruleset.input
        self.main = self.declared.main
        self._build_events = generated_builder(self.declared) if generated else None
        self._durations = {kind.name: kind.duration for kind in self.declared.kinds}
        self._line_counts = {kind.name: tuple(d for d in kind.derived if d.builtin == "count_lines")
                             for kind in self.declared.kinds}
        self._effects = {}
        self._finding_texts: dict = {}  # finding id -> (severity, message, reference)
        rows_plan = fast_tables.Plan(self.main.name, self._durations, self._line_counts, ruleset.units, unit_offsets)
        steps = []
        plans: dict = {}  # the index of an edit's step -> its plan
        for stage in ruleset.stages:
            if isinstance(stage, CheckedTable):
                for row in stage.rows:
                    self._effects[id(row)] = _Effect.of(stage, row)
                decide = make_decider(stage).decide
                per_line = stage.scope == ruleset.schema.line_scope
                step = functools.partial(self._table_per_line if per_line else self._table_per_event, stage, decide)
                if generated:
                    step = (fast_tables.line_step if per_line else fast_tables.event_step)(
                        stage, decide, self._effects, rows_plan, step)
                steps.append(step)
            elif isinstance(stage, CheckedMerge):
                steps.append(PreparedMerge.of(stage, self.main.duration) if generated
                             else functools.partial(merge, stage, self.main.duration))
            elif isinstance(stage, CheckedInitial):
                facts = Facts(self.main.alike, self.main.duration)
                steps.append(generated_initial(stage, facts) if generated
                             else functools.partial(initial, stage, ranked_values(stage), facts))
            elif isinstance(stage, CheckedEdit):
                edit_plan = EditPlan.of(stage)
                steps.append(prepared_edit(edit_plan) if generated else functools.partial(edit, edit_plan))
                plans[len(steps) - 1] = edit_plan
        self.steps = tuple(zip((_step_name(stage) for stage in ruleset.stages), steps))  # (`kind:name`, step)
        # (name, step) as a run takes them: the compiled engine joins edits that follow one another
        self.run_steps = _edits_joined(self.steps, plans) if generated else self.steps
        self._steps = tuple(step for _, step in self.run_steps)  # without their names: what a run loops over

    def run(self, encounter: Encounter, trace: list | None = None, events: dict | None = None) -> Result:
        """Code one encounter; with `trace`, append a record of every decision to it
        (engine.core.trace), built only then. `events`: see `start`."""
        made = self.as_dict(self._ran(encounter, trace, events))
        return Result(made["encounter"], made["ruleset"], tuple(map(Line.of, made["lines"])),
                      tuple(map(Finding.of, made["findings"])))

    def run_dict(self, encounter: Encounter, events: dict | None = None) -> dict:
        """`run(encounter).as_dict()`, built straight as the dict (a batch wants only that)."""
        return self.as_dict(self._ran(encounter, None, events))

    def start(self, encounter: Encounter, trace: list | None = None, events: dict | None = None) -> Run:
        """The state of an encounter before the first step: its events built (by the generic
        build_events when a trace is asked, as every step then runs generic), and the fields
        it carries that the ruleset does not declare raised.

        `events` are the encounter's events as this pipeline's generated builder would build
        them, already built (by the typed reader of an equal declaration, engine.core.typed_reader);
        only a generated pipeline running without a trace takes them, the others build their own."""
        if self._build_events is None or trace is not None:
            events = build_events(encounter, self.declared)
        elif events is None:
            events = self._build_events(encounter)
        run = Run(encounter, events.pop(self.main.name), events, trace=trace)
        if encounter.undeclared:
            raise_undeclared(run, self.declared)
        return run

    def as_dict(self, run: Run) -> dict:
        """The result of a run through every step, as the contract's JSON object (`run` makes
        its Result of it)."""
        return {"encounter": run.encounter.id, "ruleset": dict(self.header),
                "lines": _final_line_dicts(run.lines, self._claim_order), "findings": self._finding_dicts(run)}

    def _ran(self, encounter: Encounter, trace: list | None, events: dict | None) -> Run:
        run = self.start(encounter, trace, events)
        for step in self._steps:
            step(run)
        return run

    # ----- tables -----
    def _table_per_event(self, table: CheckedTable, decide, run: Run):
        events = run.events if table.scope == self.main.name else run.others[table.scope]
        for fact in self._line_counts[table.scope]:
            count_lines(fact, events, run.lines)
        for event in events:
            rows = decide(event.values)
            if run.trace is not None:
                from engine.core.trace import TableRecord  # loads with the first trace (bench/startup.py)

                run.trace.append(TableRecord(table.name, table.scope, self._named(event), _inputs(table, event.values),
                                             _row_ids(rows)))
            for row in rows:
                self._apply_row(self._effects[id(row)], event, run)

    def _named(self, event: Event) -> tuple:
        """How a trace names an event: by its id, or without one by its first field's value."""
        if event.ids:
            return event.ids
        first = self.declared.kind(event.kind).fields[0].name
        return (event.values.get(first),)

    def _apply_row(self, effect: _Effect, event: Event, run: Run):
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
        if effect.report:
            modifiers = [effect.modifier] if effect.modifier else []
            run.lines.append(WorkLine(event.values["code"], 1, day_text(run.encounter.date), event.values, event.ids,
                                      [effect.rule], event.kind, modifiers))

    def _emit(self, code: str, units_rule: str | None, part: str, event: Event, rule: str, run: Run) -> list:
        """Lines for one code of an event: one unit, or units from time, each dated."""
        values = {**event.values, "code": code, "part": part}
        rules = [*event.trail, rule]
        if units_rule is None:
            dates = [day_text(run.encounter.date if event.wall_start is None else event.wall_start.date())]
        else:
            duration = self._durations[event.kind]
            counted = (event.values.get(duration) if duration else None) or 0
            counting = self.ruleset.units[units_rule]
            offsets = self.unit_offsets(counting, counted)
            dates = event.unit_dates(offsets, day_text(run.encounter.date))
            rules.append(f"units/{units_rule}")
            if run.trace is not None:
                from engine.core.trace import UnitsRecord  # loads with the first trace (bench/startup.py)

                run.trace.append(UnitsRecord(units_rule, code, event.ids, counted, counting.after, counting.period,
                                             counting.bar, tuple(offsets), tuple(dates)))
        made = []
        for date, units in (((dates[0], 1),) if len(dates) == 1 else collections.Counter(dates).items()):
            line = WorkLine(code, units, date, values, event.ids, list(rules), event.kind)
            run.lines.append(line)
            made.append(line)
        return made

    def _table_per_line(self, table: CheckedTable, decide, run: Run):
        for line in run.lines:
            if line.kind != self.main.name:
                continue
            rows = decide(line.values)
            if run.trace is not None:
                from engine.core.trace import TableRecord  # loads with the first trace (bench/startup.py)

                run.trace.append(TableRecord(table.name, "line", line.administrations, _inputs(table, line.values),
                                             _row_ids(rows), line.code))
            for row in rows:
                effect = self._effects[id(row)]
                if effect.modifier and effect.modifier not in line.modifiers:
                    line.modifiers.append(effect.modifier)
                    line.rules.append(effect.rule)
                for finding in effect.findings:
                    run.raise_finding(finding, effect.rule, line.administrations)

    def _finding_dicts(self, run: Run) -> list:
        """The findings raised as the contract's dicts, each finding's fixed texts looked up once per ruleset."""
        found = []
        for (finding_id, rule), administrations in run.findings.items():
            texts = self._finding_texts.get(finding_id)
            if texts is None:
                info = self.ruleset.findings[finding_id]
                texts = self._finding_texts[finding_id] = (info.severity, info.message, self.ruleset.reference(info.refs))
            severity, message, reference = texts
            details = run.details.get((finding_id, rule))
            found.append({"id": finding_id, "severity": severity, "administrations": list(administrations),
                          "message": f"{message} ({'; '.join(details)})" if details else message,
                          "rule": rule, "reference": reference})
        return found


def _edits_joined(steps: tuple, plans: dict) -> tuple:
    """The (name, step) pairs of `steps` as a run of the compiled engine takes them: edits that
    follow one another (`plans`: an edit's index among the steps -> its plan) as one step
    (prepared_edits), which gathers the codes on the claim once for them all, named by theirs
    joined by "+"."""
    joined: list = []
    edits: list = []  # the (name, plan) of the edits met since the last other step

    def join():
        joined.append(("+".join(name for name, _ in edits), prepared_edits(tuple(plan for _, plan in edits))))
        edits.clear()
    for index, (name, step) in enumerate(steps):
        if index in plans:
            edits.append((name, plans[index]))
            continue
        if edits:
            join()
        joined.append((name, step))
    if edits:
        join()
    return tuple(joined)


def _step_name(stage) -> str:
    """`kind:name` of a stage, as a profile of the steps (bench/stages.py) names it."""
    return f"{type(stage).__name__.removeprefix('Checked').lower()}:{stage.name}"


def _inputs(table: CheckedTable, values: dict) -> dict:
    """What a table saw of the values, for its trace record."""
    return {column: values.get(column) for column in table.inputs}


def _row_ids(rows) -> tuple:
    return tuple(row.id for row in rows)


def _claim_order(claim_rank: dict):
    """The sort key of a line dict on a claim: its date, then its code's rank (initial codes,
    add-ons, standalone codes, E/M; a code of no rank last). Made once per pipeline."""
    rank_of, last = claim_rank.get, len(claim_rank)

    def order(line: dict) -> tuple:
        return line["date"], rank_of(line["code"], last)
    return order


def _final_line_dicts(work_lines: list, claim_order) -> list:
    """The lines as the contract's dicts: lines that say the same thing combined, their units
    summed; ordered as on a claim by `claim_order` (`_claim_order`); ties keep the order of
    first appearance. A line's rules are listed once each (a row setting two attributes
    leaves its rule twice on the trail); a set tells first whether any is there twice, as
    dict.fromkeys costs twice a set's time on the three or so rules of a line."""
    combined: dict = {}
    for line in work_lines:
        key = (line.code, tuple(line.modifiers), line.date, line.administrations)
        made = combined.get(key)
        if made is None:
            rules = line.rules
            combined[key] = {"code": line.code, "units": line.units, "modifiers": list(line.modifiers),
                             "date": line.date, "administrations": list(line.administrations),
                             "rules": rules.copy() if len(set(rules)) == len(rules) else [*dict.fromkeys(rules)]}
        else:
            made["units"] += line.units
            rules = made["rules"]
            rules += [r for r in line.rules if r not in rules]
    lines = list(combined.values())
    if len(lines) > 1:
        lines.sort(key=claim_order)  # stable: ties keep their order
    return lines
