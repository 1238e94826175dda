"""What changed in the text between two checked rulesets, for `infuse diff`.

Section by section: header, vocabularies, constants, codes, modifiers, findings, sources,
unit rules and every stage; tables row by row, by id, with the cells that changed (cells
are shown resolved, so a row whose constant moved shows the new bound too).
"""
from __future__ import annotations

import difflib
from collections.abc import Callable

import attrs

from dsl import ast
from dsl.checked import CheckedLimitsFrom, CheckedPairsFrom
from dsl.checked import (CheckedEdit, CheckedInitial, CheckedLimit, CheckedMerge, CheckedPair, CheckedRequire,
                         CheckedRuleset, CheckedTable)
from dsl.durations import duration_text
from dsl.show import clause_text, output_text, predicate_text, value_text
from engine.analyst.diff.data import clause_data_changes


@attrs.frozen
class RuleChange:
    """One difference in the rule text: `kind` is "added", "removed" or "changed"."""

    section: str
    name: str
    kind: str
    details: tuple[str, ...] = ()

    def text(self) -> str:
        mark = {"added": "+", "removed": "-", "changed": "~"}[self.kind]
        if len(self.details) == 1:
            return f"{mark} {self.name}: {self.details[0]}"
        return "\n".join([f"{mark} {self.name}", *(f"    {d}" for d in self.details)])

    def as_dict(self) -> dict:
        return {"section": self.section, "name": self.name, "kind": self.kind, "details": list(self.details)}


def text_changes(old: CheckedRuleset, new: CheckedRuleset) -> list[RuleChange]:
    """Every difference in the rules, section by section, each section in the new ruleset's order."""
    changes = []
    header = attrs.fields(CheckedRuleset)  # the attributes, not their names as text: the header of the rule text
    for field in (a.name for a in (header.name, header.version, header.payer, header.base, header.effective)):
        before, after = getattr(old, field), getattr(new, field)
        if before != after:
            changes.append(RuleChange("header", field, "changed", (f"{_header_text(before)} → {_header_text(after)}",)))
    changes += _vocabulary_changes(old.vocabularies, new.vocabularies)
    kinds = {**_constant_kinds(new.statements), **_constant_kinds(old.statements)}
    changes += _keyed("constant", old.consts, new.consts, lambda name, value: value_text(value, kinds.get(name)))
    changes += _keyed("code", old.codes, new.codes, lambda _, v: f'{v[0]} "{v[1]}"')
    changes += _keyed("modifier", old.modifiers, new.modifiers, lambda _, v: f'"{v}"')
    changes += _keyed("finding", old.findings, new.findings,
                      lambda _, f: f'{f.severity} [{", ".join(f.refs)}] "{f.message}"')
    changes += _keyed("source", old.sources, new.sources, lambda _, v: f'"{v}"')
    changes += _keyed("payer route", old.payer_routes, new.payer_routes, lambda _, target: f"to {target}")
    changes += _keyed("units", old.units, new.units,
                      lambda _, u: f"one per {duration_text(u.period)} after {duration_text(u.after)}, "
                                   f"final part when {u.operator} {duration_text(u.part)} [{', '.join(u.refs)}]")
    changes += _stage_changes(old.stages, new.stages)
    return changes


def _header_text(value) -> str:
    if value is None:
        return "(none)"
    return " .. ".join(value) if isinstance(value, tuple) else str(value)


def _constant_kinds(statements: list) -> dict:
    """The kind of each constant's value: "duration" for a duration, else None."""
    return {node.name: "duration" if isinstance(node.value, ast.Duration) else None
            for node in statements if isinstance(node, ast.Const)}


def _keyed(section: str, old: dict, new: dict, show: Callable) -> list[RuleChange]:
    """Added, removed and changed entries of two dicts, shown with `show(key, value)`."""
    changes = []
    for key in [*new, *(k for k in old if k not in new)]:
        if key not in old:
            changes.append(RuleChange(section, str(key), "added", (show(key, new[key]),)))
        elif key not in new:
            changes.append(RuleChange(section, str(key), "removed", (show(key, old[key]),)))
        elif old[key] != new[key]:
            changes.append(RuleChange(section, str(key), "changed", (f"{show(key, old[key])} → {show(key, new[key])}",)))
    return changes


def _vocabulary_changes(old: dict, new: dict) -> list[RuleChange]:
    changes = []
    for name in [*new, *(k for k in old if k not in new)]:
        if name not in old or name not in new:
            values = new.get(name) or old.get(name)
            changes.append(RuleChange("vocabulary", name, "added" if name in new else "removed", (", ".join(values),)))
            continue
        added = [v for v in new[name] if v not in old[name]]
        removed = [v for v in old[name] if v not in new[name]]
        details = [*(f"+ {v}" for v in added), *(f"- {v}" for v in removed)]
        if not details and old[name] != new[name]:
            details = [f"order {', '.join(old[name])} → {', '.join(new[name])}"]
        if details:
            changes.append(RuleChange("vocabulary", name, "changed", (" ".join(details),)))
    return changes


def _stage_name(stage) -> str:
    kind = {CheckedTable: "table", CheckedMerge: "merge", CheckedInitial: "initial", CheckedEdit: "edit"}[type(stage)]
    return f"{kind} {stage.name}"


def _stage_changes(old_stages: tuple, new_stages: tuple) -> list[RuleChange]:
    old = {_stage_name(s): s for s in old_stages}
    new = {_stage_name(s): s for s in new_stages}
    changes = []
    for name in [*new, *(k for k in old if k not in new)]:
        if name not in old or name not in new:
            changes.append(RuleChange("stage", name, "added" if name in new else "removed"))
        elif isinstance(new[name], CheckedTable):
            changes += _table_changes(old[name], new[name])
        elif old[name] != new[name]:
            changes.append(RuleChange("stage", name, "changed", tuple(_stage_details(old[name], new[name]))))
    common = [n for n in old if n in new]
    if common != [n for n in new if n in old]:
        changes.append(RuleChange("stage", "run order", "changed", (f"{', '.join(common)} → {', '.join(n for n in new if n in old)}",)))
    return changes


def _stage_details(old, new) -> list[str]:
    details = []
    for field in attrs.fields(type(new)):
        if field.name in ("name", "span") or not field.eq:
            continue
        before, after = getattr(old, field.name), getattr(new, field.name)
        if before == after:
            continue
        if isinstance(new, CheckedEdit) and field.name == "clauses":
            details += _clause_changes(before, after)
            details += clause_data_changes(before, after)
        else:
            details.append(f"{field.name}: {_stage_field(before)} → {_stage_field(after)}")
    return details


def _clause_changes(old: tuple, new: tuple) -> list[str]:
    """An edit's clauses diffed one by one, in the new order: `+ clause`, `- clause`, and
    `~ old → new` for a clause replaced in place (so one changed `require` is one line)."""
    before, after = [clause_text(c) for c in old], [clause_text(c) for c in new]
    details = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=before, b=after, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        paired = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        details += [f"~ {a} → {b}" for a, b in zip(before[i1:i1 + paired], after[j1:j1 + paired])]
        details += [f"- {a}" for a in before[i1 + paired:i2]]
        details += [f"+ {b}" for b in after[j1 + paired:j2]]
    return details


def _stage_field(value) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{k or '*'}: {' > '.join(v)}" for k, v in value.items())
    if isinstance(value, (frozenset, set)):
        return ", ".join(sorted(value)) or "(none)"
    if isinstance(value, tuple) and value and isinstance(value[0], (CheckedRequire, CheckedLimit, CheckedPair,
                                                                    CheckedPairsFrom, CheckedLimitsFrom)):
        return "; ".join(clause_text(c) for c in value)
    if isinstance(value, tuple):
        return ", ".join(value) or "(none)"
    return str(value)


def _table_changes(old: CheckedTable, new: CheckedTable) -> list[RuleChange]:
    changes = []
    name = f"table {new.name}"
    details = []
    for field in ("policy", "scope", "refs", "doc", "priority"):
        if getattr(old, field) != getattr(new, field):
            details.append(f"{field}: {_stage_field(getattr(old, field))} → {_stage_field(getattr(new, field))}")
    for label, before, after in (("inputs", old.inputs, new.inputs), ("outputs", old.outputs, new.outputs)):
        added = [c for c in after if c not in before]
        removed = [c for c in before if c not in after]
        if added or removed:
            details.append(f"{label}: " + " ".join([*(f"+ {c}" for c in added), *(f"- {c}" for c in removed)]))
    old_rows = {row.id: row for row in old.rows}
    new_rows = {row.id: row for row in new.rows}
    kept_old = [r for r in old_rows if r in new_rows]
    kept_new = [r for r in new_rows if r in old_rows]
    if kept_old != kept_new and new.policy != "collect":
        details.append(f"row order: {', '.join(kept_old)} → {', '.join(kept_new)}")
    if details:
        changes.append(RuleChange("table", name, "changed", tuple(details)))
    for row_id in [*new_rows, *(r for r in old_rows if r not in new_rows)]:
        rule = f"{new.name}/{row_id}"
        if row_id not in old_rows:
            changes.append(RuleChange("row", rule, "added", (_row_text(new, new_rows[row_id]),)))
        elif row_id not in new_rows:
            changes.append(RuleChange("row", rule, "removed", (_row_text(old, old_rows[row_id]),)))
        else:
            cells = _cell_changes(old, old_rows[row_id], new, new_rows[row_id])
            if cells:
                changes.append(RuleChange("row", rule, "changed", tuple(cells)))
    return changes


def _row_cells(table: CheckedTable, row) -> dict:
    cells = {column: predicate_text(p, t) for column, t, p in zip(table.inputs, table.input_types, row.predicates)}
    outputs = {column: output_text(value) for column, value in zip(table.outputs, row.outputs)}
    return {"in": cells, "out": outputs}


def _row_text(table: CheckedTable, row) -> str:
    cells = _row_cells(table, row)
    inputs = " | ".join(f"{c} {v}" for c, v in cells["in"].items() if v != "*") or "any input"
    outputs = " | ".join(f"{c} {v}" for c, v in cells["out"].items() if v != "-") or "nothing"
    return f"{inputs} => {outputs}"


def _cell_changes(old_table, old_row, new_table, new_row) -> list[str]:
    before, after = _row_cells(old_table, old_row), _row_cells(new_table, new_row)
    changed = []
    for side, blank in (("in", "*"), ("out", "-")):
        for column in dict.fromkeys([*before[side], *after[side]]):
            a, b = before[side].get(column, blank), after[side].get(column, blank)
            if a != b:
                changed.append(f"{column} {a} → {b}" if side == "in" else f"=> {column} {a} → {b}")
    return changed
