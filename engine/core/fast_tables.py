"""Fast table steps: what each row of a table does, written out once per ruleset as a Python
function, so that applying a decided row is one call with no tests of what the row sets.

The generic steps (engine.core.pipeline: `_table_per_event`, `_apply_row`, `_emit`,
`_table_per_line`) look at every part of a row's effect on every event and build each
line through several calls; they stay as the definition, run when a trace is asked for
and by the reference engine, and the tests hold these steps to them (run_dict equal on
the corpus and on generated encounters). Here a row's effect becomes the source of one
function: the attributes it sets, the findings it raises, its code and add-on lines
(with modifier, units and dates) and its report line, in the order the generic step
applies them. Only the shape of the effect becomes code; every value from the ruleset
(columns, values, codes, rule names, finding ids, units rules) is passed in by name, so
no ruleset text can become code (engine.core.codegen). The source is registered in
`linecache` under `<infuse rows TABLE HASH>`, so tracebacks and profiles show which row
was applied.
"""
from __future__ import annotations

import attrs

from engine.core.codegen import SourceWriter
from engine.core.day_text import day_text
from engine.core.events import count_lines
from engine.core.stages.state import WorkLine


def event_step(table, decide, effects: dict, plan, generic):
    """The step of a table per event: `generic(run)` when a trace is asked for, else each
    event's decided rows applied by their written-out functions (`effects`: id(row) -> the
    row's effect; `plan`: the pipeline facts a row's lines need, see `Plan`)."""
    applier = _appliers(table, effects, _EventRowWriter, plan)
    others = table.scope != plan.main
    scope = table.scope
    line_counts = plan.line_counts[scope]

    def step(run):
        if run.trace is not None:
            return generic(run)
        events = run.others[scope] if others else run.events
        if not events:  # most encounters have no E/M service: no lines to count for one
            return
        for fact in line_counts:
            count_lines(fact, events, run.lines)
        for event in events:
            for row in decide(event.values):
                apply = applier[id(row)]
                if apply is not None:
                    apply(event, run)
    return step


def line_step(table, decide, effects: dict, plan, generic):
    """The step of a table per line of the main kind; as `event_step`."""
    applier = _appliers(table, effects, _LineRowWriter, plan)
    main = plan.main

    def step(run):
        if run.trace is not None:
            return generic(run)
        for line in run.lines:
            if line.kind == main:
                for row in decide(line.values):
                    apply = applier[id(row)]
                    if apply is not None:
                        apply(line, run)
    return step


@attrs.frozen
class Plan:
    """What the lines of a row need from the pipeline, the same for every table of it."""

    main: str  # the main kind's name
    durations: dict  # kind -> its counted duration's field, or None
    line_counts: dict  # kind -> its count_lines facts, counted before a table reads them
    units: dict  # units rule name -> CheckedUnits
    unit_offsets: object  # how the engine counts the offsets of a units rule


def _appliers(table, effects: dict, writer_class, plan) -> dict:
    """id(row) -> the function applying the row (None for a row that does nothing)."""
    return _Appliers(table.name, {id(row): effects[id(row)] for row in table.rows}, writer_class, plan)


class _Appliers(dict):
    """The rows' functions, each written the first time its row is decided: a process that
    codes one encounter compiles the few rows it uses, not every row of every table (the
    start-up of `infuse code ONE.json`, bench/startup.py). A function is stored whole by one
    dict store, so threads deciding a row together each find a complete one."""

    def __init__(self, table_name: str, effects: dict, writer_class, plan):
        super().__init__()
        self.table_name = table_name
        self.effects = effects
        self.writer_class = writer_class
        self.plan = plan

    def __missing__(self, key: int):
        apply = self[key] = self.writer_class(self.effects[key], self.plan).function(self.table_name)
        return apply


class _RowWriter:
    """Writes `apply(...)` for one row's effect: its lines in `body`, the values it names
    among the writer's constants."""

    def __init__(self, effect, plan):
        self.effect = effect
        self.plan = plan
        self.writer = SourceWriter()
        self.body: list[str] = []

    def _constant(self, value) -> str:
        return self.writer.constant(value)

    def function(self, table_name: str):
        self.write()
        if not self.body:
            return None
        self.writer.line(self.HEADER)
        for line in self.body:
            self.writer.line(line, 1)
        return self.writer.compiled("apply", f"<infuse rows {table_name}>", {"_rule": self.effect.rule,
                                                                             "_WorkLine": WorkLine,
                                                                             "_day_text": day_text})


class _EventRowWriter(_RowWriter):
    """A row of a table per event: attributes, findings, code, add-on and report lines."""

    HEADER = "def apply(event, run):"

    def write(self):
        effect, body = self.effect, self.body
        if effect.attributes:
            body.append("values = event.values")
        for column, value in effect.attributes:
            body += [f"values[{self._constant(column)}] = {self._constant(value)}", "event.trail.append(_rule)"]
        for finding in effect.findings:
            body.append(f"run.raise_finding({self._constant(finding)}, _rule, event.ids)")
        modifier = self._constant(effect.modifier) if effect.modifier else None
        if effect.code:
            self._lines(effect.code, effect.units, "base", modifier)
        if effect.addon:
            self._lines(effect.addon, effect.addon_units, "addon", None)
        if effect.report:
            body.append("run.lines.append(_WorkLine(event.values['code'], 1, _day_text(run.encounter.date),"
                        f" event.values, event.ids, [_rule], event.kind, {_modifiers(modifier)}))")

    def _lines(self, code: str, units_rule: str | None, part: str, modifier: str | None):
        code = self._constant(code)
        if units_rule is None:
            self.body += ["line_values = event.values.copy()",  # a display after ** would build a second dict
                          f"line_values['code'] = {code}",
                          f"line_values['part'] = {part!r}",
                          f"run.lines.append(_WorkLine({code}, 1, _day_text(run.encounter.date"
                          " if event.wall_start is None else event.wall_start.date()),"
                          f" line_values, event.ids, [*event.trail, _rule], event.kind, {_modifiers(modifier)}))"]
            return
        timed = self._constant(_TimedLines(self.plan, self.plan.units[units_rule], f"units/{units_rule}"))
        self.body.append(f"{timed}.add(run, event, {code}, {part!r}, _rule, {modifier})")


class _LineRowWriter(_RowWriter):
    """A row of a table per line: a modifier the line lacks, findings."""

    HEADER = "def apply(line, run):"

    def write(self):
        effect, body = self.effect, self.body
        if effect.modifier:
            modifier = self._constant(effect.modifier)
            body += [f"if {modifier} not in line.modifiers:",
                     f"    line.modifiers.append({modifier})",
                     "    line.rules.append(_rule)"]
        for finding in effect.findings:
            body.append(f"run.raise_finding({self._constant(finding)}, _rule, line.administrations)")


def _modifiers(modifier: str | None) -> str:
    return f"[{modifier}]" if modifier else "[]"


class _TimedLines:
    """The lines of a code whose units a units rule counts from the event's time: one per
    date the units were earned on, none when no unit was (most often: no unit is earned
    until the counted time passes the rule's `after` and final part, whichever way the
    engine counts, so no offsets are counted then)."""

    def __init__(self, plan: Plan, counting, tag: str):
        self.durations = plan.durations
        self.offsets = plan.unit_offsets
        self.counting = counting
        self.none_until = counting.after + counting.bar
        self.tag = tag

    def add(self, run, event, code: str, part: str, rule: str, modifier: str | None):
        duration = self.durations[event.kind]
        counted = (event.values.get(duration) if duration else None) or 0
        if counted <= self.none_until:
            return
        units_by_date: dict = {}  # as collections.Counter counts them, without its cost for a few dates
        for date in event.unit_dates(self.offsets(self.counting, counted), day_text(run.encounter.date)):
            units_by_date[date] = units_by_date.get(date, 0) + 1
        values = event.values.copy()
        values["code"] = code
        values["part"] = part
        rules = [*event.trail, rule, self.tag]
        for date, units in units_by_date.items():
            run.lines.append(WorkLine(code, units, date, values, event.ids, list(rules), event.kind,
                                      [modifier] if modifier else []))
