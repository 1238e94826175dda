"""`infuse columns RULESET`: the columns each table scope may read, with type, meaning and
where each comes from (engine.analyst.columns)."""
from __future__ import annotations

import json

from engine.analyst.columns import columns
from engine.cli.commands import help_of
from engine.cli.common import EXIT_OK, Unusable, add_ruleset_arguments, fail, load_latest
from engine.core.schema import MEANINGS
from engine.io import output


def register(subparsers):
    parser = subparsers.add_parser("columns", help=help_of("columns"))
    add_ruleset_arguments(parser, "columns")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(run=run)


def run(args) -> int:
    try:
        ruleset = load_latest(args.path, args.payer, not args.no_cache)
    except Unusable as error:
        return fail(str(error))
    found = columns(ruleset, MEANINGS)
    out = output.stdout()
    if args.format == "json":
        print(json.dumps({"ruleset": {"name": ruleset.name, "version": ruleset.version},
                          "columns": [c.as_dict() for c in found]}, indent=2, ensure_ascii=False), file=out)
        return EXIT_OK
    print(f"columns of {ruleset.name} {ruleset.version}", file=out)
    for scope in ruleset.schema.scopes:
        listed = [c for c in found if c.scope == scope]
        width = max(len(c.name) for c in listed)
        print(f"\nper {scope}:", file=out)
        for c in listed:
            kind = f"{c.kind}: {', '.join(c.values)}" if c.values else c.kind
            print(f"  {c.name.ljust(width)}  {kind}", file=out)
            print(f"  {''.ljust(width)}  {c.meaning}  [{c.source}]", file=out)
    return EXIT_OK
