"""The outline of one file: tables (with their rows), constants, vocabularies, sets, codes,
findings, sources and the other stages, from the file's parsed statements."""
from __future__ import annotations

from lsprotocol import types

from dsl import ast
from engine.lsp.positions import span_range

_KINDS = {
    ast.Table: types.SymbolKind.Class, ast.Amend: types.SymbolKind.Class, ast.Const: types.SymbolKind.Constant,
    ast.Vocabulary: types.SymbolKind.Enum, ast.ValueSet: types.SymbolKind.Array,
    ast.CodeDecl: types.SymbolKind.Number, ast.ModifierDecl: types.SymbolKind.Number,
    ast.FindingDecl: types.SymbolKind.Event, ast.Source: types.SymbolKind.String,
    ast.Merge: types.SymbolKind.Function, ast.Initial: types.SymbolKind.Function,
    ast.Units: types.SymbolKind.Function, ast.Edit: types.SymbolKind.Function,
}


def _name(node) -> tuple[str, str]:
    if isinstance(node, ast.Table):
        return node.name, f"table {node.policy} per {node.scope}"
    if isinstance(node, ast.Amend):
        return node.table, "amend table"
    if isinstance(node, ast.Const):
        return node.name, f"= {node.value.text}"
    if isinstance(node, (ast.CodeDecl, ast.ModifierDecl)):
        return node.code, node.text
    if isinstance(node, ast.FindingDecl):
        return node.id, node.severity
    if isinstance(node, ast.Source):
        return node.id, "source"
    return node.name, type(node).__name__.lower()


def document_symbols(statements: list, lines: list[str]) -> list[types.DocumentSymbol]:
    found = []
    for node in statements:
        kind = _KINDS.get(type(node))
        if kind is None:
            continue
        name, detail = _name(node)
        selection = span_range(node.span, lines)
        children = None
        whole = selection
        if isinstance(node, (ast.Table, ast.Amend)) and node.rows:
            children = [types.DocumentSymbol(name=row.id, kind=types.SymbolKind.Field,
                                             range=span_range(row.span, lines),
                                             selection_range=span_range(row.span, lines))
                        for row in node.rows]
            last = node.rows[-1].span.line - 1
            end = len(lines[last]) if last < len(lines) else 0
            whole = types.Range(types.Position(selection.start.line, 0), types.Position(last, end))
        found.append(types.DocumentSymbol(name=name, detail=detail, kind=kind, range=whole,
                                          selection_range=selection, children=children))
    return found
