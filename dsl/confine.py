"""Ruleset folders are closed: every file read from one resolves inside it.

A ruleset arrives by pull request, and `infuse check` runs in CI, where diagnostics are
printed for all to see. A link `payers/evil.rules -> /proc/self/environ` would put the
CI's secrets in the log, and `infuse fmt` following a link would write outside the
folder. So a file is read (or written) only when its path, with every link followed,
lies inside the folder it was found in, itself resolved; a link that leaves it is
refused before a byte of its target is read.
"""
from __future__ import annotations

from pathlib import Path


def inside(path: Path, folder: Path) -> bool:
    """True when `path`, links followed, lies inside `folder` (links followed too).

    A link loop, or a path that cannot be resolved, is not inside anything.
    """
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop on Python 3.11/3.12
        return False


def outside_message(shown: str) -> str:
    """What a refused file is told: where it is, never what its target holds or is."""
    return f"'{shown}' is a link to outside the ruleset folder; only files inside it are read"
