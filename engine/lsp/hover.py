"""What a hover shows, as Markdown, for the name under the cursor.

A constant: its value, doc string, sources and the rows it splits (dsl.analysis.thresholds);
a column: its type, meaning and where it is declared (engine.analyst.columns, as `infuse
columns` lists it); a code: its kind and description; a finding: its severity and message;
a source: its citation; a row id: the row's effect; a table, vocabulary, word or set: what
it declares. Each definition is shown with its file when a payer variant redefines it.
"""
from __future__ import annotations

from dsl import ast
from engine.analyst.columns import columns
from engine.core.schema import MEANINGS
from engine.lsp.index import Index, Occurrence
from engine.lsp.positions import lines_of
from engine.lsp.workspace import Analysis


def hover_text(occurrence: Occurrence, analysis: Analysis, checked: Analysis | None) -> str | None:
    """Markdown for the occurrence; `checked` is the latest analysis whose folder checked
    (types, thresholds and columns come from it), None when none has."""
    index = analysis.index
    kind, *names = occurrence.key
    nodes = index.nodes.get(occurrence.key, [])
    show = _SHOW.get(kind)
    if kind == "column":
        return _column(names[0], occurrence.scope, nodes, checked)
    if show is None or not nodes:
        return None
    return show(occurrence.key, nodes, analysis, checked)


def _cited(refs, index: Index) -> str:
    if not refs:
        return ""
    cited = []
    for ref in refs:
        source = next(iter(index.nodes.get(("source", ref.source), [])), None)
        cited.append(f"- `{ref.source}`: {source.text}" if source else f"- `{ref.source}`")
    return "\n\nSources:\n" + "\n".join(cited)


def _where(node, many: bool) -> str:
    return f" *({node.span.file}:{node.span.line})*" if many else ""


def _const(key, nodes, analysis: Analysis, checked: Analysis | None) -> str:
    parts = []
    for node in nodes:
        text = f"**const {node.name}** = `{node.value.text}`{_where(node, len(nodes) > 1)}"
        if node.doc:
            text += f"\n\n{node.doc}"
        parts.append(text + _cited(node.refs, analysis.index))
    splits = (checked or analysis).thresholds().get(key[1], [])
    base_uses = next((uses for payer, uses in splits if not payer), None)
    lines = [f"- {payer or 'base'}: {', '.join(uses)}" for payer, uses in splits if not payer or uses != base_uses]
    if lines:
        parts.append("Splits the rows:\n" + "\n".join(lines))
    return "\n\n---\n\n".join(parts)


def _code(key, nodes, analysis: Analysis, checked) -> str:
    parts = []
    for node in nodes:
        kind = f" ({node.kind})" if isinstance(node, ast.CodeDecl) else " (modifier)"
        parts.append(f"**{node.code}**{kind}{_where(node, len(nodes) > 1)}: {node.text}"
                     + _cited(node.refs, analysis.index))
    return "\n\n---\n\n".join(parts)


def _finding(key, nodes, analysis: Analysis, checked) -> str:
    return "\n\n---\n\n".join(f"**finding {node.id}** ({node.severity}){_where(node, len(nodes) > 1)}\n\n"
                              f"{node.message}" + _cited(node.refs, analysis.index) for node in nodes)


def _source(key, nodes, analysis: Analysis, checked) -> str:
    return "\n\n".join(f"**source {node.id}**: {node.text}" for node in nodes)


def _vocabulary(key, nodes, analysis: Analysis, checked) -> str:
    return "\n\n".join(f"**vocabulary {node.name}**: {', '.join(v.text for v in node.values)}"
                       + _cited(node.refs, analysis.index) for node in nodes)


def _value(key, nodes, analysis: Analysis, checked) -> str:
    return f"**{key[2]}**: a word of vocabulary `{key[1]}` ({', '.join(v.text for v in nodes[-1].values)})"


def _set(key, nodes, analysis: Analysis, checked) -> str:
    return "\n\n".join(f"**set {node.name}** of `{node.field}`: {', '.join(v.text for v in node.values)}"
                       + _cited(node.refs, analysis.index) for node in nodes)


def _table(key, nodes, analysis: Analysis, checked) -> str:
    parts = []
    for node in nodes:
        text = (f"**table {node.name}** {node.policy} per {node.scope}{_where(node, len(nodes) > 1)}: "
                f"{len(node.rows)} rows; reads {', '.join(c.name for c in node.inputs[1:])}; "
                f"gives {', '.join(c.name for c in node.outputs)}")
        if node.doc:
            text += f"\n\n{node.doc}"
        parts.append(text + _cited(node.refs, analysis.index))
    return "\n\n---\n\n".join(parts)


def _row(key, nodes, analysis: Analysis, checked) -> str:
    parts = []
    for table, row in nodes:
        line = _line(analysis, row.span)
        cells = [c.strip() for c in line.split("=>", 1)[-1].split("|")] if "=>" in line else []
        effects = [f"{column.name} = {cell}" for column, cell in zip(table.outputs, cells) if cell and cell != "-"]
        conditions = [c.strip() for c in line.split("=>", 1)[0].split("|")[1:]]
        reads = [f"{column.name} {cell}" for column, cell in zip(table.inputs[1:], conditions) if cell and cell != "*"]
        parts.append(f"**{table.name}/{row.id}** ({row.span.file}:{row.span.line})\n\n"
                     f"when: {'; '.join(reads) or 'always'}\n\n"
                     f"gives: {'; '.join(effects) or 'nothing (no output)'}")
    for amended in analysis.index.references.get(key, []):
        parts.append(f"amended in {amended.file}:{amended.line}")
    return "\n\n".join(parts)


def _line(analysis: Analysis, span: ast.Span) -> str:
    lines = lines_of(analysis.texts.get(span.file, ""))
    return lines[span.line - 1] if 0 < span.line <= len(lines) else ""


def _column(name: str, scope: str | None, nodes: list, checked: Analysis | None) -> str | None:
    if checked is not None and checked.family is not None:
        found = [c for c in columns(checked.family.base, MEANINGS) if c.name == name]
        chosen = [c for c in found if c.scope == scope] or found[:1]
        if chosen:
            c = chosen[0]
            kind = f"{c.kind}: {', '.join(c.values)}" if c.values else c.kind
            scopes = sorted({f.scope for f in found})
            return (f"**column {c.name}** ({kind})\n\n{c.meaning}\n\nfrom {c.source}; "
                    f"read per {', '.join(scopes)}")
    if nodes:
        node = nodes[0]
        return f"**{node.name}** ({node.span.file}:{node.span.line}): {node.meaning or ''}"
    return None


_SHOW = {"const": _const, "code": _code, "finding": _finding, "source": _source, "vocabulary": _vocabulary,
         "value": _value, "set": _set, "table": _table, "row": _row}
