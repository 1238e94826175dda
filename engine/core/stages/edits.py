"""The edit stage: limits, pairs and requires on the lines of the whole claim, each clause
as the ruleset writes it; what a clause takes away raises the edit's finding."""
from __future__ import annotations

import collections

import attrs

from dsl.checked import CheckedEdit, CheckedLimit, CheckedLimitsFrom, CheckedPair, CheckedPairsFrom, CheckedRequire
from dsl.edit_data import LimitRow, PairRow, in_force
from engine.core.stages.state import Run, WorkLine


@attrs.frozen
class EditPlan:
    """An edit with its clauses sorted by kind once per ruleset."""

    rule: str
    finding: str
    ordered: tuple  # (index, clause) of the limits and pairs, in the order written
    requires: tuple  # (index, clause) of the requires

    @classmethod
    def of(cls, stage: CheckedEdit) -> "EditPlan":
        numbered = tuple(enumerate(stage.clauses))
        return cls(f"edit/{stage.name}", stage.finding,
                   tuple((i, c) for i, c in numbered
                         if isinstance(c, (CheckedLimit, CheckedPair, CheckedPairsFrom, CheckedLimitsFrom))),
                   tuple((i, c) for i, c in numbered if isinstance(c, CheckedRequire)))


def edit(plan: EditPlan, run: Run):
    """Limits and pairs in the order written, then requires until no add-on is left alone.
    Trace records name the clause (its index in the edit) that acted."""
    for index, clause in plan.ordered:
        if isinstance(clause, CheckedLimit):
            limit(clause, index, plan.finding, plan.rule, run)
        elif isinstance(clause, CheckedPairsFrom):
            pairs_from(clause, index, plan.finding, plan.rule, run)
        elif isinstance(clause, CheckedLimitsFrom):
            _limits_from(clause, index, plan.finding, plan.rule, run)
        else:
            pair(clause, index, plan.finding, plan.rule, run)
    if plan.requires:
        require(plan.requires, plan.finding, plan.rule, run)


def limit(clause: CheckedLimit, index: int, finding: str, rule: str, run: Run):
    used = 0
    for line in run.lines:
        if line.code != clause.code:
            continue
        allowed = max(0, clause.units - used)
        if line.units > allowed:
            run.raise_finding(finding, rule, line.administrations)
            if run.trace is not None:
                _record(run, rule, index, "limit", line.code, line.administrations, kept=allowed)
            line.units = allowed
            line.rules.append(rule)
        used += line.units
    run.lines = [line for line in run.lines if line.units > 0]


def pair(clause: CheckedPair, index: int, finding: str, rule: str, run: Run):
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
                _record(run, rule, index, "modifier", line.code, line.administrations,
                        attribute=attribute, modifier=modifier)
            line.rules.append(rule)
            kept.append(line)
        else:
            _bundle(line, clause, index, finding, rule, run)
    run.lines = kept


def _bundle(line: WorkLine, clause, index: int, finding: str, rule: str, run: Run, **cited):
    """A column 2 line no distinction keeps: the edit's finding, and the finding of each
    distinction whose attribute the line does not document (`when missing finding`), since
    then it is not known to share it. A partner without the attribute never bundles a line
    that has it (the values differ), so only the line's own values are asked."""
    run.raise_finding(finding, rule, line.administrations)
    missing = tuple(attribute for attribute, _ in clause.missing if line.values.get(attribute) is None)
    for attribute, gap in clause.missing:
        if attribute in missing:
            run.raise_finding(gap, rule, line.administrations)
    if run.trace is not None:
        _record(run, rule, index, "remove", line.code, line.administrations, missing=missing, **cited)


def _record(run: Run, *fields, **named):
    """Append an edit's record to the run's trace: engine.core.trace loads with the first
    trace, not with every start-up (bench/startup.py)."""
    from engine.core.trace import EditRecord

    run.trace.append(EditRecord(*fields, **named))


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


def pairs_from(clause: CheckedPairsFrom, index: int, finding: str, rule: str, run: Run):
    """The national pairs (NCCI PTP) on the lines: a column 2 line beside a column 1 line of
    the same `per` (date of service, or the encounter), where the pair's row is in force on the
    column 2 line's date of service (effective on or before it, deleted after it):

    - indicator 9 (or no row in force): the pair does not apply;
    - indicator 0: never reported separately: the line bundles, whatever its distinctions (and
      raises no `when missing` finding: no documentation would keep it);
    - indicator 1: a line already carrying the modifier of one of the clause's distinctions
      passes, as a claims processor lets an NCCI-associated modifier through (an earlier stage
      decided it; the line is left as it is and the edit is not named among its rules);
      otherwise the first distinction that holds against every such column 1 line adds its
      modifier; with none, the line bundles (`_bundle`).

    With `where`, only the lines whose attributes hold its values take part, as column 1 or 2.

    One column 1 line with indicator 0 bundles the line. Trace records name the row
    (file:line) that acted."""
    by_column2 = clause.table.by_column2
    if not any(line.code in by_column2 for line in run.lines):
        return
    acts = acting_on(clause)
    per_date = clause.per == "date"
    by_key: dict = {}
    for line in run.lines:
        if acts(line):
            by_key.setdefault(line.date if per_date else None, []).append(line)
    path = clause.table.path
    kept = []
    for line in run.lines:
        column1 = by_column2.get(line.code)
        if column1 is None or not acts(line):
            kept.append(line)
            continue
        acting = []  # (partner line, its row in force)
        for partner in by_key[line.date if per_date else None]:
            rows = column1.get(partner.code)
            if rows is None or partner is line:
                continue
            row = next((row for row in rows if in_force(row, line.date)), None)
            if row is not None and row[4] != "9":
                acting.append((partner, PairRow._make(row)))
        if not acting:
            kept.append(line)
            continue
        never = next((row for _, row in acting if row.indicator == "0"), None)
        held = None
        if never is None:
            held = next(((attribute, modifier) for attribute, modifier in clause.distinctions
                         if modifier in line.modifiers), None) or \
                next(((attribute, modifier) for attribute, modifier in clause.distinctions
                      if line.values.get(attribute) is not None
                      and all(partner.values.get(attribute) != line.values.get(attribute) for partner, _ in acting)),
                     None)
        row = never or acting[0][1]
        if held is not None:
            attribute, modifier = held
            present = modifier in line.modifiers
            if not present:
                line.modifiers.append(modifier)
                line.rules.append(rule)
            if run.trace is not None:
                _record(run, rule, index, "modifier", line.code, line.administrations,
                        attribute=attribute, modifier=modifier, row=f"{path}:{row.line}",
                        partner=row.column1, indicator=row.indicator, present=present)
            kept.append(line)
        elif never is not None:
            run.raise_finding(finding, rule, line.administrations)
            if run.trace is not None:
                _record(run, rule, index, "remove", line.code, line.administrations,
                        row=f"{path}:{row.line}", partner=row.column1, indicator=row.indicator)
        else:
            _bundle(line, clause, index, finding, rule, run, row=f"{path}:{row.line}", partner=row.column1,
                    indicator=row.indicator)
    run.lines = kept


def acting_on(clause: CheckedPairsFrom | CheckedLimitsFrom):
    """Whether a data clause acts on a line: its `where` attributes hold one of their values
    (`where claim = facility`: the hospital outpatient file on facility claims only)."""
    if not clause.where:
        return lambda line: True
    where = clause.where

    def acts_on(line) -> bool:  # a loop: all() over a generator makes a function for each line
        values_of = line.values
        for attribute, values in where:
            if values_of.get(attribute) not in values:
                return False
        return True
    return acts_on


def _limits_from(clause: CheckedLimitsFrom, index: int, finding: str, rule: str, run: Run):
    """The national unit limits (MUEs) on the lines. An adjudication indicator 1 (a line edit)
    limits each line by itself: the engine makes one line per code and modifiers, as a claim
    does, and a line with another modifier (XE, XS, 76) is adjudicated on its own. Indicators
    2 and 3 (date of service edits) limit the units of a code summed over the lines of one
    date of service (`per date`) or of the encounter (`per encounter`), the first lines first.
    Units beyond the limit are cut and raise the edit's finding; a line left with none goes.
    With `where`, only the lines whose attributes hold its values are limited (and counted)."""
    by_code = clause.table.by_code
    acts_on = acting_on(clause)
    limited = [line for line in run.lines if line.code in by_code and acts_on(line)]
    if not limited:
        return
    per_date = clause.per == "date"
    used: dict = collections.Counter()
    path = clause.table.path
    cut = False
    for line in limited:
        row = LimitRow._make(by_code[line.code])
        key = (line.code, line.date if per_date else None)
        before = 0 if row.mai == "1" else used[key]
        allowed = max(0, row.units - before)
        if line.units > allowed:
            run.raise_finding(finding, rule, line.administrations)
            if run.trace is not None:
                _record(run, rule, index, "limit", line.code, line.administrations, kept=allowed,
                        row=f"{path}:{row.line}", indicator=row.mai, allowed=row.units)
            line.units = allowed
            line.rules.append(rule)
            cut = True
        used[key] += line.units
    if cut:
        run.lines = [line for line in run.lines if line.units > 0]


def require(clauses, finding: str, rule: str, run: Run):
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
            _record(run, rule, index, "remove", line.code, line.administrations)
        removed.add(id(line))
        counts[line.code] -= 1
        if not counts[line.code]:
            del counts[line.code]
            i = 0
    run.lines = [line for line in lines if id(line) not in removed]
