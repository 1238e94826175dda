"""`infuse diff OLD [NEW]`: what changed between two rulesets, in the rules and in the coding.

Two folders compare their base rulesets (last year's and this year's, say), or with
`--payer NAME` that payer's variant in each; one folder with `--payer NAME` compares its
base with that variant. A word only the new vocabulary has is one entry (what it is now
coded like), and an edit's clauses are compared one by one.

Exit status, as diff(1): 0 when nothing differs, 1 when the rules or the coding differ, 2
when the arguments or a ruleset cannot be used.
"""
from __future__ import annotations

import json

from dsl.diagnostics import RulesetError, render_all
from engine.io import output
from engine.cli.commands import help_of
from engine.cli.common import EXIT_OK, EXIT_REJECTED, fail
from engine.analyst.diff import Diff, compare, load_side


def register(subparsers):
    parser = subparsers.add_parser(
        "diff", help=help_of("diff"),
        description="Compare two ruleset folders, or a payer variant with its base: the rules, then the coding "
                    "of generated encounters.",
        epilog="exit status: 0 nothing differs, 1 the rules or the coding differ, "
               "2 the arguments or a ruleset cannot be used")
    parser.add_argument("old", help="the ruleset folder to compare from")
    parser.add_argument("new", nargs="?", help="the ruleset folder to compare to (default: OLD, with --payer)")
    parser.add_argument("--payer", help="with NEW, compare this payer's variants; without, OLD's base with this variant")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(run=run)


def run(args) -> int:
    if args.new is None and args.payer is None:
        return fail("diff needs two ruleset folders, or one folder and --payer NAME to compare a variant with its base")
    try:
        if args.new is None:
            old, new = load_side(args.old), load_side(args.old, args.payer)
        else:
            old, new = load_side(args.old, args.payer), load_side(args.new, args.payer)
    except RulesetError as error:
        return fail(render_all(error.diagnostics, error.sources))
    except (ValueError, FileNotFoundError, NotADirectoryError) as error:
        return fail(str(error))
    result = compare(old, new)
    print(json.dumps(result.as_dict(), indent=2, ensure_ascii=False) if args.format == "json" else render_text(result),
          file=output.stdout())
    return EXIT_REJECTED if result.differs else EXIT_OK


def render_text(result: Diff) -> str:
    """The changes in the rules by section, then the encounter patterns that code differently."""
    out = [f"old: {result.old}", f"new: {result.new}", ""]
    if result.changes:
        out.append("changes in the rules:")
        section = None
        for change in result.changes:
            if change.section != section:
                section = change.section
                out.append(f"  {section}")
            out += [f"    {line}" for line in change.text().splitlines()]
    else:
        out.append("no changes in the rules")
    out.append("")
    if not result.patterns and not result.new_words:
        out.append(f"no change in behaviour: {result.generated} generated encounters code the same")
        return "\n".join(out)
    out.append(f"changes in behaviour: {result.differing} of {result.generated} generated encounters code differently")
    for word in result.new_words:
        out.append(f"  {word.text()}")
        out.append(f"    {word.cases} generated encounters the old ruleset rejected for '{word.word}'")
    for pattern in result.patterns:
        change = pattern.change
        parts = [f"lines {change.lines_text()}"] if change.lines_differ else []
        parts += [f"findings {change.findings_text()}"] if change.findings_removed or change.findings_added else []
        out.append(f"  {pattern.text}")
        out.append(f"    {'; '.join(parts)}")
    return "\n".join(out)
