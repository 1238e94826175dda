"""Declarations nothing uses, and vocabulary values no rule produces or names.

A declaration is unused when no rule refers to it; a code, finding, modifier or unit rule
when no reachable row (nor edit) produces it, with a hint naming the unreachable rows that
would. A vocabulary value a table writes must be produced and then named by a later rule;
one only inputs carry is merely noted when no rule names it (rules may take it through
`*` or `not`).
"""
from __future__ import annotations

from dsl import ast
from dsl.analysis.usage import Usage
from dsl.checked import CheckedRuleset, CheckedTable
from dsl.checker import Schema
from dsl.diagnostics import Diagnostic


def unused(ruleset: CheckedRuleset, usage: Usage, schema: Schema, declared: set) -> list[Diagnostic]:
    """The warnings and notes; adds the span of every declaration looked at to `declared`."""
    found = []
    bound = {name for fields in schema.scopes.values() for name in fields} | set(schema.initial_writes)
    written = {name for stage in ruleset.stages if isinstance(stage, CheckedTable)
               for name in stage.outputs if name not in schema.outputs}
    for node in ruleset.statements:
        if isinstance(node, ast.Source):
            declared.add(node.span)
            if node.id not in usage.cited:
                found.append(_warn(f"source '{node.id}' is never cited", node.span))
        elif isinstance(node, (ast.Const, ast.ValueSet)):
            declared.add(node.span)
            if node.name not in usage.names:
                kind = "constant" if isinstance(node, ast.Const) else "set"
                found.append(_warn(f"{kind} '{node.name}' is never used", node.span))
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
                found.append(_warn(f"vocabulary '{node.name}' is never used", node.span))
                continue
            for value in node.values:
                declared.add(value.span)
                found.extend(_unused_value(node.name, value, node.name in written, usage))
    return found


def _warn(message: str, span, hint: str | None = None, code: str = "W-unused") -> Diagnostic:
    return Diagnostic(code, message, span, "warning", hint)


def _unused_output(usage: Usage, kind: str, name: str, used_by_edits, message: str, span) -> list:
    """W-unused for a declaration no table output (nor edit) names, hinting at rows that do but
    are never reached."""
    if name in usage.outputs(kind) or name in used_by_edits:
        return []
    return [_warn(message, span, _unreachable_hint(usage.only_unreachable(kind, name)))]


def _unreachable_hint(rules: list) -> str | None:
    return f"only unreachable rows name it: {', '.join(rules)}" if rules else None


def _unused_code(node: ast.CodeDecl, usage: Usage) -> list:
    if node.kind == "em":
        if node.code in usage.names or node.code in usage.edit_codes:
            return []
        return [_warn(f"code '{node.code}' is never named by a rule", node.span)]
    if node.code in usage.outputs("code"):
        return []
    return [_warn(f"code '{node.code}' is declared but no row produces it", node.span,
                  _unreachable_hint(usage.only_unreachable("code", node.code)), "W-unproduced")]


def _unused_value(vocabulary: str, value: ast.Name, written: bool, usage: Usage) -> list:
    named = value.text in usage.named.get(vocabulary, ())
    if not written:
        if named:
            return []
        return [Diagnostic("I-unnamed", f"'{value.text}' of vocabulary '{vocabulary}' is never named by a rule",
                           value.span, "info", "rules take it only through '*' or 'not'")]
    if value.text not in usage.outputs(vocabulary):
        return [_warn(f"'{value.text}' of vocabulary '{vocabulary}' is never produced by a row", value.span,
                      _unreachable_hint(usage.only_unreachable(vocabulary, value.text)))]
    if not named:
        rules = usage.outputs(vocabulary)[value.text]
        return [_warn(f"'{value.text}' of vocabulary '{vocabulary}' is produced but no later rule names it",
                      value.span, f"produced by {', '.join(rules)}")]
    return []
