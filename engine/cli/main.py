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

from engine.io import output
from engine.cli.commands import COMMANDS
from engine.cli.common import EXIT_OK, EXIT_OUTPUT


def _version() -> str:
    from importlib import metadata  # some 10 ms to import: only for --version

    try:
        return metadata.version("infuse")
    except metadata.PackageNotFoundError:
        return "unknown"


class _Version(argparse.Action):
    """--version, the installed version looked up only when asked for."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0,
                         help=help or "show program's version number and exit")

    def __call__(self, parser, namespace, values, option_string=None):
        parser._print_message(f"infuse {_version()}\n", sys.stdout)  # where argparse's own version action prints
        parser.exit()


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser for `argv`: the command it names gets its full parser (its module imported),
    every other a stub with its help line, enough for `infuse --help` and for argparse to
    name the choices. With no `argv`, every command's full parser."""
    parser = argparse.ArgumentParser(prog="infuse", description="Code drug administration encounters with a versioned ruleset.")
    parser.add_argument("--version", action=_Version)
    subparsers = parser.add_subparsers(dest="command", required=True)
    chosen = None if argv is None else next((word for word in argv if not word.startswith("-")), "")
    for command in COMMANDS:
        if chosen is None or command.name == chosen:
            command.load().register(subparsers)
        else:
            subparsers.add_parser(command.name, help=command.help)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(argv).parse_args(argv)
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
