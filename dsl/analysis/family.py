"""Every analysis of one ruleset, and of a base with its payer variants, each finding once."""
from __future__ import annotations

import attrs

from dsl.analysis.addons import addons
from dsl.analysis.edit_order import addon_order, data_before_lines
from dsl.analysis.flows import Flows
from dsl.analysis.thresholds import Threshold, thresholds
from dsl.analysis.unused import unused
from dsl.analysis.usage import Usage
from dsl.checked import CheckedRuleset
from dsl.check_input import always_present
from dsl.diagnostics import Diagnostic
from dsl.loader import RulesetFamily


@attrs.frozen
class Analysis:
    """What the analyses found in one ruleset.

    `declared` holds the spans of the declarations the unused-name checks looked at, so a
    family can report a base declaration as unused only when no variant uses it either.
    """

    diagnostics: tuple[Diagnostic, ...]
    thresholds: tuple[Threshold, ...]
    declared: frozenset


@attrs.frozen
class FamilyAnalysis:
    """A base ruleset and its variants analysed together.

    `thresholds` maps a payer (None for the base) to its threshold report; a variant lists
    only the thresholds it adds or splits differently from the base, and is absent when none.
    """

    diagnostics: tuple[Diagnostic, ...]
    thresholds: dict


def analyse_family(family: RulesetFamily) -> FamilyAnalysis:
    """Analyse the base and each variant; report each finding once.

    A declaration counts as unused only when every member ruleset that has it leaves it
    unused (the base may declare a modifier only a payer variant attaches). Other findings
    of a variant are reported when the base does not have them, marked with the payer.
    """
    members = {None: analyse(family.base)}
    for payer, ruleset in sorted(family.variants.items()):
        members[payer] = analyse(ruleset)
    base = members[None]
    base_diagnostics, base_thresholds = set(base.diagnostics), set(base.thresholds)
    reported = {payer: {(d.code, d.span) for d in m.diagnostics} for payer, m in members.items()}
    found = []
    for payer, analysis in members.items():
        for diagnostic in analysis.diagnostics:
            key = (diagnostic.code, diagnostic.span)
            if diagnostic.span in analysis.declared:
                holders = [p for p, m in members.items() if diagnostic.span in m.declared]
                if members[holders[0]] is analysis and all(key in reported[p] for p in holders):
                    found.append(diagnostic)
            elif payer is None:
                found.append(diagnostic)
            elif diagnostic not in base_diagnostics:
                found.append(attrs.evolve(diagnostic, message=f"payer '{payer}': {diagnostic.message}"))
    thresholds = {None: base.thresholds}
    for payer, analysis in members.items():
        changed = tuple(t for t in analysis.thresholds if t not in base_thresholds)
        if payer is not None and changed:
            thresholds[payer] = changed
    return FamilyAnalysis(tuple(sorted(dict.fromkeys(found), key=Diagnostic.sort_key)), thresholds)


def analyse(ruleset: CheckedRuleset) -> Analysis:
    """Every analysis of one checked ruleset, read from its stages and the statements it was checked from.

    The attributes its declared input always fills (required fields, flags with a default,
    counts) and those of every line are present; any other attribute may be missing from an
    input. Usage follows the flows: a name counts as produced only by rows that decide for
    some input.
    """
    schema = ruleset.schema
    present = always_present(ruleset.input) | set(schema.line_attributes)
    flows = Flows(ruleset, schema, present).walk()
    usage = Usage.collect(ruleset, flows.reachable, schema)
    declared: set = set()
    diagnostics = [*flows.diagnostics, *unused(ruleset, usage, schema, declared), *addons(ruleset, usage),
                   *addon_order(ruleset), *data_before_lines(ruleset)]
    return Analysis(tuple(sorted(diagnostics, key=Diagnostic.sort_key)), thresholds(ruleset), frozenset(declared))
