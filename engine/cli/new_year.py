"""`infuse new-year FOLDER YEAR`: next year's ruleset folder from this year's, then its check
and tests, and what is left for the analyst to review (engine.analyst.new_year)."""
from __future__ import annotations

import argparse
from pathlib import Path

from engine.analyst.new_year import NewYearError, new_year
from engine.cli import check, test
from engine.cli.commands import help_of
from engine.cli.common import EXIT_OK, EXIT_REJECTED, fail
from engine.io import output


def register(subparsers):
    parser = subparsers.add_parser("new-year", help=help_of("new-year"))
    parser.add_argument("folder", help="this year's ruleset folder, e.g. rulesets/2026")
    parser.add_argument("year", type=_year, help="the new year, e.g. 2027")
    parser.add_argument("--to", metavar="FOLDER", help="where to make it (default: a folder named YEAR beside FOLDER)")
    parser.set_defaults(run=run)


def _year(text: str) -> int:
    if not (text.isdigit() and len(text) == 4):
        raise argparse.ArgumentTypeError(f"expected a year like 2027; got {text!r}")
    return int(text)


def run(args) -> int:
    try:
        made = new_year(Path(args.folder), args.year, Path(args.to) if args.to else None)
    except (NewYearError, OSError) as error:
        return fail(str(error))
    out = output.stdout()
    print(f"made {made.folder} (version {made.version}, effective {args.year}-01-01 .. {args.year}-12-31)", file=out)
    for line in made.changed:
        print(f"  changed {line}", file=out)
    print(f"\n$ infuse check {made.folder}", file=out)
    checked = check.run(argparse.Namespace(path=str(made.folder), format="text", strict=False))
    print(f"\n$ infuse test {made.folder}", file=out)
    tested = test.run(argparse.Namespace(path=str(made.folder), min_coverage=None, format="text", no_cache=True))
    print("\nto review: lines that still name the old year (sources, code texts), then the rules that "
          "changed this year" if made.review else "\nnothing names the old year any more", file=out)
    for line in made.review:
        print(f"  {line}", file=out)
    return EXIT_OK if checked == EXIT_OK and tested == EXIT_OK else EXIT_REJECTED
