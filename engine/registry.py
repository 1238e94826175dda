"""Rulesets by date of service and payer.

A registry holds every ruleset family under a folder (one folder per year, each
with its base and payer variants) and picks the one effective on an encounter's
date, then the variant named by its payer.
"""
from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import attrs

from dsl.checked import CheckedRuleset
from dsl.loader import BASE_FILE, RulesetFamily, load_family
from engine.schema import SCHEMA


def bundled_root() -> Path:
    """The rulesets folder shipped with the package."""
    return Path(str(resources.files("rulesets")))


@attrs.frozen
class Registry:
    families: tuple  # RulesetFamily, ordered by effective start

    @classmethod
    def from_path(cls, path: str | os.PathLike | None = None) -> "Registry":
        """Load one ruleset folder, or every year folder below a root."""
        root = Path(path) if path is not None else bundled_root()
        if (root / BASE_FILE).is_file():
            folders = [root]
        else:
            folders = sorted(p for p in root.iterdir() if (p / BASE_FILE).is_file()) if root.is_dir() else []
        if not folders:
            raise FileNotFoundError(f"no ruleset in {root} (expected {BASE_FILE} there or in its subfolders)")
        families = [load_family(folder, SCHEMA) for folder in folders]
        return cls(tuple(sorted(families, key=lambda f: f.base.effective)))

    def family_for(self, date: str) -> RulesetFamily | None:
        for family in self.families:
            start, end = family.base.effective
            if start <= date <= end:
                return family
        return None

    def select(self, date: str, payer: str | None) -> CheckedRuleset | None:
        family = self.family_for(date)
        return family.for_payer(payer) if family else None

    @property
    def latest(self) -> RulesetFamily:
        return self.families[-1]
