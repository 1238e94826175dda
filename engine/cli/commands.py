"""Subcommands of `infuse`: each module has `register(subparsers)`, which adds its parser
and sets `run` (a function of the parsed arguments returning the exit status).

A command's module is imported only when that command runs (engine.cli.main): `infuse code`
does not import the analyses behind `check`, `diff` or `explain`. So that `infuse --help`
can list every command without importing it, the list below keeps each one's one-line help,
which its module registers too (`help_of`).
"""
from __future__ import annotations

import importlib
from typing import NamedTuple


class Command(NamedTuple):
    name: str
    module: str  # engine.cli.<module>, whose register(subparsers) adds the command
    help: str

    def load(self):
        return importlib.import_module(self.module)


COMMANDS = (
    Command("code", "engine.cli.code", "code encounters: a .json file (one), a .jsonl file (one per line), "
                                       "a .parquet file (one per row) or - (stdin)"),
    Command("check", "engine.cli.check", "check and analyse a ruleset folder: errors, unreachable rows, gaps, "
                                         "unused names, thresholds"),
    Command("test", "engine.cli.test", "run a ruleset folder's test cases (PATH/tests) and report coverage"),
    Command("fmt", "engine.cli.fmt", "lay out .rules files canonically (in place, or --check)"),
    Command("explain", "engine.cli.explain", "explain how one encounter is coded: every decision, unit count, "
                                             "edit and finding, and why expected codes did not come out"),
    Command("table", "engine.cli.table", "export the decision tables of a ruleset with row ids and citations"),
    Command("export", "engine.cli.export", "export the decision tables of a ruleset to another engine's format"),
    Command("diff", "engine.cli.diff", "compare two ruleset folders, or a payer variant with its base: "
                                       "rules and coding"),
    Command("new-year", "engine.cli.new_year", "copy a ruleset folder as next year's: versions, effective dates "
                                               "and test dates moved; then check and test it"),
    Command("columns", "engine.cli.columns", "list the columns each table scope may read: type, meaning, "
                                             "where declared"),
    Command("schema", "engine.cli.schema", "print the JSON Schema of the encounter a ruleset accepts"),
    Command("lsp", "engine.cli.lsp", "run the language server for editors (stdio; needs infuse[lsp])"),
)


def help_of(name: str) -> str:
    """The one-line help of command `name`, which its module registers (said once, here)."""
    return next(command.help for command in COMMANDS if command.name == name)
