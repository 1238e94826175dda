"""infuse: code drug administration encounters with a versioned ruleset.

The public API: `load` a Coder over rulesets, `Coder.code` an encounter into a `Result`
(`Result.as_dict()` is the contract's JSON), `EncounterError` for a record that breaks the
contract. The layers below (engine.core, engine.analyst, engine.io, engine.cli) are described
in the README, "How it is built".
"""
from engine.core.coder import Coder, code, load
from engine.core.encounter import EncounterError
from engine.core.result import Result

__all__ = ["Coder", "EncounterError", "Result", "code", "load"]
