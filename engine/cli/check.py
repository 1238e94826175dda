"""`infuse check PATH`: check a ruleset folder (or every year folder below PATH) and analyse it.

Errors are what the checker rejects (the ruleset does not load). When a folder loads, the
analyses of dsl.analysis add warnings and notes: unreachable rows, gaps, unused names,
add-on codes without a producible primary, and the threshold report. Everything is
printed sorted by position; `--format json` gives the same as one JSON object for CI.
Exit status 1 when there is an error, 0 otherwise; with `--strict` warnings count as errors,
so that CI can keep a ruleset free of them (notes never fail).
"""
from __future__ import annotations

import json
from pathlib import Path

from dsl.analysis import analyse_family
from dsl.diagnostics import Diagnostic, RulesetError, render, render_all
from dsl.loader import BASE_FILE, load_family, period_problems, ruleset_folders
from engine.io import output
from engine.cli.commands import help_of
from engine.cli.common import EXIT_OK, EXIT_REJECTED, fail
from engine.core.schema import SCHEMA

def register(subparsers):
    parser = subparsers.add_parser(
        "check", help=help_of("check"))
    parser.add_argument("path", help="a ruleset folder, or a folder of year folders")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--strict", action="store_true", help="fail (exit 1) on warnings too, as CI may want")
    parser.set_defaults(run=run)


def run(args) -> int:
    try:
        found = ruleset_folders(args.path)
    except RulesetError as error:
        return fail(render_all(error.diagnostics, error.sources))
    if not found:
        return fail(f"no ruleset in {args.path} (expected {BASE_FILE} there or in its subfolders)")
    reports = [check_folder(folder) for folder in found]
    families = [report["family"] for report in reports if report["summary"]["loaded"]]
    diagnostics = sorted([*(d for report in reports for d in report["diagnostics"]), *period_problems(families)],
                         key=Diagnostic.sort_key)
    texts = {name: text for report in reports for name, text in report["texts"].items()}
    counts = {severity: sum(d.severity == severity for d in diagnostics) for severity in ("error", "warning", "info")}
    if args.format == "json":
        print(json.dumps({"rulesets": [report["summary"] for report in reports],
                          "diagnostics": [d.as_dict() for d in diagnostics],
                          "errors": counts["error"], "warnings": counts["warning"], "notes": counts["info"]},
                         indent=2, ensure_ascii=False), file=output.stdout())
    else:
        print(render_text(reports, diagnostics, texts, counts), file=output.stdout())
    failing = counts["error"] + (counts["warning"] if args.strict else 0)
    return EXIT_REJECTED if failing else EXIT_OK


def check_folder(folder: Path) -> dict:
    """Diagnostics, file texts and a summary (with thresholds) of one ruleset folder."""
    try:
        family = load_family(folder, SCHEMA)
    except RulesetError as error:
        return {"diagnostics": error.diagnostics, "texts": error.sources,
                "summary": {"folder": str(folder), "loaded": False}}
    analysis = analyse_family(family)
    base = family.base
    thresholds = [dict(threshold.as_dict(), payer=payer)
                  for payer, listed in analysis.thresholds.items() for threshold in listed]
    summary = {"folder": str(folder), "loaded": True, "name": base.name, "version": base.version,
               "effective": list(base.effective), "payers": sorted(family.variants), "thresholds": thresholds}
    return {"diagnostics": list(analysis.diagnostics), "texts": family.texts, "summary": summary,
            "thresholds": analysis.thresholds, "family": family}


def render_text(reports: list, diagnostics: list, texts: dict, counts: dict) -> str:
    """Diagnostics with their source lines, each loaded folder's threshold report, a summary."""
    parts = [render(d, texts) for d in diagnostics]
    for report in reports:
        summary = report["summary"]
        if not summary["loaded"]:
            parts.append(f"{summary['folder']}: does not load")
            continue
        for payer, listed in report["thresholds"].items():
            if not listed:
                continue
            title = f"thresholds of {summary['name']} {summary['version']}"
            title += f", payer {payer} (where they differ from the base)" if payer else ""
            parts.append("\n".join([title + ":", *(f"  {t.label}: {', '.join(t.uses)}" for t in listed)]))
        payers = f" with payers {', '.join(summary['payers'])}" if summary["payers"] else ""
        parts.append(f"{summary['folder']}: {summary['name']} {summary['version']} "
                     f"({summary['effective'][0]} .. {summary['effective'][1]}){payers}")
    parts.append(f"{_count(counts['error'], 'error')}, {_count(counts['warning'], 'warning')}, "
                 f"{_count(counts['info'], 'note')}")
    return "\n\n".join(parts)


def _count(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"
