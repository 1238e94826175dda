"""dsl diagnostics as LSP diagnostics, and a did-you-mean hint as a quick fix.

The code is the diagnostic's stable code (E-name, W-unreachable, ...), the message its
message with the hint after it; each Note becomes related information at its own place,
in whatever file. A hint naming one replacement (`did you mean 'duration'?`) rides along
in `data` so that a code action can offer it without analysing again.
"""
from __future__ import annotations

import re
from collections.abc import Callable

from lsprotocol import types

from dsl.diagnostics import Diagnostic
from engine.lsp.positions import span_range

SEVERITIES = {"error": types.DiagnosticSeverity.Error, "warning": types.DiagnosticSeverity.Warning,
              "info": types.DiagnosticSeverity.Information}
_REPLACEMENT = re.compile(r"did you mean '([^']+)'\?")


def replacement(hint: str | None) -> str | None:
    """The one name a hint suggests, if it suggests one."""
    found = _REPLACEMENT.search(hint or "")
    return found.group(1) if found else None


def to_lsp(diagnostic: Diagnostic, lines_of: Callable, uri_of: Callable) -> types.Diagnostic:
    """`lines_of(span file)` gives a file's lines (or None), `uri_of(span file)` its URI."""
    message = diagnostic.message + (f"\n{diagnostic.hint}" if diagnostic.hint else "")
    related = [types.DiagnosticRelatedInformation(
        types.Location(uri_of(note.span.file), span_range(note.span, lines_of(note.span.file))), note.message)
        for note in diagnostic.notes]
    fix = replacement(diagnostic.hint)
    return types.Diagnostic(
        range=span_range(diagnostic.span, lines_of(diagnostic.span.file)), message=message,
        severity=SEVERITIES.get(diagnostic.severity, types.DiagnosticSeverity.Error), code=diagnostic.code,
        source="infuse", related_information=related or None,
        data={"replacement": fix} if fix else None)


def quick_fixes(uri: str, diagnostics: list[types.Diagnostic], lines: list[str]) -> list[types.CodeAction]:
    """One quick fix per diagnostic whose hint names a replacement for the very word it
    marks (the message quotes it: "unknown column 'duraton'"): that word becomes the name.
    A hint about another word than the one marked (a row id, at its table's name) is
    left to the reader. `lines` are the document's, in UTF-16 units as ranges count."""
    actions = []
    for diagnostic in diagnostics:
        data = diagnostic.data if isinstance(diagnostic.data, dict) else {}
        name = data.get("replacement")
        start, end = diagnostic.range.start, diagnostic.range.end
        if not name or start.line != end.line or not 0 <= start.line < len(lines):
            continue
        marked = lines[start.line].encode("utf-16-le")[2 * start.character:2 * end.character].decode("utf-16-le", errors="ignore")
        if not marked or f"'{marked}'" not in diagnostic.message:
            continue
        edit = types.WorkspaceEdit(changes={uri: [types.TextEdit(diagnostic.range, name)]})
        actions.append(types.CodeAction(title=f"Replace with '{name}'", kind=types.CodeActionKind.QuickFix,
                                        diagnostics=[diagnostic], edit=edit, is_preferred=True))
    return actions
