"""`infuse lsp`: the language server of the rule language, over standard input and output
(engine.lsp.server). It needs the extra `pip install 'infuse[lsp]'` (pygls)."""
from __future__ import annotations

from engine.cli.commands import help_of
from engine.cli.common import EXIT_OK, fail


def register(subparsers):
    parser = subparsers.add_parser("lsp", help=help_of("lsp"))
    parser.add_argument("--stdio", action="store_true", help="talk over standard input and output (the default)")
    parser.set_defaults(run=run)


def run(args) -> int:
    try:
        from engine.lsp.server import serve
    except ImportError as error:
        return fail(f"the language server needs pygls: pip install 'infuse[lsp]' ({error})")
    serve()
    raise SystemExit(EXIT_OK)  # pygls has closed standard output: nothing is left to flush
