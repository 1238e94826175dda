"""`infuse test PATH [--min-coverage N] [--format text|json]`: run the test cases a ruleset
folder keeps in PATH/tests (engine.analyst.cases) and report what they cover (engine.analyst.coverage).

Exit status: 0 every case passed (and row coverage reached N), 1 otherwise, 2 unusable
arguments or ruleset.
"""
from __future__ import annotations

import json
from pathlib import Path

from dsl.loader import TESTS_DIR
from dsl.show import value_text
from engine.io import output
from engine.cli.commands import help_of
from engine.cli.common import EXIT_OK, EXIT_REJECTED, Unusable, add_cache_argument, fail, load_registry
from engine.analyst.coverage import CATEGORIES, Boundary, Coverage
from engine.analyst.cases import CaseFileError, Outcome, load_cases, run_cases


def register(subparsers):
    parser = subparsers.add_parser("test", help=help_of("test"))
    parser.add_argument("path", help="a ruleset folder: ruleset.rules, payers/ and tests/")
    parser.add_argument("--min-coverage", type=float, metavar="N",
                        help="fail when tests exercise fewer than N percent of the table rows")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    add_cache_argument(parser)
    parser.set_defaults(run=run)


def run(args) -> int:
    folder = Path(args.path)
    try:
        registry = load_registry(folder, not args.no_cache)
    except Unusable as error:
        return fail(str(error))
    if len(registry.families) != 1:
        return fail(f"{folder} holds several ruleset folders; test one of them")
    if not (folder / TESTS_DIR).is_dir():
        return fail(f"no test cases: {folder / TESTS_DIR} is not a folder")
    family = registry.families[0]
    cases, problems = load_cases(folder / TESTS_DIR, family.base.input)
    if not cases and not problems:
        return fail(f"no test cases (*.json, *.cases) in {folder / TESTS_DIR}")
    coverage = Coverage(family)
    outcomes = run_cases(family, cases, coverage)
    below = args.min_coverage is not None and coverage.percent("rows") < args.min_coverage
    if args.format == "json":
        print(json.dumps(_as_dict(outcomes, problems, coverage, args.min_coverage, below), indent=2),
              file=output.stdout())
    else:
        print(_text(outcomes, problems, coverage, args.min_coverage, below), file=output.stdout())
    failed = any(not o.passed for o in outcomes)
    return EXIT_REJECTED if failed or problems or below else EXIT_OK


# ----- text -----

def _text(outcomes: list[Outcome], problems: list[CaseFileError], coverage: Coverage, minimum, below) -> str:
    out = [f"ERROR {p.where}: {p.message}" for p in problems]
    for outcome in outcomes:
        if not outcome.passed:
            out += _failure(outcome) + [""]
    passed = sum(o.passed for o in outcomes)
    failed = len(outcomes) - passed
    tally = f"{len(outcomes)} cases: {passed} passed, {failed} failed"
    out.append(tally + (f", {len(problems)} case files or cases unreadable" if problems else ""))
    out.append("")
    out += _coverage_text(coverage)
    if minimum is not None:
        verdict = "below" if below else "meets"
        out.append(f"\nrow coverage {coverage.percent('rows'):.1f}% {verdict} the minimum of {minimum:g}%")
    return "\n".join(out)


def _failure(outcome: Outcome) -> list[str]:
    case = outcome.case
    out = [f"FAIL {case.where}  {case.title}  ({outcome.variant})"]
    if outcome.error:
        return out + [f"  {outcome.error}"]
    rows = [("", "line", "expected", "coded")]
    for diff in outcome.lines:
        rows.append(("!" if diff.expected != diff.got else "", "-".join((diff.code, *diff.modifiers)),
                     str(diff.expected or "-"), str(diff.got or "-")))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        out.append(f"  {row[0]:1} {row[1].ljust(widths[1])}  {row[2].rjust(widths[2])}  {row[3].rjust(widths[3])}")
    if outcome.missing_findings:
        out.append(f"  findings expected but not raised: {', '.join(outcome.missing_findings)}")
        out.append(f"  findings raised: {', '.join(outcome.findings) or '(none)'}")
    return out


def _coverage_text(coverage: Coverage) -> list[str]:
    out = [f"coverage (variants: {', '.join(coverage.variants)}; an item a variant takes unchanged counts once)"]
    summary = coverage.summary()
    for category in CATEGORIES:
        covered, total = summary[category]
        out.append(f"  {category:<9} {coverage.percent(category):5.1f}%  ({covered}/{total})")
        if category == "rows":
            out.append("      by table: " + ", ".join(f"{table} {n}/{t}" for table, (n, t) in _by_table(coverage).items()))
        for item in coverage.uncovered(category):
            tag = "" if len(item.variants) == len(coverage.variants) else f"  [{', '.join(item.variants)}]"
            out.append(f"      not exercised: {item.name}{tag}")
    boundaries = coverage.boundary_list()
    done = sum(b.covered for b in boundaries)
    out.append(f"\nthresholds: {done} of {len(boundaries)} boundaries have tests on both sides")
    rows = [(("ok" if b.covered else "MISSING"), b.where, _side(b, True), _side(b, False), ", ".join(b.users))
            for b in boundaries]
    widths = [max((len(row[i]) for row in rows), default=0) for i in range(4)]
    for row in rows:
        out.append("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + f"  ({row[4]})")
    return out


def _by_table(coverage: Coverage) -> dict[str, tuple[int, int]]:
    counts: dict = {}
    for item in coverage.items.values():
        if item.category == "rows":
            covered, total = counts.get(item.name.split("/")[0], (0, 0))
            counts[item.name.split("/")[0]] = (covered + (item.hits > 0), total + 1)
    return counts


def _side(boundary: Boundary, below: bool) -> str:
    operator = ("<=" if below else ">") if boundary.at_or_below else ("<" if below else ">=")
    tested = boundary.below if below else boundary.above
    seen = "untested" if tested is None else f"nearest {value_text(tested, boundary.kind)}"
    return f"{operator} {value_text(boundary.value, boundary.kind)}: {seen}"


# ----- json -----

def _as_dict(outcomes: list[Outcome], problems: list[CaseFileError], coverage: Coverage, minimum, below) -> dict:
    return {
        "cases": [{"file": o.case.file, "line": o.case.line, "title": o.case.title, "variant": o.variant,
                   "passed": o.passed, "error": o.error,
                   "lines": [{"code": d.code, "modifiers": list(d.modifiers), "expected": d.expected, "coded": d.got}
                             for d in o.lines],
                   "missing_findings": list(o.missing_findings), "findings": list(o.findings)}
                  for o in outcomes],
        "problems": [{"file": p.file, "line": p.line, "message": p.message} for p in problems],
        "passed": sum(o.passed for o in outcomes),
        "failed": sum(not o.passed for o in outcomes),
        "coverage": coverage.as_dict(),
        "min_coverage": minimum,
        "below_min_coverage": below,
    }
