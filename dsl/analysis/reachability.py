"""Rows no input reaches, and the rows ahead that take every input they match.

A row decides for some input when it matches one that no row ahead of it (by precedence;
none under `collect`) matches. The warning for a row that never decides names the rows
ahead that take its inputs, each taking some the ones before left, so an analyst sees
what to reorder or delete.
"""
from __future__ import annotations

import itertools

from dsl.checked import CheckedTable
from dsl.diagnostics import Diagnostic, where


def precedence(table: CheckedTable, index: int) -> tuple:
    """Of two matching rows, the one with the smaller key decides (not used for collect)."""
    if table.policy == "priority":
        rank = {value: i for i, value in enumerate(table.priority)}
        return (rank.get(table.rows[index].outputs[0], len(rank)), index)
    return (index,)


def reached(table: CheckedTable, accepted: list, satisfiable: list,
            variants: dict | None = None) -> tuple[list[bool], list[Diagnostic]]:
    """Whether each row decides for some input (`accepted`: the inputs each row matches that
    can occur; `satisfiable`: whether it matches any before that), and the warnings, in row
    order, for those that do not. Rows are taken in precedence order, gathering the inputs
    of the rows ahead as they go, rather than row against row. `variants` (file -> payer)
    names the variant of a shadowing row in another file."""
    ranked = table.policy != "collect"
    order = sorted(range(len(table.rows)), key=lambda i: precedence(table, i)) if ranked else []
    warnings: dict = {}  # row -> the warning of a row that never decides, or None
    taken = 0
    for place, index in enumerate(order or range(len(table.rows))):
        warnings[index] = _unreached(table, accepted, index, satisfiable[index], taken,
                                     itertools.islice(order, place), variants)
        taken |= accepted[index] if ranked else 0
    rows = range(len(table.rows))
    return [warnings[i] is None for i in rows], [warnings[i] for i in rows if warnings[i] is not None]


def _unreached(table: CheckedTable, accepted: list, index: int, satisfiable: bool, taken: int,
               beaters, variants: dict | None = None) -> Diagnostic | None:
    """The warning for a row that decides for no input (`taken`: the inputs of the rows
    ahead of it), naming the rows ahead (`beaters`, in precedence order) that take its
    inputs, each taking some the ones before left; None for a row that decides."""
    row = table.rows[index]
    region = accepted[index]
    subject = f"row '{row.id}' of table '{table.name}'"
    if not region:
        hint = "earlier stages never produce the values of its cells together" if satisfiable else None
        return Diagnostic("W-unreachable", f"{subject} matches no input", row.span, "warning", hint)
    if region & ~taken:
        return None
    remaining, shadows = region, []
    for other in beaters:
        if remaining & accepted[other]:
            shadows.append(table.rows[other])
            remaining &= ~accepted[other]
            if not remaining:
                break
    names = ", ".join(f"'{r.id}'" for r in shadows)
    return Diagnostic(
        "W-unreachable", f"{subject} is never reached: {'row' if len(shadows) == 1 else 'rows'} {names} "
        f"{'matches' if len(shadows) == 1 else 'match'} every input it matches", row.span, "warning",
        f"row '{shadows[0].id}' is at {where(shadows[0].span, row.span, variants)}")
