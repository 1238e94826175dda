"""How much of a ruleset its tests exercise, read from the decision records the reference
pipeline traces (engine.core.trace; `Pipeline.run(encounter, trace=list)`).

An item is one thing in the rules that a test should make act:
- rows: a table row that decided for some administration, line or E/M service;
- units: a unit rule that counted time;
- merges: a merge combining two or more events, and taking overlap away (when it has `minus`);
- initial: each role an initial stage gives (concurrent only where it names concurrent
  services), and the documented primary taking first place (where a ranking allows it);
- edits: each clause acting: a limit cutting units, a pair bundling a code, a pair letting
  it stand with its modifier, a require removing an add-on;
- findings: a finding raised.

Each variant of a family has its own items, but an item a variant takes unchanged from the
base (a row with the same conditions and outputs, a unit rule with the same times, ...) is one
item shared by both, covered by a test of either. An item a variant changes or adds is
covered only by tests coded with that variant.

Thresholds: every bound of a duration or number comparison in a table row, and the first two
steps of each unit rule (`after + part`, then one period later), is a boundary; it is covered
when tests put values on both sides of it (`<= b` and `> b`, or `< b` and `>= b` for a `<` or
`>=` bound), as read from the inputs the traces record for that table column or unit rule.
"""
from __future__ import annotations

import attrs

from dsl.checked import CheckedLimitsFrom, CheckedPairsFrom
from dsl.checked import (ANY, CheckedEdit, CheckedInitial, CheckedLimit, CheckedMerge, CheckedPair,
                         CheckedRequire, CheckedTable)
from dsl.loader import RulesetFamily
from dsl.show import clause_text, codes_text
from engine.core.trace import EditRecord, InitialRecord, MergeRecord, TableRecord, UnitsRecord

CATEGORIES = ("rows", "units", "merges", "initial", "edits", "findings")
BASE = "base"


@attrs.define
class Item:
    category: str
    name: str
    variants: list[str]
    hits: int = 0


@attrs.define
class Boundary:
    """A value a comparison splits at; `at_or_below` says the sides are `<= value` / `> value`
    (else `< value` / `>= value`)."""

    where: str  # "table.column" or "units/NAME"
    value: int
    kind: str  # "duration" or "number"
    at_or_below: bool
    users: list[str]  # the rows (or unit rule) that compare with it
    variants: list[str]
    below: int | None = None  # the tested value nearest the boundary on each side
    above: int | None = None

    @property
    def covered(self) -> bool:
        return self.below is not None and self.above is not None

    def observe(self, value: int) -> None:
        if value <= self.value - (0 if self.at_or_below else 1):
            self.below = value if self.below is None else max(self.below, value)
        else:
            self.above = value if self.above is None else min(self.above, value)


class Coverage:
    """The items and boundaries of a ruleset family, and which of them traces reached."""

    def __init__(self, family: RulesetFamily):
        self.items: dict = {}
        self.boundaries: dict = {}
        self.variants = [BASE, *sorted(family.variants)]
        self._local: dict = {}  # variant -> its own key of an item -> shared key
        self._watched: dict = {}  # (variant, where) -> {(value, at_or_below): boundary} to observe there
        self._rulesets = {BASE: family.base, **family.variants}
        for variant in self.variants:
            self._local[variant] = {}
            self._register(variant, self._rulesets[variant])

    # ----- what there is to cover -----
    def _item(self, variant: str, local, key, category: str, name: str) -> None:
        item = self.items.setdefault(key, Item(category, name, []))
        if variant not in item.variants:
            item.variants.append(variant)
        self._local[variant][local] = key

    def _boundary(self, variant: str, where: str, value: int, kind: str, at_or_below: bool, user: str) -> None:
        boundary = self.boundaries.setdefault((where, value, at_or_below), Boundary(where, value, kind, at_or_below, [], []))
        if user not in boundary.users:
            boundary.users.append(user)
        if variant not in boundary.variants:
            boundary.variants.append(variant)
        self._watched.setdefault((variant, where), {}).setdefault((value, at_or_below), boundary)

    def _register(self, variant: str, ruleset) -> None:
        for name, rule in ruleset.units.items():
            self._item(variant, ("units", name), ("units", name, rule.period, rule.after, rule.part),
                       "units", f"units/{name}")
            for step in (0, 1):
                self._boundary(variant, f"units/{name}", rule.after + step * rule.period + rule.part, "duration",
                               not rule.inclusive, f"units/{name}")
        for stage in ruleset.stages:
            if isinstance(stage, CheckedTable):
                self._register_table(variant, stage)
            elif isinstance(stage, CheckedMerge):
                signature = attrs.evolve(stage, refs=())
                self._item(variant, ("merge", stage.name, "combine"), ("merge", signature, "combine"), "merges",
                           f"merge/{stage.name}: combines two or more events")
                if stage.minus_field:
                    self._item(variant, ("merge", stage.name, "minus"), ("merge", signature, "minus"), "merges",
                               f"merge/{stage.name}: takes overlapping time away")
            elif isinstance(stage, CheckedInitial):
                self._register_initial(variant, stage)
            elif isinstance(stage, CheckedEdit):
                for index, clause in enumerate(stage.clauses):
                    for outcome, text in _clause_outcomes(clause):
                        self._item(variant, ("edit", stage.name, index, outcome),
                                   ("edit", stage.name, clause, stage.finding, outcome), "edits",
                                   f"edit/{stage.name}: {text}")
        for finding in ruleset.findings:
            self._item(variant, ("finding", finding), ("finding", finding), "findings", f"finding/{finding}")

    def _register_table(self, variant: str, table: CheckedTable) -> None:
        for row in table.rows:
            conditions = frozenset((c, p) for c, p in zip(table.inputs, row.predicates) if p != ANY)
            outputs = frozenset((c, v) for c, v in zip(table.outputs, row.outputs) if v is not None)
            self._item(variant, ("row", table.name, row.id), ("row", table.name, row.id, conditions, outputs),
                       "rows", f"{table.name}/{row.id}")
            for column, field_type, predicate in zip(table.inputs, table.input_types, row.predicates):
                if predicate.kind != "range":
                    continue
                where, user = f"{table.name}.{column}", f"{table.name}/{row.id}"
                if predicate.low is not None:
                    self._boundary(variant, where, predicate.low, field_type.kind, not predicate.low_inclusive, user)
                if predicate.high is not None:
                    self._boundary(variant, where, predicate.high, field_type.kind, predicate.high_inclusive, user)

    def _register_initial(self, variant: str, stage: CheckedInitial) -> None:
        signature = attrs.evolve(stage, refs=(), rankings=tuple(sorted(stage.rankings.items(), key=repr)),
                                 primary_of=tuple(sorted(stage.primary_of.items(), key=repr)))
        roles = ("initial", "sequential", "repeat", *(("concurrent",) if stage.concurrent else ()))
        for role in roles:
            self._item(variant, ("initial", stage.name, role), ("initial", signature, role), "initial",
                       f"initial/{stage.name}: gives role {role}")
        if any("primary" in ranking for ranking in stage.rankings.values()):
            self._item(variant, ("initial", stage.name, "primary"), ("initial", signature, "primary"), "initial",
                       f"initial/{stage.name}: ranks the documented primary first")

    # ----- what the tests reached -----
    def add(self, variant: str, trace: list, result) -> None:
        """Count what one coded encounter (its trace records and result) exercised under `variant`."""
        for record in trace:
            getattr(self, f"_add_{record.stage}")(variant, record)
        for finding in result.findings:
            self._hit(variant, ("finding", finding.id))

    def _hit(self, variant: str, local) -> None:
        key = self._local[variant].get(local)
        if key is not None:
            self.items[key].hits += 1

    def _observe(self, variant: str, where: str, value) -> None:
        if isinstance(value, int) and not isinstance(value, bool):
            for boundary in self._watched.get((variant, where), {}).values():
                boundary.observe(value)

    def _add_table(self, variant: str, record: TableRecord) -> None:
        for row in record.rows:
            self._hit(variant, ("row", record.table, row))
        for column, value in record.inputs.items():
            self._observe(variant, f"{record.table}.{column}", value)

    def _add_units(self, variant: str, record: UnitsRecord) -> None:
        self._hit(variant, ("units", record.rule))
        self._observe(variant, f"units/{record.rule}", record.counted)

    def _add_merge(self, variant: str, record: MergeRecord) -> None:
        if len(record.members) > 1:
            self._hit(variant, ("merge", record.merge, "combine"))
        if record.removed:
            self._hit(variant, ("merge", record.merge, "minus"))

    def _add_initial(self, variant: str, record: InitialRecord) -> None:
        for role in {given.role for given in record.roles}:
            self._hit(variant, ("initial", record.initial, role))
        if any(candidate.promoted for candidate in record.candidates):
            self._hit(variant, ("initial", record.initial, "primary"))

    def _add_edit(self, variant: str, record: EditRecord) -> None:
        """The clause that acted and how, as the record names them."""
        name = record.edit.removeprefix("edit/")
        stage = next(s for s in self._rulesets[variant].stages if isinstance(s, CheckedEdit) and s.name == name)
        self._hit(variant, ("edit", name, record.clause, _outcome(stage.clauses[record.clause], record)))

    # ----- the figures -----
    def summary(self) -> dict[str, tuple[int, int]]:
        """(covered, total) per category."""
        counts = {category: [0, 0] for category in CATEGORIES}
        for item in self.items.values():
            counts[item.category][0] += item.hits > 0
            counts[item.category][1] += 1
        return {category: (covered, total) for category, (covered, total) in counts.items()}

    def percent(self, category: str) -> float:
        covered, total = self.summary()[category]
        return 100.0 if total == 0 else 100.0 * covered / total

    def uncovered(self, category: str) -> list[Item]:
        return [item for item in self.items.values() if item.category == category and not item.hits]

    def boundary_list(self) -> list[Boundary]:
        return sorted(self.boundaries.values(), key=lambda b: (b.where, b.value, b.at_or_below))

    def as_dict(self) -> dict:
        return {
            "variants": self.variants,
            "summary": {c: {"covered": n, "total": t, "percent": round(self.percent(c), 1)}
                        for c, (n, t) in self.summary().items()},
            "items": [{"category": i.category, "name": i.name, "variants": i.variants, "hits": i.hits}
                      for i in self.items.values()],
            "thresholds": [{"where": b.where, "value": b.value, "kind": b.kind,
                            "sides": ["<=", ">"] if b.at_or_below else ["<", ">="], "used_by": b.users,
                            "variants": b.variants, "nearest_below": b.below, "nearest_above": b.above,
                            "covered": b.covered}
                           for b in self.boundary_list()],
        }


def _clause_outcomes(clause) -> list[tuple[str, str]]:
    """The ways a clause can act, each with its description."""
    if isinstance(clause, (CheckedLimit, CheckedLimitsFrom)):
        return [("limit", f"{clause_text(clause)} cuts units")]
    if isinstance(clause, CheckedPairsFrom):
        pair = f"pairs from \"{clause.path}\" per {clause.per}"
        return [("bundled", f"{pair} bundles a line"),
                *((f"distinct:{modifier}", f"{pair} keeps a line at a distinct {attribute} with {modifier}")
                  for attribute, modifier in clause.distinctions)]
    if isinstance(clause, CheckedRequire):
        return [("require", f"{clause_text(clause)} removes an add-on")]
    pair = f"pair {codes_text(clause.column2)} with column 1 codes per {clause.per}"
    return [("bundled", f"{pair} bundles it"),
            *((f"distinct:{modifier}", f"{pair} keeps it at a distinct {attribute} with {modifier}")
              for attribute, modifier in clause.distinctions)]


def _outcome(clause, record: EditRecord) -> str:
    """Which of the clause's outcomes (`_clause_outcomes`) its action is."""
    if record.action == "modifier":
        return f"distinct:{record.modifier}"
    if record.action == "limit":
        return "limit"
    return "bundled" if isinstance(clause, (CheckedPair, CheckedPairsFrom)) else "require"
