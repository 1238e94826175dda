"""Positions: a dsl Span counts lines and columns from 1 in code points, end exclusive; the
Language Server Protocol counts from 0 in UTF-16 code units. Only a line with a character
outside the Basic Multilingual Plane tells them apart beyond the offset of one."""
from __future__ import annotations

from lsprotocol import types

from dsl.ast import Span


def lines_of(text: str) -> list[str]:
    """The lines as the parser counts them (only `\\n` ends a line)."""
    return [line.removesuffix("\r") for line in text.split("\n")]


def utf16_column(line: str, column: int) -> int:
    """The UTF-16 offset of code point `column` (0-based) of `line`."""
    prefix = line[:column]
    return column + sum(1 for c in prefix if ord(c) > 0xFFFF)


def code_point_column(line: str, character: int) -> int:
    """The code point index (0-based) of UTF-16 offset `character` of `line`."""
    units = 0
    for index, c in enumerate(line):
        if units >= character:
            return index
        units += 2 if ord(c) > 0xFFFF else 1
    return len(line)


def span_range(span: Span, lines: list[str] | None) -> types.Range:
    """The LSP range of a span; a span with no position (line 0) is the file's first character,
    and one without an end past its start covers one character."""
    if span.line < 1:
        return types.Range(types.Position(0, 0), types.Position(0, 0))
    start_line, start_col = span.line - 1, max(span.column - 1, 0)
    end_line, end_col = span.end_line - 1, span.end_column - 1
    if (end_line, end_col) <= (start_line, start_col):
        end_line, end_col = start_line, start_col + 1
    if lines is not None:
        def at(line: int, col: int) -> types.Position:
            text = lines[line] if 0 <= line < len(lines) else ""
            return types.Position(line, utf16_column(text, col))
        return types.Range(at(start_line, start_col), at(end_line, end_col))
    return types.Range(types.Position(start_line, start_col), types.Position(end_line, end_col))


def position_point(position: types.Position, lines: list[str]) -> tuple[int, int]:
    """(line, column), 1-based in code points as spans count, of an LSP position."""
    text = lines[position.line] if 0 <= position.line < len(lines) else ""
    return position.line + 1, code_point_column(text, position.character) + 1
