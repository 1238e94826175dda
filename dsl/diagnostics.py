"""Diagnostics as data (a stable code, a message, a span), rendered separately.

A ruleset mistake must point an analyst at the exact place: `file:line:col`, the
source line and a caret under the span, and a "did you mean" where a name is close.
"""
from __future__ import annotations

import functools
from collections.abc import Iterable

import attrs

from dsl import ast
from dsl.ast import Span

MAX_RENDERED = 100  # a long list helps nobody; the rest is counted, not shown
MAX_SHOWN_CHARS = 1000  # of one source line; only a line the parser rejects as too long is longer


@attrs.frozen
class Note:
    """A second place a diagnostic concerns (a use of a faulty definition), shown under it."""

    message: str
    span: Span

    def as_dict(self) -> dict:
        return {"message": self.message, "file": self.span.file, "line": self.span.line, "column": self.span.column}


@attrs.frozen
class Diagnostic:
    """One problem: the cause at `span`; `notes` locate the places it affects.

    Example:
        Diagnostic("E-type", "constant 'push_limit' has no unit", const_span,
                   notes=(Note("used here as a duration", use_span),))
    """

    code: str
    message: str
    span: Span
    severity: str = "error"
    hint: str | None = None
    notes: tuple = ()  # of Note, in the order the checker met them

    @property
    def identity(self) -> tuple:
        """What makes two diagnostics the same mistake, whatever their hint or notes: a
        variant's check may word a base mistake's hint differently (more names to suggest)."""
        return (self.code, self.message, self.span)

    def sort_key(self):
        return (self.span.file, self.span.line, self.span.column, self.code, self.message)

    def as_dict(self) -> dict:
        return {"code": self.code, "severity": self.severity, "message": self.message,
                "file": self.span.file, "line": self.span.line, "column": self.span.column,
                "hint": self.hint, "notes": [note.as_dict() for note in self.notes]}


class RulesetError(Exception):
    """A ruleset could not be loaded; carries every diagnostic found, sorted."""

    def __init__(self, diagnostics: Iterable[Diagnostic], sources: dict[str, str] | None = None):
        self.diagnostics = sorted(diagnostics, key=Diagnostic.sort_key)
        self.sources = sources or {}
        super().__init__(render_all(self.diagnostics, self.sources))


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """The hint for a near-miss name, or None when nothing is close. Case is ignored in the
    comparison, so a name in the wrong case ('ACME', 'Commercial') finds its match."""
    import difflib  # only for a mistake: a start-up that meets none does not load it

    by_folded: dict[str, str] = {}
    for candidate in sorted(set(candidates)):
        by_folded.setdefault(candidate.casefold(), candidate)
    close = difflib.get_close_matches(name.casefold(), list(by_folded), n=1, cutoff=0.7)
    return f"did you mean '{by_folded[close[0]]}'?" if close else None


def render(diagnostic: Diagnostic, sources: dict[str, str]) -> str:
    """`file:line:col: severity[code]: message`, the source line, a caret and the hint;
    then each note the same way, as `file:line:col: note: message`."""
    span = diagnostic.span
    head = f"{span.file}:{span.line}:{span.column}: {diagnostic.severity}[{diagnostic.code}]: {diagnostic.message}"
    shown = [_located(head, span, diagnostic.hint, sources)]
    shown += [_located(f"{n.span.file}:{n.span.line}:{n.span.column}: note: {n.message}", n.span, None, sources)
              for n in diagnostic.notes]
    return "\n".join(shown)


def _located(head: str, span: Span, hint: str | None, sources: dict[str, str]) -> str:
    text = sources.get(span.file)
    if text is None or span.line < 1:
        return head + (f"\n  {hint}" if hint else "")
    lines = _lines(text)
    source_line = lines[min(span.line, len(lines)) - 1]
    if len(source_line) > MAX_SHOWN_CHARS:
        source_line = source_line[:MAX_SHOWN_CHARS] + " ..."
    width = 1
    if span.end_line == span.line and span.end_column > span.column:
        width = span.end_column - span.column
    gutter = " " * len(str(span.line))
    # Tabs are copied so that the caret stands under the span however tabs are shown.
    caret = "".join(c if c == "\t" else " " for c in source_line[:span.column - 1]) + "^" * width
    tail = f" {hint}" if hint else ""
    return f"{head}\n{gutter} |\n{span.line} | {source_line}\n{gutter} | {caret}{tail}"


@functools.lru_cache(maxsize=8)
def _lines(text: str) -> list[str]:
    """The lines as the parser counts them: only `\\n` ends a line (not `\\f` or U+2028,
    which str.splitlines also splits at); split once per text, not once per diagnostic."""
    return [line.removesuffix("\r") for line in text.split("\n")]


def render_all(diagnostics: Iterable[Diagnostic], sources: dict[str, str]) -> str:
    """Every diagnostic rendered, up to MAX_RENDERED, then how many more there are."""
    diagnostics = list(diagnostics)
    shown = [render(d, sources) for d in diagnostics[:MAX_RENDERED]]
    if len(diagnostics) > MAX_RENDERED:
        shown.append(f"... and {len(diagnostics) - MAX_RENDERED} more")
    return "\n".join(shown)


def where(span, here: Span | None = None, variants: dict | None = None) -> str:
    """`file:line` of a span, for a hint that points at another place; `line N` when it is
    in the file of `here` (the diagnostic's own span). A file of a payer variant (`variants`:
    file -> payer, as from variant_files) is named with its variant:
    `payers/acme.rules:12 (variant acme)`, and in a variant another file is `(base)`, so a
    merged ruleset's hint says which file it means."""
    if here is not None and here.file == span.file:
        return f"line {span.line}"
    text = f"{span.file}:{span.line}"
    if not variants:
        return text
    return f"{text} (variant {variants[span.file]})" if span.file in variants else f"{text} (base)"


def variant_files(statements) -> dict:
    """File -> payer for the files of a merged ruleset that declare `payer NAME`."""
    return {node.span.file: node.payer for node in statements if isinstance(node, ast.PayerDecl)}
