"""Edits against the order they run in.

Stages run in the order written, and an edit acts on the lines coded before it, as they are
then. So a `require` holds on the final claim only when no later edit can take a primary code
away (an add-on whose primary a later pair or limit removes would stay alone), and an edit
never sees the lines a later table adds: rows of national edit data naming their codes never
act.
"""
from __future__ import annotations

from dsl import ast
from dsl.checked import (CheckedEdit, CheckedLimit, CheckedLimitsFrom, CheckedPair, CheckedPairsFrom, CheckedRequire,
                         CheckedRuleset, CheckedTable)
from dsl.diagnostics import Diagnostic

LINE_OUTPUTS = ("code", "addon", "report")  # the table outputs that add lines


def addon_order(ruleset: CheckedRuleset) -> list[Diagnostic]:
    """W-addon for each edit clause that can remove a primary code of an earlier `require`:
    a pair's column 2 codes, a limit's code, the column 2 codes and limited codes of national
    edit data (as read; none when checked without the files)."""
    found = []
    required: dict = {}  # primary code -> the edit whose require clause names it, the first one
    for stage, written in _edits(ruleset):
        for clause, checked in zip(written.clauses, stage.clauses):
            removed = sorted(_removable(checked) & required.keys())
            if removed:
                first = required[removed[0]]
                found.append(Diagnostic(
                    "W-addon", f"this clause can remove {', '.join(removed)}, "
                    f"{'a primary code' if len(removed) == 1 else 'primary codes'} of edit '{first}', "
                    "which runs before it: an add-on left without its primary would stay",
                    _where(clause), "warning", f"move edit '{first}' after edit '{stage.name}' "
                    "(edits run in the order written)"))
        for checked in stage.clauses:
            if isinstance(checked, CheckedRequire):
                for code in checked.primaries:
                    required.setdefault(code, stage.name)
    return found


def data_before_lines(ruleset: CheckedRuleset) -> list[Diagnostic]:
    """I-order for each clause of national edit data that runs before a table adding lines:
    rows naming the codes of those lines never act. Noted, not warned: a ruleset may decide
    those lines by its own rules on purpose (its tables then say what the rows would)."""
    found = []
    position = {id(stage): i for i, stage in enumerate(ruleset.stages)}
    for stage, written in _edits(ruleset):
        later = [table for table in ruleset.stages[position[id(stage)] + 1:]
                 if isinstance(table, CheckedTable) and any(o in LINE_OUTPUTS for o in table.outputs)]
        if not later:
            continue
        for clause, checked in zip(written.clauses, stage.clauses):
            if isinstance(checked, (CheckedPairsFrom, CheckedLimitsFrom)):
                names = ", ".join(f"'{table.name}'" for table in later)
                found.append(Diagnostic(
                    "I-order", f"this clause runs before table{'s' if len(later) > 1 else ''} {names}, which "
                    f"add{'' if len(later) > 1 else 's'} lines after it: rows of {checked.path} naming the codes of "
                    "those lines never act",
                    _where(clause), "info",
                    "an edit acts on the lines coded before it (stages run in the order written)"))
    return found


def _edits(ruleset: CheckedRuleset):
    """Each edit stage, in run order, with its statement as written."""
    written = {node.name: node for node in ruleset.statements if isinstance(node, ast.Edit)}
    return [(stage, written[stage.name]) for stage in ruleset.stages if isinstance(stage, CheckedEdit)]


def _where(clause: ast.EditClause):
    """Where a diagnostic on a clause points: a data clause's file, else the clause."""
    return clause.path_span if isinstance(clause, (ast.PairsFrom, ast.LimitsFrom)) else clause.span


def _removable(clause) -> set:
    """The codes whose lines an edit clause can take away."""
    if isinstance(clause, CheckedPair):
        return set(clause.column2)
    if isinstance(clause, CheckedLimit):
        return {clause.code}
    if isinstance(clause, CheckedPairsFrom):
        return set(clause.table.by_column2) if clause.table is not None else set()
    if isinstance(clause, CheckedLimitsFrom):
        return set(clause.table.by_code) if clause.table is not None else set()
    return set(clause.addons)
