"""What the engine offers the rule language: attributes per scope and result columns.

These are generic notions (events with start and stop, durations, gaps, roles,
lines, units, findings); the ruleset gives them their drug administration meaning.
The enum fields without values take the ruleset's vocabulary of the same name.
"""
from dsl.checked import FieldType
from dsl.checker import Schema

ENUM = FieldType("enum")
TEXT = FieldType("text")
BOOL = FieldType("bool")
DURATION = FieldType("duration")
NUMBER = FieldType("number")

ROLES = ("initial", "sequential", "repeat", "concurrent")
LINE_PARTS = ("base", "addon")

# Text fields whose values have a form (engine.core.encounter validates the same forms), so that
# a cell that can never match one, like `2` for place of service 02, is a checker error.
POS = FieldType("text", pattern="[0-9]{2}", form="two digits")
EM_CODE = FieldType("text", pattern="[0-9]{5}", form="five digits")

_ENCOUNTER = {"claim": ENUM, "pos": POS, "payer": TEXT}

_ADMINISTRATION = {
    **_ENCOUNTER,
    "category": ENUM, "route": ENUM, "method": ENUM, "hormonal": BOOL, "pump": BOOL,
    "drug": TEXT, "dose": TEXT, "indication": TEXT, "response": TEXT, "site": TEXT, "session": TEXT,
    "duration": DURATION,  # stop minus start; missing without a stop time
    "gap": DURATION,  # since the previous administration of the same drug ended
    "days_from_date": NUMBER,  # whole days between the start's wall-clock date and the encounter's date
}

SCHEMA = Schema(
    scopes={
        "administration": _ADMINISTRATION,
        "line": {**_ADMINISTRATION, "code": TEXT, "part": FieldType("enum", LINE_PARTS)},
        "em": {**_ENCOUNTER, "code": EM_CODE, "session": TEXT, "separately_identifiable": BOOL,
               "administration_lines": NUMBER},  # drug administration lines in the E/M's session
    },
    initial_writes={"role": FieldType("enum", ROLES), "distinct": FieldType("enum", ("none",)),
                    "repeats": FieldType("enum", ROLES)},  # role of the earlier same-drug, same-service event
    outputs={"code": "code", "addon": "code", "units": "units", "addon_units": "units",
             "modifier": "modifier", "finding": "finding", "report": "bool"},
    required_vocabularies=("claim", "category", "route", "method"),
    inherits={"line": "administration"},  # a line reads the attributes of the administration behind it
    event_scope="administration",
    line_scope="line",
    key_attribute="distinct",
)

VALIDATED_FIELDS = ("claim", "category", "route", "method")

# Attributes the engine always fills, so no input lacks them: the encounter's required
# fields, the flags that default to false, and what the pipeline computes itself.
ALWAYS_PRESENT = frozenset({*VALIDATED_FIELDS, "drug", "hormonal", "pump", "separately_identifiable",
                            "administration_lines", "code", "part", "days_from_date"})

# What each attribute the engine offers means, for `infuse columns` (the ruleset's own
# vocabularies and the attributes its tables produce describe themselves).
MEANINGS = {
    "claim": "the claim type of the encounter",
    "pos": "the place of service of the encounter, two digits",
    "payer": "the payer named by the encounter, as written",
    "category": "what was given, as documented (the encounter's category)",
    "route": "the route of the administration",
    "method": "how it was given, as documented",
    "hormonal": "a hormonal anti-neoplastic given IM or subcutaneously",
    "pump": "given by a pump",
    "drug": "the substance, compared ignoring case and surrounding space",
    "dose": "the dose as documented; missing when not documented",
    "indication": "the clinical reason as documented; missing when not documented",
    "response": "the documented monitoring or response; missing when not documented",
    "site": "the label of the access site; missing when not documented",
    "session": "the label of the session; without one, the encounter's first documented session",
    "duration": "stop minus start (merged events: the counted time); missing without a stop time",
    "gap": "time since the previous administration of the same drug ended; missing for the first",
    "days_from_date": "whole days between the start's date and the encounter's date",
    "code": "the code of the line (per em: the E/M code documented)",
    "part": "whether the line is a table's base code or its add-on",
    "separately_identifiable": "the E/M documents a significant, separately identifiable evaluation",
    "administration_lines": "drug administration lines in the E/M's session",
    "role": "the event's role in its group: initial, sequential, repeat or concurrent",
    "distinct": "the first grouping key in which the event's group differs from the first group",
    "repeats": "the role of the earlier event of the same drug and ranked value, if any",
}

