"""The canonical layout of a rule file, for `infuse fmt`.

Only whitespace changes: every token keeps its text and its order and every comment
stays word for word, so the statements parsed from the output equal those parsed
from the input. The parse gives the structure (where each statement, table header,
row and ranking line starts); the source lines give the tokens, and the comments
the parse drops.

The layout:
- a statement starts at column 0, its further lines are indented two spaces
  (the rankings of `order by` four, their first names aligned);
- tokens are one space apart, with no space before `,` `:` `]` or after `[`;
- table header and rows are aligned into columns, `|` and `=>` one above the other;
- the quoted meanings of an input declaration's `field` and `derive` lines start in one column;
- statements of different kinds are one blank line apart; consecutive statements
  of one kind (codes, sources, findings, ...) keep the author's grouping: together,
  or one blank line apart; a run of them kept together has its `[refs]` aligned;
  runs of blank lines shrink to one and blank lines inside a statement go;
- a whole-line comment is indented like the code line it precedes inside a
  statement, or at column 0 between statements; an end-of-line comment follows
  its line after two spaces (in a table, after the widest row).

Example:
    formatted = format_text(path.read_text(), str(path))
"""
from __future__ import annotations

import re

import attrs

from dsl import ast
from dsl.parser import parse

_TOKEN = re.compile(r'''
    (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<comment>\#.*)
  | (?P<space>[ \t]+)
  | (?P<token>=>|<=|>=|\.\.|[<>|,:\[\]()=*-]
      |\d{4}-\d{2}-\d{2}|\d+(?:\.\d+)+|\d+|[A-Za-z_][A-Za-z0-9_]*(?:[.\-][A-Za-z0-9_]+)*)
''', re.VERBOSE)

_HEADER_KINDS = (ast.RulesetHeader, ast.Extends, ast.PayerDecl, ast.Effective)
_NO_SPACE_BEFORE = {",", ":", "]", "(", ")"}
_INDENT = "  "


@attrs.frozen
class _Line:
    """One source line: its tokens (empty for a blank or comment-only line) and comment."""

    number: int
    tokens: tuple[str, ...]
    comment: str | None


@attrs.define
class _Statement:
    """A statement's AST node, its source lines, and the gap before it."""

    node: object
    lines: list  # _Line, code and comment-only, in order
    gap: list  # the blank and comment-only _Lines before the statement


@attrs.frozen
class _Out:
    """One output line; a statement's first line keeps its `[refs]` apart for aligning them."""

    text: str
    head: str = ""
    refs: str = ""
    comment: str | None = None


_BLANK = _Out("")


def format_text(text: str, path: str = "<text>") -> str:
    """The canonical layout of one file; raises RulesetError when the text does not parse."""
    module = parse(text, path)
    lines = [_split(number, raw.removesuffix("\r")) for number, raw in enumerate(text.split("\n"), start=1)]
    statements, tail = _group(lines, {s.span.line: s for s in module.statements})
    out: list[_Out] = []
    runs: list[list[int]] = []  # the first lines (indices in `out`) of statements kept together
    previous = None
    for statement in statements:
        gap = _gap(statement.gap, previous, statement)
        if gap or previous is None or _kind(previous.node) != _kind(statement.node):
            runs.append([])
        out.extend(gap)
        runs[-1].append(len(out))
        out.extend(_statement(statement))
        previous = statement
    out.extend(_gap(tail, previous, None))
    for run in runs:
        _align_refs(out, run)
    return "\n".join(line.text for line in out).rstrip("\n") + "\n" if out else ""


def _split(number: int, raw: str) -> _Line:
    """Tokens and comment of one line (the text parsed, so every character is known)."""
    tokens, comment, position = [], None, 0
    while position < len(raw):
        match = _TOKEN.match(raw, position)
        if match is None:
            raise ValueError(f"line {number}: unexpected character {raw[position]!r}")
        if match.lastgroup == "comment":
            comment = match.group().rstrip()
        elif match.lastgroup != "space":
            tokens.append(match.group())
        position = match.end()
    return _Line(number, tuple(tokens), comment)


def _group(lines: list[_Line], starts: dict) -> tuple[list[_Statement], list[_Line]]:
    """Statements with their code and inner comment lines; the gap lines before each."""
    statements: list[_Statement] = []
    pending: list[_Line] = []
    for line in lines:
        if not line.tokens:
            pending.append(line)
        elif line.number in starts:
            statements.append(_Statement(starts[line.number], [line], pending))
            pending = []
        else:
            statements[-1].lines.extend(p for p in pending if p.comment is not None)
            statements[-1].lines.append(line)
            pending = []
    return statements, pending


def _kind(node) -> str:
    return "header" if isinstance(node, _HEADER_KINDS) else type(node).__name__


def _gap(gap: list[_Line], previous: _Statement | None, following: _Statement | None) -> list[_Out]:
    """Comments and blank lines between two statements (or at either end of the file)."""
    out: list[_Out] = []
    for line in gap:
        if line.comment is not None:
            out.append(_Out(line.comment))
        elif out and out[-1] is not _BLANK:
            out.append(_BLANK)
        elif not out and previous is not None:
            out.append(_BLANK)
    if following is None:
        while out and out[-1] is _BLANK:
            out.pop()
        return out
    if previous is not None and _kind(previous.node) != _kind(following.node) and _BLANK not in out:
        out.insert(0, _BLANK)
    return out


def _join(tokens) -> str:
    """Tokens one space apart, none before `,` `:` `]` `(` `)` nor after `[` `(`."""
    text = ""
    for i, token in enumerate(tokens):
        if i and token not in _NO_SPACE_BEFORE and tokens[i - 1] not in ("[", "("):
            text += " "
        text += token
    return text


def _with_comment(text: str, comment: str | None) -> str:
    return f"{text}  {comment}" if comment else text


def _statement(statement: _Statement) -> list[_Out]:
    node = statement.node
    first, *rest = statement.lines
    out = [_first_line(first)]
    table_lines = _table_lines(node)
    ranking_lines = {r.span.line for r in getattr(node, "rankings", ()) if r.key is not None}
    table = [line for line in rest if line.number in table_lines]
    rankings = [line for line in rest if line.number in ranking_lines]
    declared_lines = {item.span.line for item in (*getattr(node, "fields", ()), *getattr(node, "derived", ()))}
    declared = [line for line in rest if line.number in declared_lines]
    formatted = {**_format_table(table), **_format_rankings(rankings), **_format_meanings(declared)}
    for index, line in enumerate(rest):
        if line.tokens:
            out.append(_Out(formatted.get(line.number) or _with_comment(_INDENT + _join(line.tokens), line.comment)))
            continue
        following = next(x for x in rest[index:] if x.tokens)
        indent = "    " if following.number in ranking_lines else _INDENT
        out.append(_Out(indent + line.comment))
    return out


def _first_line(line: _Line) -> _Out:
    """A statement's first line, its `[refs]` kept apart so a run of statements can line them up."""
    tokens = line.tokens
    head, refs = tokens, ()
    if tokens[-1] == "]" and "[" in tokens:
        start = len(tokens) - 1 - tokens[::-1].index("[")
        head, refs = tokens[:start], tokens[start:]
    return _Out(_with_comment(_join(tokens), line.comment), head=_join(head), refs=_join(refs),
                comment=line.comment)


def _align_refs(out: list[_Out], run: list[int]) -> None:
    """Start the `[refs]` of the first lines at `run` in one column, one past the longest."""
    cited = [i for i in run if out[i].refs]
    if len(cited) < 2:
        return
    column = max(len(out[i].head) for i in cited) + 1
    for i in cited:
        line = out[i]
        out[i] = attrs.evolve(line, text=_with_comment(line.head.ljust(column) + line.refs, line.comment))


def _table_lines(node) -> set[int]:
    if not isinstance(node, (ast.Table, ast.Amend)) or not node.inputs:
        return set()
    return {node.inputs[0].span.line, *(row.span.line for row in node.rows)}


def _cells(tokens) -> tuple[list[str], list[str]]:
    """The cells of a header or row, split at `=>`; each cell's tokens joined."""
    arrow = tokens.index("=>")
    sides = []
    for part in (tokens[:arrow], tokens[arrow + 1:]):
        cells, current = [], []
        for token in part:
            if token == "|":
                cells.append(_join(current))
                current = []
            else:
                current.append(token)
        cells.append(_join(current))
        sides.append(cells)
    return sides[0], sides[1]


def _format_table(lines: list[_Line]) -> dict[int, str]:
    """Header and rows with every column as wide as its widest cell."""
    if not lines:
        return {}
    split = {line.number: _cells(line.tokens) for line in lines}
    widths = []
    for side in (0, 1):
        count = max(len(cells[side]) for cells in split.values())
        widths.append([max(len(cells[side][i]) for cells in split.values() if i < len(cells[side]))
                       for i in range(count)])
    full = len(" | ".join(" " * w for w in widths[0])) + len(" => ") + len(" | ".join(" " * w for w in widths[1]))
    formatted = {}
    for line in lines:
        left, right = split[line.number]
        text = (" | ".join(c.ljust(w) for c, w in zip(left, widths[0])) + " => "
                + " | ".join(c.ljust(w) for c, w in zip(right, widths[1]))).rstrip()
        if line.comment:
            text = text.ljust(full) + "  " + line.comment
        formatted[line.number] = _INDENT + text
    return formatted


def _format_meanings(lines: list[_Line]) -> dict[int, str]:
    """The `field` and `derive` lines of an input declaration, their quoted meanings starting
    in one column, one past the longest line before them."""
    split = {line.number: (line.tokens[:-1], line.tokens[-1]) if line.tokens[-1].startswith('"') else (line.tokens, "")
             for line in lines}
    width = max((len(_join(head)) for head, meaning in split.values() if meaning), default=0) + 1
    return {line.number: _with_comment(_INDENT + (_join(head).ljust(width) + meaning if meaning else _join(head)),
                                       line.comment)
            for line in lines for head, meaning in (split[line.number],)}


def _format_rankings(lines: list[_Line]) -> dict[int, str]:
    """`key: a > b` lines of an `order by` block, the rankings starting in one column."""
    if not lines:
        return {}
    width = max(len(line.tokens[0]) for line in lines) + 1
    return {line.number: _with_comment("    " + (line.tokens[0] + ":").ljust(width) + " " + _join(line.tokens[2:]),
                                       line.comment)
            for line in lines}
