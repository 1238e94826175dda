"""Add-on codes that can never keep their line.

An add-on is reported only beside one of its primary codes (a `require` clause removes it
otherwise), so one whose primaries no reachable row produces never stands, and one that no
`require` clause names is reported even when no primary code is on the claim.
"""
from __future__ import annotations

from dsl import ast
from dsl.analysis.usage import Usage
from dsl.checked import CheckedEdit, CheckedRequire, CheckedRuleset
from dsl.diagnostics import Diagnostic


def addons(ruleset: CheckedRuleset, usage: Usage) -> list[Diagnostic]:
    """W-addon for each `require` clause whose add-ons are produced but none of whose
    primaries is, and for each produced add-on code no `require` clause names."""
    found = []
    produced = set(usage.outputs("code"))
    required = set()
    edits = {node.name: node for node in ruleset.statements if isinstance(node, ast.Edit)}
    for stage in ruleset.stages:
        if not isinstance(stage, CheckedEdit):
            continue
        clauses = [c for c in edits[stage.name].clauses if isinstance(c, ast.Require)]
        for clause, checked in zip(clauses, (c for c in stage.clauses if isinstance(c, CheckedRequire))):
            required |= checked.addons
            reported = sorted(checked.addons & produced)
            if reported and not checked.primaries & produced:
                found.append(Diagnostic(
                    "W-addon", f"add-on {', '.join(reported)} can never be reported: none of its primary codes "
                    f"{', '.join(sorted(checked.primaries))} is produced by a row", clause.span, "warning"))
    for node in ruleset.statements:
        if isinstance(node, ast.CodeDecl) and node.kind == "addon" and node.code in produced and node.code not in required:
            found.append(Diagnostic(
                "W-addon", f"add-on code '{node.code}' is produced but no 'require' names its primary codes",
                node.span, "warning", "without one it is reported even when no primary code is on the claim"))
    return found
