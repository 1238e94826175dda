"""The Python API for embedding: `load` a registry of rulesets, then `code` encounters.

Example:
    import engine
    coder = engine.load()                       # the bundled rulesets
    result = coder.code(json.loads(text))       # a Result; .as_dict() for the contract's JSON
"""
from __future__ import annotations

import os
import threading

from dsl.checked import CheckedInput, CheckedRuleset
from engine.core.compiled import CompiledTable, compiled_unit_offsets
from engine.core.day_text import day_text
from dsl.loader import UnknownPayer
from engine.core.encounter import Encounter, EncounterError, parse_encounter
from engine.core.period import check_period
from engine.core.pipeline import Pipeline
from engine.core.reference import ReferenceTable, reference_unit_offsets
from engine.core.registry import Registry
from engine.core.result import Result
from engine.core.typed import TypedReading

ENGINES = {
    "compiled": (CompiledTable, compiled_unit_offsets),
    "reference": (ReferenceTable, reference_unit_offsets),
}


class Coder:
    """Codes encounters with the ruleset effective on each one's date and its payer's variant.

    Threads may share a Coder: each gets the results serial coding would give. What a
    Coder builds on first use (a ruleset's pipeline, its vocabularies) is built once.
    """

    def __init__(self, registry: Registry, engine: str = "compiled", payer: str | None = None):
        if engine not in ENGINES:
            raise ValueError(f"unknown engine '{engine}'; expected one of: {', '.join(ENGINES)}")
        self.registry = registry
        self.engine = engine
        self.payer = payer
        # Which field names a record, dates it and picks its payer before its ruleset is
        # known: the latest year's declaration says.
        self.declared = registry.latest.base.input
        self.id_field = self.declared.id_field
        self._pipelines: dict = {}
        self._building = threading.Lock()
        self._typed = TypedReading.of(self.declared)
        self._alike: dict = {}  # id(a ruleset's input) -> it equals self.declared
        self._chosen_for: dict = {}  # (date, payer) -> the ruleset the typed way codes it by, or None

    def _once(self, built: dict, ruleset: CheckedRuleset, build):
        """`built[id(ruleset)]`, made by `build(ruleset)` the first time it is asked for.

        Made under a lock, so that threads arriving together build it once (a pipeline
        builds each table's decider, and a large table's indexes), and stored only when
        complete, so that the look-up outside the lock, one dict `get` (whole in CPython
        with or without the GIL, see engine.core.compiled._GENERATED), finds all of it or nothing.
        """
        value = built.get(id(ruleset))
        if value is None:
            with self._building:
                value = built.get(id(ruleset))
                if value is None:
                    value = built[id(ruleset)] = build(ruleset)
        return value

    def pipeline(self, ruleset: CheckedRuleset) -> Pipeline:
        built = self._pipelines.get(id(ruleset))  # as `_once` looks, without making its builder each time
        if built is not None:
            return built
        return self._once(self._pipelines, ruleset, lambda r: Pipeline(r, *ENGINES[self.engine],
                                                                    generated=self.engine == "compiled"))

    def select(self, data: object) -> tuple[CheckedRuleset, Encounter]:
        """The ruleset for a decoded JSON encounter (by its date and payer) and the encounter,
        validated against that ruleset's vocabularies; raise EncounterError naming the bad field:
        a date no ruleset covers, a payer the ruleset neither has a variant for nor routes, an
        administration outside the chosen ruleset's effective dates."""
        declared = self.declared
        date = data.get(declared.date_field) if isinstance(data, dict) else None
        payer = data.get(declared.payer_field) if isinstance(data, dict) and declared.payer_field else None
        family = self.registry.family_for(date) if isinstance(date, str) else None
        named = self.payer or (payer if isinstance(payer, str) else None)
        words_from = family or self.registry.latest
        try:  # an unknown payer is reported once the record is known valid; the base's words validate it
            ruleset, unknown_payer = words_from.for_payer(named), None
        except UnknownPayer as error:
            ruleset, unknown_payer = words_from.base, error
        encounter = parse_encounter(data, ruleset.input)
        if family is None:
            spans = ", ".join(f"{f.base.effective[0]} .. {f.base.effective[1]}" for f in self.registry.families)
            raise EncounterError(declared.date_field, f"no ruleset is effective on {encounter.date.isoformat()} (loaded: {spans})")
        if unknown_payer is not None:
            raise EncounterError(declared.payer_field, str(unknown_payer) + (" (given by --payer)" if self.payer else ""))
        check_period(encounter, ruleset)
        return ruleset, encounter

    def select_json(self, raw: bytes) -> tuple[CheckedRuleset, Encounter] | None:
        """`select(decode_record(raw))` for a record read straight into the declared input's
        types (engine.core.typed); None when the careful way must read it (a bad record, or
        one that way alone is sure of), for it alone words what is wrong."""
        selected = self.read_json(raw)
        return None if selected is None else selected[:2]

    def read_json(self, raw: bytes) -> tuple[CheckedRuleset, Encounter, dict | None] | None:
        """`select_json(raw)`, and the events the typed reader built as it read the record
        (engine.core.typed_reader; None: it left them to the pipeline), which `Pipeline.run_dict`
        takes."""
        read = self._typed.read(raw)
        selected = self._chosen(read)
        return None if selected is None else (*selected, read[1])

    def select_object(self, data: object) -> tuple[CheckedRuleset, Encounter] | None:
        """`select(data)` for a decoded record converted straight into the declared input's
        types (engine.core.typed); None when the careful way must read it."""
        return self._chosen(self._typed.read_object(data))

    def _chosen(self, read: tuple[Encounter, dict | None] | None) -> tuple[CheckedRuleset, Encounter] | None:
        """The ruleset for an encounter read the typed way (`read`: TypedReading.read's), as
        `select` would choose it; None where `select` would raise (the careful way then words why)."""
        if read is None:
            return None
        encounter = read[0]
        key = (encounter.date, self.payer or encounter.payer)
        ruleset = self._chosen_for.get(key, _UNCHOSEN)
        if ruleset is _UNCHOSEN:
            ruleset = self._choice(*key)
            if key[1] is None or len(key[1]) <= _KEPT_PAYER_LENGTH:  # a payer is any text a record holds
                if len(self._chosen_for) >= _MAX_CHOICES:
                    self._chosen_for.clear()
                self._chosen_for[key] = ruleset
        if ruleset is None:
            return None
        try:
            check_period(encounter, ruleset)
        except EncounterError:
            return None
        return ruleset, encounter

    def _choice(self, date, payer: str | None) -> CheckedRuleset | None:
        """The ruleset of a date and payer, for `_chosen`, which keeps it: a batch holds few of
        them, and choosing took four calls an encounter."""
        family = self.registry.family_for(day_text(date))
        if family is None:
            return None
        try:
            ruleset = family.for_payer(payer)
        except UnknownPayer:
            return None
        return ruleset if self._reads_alike(ruleset.input) else None

    def code_json(self, raw: bytes) -> dict | None:
        """`code_dict(decode_record(raw))` for a record `select_json` reads; else None."""
        read = self.read_json(raw)
        return None if read is None else self.pipeline(read[0]).run_dict(read[1], read[2])

    def _reads_alike(self, declared: CheckedInput) -> bool:
        """`declared` reads records as the latest year's declaration does (a payer variant's
        is equal, not the same object): then an Encounter read by the one is the other's."""
        alike = self._alike.get(id(declared))
        if alike is None:
            alike = self._alike[id(declared)] = declared == self.declared
        return alike

    def code(self, data: object) -> Result:
        """Code one decoded JSON encounter; raise EncounterError naming the bad field."""
        ruleset, encounter, events = self._selected(data)
        return self.pipeline(ruleset).run(encounter, events=events)

    def code_dict(self, data: object) -> dict:
        """`code(data).as_dict()`, the contract's JSON as a dict, without the Result objects."""
        ruleset, encounter, events = self._selected(data)
        return self.pipeline(ruleset).run_dict(encounter, events)

    def _selected(self, data: object) -> tuple[CheckedRuleset, Encounter, dict | None]:
        """`select(data)` and the events the typed way built as it read (None: the careful way read it)."""
        read = self._typed.read_object(data)
        selected = self._chosen(read)
        if selected is None:
            return (*self.select(data), None)
        return (*selected, read[1])


_UNCHOSEN = object()
_MAX_CHOICES = 4096  # (date, payer) pairs kept; past it the keeping starts again
_KEPT_PAYER_LENGTH = 64  # a longer payer is chosen for each time, not kept (it may be megabytes)


def load(path: str | os.PathLike | None = None, engine: str = "compiled", payer: str | None = None,
         cache: bool = False) -> Coder:
    """A Coder over the rulesets at `path` (default: the bundled ones); with `cache`, the
    checked rulesets are taken from (or put in) the ruleset cache (engine.core.registry)."""
    return Coder(Registry.from_path(path, cache=cache), engine, payer)


def code(data: object, path: str | os.PathLike | None = None) -> Result:
    """Code one encounter with a freshly loaded registry (prefer `load` for many)."""
    return load(path).code(data)
