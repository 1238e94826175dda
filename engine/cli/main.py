"""The `infuse` command line. Subcommands live beside this module in engine/cli, one module
each, listed in engine.cli.commands.

Exit status: 0 success, 1 some records rejected (or ruleset errors for `check`),
2 unusable arguments, input or ruleset, 3 the output could not be written (a full disk, a
file-size limit; what was written may be cut off). A reader that stops reading (`| head`)
is no failure: exit status 0, whatever is left to write dropped.
"""
from __future__ import annotations

import argparse
import sys
from importlib import metadata

from engine.io import output
from engine.cli.commands import COMMANDS
from engine.cli.common import EXIT_OK, EXIT_OUTPUT


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
        status = args.run(args)
        output.flush_stdout()
        return status
    except BrokenPipeError:
        output.silence_stdout()
        return EXIT_OK
    except output.OutputError as error:
        output.silence_stdout()
        print(f"infuse: {error}", file=sys.stderr)
        return EXIT_OUTPUT
    except KeyboardInterrupt:
        return 130


def run() -> None:
    output.complete_writes()
    sys.exit(main())
