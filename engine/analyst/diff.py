"""What changed between two rulesets, in their text and in their behaviour (`infuse diff`).

The text side compares the checked rulesets: header, vocabularies, constants, codes,
modifiers, findings, sources, unit rules and every stage; tables row by row, by id, with
the cells that changed (cells are shown resolved, so a row whose constant moved shows the
new bound too).

The behaviour side generates encounters where two rulesets can differ and codes each with
both: single administrations of every kind at, before and after every duration bound of
either ruleset (and without a stop time); pairs through one access (a new drug after the
first, the same drug on both sides of every gap bound, an overlapping new drug, a new drug
at another site or in another session, and on professional claims a second drug
documented as the primary reason); and E/M services alone and beside an administration.
Kinds are not enumerated blindly: each input attribute's values are grouped by how every
row of both rulesets treats them, then whole combinations by which rows they can match,
so one encounter stands for every combination no rule tells apart. Encounters whose lines
or findings differ are grouped into patterns that name the values they stand for.
"""
from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable
from pathlib import Path

import attrs

from dsl import ast
from dsl.analysis import boundaries
from dsl.checked import (CheckedEdit, CheckedInitial, CheckedLimit, CheckedMerge, CheckedPair, CheckedRequire,
                         CheckedRuleset, CheckedTable, Predicate)
from dsl.durations import duration_text
from dsl.show import clause_text, output_text, predicate_text, value_text
from dsl.loader import BASE_FILE
from engine.core.coder import Coder, load
from engine.core.encounter import EncounterError
from engine.core.result import Result

ENUMS = ("claim", "category", "route", "method")  # the encounter's vocabulary fields
FLAGS = ("hormonal", "pump")
AFTER = 10  # minutes between one administration and the next of a pair
NEXT_SESSION = 120  # minutes after the first of a pair that a separate session starts


# ----- results ----------------------------------------------------------------

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


@attrs.frozen
class Outcome:
    """What one ruleset made of one encounter: its lines (`96366 x2`, `96372-XS`) and finding
    ids, or why it was rejected. `trail` (the rules behind each line and finding) tells kinds
    of administration apart without making two outcomes differ."""

    lines: tuple[str, ...]
    findings: tuple[str, ...]
    rejected: str | None = None
    trail: tuple = attrs.field(default=(), eq=False)

    @classmethod
    def of(cls, result: Result) -> "Outcome":
        """A result's lines with units summed per code and modifiers, its finding ids, its rules."""
        units: dict = {}
        for line in result.lines:
            key = (line.code, tuple(line.modifiers))
            units[key] = units.get(key, 0) + line.units
        lines = tuple(f"{code}{''.join('-' + m for m in modifiers)}{f' x{n}' if n > 1 else ''}"
                      for (code, modifiers), n in units.items())
        trail = (tuple((line.code, line.rules) for line in result.lines),
                 tuple(sorted((f.id, f.rule) for f in result.findings)))
        return cls(lines, tuple(sorted({f.id for f in result.findings})), trail=trail)

    def text(self) -> str:
        if self.rejected:
            return f"rejected ({self.rejected})"
        return ", ".join(self.lines) or "no lines"

    def as_dict(self) -> dict:
        return {"lines": list(self.lines), "findings": list(self.findings), "rejected": self.rejected}


@attrs.frozen
class CodingChange:
    """How the outcome of an encounter changed: lines and findings removed and added."""

    removed: tuple[str, ...]
    added: tuple[str, ...]
    findings_removed: tuple[str, ...]
    findings_added: tuple[str, ...]
    rejected: tuple = (None, None)

    @classmethod
    def between(cls, old: Outcome, new: Outcome) -> "CodingChange":
        if old.rejected or new.rejected:
            return cls((old.text(),), (new.text(),), (), (), (old.rejected, new.rejected))
        return cls(_minus(old.lines, new.lines), _minus(new.lines, old.lines),
                   _minus(old.findings, new.findings), _minus(new.findings, old.findings))

    @property
    def lines_differ(self) -> bool:
        return bool(self.removed or self.added)

    def lines_text(self) -> str:
        return f"{', '.join(self.removed) or 'nothing'} → {', '.join(self.added) or 'nothing'}"

    def findings_text(self) -> str:
        return ", ".join([*(f"- {f}" for f in self.findings_removed), *(f"+ {f}" for f in self.findings_added)])


def _minus(these: tuple, those: tuple) -> tuple:
    left = list(those)
    kept = []
    for item in these:
        if item in left:
            left.remove(item)
        else:
            kept.append(item)
    return tuple(kept)


@attrs.frozen
class Pattern:
    """Encounters whose coding changes in the same way: `cases` input combinations (a tried
    value per dimension: kinds of administration, durations, relations) and one example,
    with what each ruleset made of it."""

    family: str  # "single", "pair" or "em"
    text: str
    change: CodingChange
    cases: int
    example: dict
    old: Outcome
    new: Outcome

    def as_dict(self) -> dict:
        return {"family": self.family, "pattern": self.text, "removed": list(self.change.removed), "added": list(self.change.added),
                "findings_removed": list(self.change.findings_removed),
                "findings_added": list(self.change.findings_added), "cases": self.cases,
                "example": {"encounter": self.example, "old": self.old.as_dict(), "new": self.new.as_dict()}}


@attrs.frozen
class Diff:
    old: str
    new: str
    changes: tuple[RuleChange, ...]
    generated: int  # encounters coded with both
    differing: int  # of which coded differently
    patterns: tuple[Pattern, ...]

    @property
    def differs(self) -> bool:
        return bool(self.changes or self.patterns)

    def as_dict(self) -> dict:
        return {"old": self.old, "new": self.new, "changes": [c.as_dict() for c in self.changes],
                "behaviour": {"generated": self.generated, "differing": self.differing,
                              "patterns": [p.as_dict() for p in self.patterns]}}


@attrs.frozen
class Side:
    """One ruleset of the comparison: the checked ruleset and a coder that applies it."""

    label: str
    ruleset: CheckedRuleset
    coder: Coder
    payer: str | None = None

    def code(self, template: dict) -> Outcome:
        encounter = _materialise(template, self.ruleset.effective[0], self.payer)
        try:
            return Outcome.of(self.coder.code(encounter))
        except EncounterError as error:
            return Outcome((), (), str(error))


def compare(old: Side, new: Side) -> Diff:
    """The text changes and the behavioural difference between two rulesets."""
    changes = text_changes(old.ruleset, new.ruleset)
    generated, differing, patterns = behaviour(old, new)
    return Diff(old.label, new.label, tuple(changes), generated, differing, tuple(patterns))


# ----- text -------------------------------------------------------------------

def text_changes(old: CheckedRuleset, new: CheckedRuleset) -> list[RuleChange]:
    """Every difference in the rules, section by section, each section in the new ruleset's order."""
    changes = []
    for field in ("name", "version", "payer", "base", "effective"):
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
                                   f"final part when > {duration_text(u.part)} [{', '.join(u.refs)}]")
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
        if before != after:
            details.append(f"{field.name}: {_stage_field(before)} → {_stage_field(after)}")
    return details


def _stage_field(value) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{k or '*'}: {' > '.join(v)}" for k, v in value.items())
    if isinstance(value, (frozenset, set)):
        return ", ".join(sorted(value)) or "(none)"
    if isinstance(value, tuple) and value and isinstance(value[0], (CheckedRequire, CheckedLimit, CheckedPair)):
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


# ----- behaviour: the encounters ----------------------------------------------

KIND_ATTRIBUTES = ("category", "route", "method", "hormonal", "pump")
DIMENSIONS = {  # "setting" is the claim and place of service, as a class no rule tells apart
    "single": ("setting", "category", "route", "method", "hormonal", "pump", "duration"),
    "pair": ("setting", "first", "relation", "second", "duration"),
    "em": ("setting", "code", "identifiable", "administration"),
}


@attrs.frozen
class _Probe:
    """A generated encounter (times in minutes from 08:00) and the input combinations it stands
    for, each a tuple of values along the dimensions of its family."""

    family: str
    template: dict
    points: tuple


def _predicates_on(rulesets, attribute: str) -> list[Predicate]:
    """Every predicate of either ruleset that reads `attribute`, with merges and ranking selectors."""
    found = []
    for ruleset in rulesets:
        for stage in ruleset.stages:
            if isinstance(stage, CheckedTable) and attribute in stage.inputs:
                index = stage.inputs.index(attribute)
                found += [row.predicates[index] for row in stage.rows]
            elif isinstance(stage, CheckedMerge):
                found += [Predicate("in", stage.values)] if stage.field == attribute else []
                found += [Predicate("in", stage.minus_values)] if stage.minus_field == attribute else []
            elif isinstance(stage, CheckedInitial) and stage.selector == attribute:
                found += [Predicate("in", frozenset({key})) for key in stage.rankings if key is not None]
    return found


def _classes(values, predicates) -> list[tuple]:
    """Values grouped by how every predicate treats them, in first-seen order."""
    groups: dict = {}
    for value in values:
        groups.setdefault(tuple(p.matches(value) for p in predicates), []).append(value)
    return [tuple(group) for group in groups.values()]


def _attribute_classes(old: CheckedRuleset, new: CheckedRuleset) -> dict:
    """For each input attribute, its values grouped by how both rulesets read them.

    A word only one ruleset's vocabulary has stays apart: the other rejects it.
    """
    rulesets = (old, new)
    classes = {}
    for name in ENUMS:
        values = list(dict.fromkeys((*old.vocabularies.get(name, ()), *new.vocabularies.get(name, ()))))
        validity = [Predicate("in", frozenset(r.vocabularies.get(name, ()))) for r in rulesets]
        classes[name] = _classes(values, _predicates_on(rulesets, name) + validity)
    for name in FLAGS:
        classes[name] = _classes((False, True), _predicates_on(rulesets, name))
    predicates = _predicates_on(rulesets, "pos")
    named = sorted({v for p in predicates for v in p.values if isinstance(v, str)})
    other = next(f"{n:02d}" for n in range(11, 100) if f"{n:02d}" not in named)
    classes["pos"] = _classes((*named, other, None), predicates)
    return classes


def _row_signature(rulesets, combination: dict) -> tuple:
    """Which rows of both rulesets the combination can match, looking only at its own
    attributes, and which of its words each ruleset's vocabularies accept."""
    signature = [value in ruleset.vocabularies.get(name, ()) for ruleset in rulesets
                 for name, value in combination.items() if name in ENUMS]
    for ruleset in rulesets:
        for stage in ruleset.stages:
            if not isinstance(stage, CheckedTable):
                continue
            columns = [(i, combination[c]) for i, c in enumerate(stage.inputs) if c in combination]
            signature += [all(row.predicates[i].matches(v) for i, v in columns) for row in stage.rows]
    return tuple(signature)


def _kinds(classes: dict, attributes: tuple, rulesets) -> list[tuple]:
    """Combinations of attribute classes grouped by the rows they can match: (representative, members).

    A combination is a tuple of class indexes, one per attribute. Attributes that a merge or
    a ranking reads outside any table keep their classes apart.
    """
    staged = {a for ruleset in rulesets for stage in ruleset.stages
              for a in ((stage.field, stage.minus_field) if isinstance(stage, CheckedMerge)
                        else (stage.selector,) if isinstance(stage, CheckedInitial) else ())}
    groups: dict = {}
    for combination in itertools.product(*(range(len(classes[a])) for a in attributes)):
        values = {a: classes[a][i][0] for a, i in zip(attributes, combination)}
        apart = tuple(i for a, i in zip(attributes, combination) if a in staged)
        groups.setdefault((_row_signature(rulesets, values), apart), []).append(combination)
    return [(members[0], tuple(members)) for members in groups.values()]


def _minutes_around(bounds) -> list[int]:
    """Whole minutes before, at and after each bound (in seconds)."""
    minutes = set()
    for bound in bounds:
        whole = -(-bound // 60)
        minutes.update(m for m in (whole - 1, whole, whole + 1) if m >= 0)
    return sorted(minutes)


def _between_bounds(bounds) -> int:
    """Whole minutes halfway between the two middle bounds (in seconds): a duration that sits on
    none, for the administrations of pairs."""
    minutes = sorted({-(-b // 60) for b in bounds if b > 0})
    if len(minutes) < 2:
        return 2 * minutes[0] if minutes else 1
    middle = len(minutes) // 2
    return (minutes[middle - 1] + minutes[middle]) // 2


def _durations(old: CheckedRuleset, new: CheckedRuleset) -> list:
    """The durations tried: around every duration bound of either ruleset, then None (no stop time)."""
    return [*_minutes_around({*boundaries(old, "duration"), *boundaries(new, "duration")}), None]


def _administration(ident: str, values: dict, start: int, minutes, drug: str, site="L-forearm", session="1") -> dict:
    return {"id": ident, "drug": drug, "dose": "1 unit", "category": values["category"], "route": values["route"],
            "method": values["method"], "hormonal": values["hormonal"], "pump": values["pump"],
            "start": start, "stop": None if minutes is None else start + minutes, "site": site, "session": session,
            "indication": "documented", "response": "monitored"}


def _encounter(setting: dict, administrations: list, em=(), primary=None) -> dict:
    return {"claim": setting["claim"], "pos": setting["pos"], "administrations": administrations,
            "em": list(em), "primary": primary}


def _materialise(template: dict, date: str, payer: str | None) -> dict:
    """The contract's JSON for a template, on `date`, each time counted in minutes from 08:00."""
    day = datetime.datetime.fromisoformat(date).replace(hour=8)

    def at(minutes):
        return (day + datetime.timedelta(minutes=minutes)).isoformat(timespec="minutes")

    administrations = []
    for item in template["administrations"]:
        record = {k: v for k, v in item.items() if v is not None}
        record["start"] = at(item["start"])
        if item["stop"] is not None:
            record["stop"] = at(item["stop"])
        administrations.append(record)
    encounter = {"id": "diff", "date": date, "claim": template["claim"], "administrations": administrations,
                 "em": template["em"]}
    for field, value in (("pos", template["pos"]), ("primary", template["primary"]), ("payer", payer)):
        if value is not None:
            encounter[field] = value
    return encounter


class _Generator:
    """Builds the encounters to code with both rulesets, and says in words what they stand for."""

    def __init__(self, old: CheckedRuleset, new: CheckedRuleset):
        rulesets = (old, new)
        self.classes = _attribute_classes(old, new)
        self.settings = _kinds(self.classes, ("claim", "pos"), rulesets)
        self.kinds = _kinds(self.classes, KIND_ATTRIBUTES, rulesets)
        self.durations = _durations(old, new)
        self.typical = _between_bounds({*boundaries(old, "duration"), *boundaries(new, "duration")})
        self.gaps = _minutes_around({*boundaries(old, "gap"), *boundaries(new, "gap")}) or [self.typical]
        self.em_codes = _em_codes(old, new)
        self.pair_kinds: list[str] = []  # the first administrations of the pairs, in words

    def setting(self, index) -> dict:
        return {"claim": self.classes["claim"][index[0]][0], "pos": self.classes["pos"][index[1]][0]}

    def kind(self, index) -> dict:
        return {a: self.classes[a][i][0] for a, i in zip(KIND_ATTRIBUTES, index)}

    def alone(self, setting, kind, minutes=None) -> dict:
        minutes = self.typical if minutes is None else minutes
        return _encounter(self.setting(setting), [_administration("a1", self.kind(kind), 0, minutes, "drug-a")])

    def singles(self) -> list[_Probe]:
        """Every setting and kind of administration, at every duration tried."""
        found = []
        for (setting, _), (kind, kinds) in itertools.product(self.settings, self.kinds):
            for minutes in self.durations:
                points = tuple((setting, *k, minutes) for k in kinds)
                found.append(_Probe("single", self.alone(setting, kind, minutes), points))
        return found

    def partners(self, outcomes: Callable) -> tuple[list, list, set]:
        """What pairs are built from: settings where something is reported; one kind for each
        way the rules treat a single administration (the same rules behind the same lines in
        both rulesets); and which of those kinds the duration changes."""
        settings = [s for s in self.settings if any(
            o.lines for k, _ in self.kinds for o in outcomes(self.alone(s[0], k)))]
        seen: dict = {}
        for kind, _ in self.kinds:
            results = [outcomes(self.alone(s, kind)) for s, _ in settings]
            if any(o.lines for pair in results for o in pair):
                seen.setdefault(tuple(o.trail for pair in results for o in pair), kind)
        kinds = list(seen.values())
        timed = {kind for kind in kinds if settings and len({
            tuple(o.trail for o in outcomes(self.alone(settings[0][0], kind, m))) for m in self.durations}) > 1}
        return settings, kinds, timed

    def pairs(self, settings: list, kinds: list, timed: set) -> list[_Probe]:
        """A second administration beside a first one of the typical duration, through one access."""
        found = []
        self.pair_kinds = [self.kind_text(k) for k in kinds]
        for (setting, _), first, second in itertools.product(settings, kinds, kinds):
            a = _administration("a1", self.kind(first), 0, self.typical, "drug-a")
            for relation, minutes, b, primary in self._seconds(self.kind(second), second in timed):
                template = _encounter(self.setting(setting), [a, b], primary=primary)
                points = ((setting, self.kind_text(first), relation, self.kind_text(second), minutes),)
                found.append(_Probe("pair", template, points))
        return found

    def _seconds(self, kind: dict, timed: bool):
        """(relation, duration, second administration, primary) for each relation tried."""
        end, typical = self.typical, self.typical
        for minutes in self.durations if timed else [typical]:
            yield "then a new drug", minutes, _administration("a2", kind, end + AFTER, minutes, "drug-b"), None
        for gap in self.gaps:
            yield (f"then the same drug {gap} min after it ends", typical,
                   _administration("a2", kind, end + gap, typical, "drug-a"), None)
        yield ("with a new drug overlapping it", typical,
               _administration("a2", kind, end // 2, typical, "drug-b"), None)
        yield ("then a new drug at another site", typical,
               _administration("a2", kind, end + AFTER, typical, "drug-b", site="R-hand"), None)
        yield ("then a new drug in another session", typical,
               _administration("a2", kind, end + NEXT_SESSION, typical, "drug-b", session="2"), None)
        yield ("then a new drug documented as the primary reason", typical,
               _administration("a2", kind, end + AFTER, typical, "drug-b"), "a2")

    def em(self, kinds: list) -> list[_Probe]:
        """Each E/M code, separately identifiable or not, alone and beside an administration."""
        found = []
        beside = kinds[0] if kinds else self.kinds[0][0]
        for (setting, _), code, identifiable, with_administration in itertools.product(
                self.settings, self.em_codes, (True, False), (False, True)):
            administrations = [_administration("a1", self.kind(beside), 0, self.typical, "drug-a")] if with_administration else []
            template = _encounter(self.setting(setting), administrations,
                                  [{"code": code, "separately_identifiable": identifiable}])
            found.append(_Probe("em", template, ((setting, code, identifiable, with_administration),)))
        return found

    def kind_text(self, kind: tuple) -> str:
        """A kind of administration by its representative: `therapeutic iv infusion`."""
        values = self.kind(kind)
        words = [str(values["category"]), str(values["route"]), str(values["method"])]
        words += [word for flag, word in (("hormonal", "hormonal"), ("pump", "by pump")) if values[flag]]
        return " ".join(words)

    def administration_text(self, picked: dict) -> str:
        """`therapeutic|prophylactic iv infusion hormonal`: each attribute's chosen classes, flags as words."""
        words = [_alternatives([self.classes[a][i] for i in picked[a]], len(self.classes[a]))
                 for a in ("category", "route", "method")]
        for flag, word in (("hormonal", "hormonal"), ("pump", "by pump")):
            chosen = {v for i in picked[flag] for v in self.classes[flag][i]}
            if chosen == {True}:
                words.append(word)
            elif chosen == {False} and len(self.classes[flag]) > 1:
                words.append(f"not {word}")
        return " ".join(w for w in words if w) or "any administration"

    def setting_text(self, settings: list) -> str:
        """`facility claim or professional claim, pos 11|none`; `any claim` for every setting."""
        if len(settings) == len(self.settings):
            return "any claim"
        members = [m for setting, ms in self.settings if setting in settings for m in ms]
        by_claim: dict = {}
        for claim, pos in members:
            by_claim.setdefault(claim, []).append(pos)
        parts = []
        for claim, positions in by_claim.items():
            text = f"{_alternatives([self.classes['claim'][claim]], 0)} claim"
            if len(positions) < len(self.classes["pos"]):
                text += f", pos {_alternatives([self.classes['pos'][i] for i in positions], 0)}"
            parts.append(text)
        return " or ".join(parts)

    def describe(self, family: str, cube: list) -> str:
        """A pattern in words; a dimension that takes every value tried goes unsaid."""
        picked = dict(zip(DIMENSIONS[family], cube))
        where = self.setting_text(picked["setting"])
        if family == "single":
            return f"{where}: {self.administration_text(picked)}, {_duration_runs(picked['duration'], self.durations)}"
        if family == "pair":
            second = " or ".join(picked["second"])
            if picked["relation"] == ["then a new drug"] and len(picked["duration"]) < len(self.durations):
                second += f" for {_duration_runs(picked['duration'], self.durations)}"
            return f"{where}: {self._firsts(picked['first'])}, {' or '.join(picked['relation'])}: {second}"
        words = [f"E/M {'|'.join(picked['code'])}"]
        if len(picked["identifiable"]) == 1:
            words.append("separately identifiable" if picked["identifiable"][0] else "not separately identifiable")
        if len(picked["administration"]) == 1:
            words.append("beside an administration" if picked["administration"][0] else "alone")
        return f"{where}: {', '.join(words)}"

    def _firsts(self, chosen: list) -> str:
        """The first administrations of a pair pattern; most of them are named by those left out."""
        every = list(dict.fromkeys(self.pair_kinds))
        if len(chosen) == len(every):
            return "any administration"
        if len(chosen) > len(every) / 2:
            return f"any administration but {' or '.join(k for k in every if k not in chosen)}"
        return " or ".join(chosen)


def _alternatives(groups, total: int, limit: int = 4) -> str:
    """Classes of values joined by `|` (cut after `limit`); empty when they are all `total` classes."""
    if total and len(groups) == total:
        return ""
    values = ["none" if v is None else value_text(v) for group in groups for v in group]
    return "|".join(values) if len(values) <= limit else "|".join(values[:limit - 1]) + "|…"


def _duration_runs(chosen: list, tried: list) -> str:
    """Tried durations as runs: `16–20 min, no stop time`; `any duration` when all were chosen."""
    if len(chosen) == len(tried):
        return "any duration"
    runs, current = [], []
    for minutes in tried:
        if minutes is not None and minutes in chosen:
            current.append(minutes)
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    parts = [f"{run[0]} min" if len(run) == 1 else f"{run[0]}–{run[-1]} min" for run in runs]
    if None in chosen:
        parts.append("no stop time")
    return ", ".join(parts)


def _em_codes(old: CheckedRuleset, new: CheckedRuleset) -> list[str]:
    """The E/M codes either ruleset declares or names, and one that neither does."""
    named = set()
    for ruleset in (old, new):
        named.update(code for code, (kind, _) in ruleset.codes.items() if kind == "em")
        for stage in ruleset.stages:
            if isinstance(stage, CheckedTable) and stage.scope == "em" and "code" in stage.inputs:
                index = stage.inputs.index("code")
                named.update(v for row in stage.rows for v in row.predicates[index].values)
    first = int(min(named)) if named else 10 ** 4
    other = next(str(n) for n in itertools.count(first) if str(n) not in named)
    return [*sorted(named), other]


# ----- behaviour: comparing and grouping ---------------------------------------

def behaviour(old: Side, new: Side) -> tuple[int, int, list[Pattern]]:
    """How many encounters were generated and coded differently, and the patterns of those.

    Encounters that change in the same way (the same lines and findings removed and added)
    are grouped, per family, into as few patterns as cover exactly the input combinations
    they stand for.
    """
    cache: dict = {}

    def outcomes(template: dict) -> tuple[Outcome, Outcome]:
        key = repr(template)
        if key not in cache:
            cache[key] = (old.code(template), new.code(template))
        return cache[key]

    generator = _Generator(old.ruleset, new.ruleset)
    settings, kinds, timed = generator.partners(outcomes)
    generated = [*generator.singles(), *generator.pairs(settings, kinds, timed), *generator.em(kinds)]
    groups: dict = {}
    differing = 0
    for probe in generated:
        before, after = outcomes(probe.template)
        if before != after:
            differing += 1
            group = groups.setdefault((probe.family, CodingChange.between(before, after)), ([], probe.template))
            group[0].extend(probe.points)
    patterns = []
    for (family, change), (points, example) in groups.items():
        before, after = outcomes(example)
        for cube in _cover(points):
            cases = 1
            for values in cube:
                cases *= len(values)
            patterns.append(Pattern(family, generator.describe(family, cube), change, cases,
                                    _materialise(example, new.ruleset.effective[0], new.payer), before, after))
    order = {family: i for i, family in enumerate(DIMENSIONS)}
    patterns.sort(key=lambda p: (not p.change.lines_differ, order[p.family], p.text))
    return len(generated), differing, patterns


def _cover(points: list) -> list[list[list]]:
    """Cubes (one list of values per dimension, in first-seen order) that together cover
    exactly `points`. Each grows from the first uncovered point, one dimension at a time,
    by the values whose every combination with the cube is a point and which bring in a
    point no earlier cube covers."""
    inside = set(points)
    remaining = list(dict.fromkeys(points))
    if not remaining:
        return []
    order = [list(dict.fromkeys(p[d] for p in remaining)) for d in range(len(remaining[0]))]
    covered: set = set()
    cubes = []
    while remaining:
        start = remaining[0]
        cube = [[v] for v in start]
        for d in range(len(cube)):
            others = cube[:d] + cube[d + 1:]
            grown = []
            for value in order[d]:
                slice_ = [(*c[:d], value, *c[d:]) for c in itertools.product(*others)]
                if value == start[d] or (all(p in inside for p in slice_) and not all(p in covered for p in slice_)):
                    grown.append(value)
            cube[d] = grown
        members = set(itertools.product(*cube))
        covered |= members
        remaining = [p for p in remaining if p not in members]
        cubes.append(cube)
    return cubes


# ----- loading ------------------------------------------------------------------

def load_side(folder, payer: str | None = None) -> Side:
    """One side of a comparison: the ruleset folder's base, or its variant for `payer`.

    Raises ValueError when the folder holds no single ruleset or no such payer, and
    RulesetError when the ruleset does not check.
    """
    folder = Path(folder)
    if not (folder / BASE_FILE).is_file():
        raise ValueError(f"{folder} is not a ruleset folder (no {BASE_FILE} in it)")
    coder = load(folder, payer=payer)
    family = coder.registry.families[0]
    if payer is not None and payer not in family.variants:
        known = ", ".join(sorted(family.variants)) or "none"
        raise ValueError(f"{folder} has no variant for payer '{payer}' (payers: {known})")
    ruleset = family.for_payer(payer)
    label = f"{folder} ({ruleset.name} {ruleset.version}{f', payer {payer}' if payer else ''})"
    return Side(label, ruleset, coder, payer)
