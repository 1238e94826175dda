"""infuse engine: the encounter model, compiled and reference evaluation, the pipeline,
the ruleset registry and the command line."""
from engine.api import Coder, code, load

__all__ = ["Coder", "code", "load"]
