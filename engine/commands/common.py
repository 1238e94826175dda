"""What several subcommands share: exit statuses and loading rulesets with readable errors."""
from __future__ import annotations

import sys

from dsl.diagnostics import RulesetError, render_all
from engine.registry import Registry

EXIT_OK, EXIT_REJECTED, EXIT_UNUSABLE = 0, 1, 2


class Unusable(Exception):
    """Arguments or a ruleset that cannot be used; the message is for the user (exit 2)."""


def load_registry(path) -> Registry:
    """The registry at `path` (bundled when None); a bad ruleset becomes Unusable with its diagnostics."""
    try:
        return Registry.from_path(path)
    except RulesetError as error:
        raise Unusable(render_all(error.diagnostics, error.sources)) from None
    except (FileNotFoundError, NotADirectoryError) as error:
        raise Unusable(str(error)) from None


def fail(message: str) -> int:
    print(message if message.startswith(("infuse:", "rulesets", "/")) or "\n" in message else f"infuse: {message}",
          file=sys.stderr)
    return EXIT_UNUSABLE
