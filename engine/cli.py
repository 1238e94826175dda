"""The `infuse` command line. Subcommands live in engine.commands, one module each.

Exit status: 0 success, 1 some records rejected (or ruleset errors for `check`),
2 unusable arguments or ruleset.
"""
from __future__ import annotations

import argparse
import sys
from importlib import metadata

from engine.commands import COMMANDS
from engine.commands.common import EXIT_OK


def _version() -> str:
    try:
        return metadata.version("infuse")
    except metadata.PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="infuse", description="Code drug administration encounters with a versioned ruleset.")
    parser.add_argument("--version", action="version", version=f"infuse {_version()}")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except BrokenPipeError:
        return EXIT_OK
    except KeyboardInterrupt:
        return 130


def run() -> None:
    sys.exit(main())
