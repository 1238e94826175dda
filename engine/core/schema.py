"""What the engine offers the rule language beside a ruleset's declared input: the attributes
an initial stage writes, the attributes of a line, and the output columns with a meaning of
their own. The records' fields, their types and meanings are the ruleset's (its `encounter`
and `events` declarations, dsl.check_input).
"""
from dsl.checked import FieldType
from dsl.schema import Schema

ROLES = ("initial", "sequential", "repeat", "concurrent")
LINE_PARTS = ("base", "addon")

SCHEMA = Schema(
    initial_writes={"role": FieldType("enum", ROLES), "distinct": FieldType("enum", ("none",)),
                    "repeats": FieldType("enum", ROLES)},  # role of the earlier alike event of the same ranked value
    outputs={"code": "code", "addon": "code", "units": "units", "addon_units": "units",
             "modifier": "modifier", "finding": "finding", "report": "bool"},
    line_attributes={"code": FieldType("text"), "part": FieldType("enum", LINE_PARTS)},
    line_scope="line",
    key_attribute="distinct",
)

# What each attribute the engine itself offers means, for `infuse columns` (the declared
# fields and facts carry their own meaning, as do the attributes the tables produce).
MEANINGS = {
    "code": "the code of the line",
    "part": "whether the line is a table's base code or its add-on",
    "role": "the event's role in its group: initial, sequential, repeat or concurrent",
    "distinct": "the first grouping key in which the event's group differs from the first group",
    "repeats": "the role of the earlier alike event of the same ranked value, if any",
}
