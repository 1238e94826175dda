"""The Python API for embedding: `load` a registry of rulesets, then `code` encounters.

Example:
    import engine
    coder = engine.load()                       # the bundled rulesets
    result = coder.code(json.loads(text))       # a Result; .as_dict() for the contract's JSON
"""
from __future__ import annotations

import os

from dsl.checked import CheckedRuleset
from engine.compiled import CompiledTable, compiled_unit_offsets
from dsl.loader import UnknownPayer
from engine.encounter import Encounter, EncounterError, parse_encounter
from engine.period import check_period
from engine.pipeline import Pipeline
from engine.reference import ReferenceTable, reference_unit_offsets
from engine.registry import Registry
from engine.result import Result
from engine.schema import VALIDATED_FIELDS

ENGINES = {
    "compiled": (CompiledTable, compiled_unit_offsets),
    "reference": (ReferenceTable, reference_unit_offsets),
}


class Coder:
    """Codes encounters with the ruleset effective on each one's date and its payer's variant."""

    def __init__(self, registry: Registry, engine: str = "compiled", payer: str | None = None):
        if engine not in ENGINES:
            raise ValueError(f"unknown engine '{engine}'; expected one of: {', '.join(ENGINES)}")
        self.registry = registry
        self.engine = engine
        self.payer = payer
        self._pipelines: dict = {}
        self._words: dict = {}

    def pipeline(self, ruleset: CheckedRuleset) -> Pipeline:
        pipeline = self._pipelines.get(id(ruleset))
        if pipeline is None:
            make_decider, unit_offsets = ENGINES[self.engine]
            pipeline = self._pipelines[id(ruleset)] = Pipeline(ruleset, make_decider, unit_offsets)
        return pipeline

    def _vocabularies(self, ruleset: CheckedRuleset) -> dict:
        """The words an encounter may use, from the ruleset that will code it (kept per ruleset)."""
        words = self._words.get(id(ruleset))
        if words is None:
            words = self._words[id(ruleset)] = {k: frozenset(ruleset.vocabularies[k]) for k in VALIDATED_FIELDS}
        return words

    def select(self, data: object) -> tuple[CheckedRuleset, Encounter]:
        """The ruleset for a decoded JSON encounter (by its date and payer) and the encounter,
        validated against that ruleset's vocabularies; raise EncounterError naming the bad field:
        a date no ruleset covers, a payer the ruleset neither has a variant for nor routes, an
        administration outside the chosen ruleset's effective dates."""
        date = data.get("date") if isinstance(data, dict) else None
        payer = data.get("payer") if isinstance(data, dict) else None
        family = self.registry.family_for(date) if isinstance(date, str) else None
        named = self.payer or (payer if isinstance(payer, str) else None)
        words_from = family or self.registry.latest
        try:  # the words to validate with; an unknown payer is reported once the record is known valid
            ruleset = words_from.for_payer(named)
        except UnknownPayer:
            ruleset = words_from.base
        encounter = parse_encounter(data, self._vocabularies(ruleset))
        if family is None:
            spans = ", ".join(f"{f.base.effective[0]} .. {f.base.effective[1]}" for f in self.registry.families)
            raise EncounterError("date", f"no ruleset is effective on {encounter.date.isoformat()} (loaded: {spans})")
        try:
            ruleset = family.for_payer(named)
        except UnknownPayer as error:
            raise EncounterError("payer", str(error) + (" (given by --payer)" if self.payer else "")) from None
        check_period(encounter, ruleset)
        return ruleset, encounter

    def code(self, data: object) -> Result:
        """Code one decoded JSON encounter; raise EncounterError naming the bad field."""
        ruleset, encounter = self.select(data)
        return self.pipeline(ruleset).run(encounter)


def load(path: str | os.PathLike | None = None, engine: str = "compiled", payer: str | None = None) -> Coder:
    """A Coder over the rulesets at `path` (default: the bundled ones)."""
    return Coder(Registry.from_path(path), engine, payer)


def code(data: object, path: str | os.PathLike | None = None) -> Result:
    """Code one encounter with a freshly loaded registry (prefer `load` for many)."""
    return load(path).code(data)
