"""What several subcommands share: exit statuses and loading rulesets with readable errors."""
from __future__ import annotations

import sys

from dsl.diagnostics import RulesetError, render_all
from dsl.loader import UnknownPayer
from engine.core.registry import OverlappingRulesets, Registry

EXIT_OK, EXIT_REJECTED, EXIT_UNUSABLE, EXIT_OUTPUT = 0, 1, 2, 3
"""See engine.cli: EXIT_OUTPUT is a failure to write the output (engine.io.output.OutputError)."""


class Unusable(Exception):
    """Arguments or a ruleset that cannot be used; the message is for the user (exit 2)."""


def add_cache_argument(parser) -> None:
    """--no-cache, for the commands that load rulesets to use them (not to report on them)."""
    parser.add_argument("--no-cache", action="store_true",
                        help="parse and check the rule files even if the ruleset cache holds them "
                             "(the cache: $INFUSE_CACHE_DIR, default ~/.cache/infuse; INFUSE_CACHE_DIR=off turns it off)")


def load_registry(path, cache: bool = True) -> Registry:
    """The registry at `path` (bundled when None), through the ruleset cache unless `cache` is
    False (engine.core.registry); a bad ruleset becomes Unusable with its diagnostics."""
    try:
        return Registry.from_path(path, cache=cache)
    except RulesetError as error:
        raise Unusable(render_all(error.diagnostics, error.sources)) from None
    except (FileNotFoundError, NotADirectoryError, OverlappingRulesets) as error:
        raise Unusable(str(error)) from None


def add_ruleset_arguments(parser, what: str) -> None:
    """RULESET and --payer, for the commands that show one ruleset's `what` (see load_latest)."""
    parser.add_argument("path", help="a ruleset folder, or a folder of year folders (the latest year is shown)")
    parser.add_argument("--payer", help=f"the {what} of this payer's variant")
    add_cache_argument(parser)


def load_latest(path, payer: str | None, cache: bool = True):
    """The latest ruleset at `path` (a ruleset folder or a folder of year folders), the variant
    of `payer` when given; a bad ruleset or an unknown payer becomes Unusable."""
    family = load_registry(path, cache).latest
    try:
        return family.for_payer(payer)
    except UnknownPayer as error:
        raise Unusable(str(error)) from None


def fail(message: str) -> int:
    """Print why the command cannot go on (one line gets the program's name; rendered
    diagnostics, several lines, stand as they are) and give the exit status for it."""
    print(message if "\n" in message or message.startswith("infuse:") else f"infuse: {message}", file=sys.stderr)
    return EXIT_UNUSABLE
