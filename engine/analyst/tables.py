"""The decision tables of a checked ruleset as a reviewer reads them: markdown, CSV or HTML.

A checked table keeps predicates, not the words an analyst wrote, so the cells are taken
from the AST row each checked row keeps (a payer's amended row with the base row's cells
where the amend lists none), and each cell is shown as written, with every constant by
name and value (`> push_limit` followed by its value in brackets) and every named set with
its members. Nothing is read or parsed again. `explain` shares this written form to word
its conditions.

Example:
    tables = written_tables(ruleset)
    print(render([(ruleset, tables)], "markdown"))
"""
from __future__ import annotations

import csv
import html
import io
import itertools
import re

import attrs

from dsl import ast
from dsl.checked import CheckedRow, CheckedRuleset, CheckedTable, Predicate
from dsl.show import const_text

FORMATS = ("markdown", "csv", "html")

class SourceChanged(Exception):
    """The ruleset keeps no rule text for a row or statement asked for: it was built in
    code, not loaded from rule files."""


def location(span: ast.Span) -> str:
    """`file:line` of a rule, as a person opens it."""
    return f"{span.file}:{span.line}"


@attrs.frozen
class WrittenCell:
    """One cell as written; `node` is its AST cell (None for an empty cell)."""

    column: str
    text: str
    node: object = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen
class WrittenRow:
    id: str
    location: str
    inputs: tuple[WrittenCell, ...]
    outputs: tuple[WrittenCell, ...]


@attrs.frozen
class WrittenTable:
    name: str
    policy: str
    scope: str
    doc: str | None
    citations: tuple[tuple[str, str], ...]  # (source id, source text)
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    rows: tuple[WrittenRow, ...]
    location: str


class RulesetSource:
    """The rule text behind a checked ruleset, from what it keeps: the statements and file
    texts it was checked from, and each table row's AST row."""

    def __init__(self, ruleset: CheckedRuleset):
        self.ruleset = ruleset
        self._statements = {_position(node.span): node for node in ruleset.statements}

    def statement(self, span: ast.Span):
        """The AST statement that starts at `span`."""
        node = self._statements.get(_position(span))
        if node is None:
            raise SourceChanged(f"{location(span)}: the ruleset keeps no statement there")
        return node

    def row(self, table: CheckedTable, row: CheckedRow) -> WrittenRow:
        """A checked row with its cells as written, one per column of the checked table."""
        if row.node is None:
            raise SourceChanged(f"{location(row.span)}: the ruleset keeps no text of row '{row.id}' "
                                f"of table '{table.name}'")
        inputs = tuple(WrittenCell(column, self._cell_text(cell, field_type.kind, predicate), cell)
                       for column, field_type, predicate, cell
                       in zip(table.inputs, table.input_types, row.predicates, row.node.inputs))
        # A row may leave its last output cells out: blank.
        outputs = tuple(WrittenCell(column, self._cell_text(cell, "output", None), cell)
                        for column, cell in itertools.zip_longest(table.outputs, row.node.outputs))
        return WrittenRow(row.id, location(row.span), inputs, outputs)

    def _cell_text(self, cell, kind: str, predicate: Predicate | None) -> str:
        if cell is None:
            return "*" if predicate is not None else ""
        if isinstance(cell, ast.AnyCell):
            return "*"
        if isinstance(cell, ast.BlankCell):
            return "-"
        if isinstance(cell, ast.MissingCell):
            return _source_slice(self.ruleset.texts[cell.span.file], cell.span)
        if isinstance(cell, ast.Negated):
            return "not " + self._cell_text(cell.alternatives, kind, predicate)
        if isinstance(cell, ast.Comparison):
            return f"{cell.operator} {self.value_text(cell.value, kind)}"
        if isinstance(cell, ast.Between):
            return f"{self.value_text(cell.low, kind)} .. {self.value_text(cell.high, kind)}"
        named = [v for v in cell.values if isinstance(v, ast.Name)]
        literal = {v.text for v in named if predicate is None or v.text in predicate.values}
        sets = [v.text for v in named
                if kind != "bool" and v.text not in literal and v.text not in self.ruleset.consts]
        parts = []
        for value in cell.values:
            if isinstance(value, ast.Name) and len(sets) == 1 and value.text == sets[0]:
                members = sorted(predicate.values - literal, key=_natural)
                parts.append(f"{value.text} ({', '.join(str(m) for m in members)})")
            else:
                parts.append(self.value_text(value, kind))
        return ", ".join(parts)

    def value_text(self, value, kind: str) -> str:
        """One value of a cell: a literal as written, a constant with its value."""
        if isinstance(value, (ast.Duration, ast.Number)):
            return value.text
        if value.text in self.ruleset.consts:
            return const_text(value.text, self.ruleset.consts[value.text], kind)
        return value.text


def _position(span: ast.Span) -> tuple:
    return (span.file, span.line, span.column)


def _source_slice(text: str, span: ast.Span) -> str:
    line = text.split("\n")[span.line - 1].removesuffix("\r")
    return line[span.column - 1:span.end_column - 1]


def _natural(value) -> tuple:
    return (0, int(value), "") if str(value).isdigit() else (1, 0, str(value))


def written_tables(ruleset: CheckedRuleset, source: RulesetSource | None = None) -> tuple[WrittenTable, ...]:
    """Every decision table of the ruleset in run order, its cells as written."""
    source = source or RulesetSource(ruleset)
    return tuple(
        WrittenTable(stage.name, stage.policy, stage.scope, stage.doc,
                     tuple((ref, ruleset.sources.get(ref, ref)) for ref in dict.fromkeys(stage.refs)),
                     stage.inputs, stage.outputs, tuple(source.row(stage, row) for row in stage.rows),
                     location(stage.span))
        for stage in ruleset.stages if isinstance(stage, CheckedTable))


def title(ruleset: CheckedRuleset) -> str:
    payer = f", payer {ruleset.payer}" if ruleset.payer else ""
    return (f"{ruleset.name} {ruleset.version}{payer} "
            f"(effective {ruleset.effective[0]} .. {ruleset.effective[1]}; {ruleset.digest})")


# ----- markdown ---------------------------------------------------------------

_MARKDOWN_SPECIAL = re.compile(r"([\\|])|<(?=[A-Za-z/!?])")


def _md(text: str) -> str:
    """Text safe in a markdown table cell: on one line, pipes escaped, no raw HTML tag."""
    text = " ".join(str(text).split())
    return _MARKDOWN_SPECIAL.sub(lambda m: "&lt;" if m.group(1) is None else "\\" + m.group(1), text)


def render_markdown(documents) -> str:
    out = []
    for ruleset, tables in documents:
        out += [f"# Decision tables of {_md(title(ruleset))}", ""]
        for table in tables:
            out += [f"## {_md(table.name)}", "",
                    f"Hit policy **{_md(table.policy)}**, one decision per {_md(table.scope)}; {_md(table.location)}", ""]
            if table.doc:
                out += [_md(table.doc), ""]
            out += ["Sources:", ""] + [f"- {_md(ref)}: {_md(text)}" for ref, text in table.citations] + [""]
            header = ["id", *table.inputs, *(f"=> {c}" if i == 0 else c for i, c in enumerate(table.outputs)),
                      "location"]
            out.append("| " + " | ".join(_md(c) for c in header) + " |")
            out.append("|" + "---|" * len(header))
            for row in table.rows:
                cells = [row.id, *(c.text for c in row.inputs), *(c.text for c in row.outputs), row.location]
                out.append("| " + " | ".join(_md(c) for c in cells) + " |")
            out.append("")
    return "\n".join(out)


# ----- csv --------------------------------------------------------------------

def render_csv(documents) -> str:
    """One block per table: its description lines, a header row, its rows, a blank line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for ruleset, tables in documents:
        writer.writerow(["ruleset", title(ruleset)])
        writer.writerow([])
        for table in tables:
            writer.writerow(["table", table.name, "hit policy", table.policy, "per", table.scope,
                             "location", table.location])
            writer.writerow(["doc", table.doc or ""])
            writer.writerow(["sources", *(f"{ref}: {text}" for ref, text in table.citations)])
            writer.writerow(["id", *table.inputs, "=>", *table.outputs, "location"])
            for row in table.rows:
                writer.writerow([row.id, *(c.text for c in row.inputs), "=>", *(c.text for c in row.outputs),
                                 row.location])
            writer.writerow([])
    return buffer.getvalue()


# ----- html -------------------------------------------------------------------

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1b1b1b; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.15rem; margin-top: 2.5rem; }
.meta, .where { color: #555; font-size: .9rem; }
table { border-collapse: collapse; margin: .8rem 0; font-size: .85rem; }
th, td { border: 1px solid #ccc; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #f1f1f1; } td.out { background: #f7fbff; } th.out { background: #e3effa; }
td.id { font-family: ui-monospace, monospace; white-space: nowrap; }
td.any { color: #999; } tr:target { outline: 2px solid #e0a000; }
ul.sources { font-size: .85rem; }
"""


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _anchor(*parts: str) -> str:
    return "-".join(re.sub(r"[^A-Za-z0-9_.-]", "_", p) for p in parts)


def render_html(documents) -> str:
    """One self-contained page: inline style, no script, every text escaped."""
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           "<title>Decision tables: " + _e(", ".join(f"{r.name} {r.version}" for r, _ in documents)) + "</title>",
           f"<style>{_STYLE}</style>", "</head>", "<body>"]
    for ruleset, tables in documents:
        prefix = (ruleset.name, ruleset.version)
        out.append(f"<h1>Decision tables of {_e(title(ruleset))}</h1>")
        out.append("<nav><ul>" + "".join(f'<li><a href="#{_e(_anchor(*prefix, t.name))}">{_e(t.name)}</a></li>'
                                         for t in tables) + "</ul></nav>")
        for table in tables:
            out.append(f'<section id="{_e(_anchor(*prefix, table.name))}">')
            out.append(f"<h2>{_e(table.name)}</h2>")
            out.append(f'<p class="meta">Hit policy <strong>{_e(table.policy)}</strong>, one decision per '
                       f'{_e(table.scope)}; <span class="where">{_e(table.location)}</span></p>')
            if table.doc:
                out.append(f"<p>{_e(table.doc)}</p>")
            out.append('<ul class="sources">' + "".join(f"<li><strong>{_e(ref)}</strong>: {_e(text)}</li>"
                                                        for ref, text in table.citations) + "</ul>")
            out.append("<table><thead><tr><th>id</th>" + "".join(f"<th>{_e(c)}</th>" for c in table.inputs)
                       + "".join(f'<th class="out">{_e(c)}</th>' for c in table.outputs)
                       + "<th>location</th></tr></thead><tbody>")
            for row in table.rows:
                cells = "".join('<td class="any">*</td>' if c.text == "*" else f"<td>{_e(c.text)}</td>"
                                for c in row.inputs)
                cells += "".join(f'<td class="out">{_e(c.text)}</td>' for c in row.outputs)
                out.append(f'<tr id="{_e(_anchor(*prefix, table.name, row.id))}"><td class="id">{_e(row.id)}</td>'
                           f'{cells}<td class="where">{_e(row.location)}</td></tr>')
            out.append("</tbody></table></section>")
    out += ["</body>", "</html>", ""]
    return "\n".join(out)


_RENDERERS = {"markdown": render_markdown, "csv": render_csv, "html": render_html}


def render(documents, fmt: str) -> str:
    """The tables of each (ruleset, written tables) pair, in one of FORMATS."""
    return _RENDERERS[fmt](documents)
