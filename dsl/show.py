"""How values, predicates, outputs and edit clauses read as text, in every report.

`infuse check` (gap examples, overlapping rows, the threshold report), `diff`, `table`,
`test` and `explain` all show what rules compare and produce, and word it here, so each
thing has one spelling: a boolean is `yes`/`no` (the rule language's own words), a value
no cell names (dsl.checked.OTHER) is `(any other)`, an absent value `missing`, a duration
as the rules write it (`15 min`, `8 h`, dsl.durations), a predicate as a cell would be
written with its constants resolved (`> 15 min`, `not im, subq`).

A value an encounter gives a rule (`input_text`) differs in one way, on purpose: a time
measured on an encounter reads in minutes (`75 min`), as documentation records it, and an
absent one is `unknown` (no stop time), the word a duration cell uses for it.

Example:
    value_text(True)                                                       # 'yes'
    value_text(3600, "duration")                                           # '1 h'
    predicate_text(Predicate("range", low=900, low_inclusive=False), FieldType("duration"))  # '> 15 min'
    input_text(4500, "duration")                                           # '75 min'
"""
from __future__ import annotations

from dsl.checked import OTHER, CheckedLimit, CheckedLimitsFrom, CheckedPairsFrom, CheckedRequire, FieldType, Predicate
from dsl.durations import duration_text, minutes_text


def value_text(value, kind: str | None = None) -> str:
    """A value as a rule would write it; `kind` is its field type's kind ("duration" shows
    seconds as a duration)."""
    if value is None:
        return "missing"
    if value is OTHER:
        return "(any other)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if kind == "duration":
        return duration_text(value)
    return str(value)


def input_text(value, kind: str) -> str:
    """A value an encounter gives a rule: a measured time in minutes, an absent one `unknown`."""
    if kind == "duration":
        return "unknown" if value is None else minutes_text(value)
    return value_text(value, kind)


def const_text(name: str, value, kind: str | None = None) -> str:
    """A constant by name, then its value in brackets: `push_limit (15 min)`."""
    return f"{name} ({value_text(value, kind)})"


def predicate_text(predicate: Predicate, field_type: FieldType) -> str:
    """An input cell as the rule language writes it, with constants resolved."""
    def show(value):
        return value_text(value, field_type.kind)

    if predicate.kind == "any":
        return "*"
    if predicate.kind == "missing":
        return "missing"
    if predicate.kind in ("in", "not_in"):
        values = ", ".join(sorted(show(v) for v in predicate.values))
        return values if predicate.kind == "in" else f"not {values}"
    low, high = predicate.low, predicate.high
    if low is not None and high is not None:
        if predicate.low_inclusive and predicate.high_inclusive:
            return f"{show(low)} .. {show(high)}"
        return f"{'>=' if predicate.low_inclusive else '>'} {show(low)} and {'<=' if predicate.high_inclusive else '<'} {show(high)}"
    if low is not None:
        return f"{'>=' if predicate.low_inclusive else '>'} {show(low)}"
    return f"{'<=' if predicate.high_inclusive else '<'} {show(high)}"


def output_text(value) -> str:
    """An output cell's resolved value: `-` for blank, a list joined with commas."""
    if value is None:
        return "-"
    if isinstance(value, tuple):
        return ", ".join(value)
    return value_text(value)


def codes_text(codes) -> str:
    """A set of codes, sorted: `96366, 96367`."""
    return ", ".join(sorted(codes))


def clause_text(clause) -> str:
    """A checked edit clause as the rule language writes it, with constants resolved."""
    if isinstance(clause, CheckedRequire):
        return f"require {codes_text(clause.addons)} with {codes_text(clause.primaries)}"
    if isinstance(clause, CheckedLimit):
        return f"limit {clause.code} to {clause.units} per {clause.per}"
    where = " and ".join(f"{attribute} = {', '.join(sorted(values))}" for attribute, values in getattr(clause, "where", ()))
    where = f" where {where}" if where else ""
    if isinstance(clause, CheckedLimitsFrom):
        return f'limit from "{clause.path}" per {clause.per}{where}'
    if isinstance(clause, CheckedPairsFrom):
        distinct = "".join(f", {text}" for text in _distinctions_text(clause))
        return f'pairs from "{clause.path}" per {clause.per}{where}{distinct}'
    distinct = "; ".join(_distinctions_text(clause))
    return f"pair {codes_text(clause.column1)} with {codes_text(clause.column2)} per {clause.per}, {distinct}"


def _distinctions_text(clause) -> list[str]:
    missing = dict(clause.missing)
    return [f"distinct by {attribute}: {modifier}"
            + (f", when missing finding {missing[attribute]}" if attribute in missing else "")
            for attribute, modifier in clause.distinctions]
