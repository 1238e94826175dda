"""The edit stage prepared once per ruleset for the compiled engine: each clause knows the
codes it can act on, so a clause none of whose codes is on the claim costs one set test, and
the national unit limits (MUEs) run a lean loop without the trace's bookkeeping. The generic stage
(engine.core.stages.edits) stays the oracle: it runs whenever a trace is asked, and a clause
that may act runs its generic function unless a leaner one is written here with the same
meaning (tests/engine/core/test_prepared_stages.py holds both to the same results)."""
from __future__ import annotations

import operator

from dsl.checked import CheckedLimit, CheckedLimitsFrom, CheckedPair, CheckedPairsFrom
from engine.core.stages.edits import EditPlan, acting_on, edit, limit, pair, pairs_from, require
from engine.core.stages.state import Run


def prepared_edit(plan: EditPlan):
    """An edit as one step, its clauses prepared: each takes the run and the codes on its
    lines, gathered once as the edit starts. Edits take lines away and change modifiers but
    never a line's code, so the set stays a superset of the codes on the claim, enough to
    tell that a clause cannot act. Lines enter an edit with at least one unit (tables make
    them so, limits take away the lines they leave with none), so a clause that acts on no
    line changes nothing."""
    return prepared_edits((plan,))


def prepared_edits(plans: tuple):
    """Edits that follow one another as one step, as `prepared_edit` of each in turn, the codes
    gathered once for them all: no edit adds a line, so the set gathered before the first
    stays a superset through the last (a pipeline's five edits gathered it five times). The
    requires of an edit are given the codes exactly as they stand, gathered again when a clause
    may have taken a line away since."""
    edits = tuple((tuple(_prepared(clause, index, plan.finding, plan.rule) for index, clause in plan.ordered),
                   _prepared_requires(plan) if plan.requires else None) for plan in plans)

    def prepared(run: Run):
        if run.trace is not None:
            for plan in plans:
                edit(plan, run)
            return
        if not run.lines:
            return
        codes = set(map(_CODE, run.lines))
        exact = True  # `codes` are those on the claim, not a superset
        for steps, requires in edits:
            for step in steps:
                step(run, codes)
            if steps:
                exact = False
            if requires is not None:
                if not exact:
                    codes = set(map(_CODE, run.lines))
                requires(run, codes)
                exact = False
    return prepared


_CODE = operator.attrgetter("code")  # set(map(...)): a set comprehension makes a function each time


def _prepared(clause, index: int, finding: str, rule: str):
    """One limit or pair clause as a step `(run, codes)`: the generic clause behind a test of
    the codes it needs on the claim, or (MUEs) a lean one."""
    if isinstance(clause, CheckedLimit):
        code = clause.code

        def limit_if_coded(run: Run, codes: set):
            if code in codes:
                limit(clause, index, finding, rule, run)
        return limit_if_coded
    if isinstance(clause, CheckedPair):
        column1, column2 = clause.column1, clause.column2

        def pair_if_both_coded(run: Run, codes: set):
            if not column2.isdisjoint(codes) and not column1.isdisjoint(codes):
                pair(clause, index, finding, rule, run)
        return pair_if_both_coded
    if isinstance(clause, CheckedPairsFrom):
        return _prepared_pairs_from(clause, index, finding, rule)
    if isinstance(clause, CheckedLimitsFrom):
        return _prepared_limits_from(clause, finding, rule)
    raise TypeError(f"no prepared step for {type(clause).__name__}")


def _prepared_limits_from(clause: CheckedLimitsFrom, finding: str, rule: str):
    """engine.core.stages.edits._limits_from without a trace: a row read from its tuple as it
    stands (code, units, mai, line), and only the units under a date of service edit counted
    (a code has one row, so a line edit's count is never read)."""
    by_code = clause.table.by_code
    codes_limited = by_code.keys()
    acts_on = acting_on(clause)
    per_date = clause.per == "date"

    def limits_from(run: Run, codes: set):
        if codes_limited.isdisjoint(codes):
            return
        used: dict = {}
        cut = False
        for line in run.lines:
            row = by_code.get(line.code)
            if row is None or not acts_on(line):
                continue
            key = None if row[2] == "1" else (line.code, line.date if per_date else None)
            allowed = max(0, row[1] - (0 if key is None else used.get(key, 0)))
            if line.units > allowed:
                run.raise_finding(finding, rule, line.administrations)
                line.units = allowed
                line.rules.append(rule)
                cut = True
            if key is not None:
                used[key] = used.get(key, 0) + line.units
        if cut:
            run.lines = [line for line in run.lines if line.units > 0]
    return limits_from


def _prepared_pairs_from(clause: CheckedPairsFrom, index: int, finding: str, rule: str):
    """The generic `pairs_from`, run only when a line the clause acts on has a column 2 code
    whose column 1 codes meet the codes on the claim: else no pair is on it."""
    by_column2 = clause.table.by_column2
    column2_codes = by_column2.keys()
    acts_on = acting_on(clause)

    def pairs_from_if_paired(run: Run, codes: set):
        if column2_codes.isdisjoint(codes):
            return
        for line in run.lines:
            column1 = by_column2.get(line.code)
            if column1 is not None and not column1.keys().isdisjoint(codes) and acts_on(line):
                pairs_from(clause, index, finding, rule, run)
                return
    return pairs_from_if_paired


def _prepared_requires(plan: EditPlan):
    """The requires of an edit, given the codes on the claim as they stand after its limits
    and pairs: the generic `require` runs only when an add-on line on the claim has, in one
    of its clauses, none of the primary codes on it; with none, the generic scan would take
    nothing away."""
    primaries_of: dict = {}  # add-on code -> the primaries of each clause that names it
    for _, clause in plan.requires:
        for addon in clause.addons:
            primaries_of.setdefault(addon, []).append(clause.primaries)

    def requires(run: Run, codes: set):
        for addon in codes.intersection(primaries_of):
            for primaries in primaries_of[addon]:
                if primaries.isdisjoint(codes):
                    require(plan.requires, plan.finding, plan.rule, run)
                    return
    return requires
