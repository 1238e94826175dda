"""Inputs no row of a table covers, each gap shown as wide as it goes.

A gap matters where no row means nothing decided: codes unreported or an attribute never
set. A table that only refines attributes set before it, attaches modifiers or raises
findings may leave inputs alone; no row there means "nothing to change".
"""
from __future__ import annotations

from dsl.analysis.model import Model, lowest
from dsl.checked import CheckedTable
from dsl.checker import Schema
from dsl.diagnostics import Diagnostic
from dsl.show import value_text

MAX_GAPS = 3  # gaps shown per table


def matters(table: CheckedTable, schema: Schema, written: dict) -> bool:
    """Whether no row for an input leaves something undecided (`written`: the attributes
    earlier tables of its scope set)."""
    for column in table.outputs:
        kind = schema.outputs.get(column)
        if kind in ("code", "bool") or (kind is None and column not in written):
            return True
    return False


def warnings(table: CheckedTable, model: Model, feasible: int, uncovered: int) -> list[Diagnostic]:
    """A warning for each of the first MAX_GAPS gaps among the `uncovered` inputs."""
    covered = feasible & ~uncovered
    found = []
    while uncovered and len(found) < MAX_GAPS:
        chosen = _widen(model, [[a] for a in model.point(lowest(uncovered))], covered, uncovered)
        uncovered &= ~model.cube(chosen)
        more = " (and more)" if uncovered and len(found) + 1 == MAX_GAPS else ""
        found.append(Diagnostic(
            "W-gap", f"no row of table '{table.name}' matches {_describe(table, model, chosen)}{more}",
            table.span, "warning", "add a row for these inputs, or '*' cells that take them in"))
    return found


def _widen(model: Model, chosen: list, covered: int, uncovered: int) -> list:
    """Grow a cube of uncovered inputs. First whole columns, as long as no covered input falls
    inside ("any route" may span combinations that cannot occur); then atom by atom, as long
    as every input added is an uncovered one that can occur."""
    for column in range(len(chosen)):
        wider = [*chosen[:column], list(range(len(model.atoms[column]))), *chosen[column + 1:]]
        if not model.cube(wider) & covered:
            chosen = wider
    for column in range(len(chosen)):
        for atom in range(len(model.atoms[column])):
            if atom not in chosen[column]:
                added = model.cube([*chosen[:column], [atom], *chosen[column + 1:]])
                if added & uncovered == added:
                    chosen = [*chosen[:column], sorted((*chosen[column], atom)), *chosen[column + 1:]]
    return chosen


def _describe(table: CheckedTable, model: Model, chosen) -> str:
    """`service=none, role=initial|repeat (any claim, pump)`."""
    fixed, free = [], []
    for column, indexes in enumerate(chosen):
        name, field_type = model.columns[column], table.input_types[column]
        if len(indexes) == len(model.atoms[column]):
            free.append(name)
            continue
        step = 60 if field_type.kind == "duration" else 1
        bounds = {b for row in table.rows for b in row.predicates[column].thresholds()}
        if field_type.kind in ("duration", "number"):
            values = [_representative(model.atoms[column][i], bounds, step) for i in indexes]
        else:
            values = [v for i in indexes for v in model.atoms[column][i]]
        fixed.append(f"{name}={'|'.join(value_text(v, field_type.kind) for v in values)}")
    text = ", ".join(fixed) or "any input"
    return f"{text} (any {', '.join(free)})" if fixed and free else text


def _representative(atom: tuple, bounds: set, step: int):
    """The value of an atom shown in examples: a bound if it holds one, else a round one."""
    if None in atom or not isinstance(atom[0], int) or isinstance(atom[0], bool):
        return atom[0]
    return min(atom, key=lambda v: (v not in bounds, v % step != 0, v))
