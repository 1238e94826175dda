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
from dsl.loader import BASE_FILE, RulesetFamily, load_family, ruleset_folders
from engine.core.schema import SCHEMA


def bundled_root() -> Path:
    """The rulesets folder shipped with the package."""
    return Path(str(resources.files("rulesets")))


class OverlappingRulesets(ValueError):
    """Two rulesets are effective on the same date, so a date of service could not pick one."""


@attrs.frozen
class Registry:
    families: tuple  # RulesetFamily, ordered by effective start

    @classmethod
    def from_path(cls, path: str | os.PathLike | None = None) -> "Registry":
        """Load one ruleset folder, or every year folder below a root."""
        root = Path(path) if path is not None else bundled_root()
        folders = ruleset_folders(root)
        if not folders:
            raise FileNotFoundError(f"no ruleset in {root} (expected {BASE_FILE} there or in its subfolders)")
        families = sorted((load_family(folder, SCHEMA) for folder in folders), key=lambda f: f.base.effective)
        for earlier, later in zip(families, families[1:]):
            if later.base.effective[0] <= earlier.base.effective[1]:
                raise OverlappingRulesets(f"rulesets {earlier.base.name} {earlier.base.version} and {later.base.name} "
                                 f"{later.base.version} are both effective on {later.base.effective[0]}: "
                                 "one date of service must pick one ruleset")
        return cls(tuple(families))

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
