"""`infuse table PATH`: the decision tables of a ruleset as a reviewer reads them (markdown, CSV, HTML)."""
from __future__ import annotations

from engine.io import output
from engine.cli.commands import help_of
from engine.cli.common import EXIT_OK, Unusable, add_cache_argument, fail, load_registry
from engine.analyst.tables import FORMATS, SourceChanged, render, written_tables


def register(subparsers):
    parser = subparsers.add_parser("table", help=help_of("table"))
    parser.add_argument("path", help="a ruleset folder, or a folder of year folders")
    parser.add_argument("--format", choices=FORMATS, default="markdown",
                        help="html is one self-contained page (default: markdown)")
    parser.add_argument("--payer", help="show this payer's variant (its amended rows and constants)")
    parser.add_argument("-o", "--output", help="write to this file instead of standard output")
    add_cache_argument(parser)
    parser.set_defaults(run=run)


def run(args) -> int:
    try:
        registry = load_registry(args.path, not args.no_cache)
    except Unusable as error:
        return fail(str(error))
    # A year without the payer's variant shows its base; a payer no year has is refused.
    rulesets = [family.variants.get(args.payer, family.base) for family in registry.families]
    if args.payer and not any(ruleset.payer == args.payer for ruleset in rulesets):
        known = sorted({payer for family in registry.families for payer in family.variants})
        return fail(f"no ruleset variant for payer '{args.payer}' (known: {', '.join(known) or 'none'})")
    try:
        text = render([(ruleset, written_tables(ruleset)) for ruleset in rulesets], args.format)
    except SourceChanged as error:
        return fail(str(error))
    if args.output is None:
        output.stdout().write(text)
        return EXIT_OK
    try:
        with open(args.output, "w", encoding="utf-8", newline="") as out:
            out.write(text)
    except OSError as error:
        return fail(f"cannot write {args.output}: {error.strerror}")
    return EXIT_OK
