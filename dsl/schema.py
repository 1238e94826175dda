"""The Schema a ruleset is checked against: what the engine offers the rules beside the
ruleset's declared input (engine.core.schema holds the engine's).

It lives in a module of its own, not in dsl.checker, which uses it: a checked ruleset holds
one, and unpickling a cached ruleset (engine.core.registry) should import no checker.
"""
from __future__ import annotations

import attrs

from dsl.checked import CheckedInput


@attrs.frozen
class Schema:
    """What the engine offers the rules beside the ruleset's declared input: the attributes
    an `initial` stage writes and lines add, and the output columns with a meaning of their own.

    `initial_writes` are the attributes an `initial` stage produces (with the key names
    added to `key_attribute`). `outputs` maps special output column names to their kind:
    "code", "units", "modifier", "finding", "bool". `for_input` adds the scopes a checked
    input offers: one per kind of event, and `line_scope` reading the first kind's
    attributes with `line_attributes`.
    """

    initial_writes: dict
    outputs: dict
    line_attributes: dict = attrs.Factory(dict)
    scopes: dict = attrs.Factory(dict)  # scope -> {attribute: FieldType}
    inherits: dict = attrs.Factory(dict)  # scope -> the scope whose produced attributes it also reads
    event_scope: str = "event"  # the scope `merge` and `initial` stages act on
    line_scope: str = "line"  # the scope `edit` stages act on
    key_attribute: str = "distinct"  # the attribute an `initial` stage fills with its key names

    def for_input(self, checked: CheckedInput) -> "Schema":
        from dsl.check_input import scopes

        offered = scopes(checked)
        main = checked.main.name
        offered[self.line_scope] = {**offered[main], **self.line_attributes}
        return attrs.evolve(self, scopes=offered, inherits={self.line_scope: main}, event_scope=main)
