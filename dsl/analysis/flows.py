"""The stages walked in order, each table modelled with what earlier stages can produce.

What flows between stages narrows the model of a table's inputs (dsl.analysis.model): an
attribute a table writes takes only the values its reachable rows produce (and is missing
where that table has a gap), and the role an `initial` stage writes exists only for the
values it ranks, "concurrent" only for those it lists as concurrent. Each table's model
is searched for rows no input reaches (dsl.analysis.reachability) and for inputs no row
covers (dsl.analysis.gaps).
"""
from __future__ import annotations

from dsl.analysis import gaps, reachability
from dsl.analysis.model import Model, atoms_of, probes, taken, union
from dsl.checked import OTHER, CheckedInitial, CheckedRuleset, CheckedTable, Predicate
from dsl.checker import Schema
from dsl.diagnostics import Diagnostic, variant_files

MAX_POINTS = 1 << 18  # input combinations one table is searched over; a wider table gets a note
# Bits of masks one table's search may build and combine: (rows + atoms + the atoms the rows'
# cells take, where they do not take them all) x input combinations; about a second's work
# and 128 MB of masks. Thousands of rows over thousands of combinations stay inside; a wider
# search gets the same note, so `infuse check` never runs for minutes.
MAX_WORK = 1 << 30
CONCURRENT = "concurrent"  # the role an `initial` stage gives only to the values it lists as concurrent


class Flows:
    """Walks the stages in order, modelling each table with what earlier stages can produce."""

    def __init__(self, ruleset: CheckedRuleset, schema: Schema, present: frozenset):
        self.ruleset = ruleset
        self.variants = variant_files(ruleset.statements)
        self.schema = schema
        self.present = present
        self.domains: dict = {}  # scope group -> attribute -> (values, may be missing)
        self.ranked: dict = {}  # attribute an initial stage writes -> (ranked field, ranked, concurrent)
        self.reachable: set = set()  # (table, row id) of the rows that decide some input
        self.diagnostics: list = []

    def walk(self) -> "Flows":
        for stage in self.ruleset.stages:
            if isinstance(stage, CheckedTable):
                self.table(stage)
            elif isinstance(stage, CheckedInitial):
                self.initial(stage)
        return self

    @staticmethod
    def _group(scope: str) -> str:
        return "em" if scope == "em" else "administration"

    def _candidates(self, table: CheckedTable, column: int, extra: list):
        """The values one column is modelled with (missing as None) and the predicates that split them.

        An attribute an earlier table wrote takes the values it can have written; one an
        initial stage wrote keeps its type's words but may be missing.
        """
        name, field_type = table.inputs[column], table.input_types[column]
        predicates = [row.predicates[column] for row in table.rows] + extra
        values, missing = self.domains.get(self._group(table.scope), {}).get(name, (None, name not in self.present))
        if values is None:
            if field_type.kind == "enum":
                values = field_type.values
            elif field_type.kind == "bool":
                values = (True, False)
            elif field_type.kind == "text":
                values = (*sorted({v for p in predicates for v in p.values}, key=str), OTHER)
            else:
                values = probes(predicates, 60 if field_type.kind == "duration" else 1)
        return (*values, *((None,) if missing else ())), predicates

    def model(self, table: CheckedTable) -> tuple[Model | None, int, list]:
        """The table's input model, the mask of inputs that can occur together and the inputs
        each row accepts; no model for a table too wide to search."""
        extras = [[] for _ in table.inputs]
        links = []
        if self._group(table.scope) == "administration":
            for attribute, (field, ranked, concurrent) in self.ranked.items():
                if attribute in table.inputs and field in table.inputs:
                    extras[table.inputs.index(field)] += [Predicate("in", ranked), Predicate("in", concurrent)]
                    extras[table.inputs.index(attribute)].append(Predicate("in", frozenset({CONCURRENT})))
                    links.append((table.inputs.index(attribute), table.inputs.index(field), ranked, concurrent))
        atoms, signatures = [], []
        for column in range(len(table.inputs)):
            candidates, predicates = self._candidates(table, column, extras[column])
            column_atoms, column_signatures = atoms_of(candidates, predicates)
            atoms.append(column_atoms)
            signatures.append(column_signatures)
        size = 1
        for column_atoms in atoms:
            size *= len(column_atoms)
        rows = (1 << len(table.rows)) - 1
        work = len(table.rows) + sum(len(a) for a in atoms) + sum(taken(c, rows) for c in signatures)
        if size > MAX_POINTS or work * size > MAX_WORK:
            return None, 0, []
        model = Model.build(table.inputs, atoms)
        feasible = model.full
        for attribute, field, ranked, concurrent in links:
            unset = model.where(attribute, lambda v: v is None)
            is_ranked = model.where(field, lambda v, r=ranked: v in r)
            feasible &= (is_ranked & ~unset) | (~is_ranked & unset)
            can_overlap = model.where(field, lambda v, c=concurrent: v in c)
            feasible &= ~model.where(attribute, lambda v: v == CONCURRENT) | can_overlap
        return model, feasible & model.full, model.regions(signatures, len(table.rows))

    def table(self, table: CheckedTable):
        model, feasible, cells = self.model(table)
        if model is None:
            self.diagnostics.append(Diagnostic(
                "I-wide", f"table '{table.name}' has too many input combinations to search for unreachable rows and gaps",
                table.span, "info"))
            self.reachable.update((table.name, row.id) for row in table.rows)
            self._record_writes(table, table.rows, gap=False)
            return
        satisfiable = [bool(mask) for mask in cells]  # before what can occur together
        accepted = [mask & feasible for mask in cells]
        del cells  # as large as `accepted`: a wide table's search holds one such list at a time
        decides, unreached = reachability.reached(table, accepted, satisfiable, self.variants)
        self.diagnostics.extend(unreached)
        rows = [row for row, ok in zip(table.rows, decides) if ok]
        self.reachable.update((table.name, row.id) for row in rows)
        uncovered = feasible & ~union(accepted)
        written = self.domains.get(self._group(table.scope), {})
        if uncovered and table.policy != "collect" and gaps.matters(table, self.schema, written):
            self.diagnostics.extend(gaps.warnings(table, model, feasible, uncovered))
        self._record_writes(table, rows, gap=bool(uncovered))

    def _record_writes(self, table: CheckedTable, rows, gap: bool):
        """What the table's attribute columns can hold after it has run."""
        written = self.domains.setdefault(self._group(table.scope), {})
        for column, name in enumerate(table.outputs):
            if name in self.schema.outputs or name not in self.ruleset.vocabularies:
                continue
            produced = {row.outputs[column] for row in rows if row.outputs[column] is not None}
            blank = any(row.outputs[column] is None for row in rows)
            if name in written:
                values, missing = written[name]
                produced |= set(values)
            else:
                missing = gap or blank
            written[name] = (tuple(v for v in self.ruleset.vocabularies[name] if v in produced), missing)

    def initial(self, stage: CheckedInitial):
        """An initial stage writes its attributes only for the values it ranks; their words
        are those the checker gave the attributes' types, so only missing is recorded here."""
        written = self.domains.setdefault("administration", {})
        ranked = frozenset(v for order in stage.rankings.values() for v in order if v != "primary")
        field_values, field_missing = written.get(
            stage.ranked_field, (self.ruleset.vocabularies.get(stage.ranked_field, ()), True))
        for attribute in self.schema.initial_writes:
            _, earlier_ranked, earlier_concurrent = self.ranked.get(attribute, (None, frozenset(), frozenset()))
            all_ranked = earlier_ranked | ranked
            self.ranked[attribute] = (stage.ranked_field, all_ranked, earlier_concurrent | stage.concurrent)
            written[attribute] = (None, field_missing or any(v not in all_ranked for v in field_values))
