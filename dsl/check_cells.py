"""What one cell of a rule means in its column: a predicate for an input cell, a resolved
value for an output cell, each checked against the column's type (a duration, a number, a
vocabulary word, yes or no, a text of a given form) with a located error when it cannot hold.
"""
from __future__ import annotations

import re

from dsl import ast
from dsl.checked import ANY, FieldType, Predicate
from dsl.diagnostics import did_you_mean

BOOLEAN_WORDS = {"yes": True, "no": False}

def duration_seconds(value, ctx, consts, what: str) -> int:
    """Seconds of a duration literal or a duration constant. A constant that is not a
    duration is recorded in `ctx.misused_consts`, for one error at its definition."""
    if isinstance(value, ast.Duration):
        return value.seconds
    if isinstance(value, ast.Name) and value.text in consts and isinstance(ctx.consts[value.text].value, ast.Duration):
        return consts[value.text]
    if isinstance(value, ast.Name) and value.text not in consts:
        ctx.unknown("constant", value.text, value.span, [k for k, v in ctx.consts.items() if isinstance(v.value, ast.Duration)])
    elif isinstance(value, ast.Name):  # the cause is the definition: reported there once, each use a note
        ctx.misused_consts.setdefault(value.text, []).append((value.span, what))
    else:
        ctx.error("E-type", f"{what} must be a duration such as '30 min'", value.span)
    return 0


def symbol_text(value) -> str:
    """A value as written: text columns compare text, so a number `02` stays "02"."""
    return value.text


UNKNOWN_TYPE = FieldType("unknown")  # an unknown column: its cells are not checked again


def predicate(cell, column: str, field_type: FieldType, ctx, consts) -> Predicate:
    """Turn one input cell into a Predicate, checking it against the column's type."""
    if field_type is UNKNOWN_TYPE or cell is None or isinstance(cell, ast.AnyCell):
        return ANY
    if isinstance(cell, ast.BlankCell):
        ctx.error("E-cell", "an input cell cannot be blank ('-'); use '*' for any value", cell.span)
        return ANY
    if isinstance(cell, ast.MissingCell):
        return Predicate("missing")
    if isinstance(cell, (ast.Alternatives, ast.Negated)):
        alternatives = cell if isinstance(cell, ast.Alternatives) else cell.alternatives
        values = frozenset().union(*(member_values(v, column, field_type, ctx, consts) for v in alternatives.values))
        return Predicate("in" if isinstance(cell, ast.Alternatives) else "not_in", values)
    if field_type.kind not in ("duration", "number"):
        ctx.error("E-type", f"column '{column}' holds {field_type.kind} values; a comparison needs a duration or number column", cell.span)
        return ANY
    if isinstance(cell, ast.Comparison):
        bound = _scalar(cell.value, column, field_type, ctx, consts)
        return {"<": Predicate("range", high=bound, high_inclusive=False),
                "<=": Predicate("range", high=bound),
                ">": Predicate("range", low=bound, low_inclusive=False),
                ">=": Predicate("range", low=bound)}[cell.operator]
    low = _scalar(cell.low, column, field_type, ctx, consts)
    high = _scalar(cell.high, column, field_type, ctx, consts)
    if low > high:
        ctx.error("E-range", "the range runs backwards", cell.span)
    return Predicate("range", low=low, high=high)


def _scalar(value, column, field_type: FieldType, ctx, consts) -> int:
    if field_type.kind == "duration":
        return duration_seconds(value, ctx, consts, f"a bound of column '{column}'")
    if isinstance(value, ast.Number):
        return value.value
    if isinstance(value, ast.Name) and isinstance(consts.get(value.text), int) and not isinstance(ctx.consts[value.text].value, ast.Duration):
        return consts[value.text]
    ctx.error("E-type", f"column '{column}' compares numbers; '{symbol_text(value)}' is not one", value.span)
    return 0


def member_values(value, column, field_type: FieldType, ctx, consts) -> frozenset:
    """The values one alternative stands for: itself, or the members of a named set."""
    if isinstance(value, ast.Duration) or field_type.kind in ("duration", "number"):
        if field_type.kind in ("duration", "number"):
            return frozenset({_scalar(value, column, field_type, ctx, consts)})
        ctx.error("E-type", f"column '{column}' holds {field_type.kind} values, not durations", value.span)
        return frozenset()
    text = symbol_text(value)
    if text in ctx.sets:
        set_node, set_field, members = ctx.sets[text]
        if set_field != column:
            ctx.error("E-type", f"set '{text}' holds values of '{set_field}', not of '{column}'", value.span)
        return members
    if field_type.kind == "bool":
        if text not in BOOLEAN_WORDS:
            ctx.error("E-value", f"column '{column}' is yes or no; got '{text}'", value.span, did_you_mean(text, BOOLEAN_WORDS))
        return frozenset({BOOLEAN_WORDS.get(text, False)})
    if field_type.kind == "enum" and text not in field_type.values:
        ctx.error("E-value", f"'{text}' is not a value of '{column}'", value.span,
                  did_you_mean(text, [*field_type.values, *ctx.sets]) or f"expected one of: {', '.join(field_type.values)}")
    if field_type.pattern is not None and not re.fullmatch(field_type.pattern, text):
        ctx.error("E-value", f"'{text}' can never match column '{column}', whose values are {field_type.form}",
                  value.span, _padded_hint(text, field_type))
    return frozenset({text})


def _padded_hint(text: str, field_type: FieldType) -> str | None:
    """'did you mean' the value written with the leading zeros the form needs (2 -> 02)."""
    for width in range(len(text) + 1, len(text) + 4):
        padded = text.zfill(width)
        if re.fullmatch(field_type.pattern, padded):
            return f"did you mean '{padded}'?"
    return None


def output_value(cell, column: str, kind, ctx, consts, units):
    """Resolve one output cell to the value the engine uses (None for blank)."""
    if cell is None or isinstance(cell, ast.BlankCell) or kind is None:
        return None
    if not isinstance(cell, ast.Alternatives):
        ctx.error("E-cell", f"output column '{column}' takes a value, not a condition", cell.span)
        return None
    durations = [v for v in cell.values if isinstance(v, ast.Duration)]
    if durations:
        ctx.error("E-type", f"output column '{column}' takes a name, not a duration", durations[0].span)
        return None
    if kind == "finding":
        for value in cell.values:
            if symbol_text(value) not in ctx.findings:
                ctx.unknown("finding", symbol_text(value), value.span, ctx.findings)
            ctx.used_findings.add(symbol_text(value))
        return tuple(symbol_text(v) for v in cell.values)
    if len(cell.values) != 1:
        ctx.error("E-cell", f"output column '{column}' takes one value", cell.span)
        return None
    value = cell.values[0]
    text = symbol_text(value)
    if kind == "code":
        if text not in ctx.codes:
            ctx.unknown("code", text, value.span, ctx.codes)
        return text
    if kind == "units":
        if text not in units and text not in ctx.units:
            ctx.unknown("units rule", text, value.span, ctx.units)
        return text
    if kind == "modifier":
        resolved = str(consts[text]) if text in ctx.consts else text
        if resolved not in ctx.modifiers:
            ctx.unknown("modifier", text, value.span, [*ctx.modifiers, *ctx.consts])
        return resolved
    if kind == "bool":
        if text not in BOOLEAN_WORDS:
            ctx.error("E-value", f"column '{column}' is yes or no; got '{text}'", value.span, did_you_mean(text, BOOLEAN_WORDS))
        return BOOLEAN_WORDS.get(text)
    allowed = [v.text for v in ctx.vocabularies[column].values]
    if text not in allowed:
        ctx.error("E-value", f"'{text}' is not a value of '{column}'", value.span, did_you_mean(text, allowed))
    return text
