"""The semantic checker: names, types, units and table analysis, all errors at once.

`check` walks the statements of a ruleset (its base first, then a variant's
overrides already merged by the loader) and returns a CheckedRuleset, or raises
RulesetError with every independent diagnostic sorted by position. It knows no
encounter field by itself: the caller's Schema says which attributes each scope
offers, which attributes an `initial` stage writes, and which output columns
have a meaning of their own.

This module holds the header, the declarations and their citations; dsl.check_stages checks
the stages in order, dsl.check_cells what each cell of a table means in its column.
"""
from __future__ import annotations

import datetime

import attrs

from dsl import ast
from dsl.check_cells import duration_seconds
from dsl.check_input import check_input
from dsl.check_stages import check_stages
from dsl.checked import CheckedRuleset, CheckedUnits, FindingInfo
from dsl.schema import Schema
from dsl.diagnostics import Diagnostic, Note, RulesetError, did_you_mean, variant_files, where

SEVERITIES = ("error", "warning", "info")
CODE_KINDS = ("initial", "addon", "standalone", "em")


@attrs.define
class _Context:
    diagnostics: list
    vocabularies: dict = attrs.Factory(dict)
    sets: dict = attrs.Factory(dict)  # name -> (field, frozenset)
    consts: dict = attrs.Factory(dict)  # name -> ast value (resolved later)
    codes: dict = attrs.Factory(dict)
    modifiers: dict = attrs.Factory(dict)
    findings: dict = attrs.Factory(dict)
    sources: dict = attrs.Factory(dict)
    units: dict = attrs.Factory(dict)
    used_findings: set = attrs.Factory(set)
    misused_consts: dict = attrs.Factory(dict)  # constant -> [(span of a use, what the use needs)]
    variants: dict = attrs.Factory(dict)  # file -> payer, for hints naming another file

    def error(self, code: str, message: str, span: ast.Span, hint: str | None = None):
        self.diagnostics.append(Diagnostic(code, message, span, hint=hint))

    def unknown(self, kind: str, name: str, span: ast.Span, candidates):
        self.error("E-name", f"unknown {kind} '{name}'", span, did_you_mean(name, candidates))


def check(statements: list, schema: Schema, digest: str, sources_text: dict[str, str]) -> CheckedRuleset:
    """Check merged statements; raise RulesetError listing every problem found."""
    ctx = _Context(diagnostics=[], variants=variant_files(statements))
    fallback = ast.Span(next(iter(sources_text), "<ruleset>"), 1, 1, 1, 2)
    header = _header(statements, ctx, fallback)
    _declare(statements, ctx)
    _check_citations(statements, ctx)
    checked_input = check_input(statements, ctx, header["span"])
    if checked_input is None:
        raise RulesetError(ctx.diagnostics, sources_text)
    schema = schema.for_input(checked_input)
    consts = {name: _const_value(node.value, ctx) for name, node in ctx.consts.items()}
    units = {name: _check_units(node, ctx, consts) for name, node in ctx.units.items()}
    stages = check_stages(statements, ctx, schema, consts, units)
    _report_misused_consts(ctx)
    payer_routes = _payer_routes(statements, ctx)
    _check_findings_used(ctx)
    if any(d.severity == "error" for d in ctx.diagnostics):
        raise RulesetError(ctx.diagnostics, sources_text)
    return CheckedRuleset(
        name=header["name"], version=header["version"], payer=header["payer"], base=header["base"],
        effective=header["effective"], digest=digest,
        sources={k: v.text for k, v in ctx.sources.items()},
        vocabularies={k: tuple(v.text for v in node.values) for k, node in ctx.vocabularies.items()},
        codes={k: (v.kind, v.text) for k, v in ctx.codes.items()},
        modifiers={k: v.text for k, v in ctx.modifiers.items()},
        findings={k: FindingInfo(k, v.severity, v.message, tuple(r.source for r in v.refs)) for k, v in ctx.findings.items()},
        consts=consts, units=units, stages=tuple(stages),
        texts={s.span.file: sources_text[s.span.file] for s in statements if s.span.file in sources_text},
        statements=tuple(statements), payer_routes=payer_routes, input=checked_input, schema=schema)


# ----- header and declarations ------------------------------------------------

def _header(statements, ctx, fallback: ast.Span) -> dict:
    found = {"name": None, "version": None, "payer": None, "base": None, "effective": None,
             "span": statements[0].span if statements else fallback}
    for node in statements:
        if isinstance(node, ast.RulesetHeader):
            found.update(name=node.name, version=node.version, span=node.span)
        elif isinstance(node, ast.PayerDecl):
            found["payer"] = node.payer
        elif isinstance(node, ast.Extends):
            found["base"] = node.base
        elif isinstance(node, ast.Effective):
            for text in (node.start, node.end):
                try:
                    datetime.date.fromisoformat(text)
                except ValueError:
                    ctx.error("E-effective", f"'{text}' is not a real date", node.span)
            if node.start > node.end:
                ctx.error("E-effective", f"effective dates run backwards: {node.start} .. {node.end}", node.span)
            found["effective"] = (node.start, node.end)
    if found["name"] is None:
        ctx.error("E-header", "a ruleset starts with 'ruleset NAME VERSION'", found["span"])
    if found["effective"] is None:
        ctx.error("E-header", "the ruleset needs 'effective START .. END'", found["span"])
        found["effective"] = ("0001-01-01", "9999-12-31")
    return found


_DECLARATIONS = {
    ast.Vocabulary: ("vocabularies", "vocabulary"), ast.ValueSet: ("sets", "set"),
    ast.Const: ("consts", "constant"), ast.CodeDecl: ("codes", "code"),
    ast.ModifierDecl: ("modifiers", "modifier"), ast.FindingDecl: ("findings", "finding"),
    ast.Source: ("sources", "source"), ast.Units: ("units", "units rule"),
}


def _declare(statements, ctx):
    """Fill the symbol tables; a name declared twice in one ruleset is an error."""
    for node in statements:
        entry = _DECLARATIONS.get(type(node))
        if entry is None:
            continue
        table, kind = entry
        key = _declared_name(node)
        symbols = getattr(ctx, table)
        if key in symbols:
            ctx.error("E-duplicate", f"{kind} '{key}' is declared twice", node.span,
                      f"first declared at {where(_node_of(symbols[key]).span, node.span, ctx.variants)}")
            continue
        symbols[key] = node if not isinstance(node, ast.ValueSet) else (node, node.field,
                                                                        frozenset(v.text for v in node.values))
    for node in statements:
        if isinstance(node, ast.FindingDecl) and node.severity not in SEVERITIES:
            ctx.error("E-severity", f"unknown severity '{node.severity}'; expected error, warning or info",
                      node.span, did_you_mean(node.severity, SEVERITIES))
        if isinstance(node, ast.CodeDecl) and node.kind not in CODE_KINDS:
            ctx.error("E-code-kind", f"unknown code kind '{node.kind}'; expected {', '.join(CODE_KINDS)}",
                      node.span, did_you_mean(node.kind, CODE_KINDS))


def _cited_name(node) -> str:
    if isinstance(node, ast.PayerRoute):
        return f"route payer ... to {node.target}"
    if isinstance(node, ast.InputDecl):
        return f"events {node.kind}" if node.kind else "encounter"
    return _declared_name(node)


def _declared_name(node) -> str:
    for attribute in ("name", "code", "id"):
        if hasattr(node, attribute):
            return getattr(node, attribute)
    raise AssertionError(node)


def _node_of(entry):
    return entry[0] if isinstance(entry, tuple) else entry


def _check_citations(statements, ctx):
    """Every rule cites at least one declared source."""
    for node in statements:
        refs = getattr(node, "refs", None)
        if refs is None:
            continue
        if not refs and not isinstance(node, ast.Amend):
            what = _cited_name(node)
            ctx.error("E-cite", f"'{what}' cites no source; add [source-id]", node.span)
        for ref in refs:
            if ref.source not in ctx.sources:
                ctx.unknown("source", ref.source, ref.span, ctx.sources)


def _const_value(value, ctx):
    if isinstance(value, ast.Duration):
        return value.seconds
    if isinstance(value, ast.Number):
        return value.value
    if value.text in ctx.modifiers or value.text in ctx.codes:
        return value.text
    ctx.unknown("constant value", value.text, value.span, [*ctx.modifiers, *ctx.codes])
    return value.text


def _check_units(node: ast.Units, ctx, consts) -> CheckedUnits:
    period = duration_seconds(node.period, ctx, consts, "the unit period")
    if period <= 0:
        ctx.error("E-units", "the unit period must be longer than zero", node.period.span)
    return CheckedUnits(node.name, tuple(r.source for r in node.refs), node.doc, period,
                        duration_seconds(node.after, ctx, consts, "'after'"),
                        duration_seconds(node.part, ctx, consts, "the final part"), node.inclusive, span=node.span)


def _report_misused_consts(ctx):
    """One error per constant used as a duration without being one, at its definition (the
    place to fix), with a note at each use; not one error per use with none at the cause."""
    for name, uses in ctx.misused_consts.items():
        value = ctx.consts[name].value
        if isinstance(value, ast.Number):
            message = f"constant '{name}' has no unit, but it is used as a duration"
            hint = f"write '{value.text} min' or '{value.text} h'"
        else:
            message = f"constant '{name}' is not a duration, but it is used as one"
            hint = None
        notes = tuple(Note(f"used here as {what}", span) for span, what in uses)
        ctx.diagnostics.append(Diagnostic("E-type", message, value.span, hint=hint, notes=notes))


def _check_findings_used(ctx):
    for name, node in ctx.findings.items():
        if name not in ctx.used_findings:
            ctx.diagnostics.append(Diagnostic("W-unused", f"finding '{name}' is never raised", node.span, "warning"))


def _payer_routes(statements, ctx) -> dict:
    """Payer name -> the variant (or base) it takes; a name routed twice is an error, as it
    would leave the payer's policy to the order of the files. The targets are the loader's
    to check: only it sees the variants."""
    routes, spans = {}, {}
    for node in statements:
        if not isinstance(node, ast.PayerRoute):
            continue
        for name in node.names:
            if name.text in routes:
                ctx.error("E-duplicate", f"payer '{name.text}' is routed twice", name.span,
                          f"first routed at {where(spans[name.text], name.span, ctx.variants)}")
                continue
            routes[name.text], spans[name.text] = node.target, name.span
    return routes


