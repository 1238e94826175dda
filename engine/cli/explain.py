"""`infuse explain ENCOUNTER`: the story of one result, for a coder, from the reference semantics."""
from __future__ import annotations

import json
import sys

from engine.io import output
from engine.io.batch import InputError, open_input, reading
from engine.cli.commands import help_of
from engine.cli.common import EXIT_OK, EXIT_REJECTED, Unusable, add_cache_argument, fail, load_registry
from engine.core.encounter import EncounterError
from engine.analyst.explain import explain
from engine.analyst.explain_text import render_text
from engine.core.jsonin import decode_record
from engine.analyst.tables import SourceChanged


def register(subparsers):
    parser = subparsers.add_parser(
        "explain", help=help_of("explain"))
    parser.add_argument("encounter", help="an encounter .json file (a test case with an 'encounter' key is "
                                          "accepted too), or - for stdin")
    parser.add_argument("--ruleset", help="a ruleset folder, or a folder of year folders (default: the bundled rulesets)")
    parser.add_argument("--payer", help="apply this payer's variant whatever the encounter says")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    add_cache_argument(parser)
    parser.set_defaults(run=run)


def run(args) -> int:
    try:
        registry = load_registry(args.ruleset, not args.no_cache)
    except Unusable as error:
        return fail(str(error))
    try:
        with reading(args.encounter), open_input(args.encounter) as stream:
            raw = stream.read()
    except InputError as error:
        return fail(str(error))
    try:
        data = decode_record(raw)
        if isinstance(data, dict) and isinstance(data.get("encounter"), dict) and "expect" in data:  # a case file
            data = data["encounter"]
        story = explain(registry, data, args.payer)
    except EncounterError as error:
        print(f"infuse: encounter rejected at {error.path or '(record)'}: {error.message}", file=sys.stderr)
        return EXIT_REJECTED
    except SourceChanged as error:
        return fail(str(error))
    if args.format == "json":
        text = json.dumps(story.as_dict(), indent=2, ensure_ascii=False) + "\n"
    else:
        text = render_text(story)
    output.stdout().write(text)
    return EXIT_OK
