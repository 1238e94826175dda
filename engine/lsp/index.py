"""Every definition and reference of a name in a ruleset folder, from its parsed statements.

A name's key says what it names: ("const", name), ("set", name), ("vocabulary", name),
("value", vocabulary, word), ("code", code) for codes and modifiers, ("finding", id),
("source", id), ("table", name), ("row", table, id), ("column", name). A word in a cell is
resolved as the checker reads it: a constant, a set, a word of the column's vocabulary, a
code, a finding, or a word of any vocabulary. An `amend` row with the id of a base row
refers to that row; a new one defines its own.

Built from the statements as read (dsl.loader.read_folder), so a folder that does not check
still has an index; a file that does not parse has no entries until it parses again.

Example:
    index = build(statements, texts)
    index.at("rulesets/2026/service.rules", 12, 40)   # the Occurrence under the cursor
    index.definitions[("const", "push_limit")]        # where it is defined
"""
from __future__ import annotations

import bisect
from collections import defaultdict

import attrs

from dsl import ast


@attrs.frozen
class Occurrence:
    """One name on one line: 1-based columns, end exclusive."""

    key: tuple
    file: str
    line: int
    column: int
    end_column: int
    definition: bool
    scope: str | None = None  # the table scope a column or cell is read in

    def covers(self, line: int, column: int) -> bool:
        return self.line == line and self.column <= column <= self.end_column


@attrs.frozen
class Index:
    """Occurrences by file (sorted by position) and by key; the defining nodes by key, each
    with the file that defines it (a payer variant's replacing node comes after the base's)."""

    by_file: dict
    definitions: dict
    references: dict
    nodes: dict  # key -> list of defining nodes (Row keys: (table node, row node))

    def at(self, file: str, line: int, column: int) -> Occurrence | None:
        """The occurrence at a position (a cursor just after a name still touches it)."""
        found = self.by_file.get(file, ())
        start = bisect.bisect_left([(o.line, o.column) for o in found], (line, 0))
        for occurrence in found[start:]:
            if occurrence.line > line:
                break
            if occurrence.covers(line, column):
                return occurrence
        return None

    def names(self, kind: str) -> list[str]:
        """The defined names of one kind, sorted (for a value key: 'vocabulary.word')."""
        return sorted({".".join(key[1:]) for key in self.definitions if key[0] == kind})

    def words(self, vocabulary: str) -> list[str]:
        return sorted({key[2] for key in self.definitions if key[0] == "value" and key[1] == vocabulary})


class _Builder:
    def __init__(self, statements: list):
        self.occurrences: list[Occurrence] = []
        self.nodes: dict = defaultdict(list)
        self.consts = {s.name for s in statements if isinstance(s, ast.Const)}
        self.sets = {s.name: s.field for s in statements if isinstance(s, ast.ValueSet)}
        self.codes = {s.code for s in statements if isinstance(s, (ast.CodeDecl, ast.ModifierDecl))}
        self.findings = {s.id for s in statements if isinstance(s, ast.FindingDecl)}
        self.vocabularies = {s.name: {v.text for v in s.values} for s in statements if isinstance(s, ast.Vocabulary)}
        self.field_types = {f.name: f.type for s in statements if isinstance(s, ast.InputDecl) for f in s.fields}
        self.tables = {s.name: s for s in statements if isinstance(s, ast.Table)}

    def add(self, key: tuple, span: ast.Span, definition: bool = False, length: int | None = None,
            scope: str | None = None):
        if span.line < 1:
            return
        end = span.column + length if length is not None else (
            span.end_column if span.end_line == span.line else span.column + len(key[-1]))
        self.occurrences.append(Occurrence(key, span.file, span.line, span.column, end, definition, scope))

    def vocabulary_of(self, column: str | None) -> str | None:
        if column is None:
            return None
        if column in self.vocabularies:
            return column
        declared = self.field_types.get(column)
        if declared in self.vocabularies:
            return declared
        field = self.sets.get(column)
        return self.vocabulary_of(field) if field and field != column else None

    def resolve(self, text: str, column: str | None = None) -> tuple | None:
        """What a bare word names where `column` reads it (None: no column)."""
        if column == "finding" and text in self.findings:
            return ("finding", text)
        if text in self.consts:
            return ("const", text)
        if text in self.sets:
            return ("set", text)
        vocabulary = self.vocabulary_of(column)
        if vocabulary and text in self.vocabularies[vocabulary]:
            return ("value", vocabulary, text)
        if text in self.codes:
            return ("code", text)
        if text in self.findings:
            return ("finding", text)
        for name, words in sorted(self.vocabularies.items()):
            if text in words:
                return ("value", name, text)
        return None

    def value(self, value, column: str | None = None, scope: str | None = None):
        if isinstance(value, (ast.Name, ast.Number)):
            key = self.resolve(value.text, column)
            if key is not None:
                self.add(key, value.span, length=len(value.text), scope=scope)

    def cell(self, cell, column: str | None, scope: str | None):
        if isinstance(cell, ast.Alternatives):
            for value in cell.values:
                self.value(value, column, scope)
        elif isinstance(cell, ast.Negated):
            self.cell(cell.alternatives, column, scope)
        elif isinstance(cell, ast.Comparison):
            self.value(cell.value, column, scope)
        elif isinstance(cell, ast.Between):
            self.value(cell.low, column, scope)
            self.value(cell.high, column, scope)

    def refs(self, node):
        for ref in getattr(node, "refs", ()) or ():
            self.add(("source", ref.source), ref.span, length=len(ref.source))

    def rows(self, table_name: str, node, scope: str | None, amend: bool):
        base = self.tables.get(table_name)
        base_ids = {row.id for row in base.rows} if base is not None else set()
        for column in node.inputs[1:] + node.outputs:
            self.add(("column", column.name), column.span, length=len(column.name), scope=scope)
        for row in node.rows:
            replaces = amend and row.id in base_ids
            self.add(("row", table_name, row.id), row.span, definition=not replaces, length=len(row.id))
            if not replaces:
                self.nodes[("row", table_name, row.id)].append((node, row))
            for column, cell in zip(node.inputs[1:], row.inputs):
                self.cell(cell, column.name, scope)
            for column, cell in zip(node.outputs, row.outputs):
                self.cell(cell, column.name, scope)

    def statement(self, node):
        self.refs(node)
        if isinstance(node, ast.Source):
            self.define(("source", node.id), node)
        elif isinstance(node, ast.Vocabulary):
            self.define(("vocabulary", node.name), node)
            for word in node.values:
                self.add(("value", node.name, word.text), word.span, definition=True, length=len(word.text))
                self.nodes[("value", node.name, word.text)].append(node)
        elif isinstance(node, ast.ValueSet):
            self.define(("set", node.name), node)
            for word in node.values:
                self.value(word, node.field)
        elif isinstance(node, ast.Const):
            self.define(("const", node.name), node)
            self.value(node.value)
        elif isinstance(node, (ast.CodeDecl, ast.ModifierDecl)):
            self.define(("code", node.code), node)
        elif isinstance(node, ast.FindingDecl):
            self.define(("finding", node.id), node)
        elif isinstance(node, ast.Table):
            self.define(("table", node.name), node)
            self.rows(node.name, node, node.scope, amend=False)
        elif isinstance(node, ast.Amend):
            self.add(("table", node.table), node.span, length=len(node.table))
            base = self.tables.get(node.table)
            self.rows(node.table, node, base.scope if base else None, amend=True)
        elif isinstance(node, ast.Merge):
            for condition in (node.combine, node.minus):
                if condition is not None:
                    for word in condition.values:
                        self.value(word, condition.field)
        elif isinstance(node, ast.Initial):
            for ranking in node.rankings:
                for word in (*ranking.order, *ranking.primary_of):
                    self.value(word)
            for word in node.concurrent:
                self.value(word)
        elif isinstance(node, ast.Units):
            self.value(node.part)
        elif isinstance(node, ast.Edit):
            for clause in node.clauses:
                if isinstance(clause, ast.Require):
                    for word in (*clause.addons, *clause.primaries):
                        self.value(word)
                elif isinstance(clause, ast.Limit):
                    self.value(clause.code)
                elif isinstance(clause, ast.Pair):
                    for word in (*clause.column1, *clause.column2):
                        self.value(word)
                elif isinstance(clause, (ast.PairsFrom, ast.LimitsFrom)):
                    for condition in clause.where:
                        for word in condition.values:
                            self.value(word, condition.field)
                if isinstance(clause, (ast.Pair, ast.PairsFrom)):
                    for distinction in clause.distinctions:
                        self.value(distinction.modifier)
                        if distinction.missing is not None:
                            self.add(("finding", distinction.missing), distinction.missing_span,
                                     length=len(distinction.missing))
            self.add(("finding", node.finding), node.finding_span, length=len(node.finding))
        elif isinstance(node, ast.InputDecl):
            for item in (*node.fields, *node.derived):
                self.define(("column", item.name), item)
            for line in node.undeclared:
                self.add(("finding", line.finding), line.span, length=len(line.finding))
            for derived in node.derived:
                for condition in derived.derivation.where:
                    for word in condition.values:
                        self.value(word, condition.field)

    def define(self, key: tuple, node):
        self.add(key, node.span, definition=True, length=len(key[-1]))
        self.nodes[key].append(node)


def build(statements: list) -> Index:
    """The index of a folder's statements: the base's (includes followed), then each
    variant file's own, so a variant's definitions come after the base's."""
    builder = _Builder(statements)
    for node in statements:
        builder.statement(node)
    by_file: dict = defaultdict(list)
    definitions: dict = defaultdict(list)
    references: dict = defaultdict(list)
    for occurrence in builder.occurrences:
        by_file[occurrence.file].append(occurrence)
        (definitions if occurrence.definition else references)[occurrence.key].append(occurrence)
    for found in by_file.values():
        found.sort(key=lambda o: (o.line, o.column))
    return Index(dict(by_file), dict(definitions), dict(references), dict(builder.nodes))
