"""Golden-case comparison, as ../shared/cases/README.md defines it."""
from __future__ import annotations

import collections
import itertools
import json
from pathlib import Path


def load_cases(folder: Path) -> list[tuple[str, dict]]:
    return [(path.name, json.loads(path.read_text())) for path in sorted(folder.glob("*.json"))]


def tally(lines) -> collections.Counter:
    """Units summed per (code, sorted modifiers)."""
    totals = collections.Counter()
    for line in lines:
        totals[(line["code"], tuple(sorted(line.get("modifiers", []))))] += int(line.get("units", 1))
    return totals


def lines_match(expected: list[dict], got: list[dict]) -> bool:
    """True when some choice among `A|B` modifiers makes the expected tally equal the result's."""
    choices = [itertools.product(*(m.split("|") for m in line.get("modifiers", []))) for line in expected]
    want = tally(got)
    for picked in itertools.product(*choices):
        candidate = [dict(line, modifiers=list(mods)) for line, mods in zip(expected, picked)]
        if tally(candidate) == want:
            return True
    return False


def show(lines) -> str:
    return ", ".join(f"{code}{'-' + '-'.join(mods) if mods else ''} x{units}"
                     for (code, mods), units in sorted(tally(lines).items())) or "(none)"
