"""Subcommands of `infuse`: each module has `register(subparsers)`, which adds its parser
and sets `run` (a function of the parsed arguments returning the exit status)."""
from engine.cli import check, code, columns, diff, explain, export, fmt, new_year, schema, table, test

COMMANDS = (code, check, test, fmt, explain, table, export, diff, new_year, columns, schema)
from engine.cli import lsp; COMMANDS += (lsp,)  # noqa: E402,E702  the language server (engine.lsp)
