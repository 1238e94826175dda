"""Static analyses of a checked ruleset as a whole, for `infuse check`.

The checker proves each statement well formed; these passes look at what only the whole
ruleset shows. They report warnings and notes, never errors: a ruleset that checks runs,
and these say where it may not mean what its author meant. One module per analysis, run
by `family.analyse` in this order:

- flows: walks the stages, modelling each table's inputs (model) with what earlier stages
  can produce, and searches each model for
  - reachability: rows no input reaches, and the rows that shadow them;
  - gaps: inputs no row covers;
- usage: what the rules name and what their reachable rows produce, read by
  - unused: names declared and never used;
  - addons: add-on codes whose primary codes are never produced;
- thresholds: the bounds that split the tables (and `boundaries`, for `infuse diff`).

They read each ruleset's statements as the loader kept them (CheckedRuleset.statements):
nothing here reads or parses a file.

Example:
    family = load_family("rulesets/2026", SCHEMA)
    report = analyse_family(family)
    report.diagnostics  # sorted Diagnostic warnings and notes
"""
from dsl.analysis.family import Analysis, FamilyAnalysis, analyse, analyse_family
from dsl.analysis.thresholds import Threshold, boundaries, thresholds

__all__ = ["Analysis", "FamilyAnalysis", "Threshold", "analyse", "analyse_family", "boundaries", "thresholds"]
