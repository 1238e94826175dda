"""Completion items from the text before the cursor, so a half-typed line still completes.

- inside `[...]`: the declared sources, with their citation;
- after a comparison (`<`, `<=`, `>`, `>=`): the constants, with their value;
- on a table's header line: the columns its scope may read (engine.analyst.columns) and
  the output columns;
- in a row's cell: the words of that column's vocabulary and the sets of its field (input
  columns), or the vocabulary, codes, modifiers, findings or units rules an output column takes.

Which table a line belongs to is read from the text above it (a row is indented; the table
starts at an unindented `table NAME` or `amend table NAME` line), not from the parse.
"""
from __future__ import annotations

import re

from lsprotocol import types

from dsl import ast
from engine.analyst.columns import columns
from engine.core.schema import MEANINGS, SCHEMA
from engine.lsp.workspace import Analysis

_TABLE = re.compile(r"^(?:table|amend\s+table)\s+([A-Za-z_][\w.\-]*)")
_COMPARISON = re.compile(r"(<=|>=|<|(?<!=)>)\s*[\w.\-]*$")
_CELL_WORDS = ("*", "-", "missing", "unknown", "not")


def complete(lines: list[str], line: int, column: int, analysis: Analysis,
             checked: Analysis | None) -> list[types.CompletionItem]:
    """Items for the cursor at (line, column), 1-based in code points."""
    text = lines[line - 1][:column - 1] if 0 < line <= len(lines) else ""
    index = analysis.index
    if text.rfind("[") > text.rfind("]"):
        return [_item(node.id, types.CompletionItemKind.Reference, "source", node.text)
                for key, nodes in sorted(index.nodes.items()) if key[0] == "source" for node in nodes[-1:]]
    if _COMPARISON.search(text):
        return [_item(node.name, types.CompletionItemKind.Constant, f"= {node.value.text}", node.doc)
                for key, nodes in sorted(index.nodes.items()) if key[0] == "const" for node in nodes[-1:]
                if isinstance(node.value, (ast.Duration, ast.Number))]
    table = _enclosing_table(lines, line)
    if table is None:
        return []
    name, header_line = table
    scope = next((node.scope for node in index.nodes.get(("table", name), [])), None)
    ruleset = checked.family.base if checked is not None and checked.family is not None else None
    if header_line is None or header_line == line:
        return _columns(ruleset, scope, index)
    header = lines[header_line - 1]
    inputs, _, outputs = header.partition("=>")
    if "=>" in text:
        names = [c.strip() for c in outputs.split("|")]
        position = text.partition("=>")[2].count("|")
        return _output_values(names[position] if position < len(names) else None, ruleset, index)
    names = [c.strip() for c in inputs.split("|")]
    position = text.count("|")
    if position == 0 or position >= len(names):
        return []
    return _input_values(names[position], scope, ruleset, index)


def _item(label: str, kind, detail: str | None = None, documentation: str | None = None) -> types.CompletionItem:
    return types.CompletionItem(label=label, kind=kind, detail=detail, documentation=documentation)


def _enclosing_table(lines: list[str], line: int) -> tuple[str, int | None] | None:
    """(table name, 1-based line of its header or None) for a line inside a table."""
    current = lines[line - 1] if 0 < line <= len(lines) else ""
    if current[:1] not in (" ", "\t"):
        return None
    for number in range(line - 1, 0, -1):
        above = lines[number - 1]
        if not above.strip() or above.lstrip().startswith("#") or above[:1] in (" ", "\t"):
            continue
        found = _TABLE.match(above)
        if not found:
            return None
        header = None
        for candidate in range(number + 1, line + 1):
            stripped = lines[candidate - 1].strip()
            if stripped and not stripped.startswith(("#", '"')):
                header = candidate
                break
        return found.group(1), header
    return None


def _columns(ruleset, scope: str | None, index) -> list[types.CompletionItem]:
    if ruleset is None:  # the folder has not checked yet: the declared fields, as written
        items = {key[1]: _item(key[1], types.CompletionItemKind.Field, "field", nodes[0].meaning)
                 for key, nodes in sorted(index.nodes.items()) if key[0] == "column"}
    else:
        found = [c for c in columns(ruleset, MEANINGS) if scope is None or c.scope == scope]
        items = {c.name: _item(c.name, types.CompletionItemKind.Field,
                               f"{c.kind}: {', '.join(c.values)}" if c.values else c.kind,
                               f"{c.meaning} [{c.source}]") for c in found}
    for name, kind in SCHEMA.outputs.items():
        items.setdefault(name, _item(name, types.CompletionItemKind.Field, f"output ({kind})"))
    for name in index.names("vocabulary"):
        items.setdefault(name, _item(name, types.CompletionItemKind.Field, "output (vocabulary)"))
    return list(items.values())


def _input_values(column: str, scope: str | None, ruleset, index) -> list[types.CompletionItem]:
    words: tuple = ()
    if ruleset is not None:
        found = [c for c in columns(ruleset, MEANINGS) if c.name == column and (scope is None or c.scope == scope)]
        words = found[0].values if found else ()
    if not words:
        vocabulary = next((key[1] for key in index.definitions if key[0] == "value" and key[1] == column), None)
        words = tuple(index.words(vocabulary)) if vocabulary else ()
    items = [_item(word, types.CompletionItemKind.EnumMember, f"{column}") for word in words]
    items += [_item(node.name, types.CompletionItemKind.Variable, f"set of {node.field}",
                    ", ".join(v.text for v in node.values))
              for key, nodes in sorted(index.nodes.items()) if key[0] == "set" for node in nodes[-1:]
              if node.field == column]
    return items + [_item(word, types.CompletionItemKind.Keyword) for word in _CELL_WORDS]


def _output_values(column: str | None, ruleset, index) -> list[types.CompletionItem]:
    kind = SCHEMA.outputs.get(column or "")
    items = []
    if kind in ("code", "modifier"):
        wanted = ast.CodeDecl if kind == "code" else ast.ModifierDecl
        items = [_item(node.code, types.CompletionItemKind.Value, node.text)
                 for key, nodes in sorted(index.nodes.items()) if key[0] == "code" for node in nodes[-1:]
                 if isinstance(node, wanted)]
        if kind == "modifier":
            items += [_item(node.name, types.CompletionItemKind.Constant, f"= {node.value.text}", node.doc)
                      for key, nodes in sorted(index.nodes.items()) if key[0] == "const" for node in nodes[-1:]
                      if isinstance(node.value, ast.Name)]
    elif kind == "finding":
        items = [_item(node.id, types.CompletionItemKind.Event, node.severity, node.message)
                 for key, nodes in sorted(index.nodes.items()) if key[0] == "finding" for node in nodes[-1:]]
    elif kind == "units" and ruleset is not None:
        items = [_item(name, types.CompletionItemKind.Function, "units rule") for name in sorted(ruleset.units)]
    elif kind == "bool":
        items = [_item(word, types.CompletionItemKind.Keyword) for word in ("yes", "no")]
    elif column:
        items = [_item(word, types.CompletionItemKind.EnumMember, column) for word in index.words(column)]
    return items + [_item("-", types.CompletionItemKind.Keyword, "no output")]
