"""The edit stage: limits, pairs and requires on the lines of the whole claim, each clause
as the ruleset writes it; what a clause takes away raises the edit's finding."""
from __future__ import annotations

import collections

import attrs

from dsl.checked import CheckedEdit, CheckedLimit, CheckedPair, CheckedRequire
from engine.core.stages.state import Run, WorkLine
from engine.core.trace import EditRecord


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
                   tuple((i, c) for i, c in numbered if isinstance(c, (CheckedLimit, CheckedPair))),
                   tuple((i, c) for i, c in numbered if isinstance(c, CheckedRequire)))


def edit(plan: EditPlan, run: Run):
    """Limits and pairs in the order written, then requires until no add-on is left alone.
    Trace records name the clause (its index in the edit) that acted."""
    for index, clause in plan.ordered:
        if isinstance(clause, CheckedLimit):
            _limit(clause, index, plan.finding, plan.rule, run)
        else:
            _pair(clause, index, plan.finding, plan.rule, run)
    if plan.requires:
        _require(plan.requires, plan.finding, plan.rule, run)


def _limit(clause: CheckedLimit, index: int, finding: str, rule: str, run: Run):
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


def _pair(clause: CheckedPair, index: int, finding: str, rule: str, run: Run):
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


def _require(clauses, finding: str, rule: str, run: Run):
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
