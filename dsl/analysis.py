"""Static analyses of a checked ruleset as a whole, for `infuse check`.

The checker proves each statement well formed; these passes look at what only the whole
ruleset shows: rows no input reaches (and the rows that shadow them), inputs no row covers,
names declared and never used, add-on codes whose primary codes are never produced, and
the thresholds that split the tables. They report warnings and notes, never errors: a
ruleset that checks runs, and these say where it may not mean what its author meant.

Reachability and gaps are decided exactly on a finite model of each table's inputs. Each
column's domain is split into atoms, the sets of values that every row (and every
constraint below) treats alike: the words of a vocabulary, one "other" word for free text,
missing, and the segments between a duration or number column's bounds. The product of
the atoms is searched with one bit per combination, so a row is a bit mask and "shadowed"
or "uncovered" is a few AND and OR operations. What flows between stages narrows the
model: an attribute a table writes takes only the values its reachable rows produce (and
is missing where that table has a gap), and the role an `initial` stage writes exists only
for the values it ranks, "concurrent" only for those it lists as concurrent.

Example:
    statements = read_statements("rulesets/2026")
    report = analyse_family(statements, family, SCHEMA, present=ALWAYS_PRESENT)
    report.diagnostics  # sorted Diagnostic warnings and notes
"""
from __future__ import annotations

import itertools
import os

import attrs

from dsl import ast
from dsl.acceptance import acceptance_masks, positions
from dsl.checked import CheckedEdit, CheckedInitial, CheckedRequire, CheckedRuleset, CheckedTable, FieldType, Predicate
from dsl.checker import Schema
from dsl.diagnostics import Diagnostic
from dsl.durations import duration_text
from dsl.loader import RulesetFamily, apply_variant, read_folder

MAX_POINTS = 1 << 18  # input combinations one table is searched over; a wider table gets a note
# Bits of masks one table's search may build and combine: (rows + atoms + the atoms the rows'
# cells take, where they do not take them all) x input combinations; about a second's work
# and 128 MB of masks. Thousands of rows over thousands of combinations stay inside; a wider
# search gets the same note, so `infuse check` never runs for minutes.
MAX_WORK = 1 << 30
MAX_GAPS = 3  # gaps shown per table
CONCURRENT = "concurrent"  # the role an `initial` stage gives only to the values it lists as concurrent


class _Other:
    """Stands for every text value that no row of the table names."""

    def __repr__(self) -> str:
        return "(other)"


OTHER = _Other()


@attrs.frozen
class Threshold:
    """A duration or number bound, by constant name (or as written), with the rules it splits."""

    name: str
    value: int
    kind: str  # "duration" or "number"
    constant: bool
    columns: tuple[str, ...]
    uses: tuple[str, ...]  # "table/row" or "units/name"

    @property
    def text(self) -> str:
        return duration_text(self.value) if self.kind == "duration" else str(self.value)

    @property
    def label(self) -> str:
        return f"{self.name} = {self.text}" if self.constant else f"{self.text} on {', '.join(self.columns)}"

    def as_dict(self) -> dict:
        return {"name": self.name if self.constant else None, "value": self.value, "text": self.text,
                "kind": self.kind, "columns": list(self.columns), "uses": list(self.uses)}


@attrs.frozen
class Analysis:
    """What the analyses found in one ruleset.

    `declared` holds the spans of the declarations the unused-name checks looked at, so a
    family can report a base declaration as unused only when no variant uses it either.
    """

    diagnostics: tuple[Diagnostic, ...]
    thresholds: tuple[Threshold, ...]
    declared: frozenset


@attrs.frozen
class FamilyAnalysis:
    """A base ruleset and its variants analysed together.

    `thresholds` maps a payer (None for the base) to its threshold report; a variant lists
    only the thresholds it adds or splits differently from the base, and is absent when none.
    """

    diagnostics: tuple[Diagnostic, ...]
    thresholds: dict


# ----- reading ----------------------------------------------------------------

def read_statements(directory: str | os.PathLike) -> tuple[dict, dict]:
    """The merged statements of a ruleset folder, by payer (None for the base), and the file texts.

    Reads the folder the way the loader does; call it on a folder that loads without
    errors, since it reports none of its own.
    """
    source = read_folder(directory)
    merged = {None: source.base}
    for statements in source.variants.values():
        payer = next((s.payer for s in statements if isinstance(s, ast.PayerDecl)), None)
        merged[payer] = apply_variant(source.base, statements, [])
    return merged, source.texts


# ----- the family -------------------------------------------------------------

def analyse_family(statements: dict, family: RulesetFamily, schema: Schema,
                   present: frozenset = frozenset()) -> FamilyAnalysis:
    """Analyse the base and each variant; report each finding once.

    A declaration counts as unused only when every member ruleset that has it leaves it
    unused (the base may declare a modifier only a payer variant attaches). Other findings
    of a variant are reported when the base does not have them, marked with the payer.
    """
    members = {None: analyse(family.base, statements[None], schema, present)}
    for payer, ruleset in sorted(family.variants.items()):
        members[payer] = analyse(ruleset, statements[payer], schema, present)
    base = members[None]
    base_diagnostics, base_thresholds = set(base.diagnostics), set(base.thresholds)
    reported = {payer: {(d.code, d.span) for d in m.diagnostics} for payer, m in members.items()}
    found = []
    for payer, analysis in members.items():
        for diagnostic in analysis.diagnostics:
            key = (diagnostic.code, diagnostic.span)
            if diagnostic.span in analysis.declared:
                holders = [p for p, m in members.items() if diagnostic.span in m.declared]
                if members[holders[0]] is analysis and all(key in reported[p] for p in holders):
                    found.append(diagnostic)
            elif payer is None:
                found.append(diagnostic)
            elif diagnostic not in base_diagnostics:
                found.append(attrs.evolve(diagnostic, message=f"payer '{payer}': {diagnostic.message}"))
    thresholds = {None: base.thresholds}
    for payer, analysis in members.items():
        changed = tuple(t for t in analysis.thresholds if t not in base_thresholds)
        if payer is not None and changed:
            thresholds[payer] = changed
    return FamilyAnalysis(tuple(sorted(dict.fromkeys(found), key=Diagnostic.sort_key)), thresholds)


# ----- one ruleset ------------------------------------------------------------

def analyse(ruleset: CheckedRuleset, statements: list, schema: Schema,
            present: frozenset = frozenset()) -> Analysis:
    """Every analysis of one checked ruleset; `statements` are the merged AST it was checked from.

    `present` names the attributes the engine always fills (required fields, flags with
    a default); any other attribute may be missing from an input.
    """
    flows = _Flows(ruleset, schema, present)
    for stage in ruleset.stages:
        if isinstance(stage, CheckedTable):
            flows.table(stage)
        elif isinstance(stage, CheckedInitial):
            flows.initial(stage)
    usage = _Usage.collect(ruleset, statements, flows, schema)
    declared: set = set()
    diagnostics = [*flows.diagnostics, *_unused(ruleset, statements, usage, schema, declared),
                   *_addons(ruleset, statements, usage)]
    return Analysis(tuple(sorted(diagnostics, key=Diagnostic.sort_key)), thresholds(ruleset, statements),
                    frozenset(declared))


# ----- the model of a table's inputs ------------------------------------------

@attrs.frozen
class _Model:
    """A table's inputs as the product of each column's atoms; input i is bit i."""

    columns: tuple[str, ...]
    atoms: tuple  # per column, a tuple of atoms; an atom is a tuple of values treated alike
    strides: tuple[int, ...]
    masks: tuple  # per column, per atom: the inputs whose value in that column is in the atom
    full: int

    @classmethod
    def build(cls, columns, atoms) -> "_Model":
        sizes = [len(a) for a in atoms]
        strides = [1] * len(sizes)
        for i in range(len(sizes) - 2, -1, -1):
            strides[i] = strides[i + 1] * sizes[i + 1]
        total = strides[0] * sizes[0] if sizes else 1
        masks = []
        for size, stride in zip(sizes, strides):
            repeats = total // (stride * size)
            masks.append(tuple(int((("0" * (a * stride) + "1" * stride + "0" * ((size - a - 1) * stride)) * repeats)[::-1], 2)
                               for a in range(size)))
        return cls(tuple(columns), tuple(atoms), tuple(strides), tuple(masks), (1 << total) - 1)

    def where(self, column: int, accepts) -> int:
        """The inputs whose value in `column` satisfies `accepts` (a function of one value)."""
        mask = 0
        for atom, atom_mask in zip(self.atoms[column], self.masks[column]):
            if accepts(atom[0]):
                mask |= atom_mask
        return mask

    def regions(self, signatures: list, rows: int) -> list[int]:
        """The inputs each of the first `rows` predicates accepts, from the masks of the
        predicates each atom satisfies (`signatures`, per column and atom). A predicate takes
        the atoms it accepts, or all but those it rejects, whichever are fewer; one that
        accepts every atom of a column leaves the column out."""
        regions = [self.full] * rows
        everyone = (1 << rows) - 1
        for column, column_signatures in enumerate(signatures):
            whole = _whole(column_signatures, everyone)
            taken: list = [[] for _ in range(rows)]
            for atom, signature in enumerate(column_signatures):
                for row in positions(signature & everyone & ~whole):
                    taken[row].append(atom)
            masks = self.masks[column]
            for row, atoms in enumerate(taken):
                if (whole >> row) & 1:
                    continue
                if 2 * len(atoms) <= len(masks):
                    regions[row] &= _or(masks[atom] for atom in atoms)
                else:  # the atoms of a column part the inputs: all but the rejected ones
                    regions[row] &= ~_or(masks[atom] for atom in set(range(len(masks))).difference(atoms))
        return regions

    def point(self, index: int) -> tuple[int, ...]:
        return tuple((index // stride) % len(atoms) for stride, atoms in zip(self.strides, self.atoms))

    def cube(self, chosen) -> int:
        """The inputs whose atom in each column is among `chosen[column]`."""
        mask = self.full
        for column, indexes in enumerate(chosen):
            mask &= _or(self.masks[column][i] for i in indexes)
        return mask


def _widen(model: _Model, chosen: list, covered: int, uncovered: int) -> list:
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


def _or(masks) -> int:
    result = 0
    for mask in masks:
        result |= mask
    return result


def _lowest(mask: int) -> int:
    return (mask & -mask).bit_length() - 1


def _whole(signatures, rows: int) -> int:
    """Of the predicates in `rows`, those that accept every atom (as a `*` cell does)."""
    for signature in signatures:
        rows &= signature
    return rows


def _taken(signatures, rows: int) -> int:
    """How many atoms the predicates in `rows` accept, leaving out those that accept them all."""
    partial = rows & ~_whole(signatures, rows)
    return sum((signature & partial).bit_count() for signature in signatures)


def _atoms_of(candidates, predicates) -> tuple[tuple, tuple]:
    """Candidates grouped by how every predicate treats them (a missing value stays alone),
    and for each group the mask of the predicates that accept it."""
    groups: dict = {}
    signatures: dict = {}
    for value, accepting in zip(candidates, acceptance_masks(predicates, candidates)):
        key = ("missing",) if value is None else accepting
        groups.setdefault(key, []).append(value)
        signatures.setdefault(key, accepting)
    return tuple(tuple(group) for group in groups.values()), tuple(signatures.values())


def _probes(predicates, step: int) -> list[int]:
    """Values on and beside every bound of a duration (step 60) or number (step 1) column, from 0."""
    bounds = {b for p in predicates for b in (*p.thresholds(), *(v for v in p.values if isinstance(v, int)))}
    points = {0}
    for bound in bounds:
        points.update(v for v in (bound - step, bound - 1, bound, bound + 1, bound + step) if v >= 0)
    return sorted(points)


def _representative(atom: tuple, bounds: set, step: int):
    """The value of an atom shown in examples: a bound if it holds one, else a round one."""
    if None in atom or not isinstance(atom[0], int) or isinstance(atom[0], bool):
        return atom[0]
    return min(atom, key=lambda v: (v not in bounds, v % step != 0, v))


# ----- flow through the stages -----------------------------------------------

class _Flows:
    """Walks the stages in order, modelling each table with what earlier stages can produce."""

    def __init__(self, ruleset: CheckedRuleset, schema: Schema, present: frozenset):
        self.ruleset = ruleset
        self.schema = schema
        self.present = present
        self.domains: dict = {}  # scope group -> attribute -> (values, may be missing)
        self.ranked: dict = {}  # attribute an initial stage writes -> (ranked field, ranked, concurrent)
        self.reachable: set = set()  # (table, row id) of the rows that decide some input
        self.diagnostics: list = []

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
                values = _probes(predicates, 60 if field_type.kind == "duration" else 1)
        return (*values, *((None,) if missing else ())), predicates

    def model(self, table: CheckedTable) -> tuple[_Model | None, int, list]:
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
            column_atoms, column_signatures = _atoms_of(candidates, predicates)
            atoms.append(column_atoms)
            signatures.append(column_signatures)
        size = 1
        for column_atoms in atoms:
            size *= len(column_atoms)
        rows = (1 << len(table.rows)) - 1
        work = len(table.rows) + sum(len(a) for a in atoms) + sum(_taken(c, rows) for c in signatures)
        if size > MAX_POINTS or work * size > MAX_WORK:
            return None, 0, []
        model = _Model.build(table.inputs, atoms)
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
        reached = self._reachability(table, accepted, satisfiable)
        rows = [row for row, ok in zip(table.rows, reached) if ok]
        self.reachable.update((table.name, row.id) for row in rows)
        uncovered = feasible & ~_or(accepted)
        if uncovered and table.policy != "collect" and self._gap_matters(table):
            self._report_gaps(table, model, feasible, uncovered)
        self._record_writes(table, rows, gap=bool(uncovered))

    @staticmethod
    def _precedence(table: CheckedTable, index: int) -> tuple:
        """Of two matching rows, the one with the smaller key decides (not used for collect)."""
        if table.policy == "priority":
            rank = {value: i for i, value in enumerate(table.priority)}
            return (rank.get(table.rows[index].outputs[0], len(rank)), index)
        return (index,)

    def _reachability(self, table: CheckedTable, accepted: list, satisfiable: list) -> list[bool]:
        """Whether each row decides for some input: one that matches an input no row ahead of
        it (by precedence; none under collect) matches. Rows are taken in precedence order,
        gathering the inputs of the rows ahead as they go, rather than row against row; the
        warnings follow in row order."""
        ranked = table.policy != "collect"
        order = sorted(range(len(table.rows)), key=lambda i: self._precedence(table, i)) if ranked else []
        warnings: dict = {}  # row -> the warning of a row that never decides, or None
        taken = 0
        for place, index in enumerate(order or range(len(table.rows))):
            warnings[index] = self._unreached(table, accepted, index, satisfiable[index], taken,
                                              itertools.islice(order, place))
            taken |= accepted[index] if ranked else 0
        self.diagnostics.extend(warnings[i] for i in range(len(table.rows)) if warnings[i] is not None)
        return [warnings[i] is None for i in range(len(table.rows))]

    def _unreached(self, table: CheckedTable, accepted: list, index: int, satisfiable: bool, taken: int,
                   beaters) -> Diagnostic | None:
        """The warning for a row that decides for no input (`taken`: the inputs of the rows
        ahead of it), naming the rows ahead (`beaters`, in precedence order) that take its
        inputs, each taking some the ones before left; None for a row that decides."""
        row = table.rows[index]
        region = accepted[index]
        where = f"row '{row.id}' of table '{table.name}'"
        if not region:
            hint = "earlier stages never produce the values of its cells together" if satisfiable else None
            return Diagnostic("W-unreachable", f"{where} matches no input", row.span, "warning", hint)
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
            "W-unreachable", f"{where} is never reached: {'row' if len(shadows) == 1 else 'rows'} {names} "
            f"{'matches' if len(shadows) == 1 else 'match'} every input it matches", row.span, "warning",
            f"row '{shadows[0].id}' is at line {shadows[0].span.line}")

    def _gap_matters(self, table: CheckedTable) -> bool:
        """A gap matters where no row means nothing decided: codes unreported or an attribute
        never set. A table that only refines attributes set before it, attaches modifiers or
        raises findings may leave inputs alone; no row there means "nothing to change"."""
        written = self.domains.get(self._group(table.scope), {})
        for column in table.outputs:
            kind = self.schema.outputs.get(column)
            if kind in ("code", "bool") or (kind is None and column not in written):
                return True
        return False

    def _report_gaps(self, table: CheckedTable, model: _Model, feasible: int, uncovered: int):
        """A warning for each of the first MAX_GAPS gaps, each shown as wide as it goes."""
        covered = feasible & ~uncovered
        shown = 0
        while uncovered and shown < MAX_GAPS:
            chosen = _widen(model, [[a] for a in model.point(_lowest(uncovered))], covered, uncovered)
            uncovered &= ~model.cube(chosen)
            shown += 1
            more = " (and more)" if uncovered and shown == MAX_GAPS else ""
            self.diagnostics.append(Diagnostic(
                "W-gap", f"no row of table '{table.name}' matches {self._describe(table, model, chosen)}{more}",
                table.span, "warning", "add a row for these inputs, or '*' cells that take them in"))

    def _describe(self, table: CheckedTable, model: _Model, chosen) -> str:
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
            fixed.append(f"{name}={'|'.join(show_value(v, field_type) for v in values)}")
        text = ", ".join(fixed) or "any input"
        return f"{text} (any {', '.join(free)})" if fixed and free else text

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


def show_value(value, field_type: FieldType | None = None) -> str:
    """A value as a rule would write it."""
    if value is None:
        return "missing"
    if value is OTHER:
        return "(another value)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if field_type is not None and field_type.kind == "duration":
        return duration_text(value)
    return str(value)


# ----- names: declared, used, produced ----------------------------------------

@attrs.frozen
class _Usage:
    """What the rules refer to and what their reachable rows produce."""

    names: frozenset  # every bare word a cell, units rule, edit or constant refers to
    cited: frozenset  # source ids
    produced: dict  # output kind (an attribute's own name) -> {value: [rule ids]}, from reachable rows
    unreachable_outputs: dict  # the same, for values only unreachable rows produce
    named: dict  # attribute -> values named by a predicate, merge, ranking or concurrent list
    edit_codes: frozenset
    edit_findings: frozenset
    edit_modifiers: frozenset

    @classmethod
    def collect(cls, ruleset: CheckedRuleset, statements: list, flows: _Flows, schema: Schema) -> "_Usage":
        names, cited = set(), set()
        for node in statements:
            cited.update(ref.source for ref in getattr(node, "refs", ()) or ())
            names.update(_names_in(node))
        produced: dict = {}
        unreachable: dict = {}
        named: dict = {}
        edit_codes, edit_findings, edit_modifiers = set(), set(), set()
        for stage in ruleset.stages:
            if isinstance(stage, CheckedTable):
                for column, name in enumerate(stage.inputs):
                    for row in stage.rows:
                        named.setdefault(name, set()).update(row.predicates[column].values)
                for row in stage.rows:
                    target = produced if (stage.name, row.id) in flows.reachable else unreachable
                    for column, value in zip(stage.outputs, row.outputs):
                        kind = schema.outputs.get(column, column)
                        for item in (value if isinstance(value, tuple) else (value,)):
                            if item is not None:
                                target.setdefault(kind, {}).setdefault(item, []).append(f"{stage.name}/{row.id}")
            elif isinstance(stage, CheckedInitial):
                named.setdefault(stage.ranked_field, set()).update(
                    v for order in stage.rankings.values() for v in order)
                named[stage.ranked_field].update(stage.concurrent)
                if stage.selector:
                    named.setdefault(stage.selector, set()).update(k for k in stage.rankings if k is not None)
            elif isinstance(stage, CheckedEdit):
                edit_findings.add(stage.finding)
                for clause in stage.clauses:
                    edit_codes.update(getattr(clause, "addons", ()), getattr(clause, "primaries", ()),
                                      getattr(clause, "column1", ()), getattr(clause, "column2", ()))
                    if getattr(clause, "code", None):
                        edit_codes.add(clause.code)
                    edit_modifiers.update(modifier for _, modifier in getattr(clause, "distinctions", ()))
            else:
                named.setdefault(stage.field, set()).update(stage.values)
                if stage.minus_field:
                    named.setdefault(stage.minus_field, set()).update(stage.minus_values)
        for kind, values in produced.items():
            for value in values:
                unreachable.get(kind, {}).pop(value, None)
        return cls(frozenset(names), frozenset(cited), produced, unreachable,
                   {k: frozenset(v) for k, v in named.items()}, frozenset(edit_codes),
                   frozenset(edit_findings), frozenset(edit_modifiers))

    def outputs(self, kind: str) -> dict:
        return self.produced.get(kind, {})

    def only_unreachable(self, kind: str, value) -> list:
        return self.unreachable_outputs.get(kind, {}).get(value, [])


def _names_in(node) -> set:
    """The bare words a statement refers to (constants, sets, codes, modifiers, values)."""
    found = set()
    values = []
    if isinstance(node, (ast.Table, ast.Amend)):
        for row in node.rows:
            for cell in (*row.inputs, *row.outputs):
                values.extend(_cell_values(cell))
    elif isinstance(node, ast.Units):
        values = [node.period, node.after, node.part]
    elif isinstance(node, ast.Const):
        values = [node.value]
    elif isinstance(node, ast.Merge):
        values = [*node.combine.values, *(node.minus.values if node.minus else ())]
    elif isinstance(node, ast.Edit):
        for clause in node.clauses:
            if isinstance(clause, ast.Pair):
                values.extend(d.modifier for d in clause.distinctions)
    for value in values:
        if isinstance(value, (ast.Name, ast.Number)):
            found.add(value.text)  # a code may be written as a number
    return found


def _cell_values(cell) -> list:
    if isinstance(cell, ast.Alternatives):
        return list(cell.values)
    if isinstance(cell, ast.Negated):
        return list(cell.alternatives.values)
    if isinstance(cell, ast.Comparison):
        return [cell.value]
    if isinstance(cell, ast.Between):
        return [cell.low, cell.high]
    return []


def _warn(code: str, message: str, span, hint: str | None = None, severity: str = "warning") -> Diagnostic:
    return Diagnostic(code, message, span, severity, hint)


def _unused_output(usage, kind: str, name: str, used_by_edits, message: str, span) -> list:
    """W-unused for a declaration no table output (nor edit) names, hinting at rows that do but
    are never reached."""
    if name in usage.outputs(kind) or name in used_by_edits:
        return []
    hint = usage.only_unreachable(kind, name)
    return [_warn("W-unused", message, span, _unreachable_hint(hint) if hint else None)]


def _unreachable_hint(rules: list) -> str:
    return f"only unreachable rows name it: {', '.join(rules)}"


def _unused(ruleset: CheckedRuleset, statements: list, usage: _Usage, schema: Schema, declared: set) -> list:
    """Declarations nothing uses, and vocabulary values no rule produces or names."""
    found = []
    bound = {name for fields in schema.scopes.values() for name in fields} | set(schema.initial_writes)
    written = {name for stage in ruleset.stages if isinstance(stage, CheckedTable)
               for name in stage.outputs if name not in schema.outputs}
    for node in statements:
        if isinstance(node, ast.Source):
            declared.add(node.span)
            if node.id not in usage.cited:
                found.append(_warn("W-unused", f"source '{node.id}' is never cited", node.span))
        elif isinstance(node, ast.Const):
            declared.add(node.span)
            if node.name not in usage.names:
                found.append(_warn("W-unused", f"constant '{node.name}' is never used", node.span))
        elif isinstance(node, ast.ValueSet):
            declared.add(node.span)
            if node.name not in usage.names:
                found.append(_warn("W-unused", f"set '{node.name}' is never used", node.span))
        elif isinstance(node, ast.Units):
            declared.add(node.span)
            found.extend(_unused_output(usage, "units", node.name, (),
                                        f"units rule '{node.name}' is never used", node.span))
        elif isinstance(node, ast.FindingDecl):
            declared.add(node.span)
            found.extend(_unused_output(usage, "finding", node.id, usage.edit_findings,
                                        f"finding '{node.id}' is never raised", node.span))
        elif isinstance(node, ast.ModifierDecl):
            declared.add(node.span)
            found.extend(_unused_output(usage, "modifier", node.code, usage.edit_modifiers,
                                        f"modifier '{node.code}' is never attached", node.span))
        elif isinstance(node, ast.CodeDecl):
            declared.add(node.span)
            found.extend(_unused_code(node, usage))
        elif isinstance(node, ast.Vocabulary):
            declared.add(node.span)
            if node.name not in bound and node.name not in written:
                found.append(_warn("W-unused", f"vocabulary '{node.name}' is never used", node.span))
                continue
            for value in node.values:
                declared.add(value.span)
                found.extend(_unused_value(node.name, value, node.name in written, usage))
    return found


def _unused_code(node: ast.CodeDecl, usage: _Usage) -> list:
    if node.kind == "em":
        if node.code in usage.names or node.code in usage.edit_codes:
            return []
        return [_warn("W-unused", f"code '{node.code}' is never named by a rule", node.span)]
    if node.code in usage.outputs("code"):
        return []
    hint = usage.only_unreachable("code", node.code)
    return [_warn("W-unproduced", f"code '{node.code}' is declared but no row produces it", node.span,
                  _unreachable_hint(hint) if hint else None)]


def _unused_value(vocabulary: str, value: ast.Name, written: bool, usage: _Usage) -> list:
    named = value.text in usage.named.get(vocabulary, ())
    if not written:
        if named:
            return []
        return [_warn("I-unnamed", f"'{value.text}' of vocabulary '{vocabulary}' is never named by a rule",
                      value.span, "rules take it only through '*' or 'not'", "info")]
    if value.text not in usage.outputs(vocabulary):
        hint = usage.only_unreachable(vocabulary, value.text)
        return [_warn("W-unused", f"'{value.text}' of vocabulary '{vocabulary}' is never produced by a row",
                      value.span, _unreachable_hint(hint) if hint else None)]
    if not named:
        rules = usage.outputs(vocabulary)[value.text]
        return [_warn("W-unused", f"'{value.text}' of vocabulary '{vocabulary}' is produced but no later rule names it",
                      value.span, f"produced by {', '.join(rules)}")]
    return []


def _addons(ruleset: CheckedRuleset, statements: list, usage: _Usage) -> list:
    """Add-on codes that can never keep their line: no primary is ever produced, or no
    `require` clause names their primaries at all."""
    found = []
    produced = set(usage.outputs("code"))
    required = set()
    edits = {node.name: node for node in statements if isinstance(node, ast.Edit)}
    for stage in ruleset.stages:
        if not isinstance(stage, CheckedEdit):
            continue
        clauses = [c for c in edits[stage.name].clauses if isinstance(c, ast.Require)]
        for clause, checked in zip(clauses, (c for c in stage.clauses if isinstance(c, CheckedRequire))):
            required |= checked.addons
            reported = sorted(checked.addons & produced)
            if reported and not checked.primaries & produced:
                found.append(_warn(
                    "W-addon", f"add-on {', '.join(reported)} can never be reported: none of its primary codes "
                    f"{', '.join(sorted(checked.primaries))} is produced by a row", clause.span))
    for node in statements:
        if isinstance(node, ast.CodeDecl) and node.kind == "addon" and node.code in produced and node.code not in required:
            found.append(_warn("W-addon", f"add-on code '{node.code}' is produced but no 'require' names its primary codes",
                               node.span, "without one it is reported even when no primary code is on the claim"))
    return found


# ----- thresholds -------------------------------------------------------------

def thresholds(ruleset: CheckedRuleset, statements: list) -> tuple[Threshold, ...]:
    """Every duration and number bound of the tables and unit rules, with the rules it splits.

    Constants come first, by name; bounds written as literals follow, by column and value.
    """
    tables = {stage.name: stage for stage in ruleset.stages if isinstance(stage, CheckedTable)}
    constants = {node.name for node in statements if isinstance(node, ast.Const)}
    found: dict = {}

    def add(value, kind: str, column: str, use: str):
        if isinstance(value, ast.Name) and value.text in constants:
            key = (0, value.text, 0)
            entry = found.setdefault(key, [value.text, ruleset.consts[value.text], kind, True, [], []])
        else:
            amount = value.seconds if isinstance(value, ast.Duration) else value.value
            key = (1, column, amount)
            entry = found.setdefault(key, [column, amount, kind, False, [], []])
        if column not in entry[4]:
            entry[4].append(column)
        if use not in entry[5]:
            entry[5].append(use)

    for node in statements:
        if isinstance(node, ast.Table) and node.name in tables:
            types = dict(zip(tables[node.name].inputs, tables[node.name].input_types))
            for row in node.rows:
                for column, cell in zip(node.inputs[1:], row.inputs):
                    field_type = types.get(column.name)
                    if field_type is None or field_type.kind not in ("duration", "number"):
                        continue
                    for value in _cell_values(cell):
                        add(value, field_type.kind, column.name, f"{node.name}/{row.id}")
        elif isinstance(node, ast.Units):
            add(node.part, "duration", "duration", f"units/{node.name}")
    return tuple(Threshold(name, value, kind, constant, tuple(columns), tuple(uses))
                 for (_, _, _), (name, value, kind, constant, columns, uses)
                 in sorted(found.items(), key=lambda item: item[0]))


def boundaries(ruleset: CheckedRuleset, column: str) -> list[int]:
    """Every bound a table of the ruleset puts on `column`, and for `duration` where each unit
    rule starts counting another unit (its first three), sorted."""
    bounds = set()
    for stage in ruleset.stages:
        if isinstance(stage, CheckedTable) and column in stage.inputs:
            index = stage.inputs.index(column)
            for row in stage.rows:
                predicate = row.predicates[index]
                bounds.update(predicate.thresholds())
                bounds.update(v for v in predicate.values if isinstance(v, int) and not isinstance(v, bool))
    if column == "duration":
        for rule in ruleset.units.values():
            bounds.update(rule.after + k * rule.period + rule.part for k in range(3))
    return sorted(bounds)

