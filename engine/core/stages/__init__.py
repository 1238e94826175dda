"""The stages that act on a whole encounter at once, one module each: merge, initial and
edits (engine.core.pipeline runs them, with the tables, in the order the ruleset writes)."""
