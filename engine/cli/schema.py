"""`infuse schema RULESET`: the JSON Schema of the encounter the ruleset accepts, from its
declared input (engine.analyst.json_schema)."""
from __future__ import annotations

import json

from engine.analyst.json_schema import encounter_schema
from engine.cli.commands import help_of
from engine.cli.common import EXIT_OK, Unusable, add_ruleset_arguments, fail, load_latest
from engine.io import output


def register(subparsers):
    parser = subparsers.add_parser("schema", help=help_of("schema"))
    add_ruleset_arguments(parser, "schema (its vocabularies)")
    parser.set_defaults(run=run)


def run(args) -> int:
    try:
        ruleset = load_latest(args.path, args.payer, not args.no_cache)
    except Unusable as error:
        return fail(str(error))
    schema = encounter_schema(ruleset.input, f"{ruleset.name} {ruleset.version} encounter")
    print(json.dumps(schema, indent=2, ensure_ascii=False), file=output.stdout())
    return EXIT_OK
