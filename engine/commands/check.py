"""`infuse check PATH`: load and check a ruleset folder, print its diagnostics."""
from __future__ import annotations

import json
import sys

from dsl.diagnostics import RulesetError, render_all
from engine.commands.common import EXIT_OK, EXIT_REJECTED, EXIT_UNUSABLE
from engine.registry import Registry


def register(subparsers):
    parser = subparsers.add_parser("check", help="check a ruleset folder and print its diagnostics")
    parser.add_argument("path")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(run=run)


def run(args) -> int:
    try:
        registry = Registry.from_path(args.path)
    except RulesetError as error:
        if args.format == "json":
            print(json.dumps([d.as_dict() for d in error.diagnostics], indent=2))
        else:
            print(render_all(error.diagnostics, error.sources), file=sys.stderr)
        return EXIT_REJECTED if any(d.severity == "error" for d in error.diagnostics) else EXIT_OK
    except (FileNotFoundError, NotADirectoryError) as error:
        print(f"infuse: {error}", file=sys.stderr)
        return EXIT_UNUSABLE
    if args.format == "json":
        print(json.dumps([]))
    for family in registry.families:
        names = ", ".join([family.base.name, *(v.name for v in family.variants.values())])
        print(f"ok: {names} {family.base.version} ({family.base.effective[0]} .. {family.base.effective[1]})",
              file=sys.stderr if args.format == "json" else sys.stdout)
    return EXIT_OK
