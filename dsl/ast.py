"""AST nodes of the rule language: one frozen attrs class per construct.

Every node carries a `span` that is excluded from equality, so two rules written
in different places compare equal when they say the same thing.
"""
from __future__ import annotations

import attrs


@attrs.frozen
class Span:
    """Where a node stands in its file (1-based lines and columns, end exclusive)."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int


NOWHERE = Span("<none>", 0, 0, 0, 0)


def _span():
    return attrs.field(default=NOWHERE, eq=False, repr=False, kw_only=True)


# ----- values and cells -------------------------------------------------------

@attrs.frozen
class Name:
    """A bare word: a vocabulary value, a constant, a set, a code or a modifier."""

    text: str
    span: Span = _span()


@attrs.frozen
class Number:
    """A whole number as written: `text` keeps leading zeros, so a cell `02` in a text
    column (a place of service) means "02", never 2."""

    value: int
    text: str
    span: Span = _span()


@attrs.frozen
class Duration:
    """A time literal, held in seconds so that every comparison is exact."""

    seconds: int
    text: str
    span: Span = _span()


Value = Name | Number | Duration


@attrs.frozen
class AnyCell:
    """`*`: matches every input, including a missing one."""

    span: Span = _span()


@attrs.frozen
class BlankCell:
    """`-` or an empty cell: no output."""

    span: Span = _span()


@attrs.frozen
class MissingCell:
    """`missing` / `unknown`: the input is absent (no stop time, no dose)."""

    span: Span = _span()


@attrs.frozen
class Alternatives:
    """`a, b, c`: any of the values (a set name stands for its members)."""

    values: tuple[Value, ...]
    span: Span = _span()


@attrs.frozen
class Negated:
    """`not a, b`: anything present except the values."""

    alternatives: Alternatives
    span: Span = _span()


@attrs.frozen
class Comparison:
    """`<= push_limit`, `> 0`."""

    operator: str
    value: Value
    span: Span = _span()


@attrs.frozen
class Between:
    """`16 min .. 90 min`: both ends included."""

    low: Value
    high: Value
    span: Span = _span()


Cell = AnyCell | BlankCell | MissingCell | Alternatives | Negated | Comparison | Between


# ----- declarations -----------------------------------------------------------

@attrs.frozen
class Ref:
    """A citation of a declared source."""

    source: str
    span: Span = _span()


@attrs.frozen
class RulesetHeader:
    name: str
    version: str
    span: Span = _span()


@attrs.frozen
class Extends:
    base: str
    span: Span = _span()


@attrs.frozen
class PayerDecl:
    payer: str
    span: Span = _span()


@attrs.frozen
class PayerRoute:
    """`route payer "Aetna", "Cigna" to commercial`: payer names, as records spell them,
    that take a payer variant (or `base`, the base ruleset) without a variant of their own."""

    names: tuple[Name, ...]
    target: str
    refs: tuple[Ref, ...]
    span: Span = _span()


@attrs.frozen
class Effective:
    start: str
    end: str
    span: Span = _span()


@attrs.frozen
class Include:
    path: str
    span: Span = _span()


@attrs.frozen
class Source:
    id: str
    text: str
    span: Span = _span()


@attrs.frozen
class Vocabulary:
    name: str
    values: tuple[Name, ...]
    refs: tuple[Ref, ...]
    span: Span = _span()


@attrs.frozen
class ValueSet:
    """A named set of values of one field, such as the facility places of service."""

    name: str
    field: str
    values: tuple[Name, ...]
    refs: tuple[Ref, ...]
    span: Span = _span()


@attrs.frozen
class Const:
    name: str
    value: Value
    refs: tuple[Ref, ...]
    doc: str | None
    span: Span = _span()


@attrs.frozen
class CodeDecl:
    code: str
    kind: str
    text: str
    refs: tuple[Ref, ...]
    span: Span = _span()


@attrs.frozen
class ModifierDecl:
    code: str
    text: str
    refs: tuple[Ref, ...]
    span: Span = _span()


@attrs.frozen
class FindingDecl:
    id: str
    severity: str
    refs: tuple[Ref, ...]
    message: str
    span: Span = _span()


@attrs.frozen
class Column:
    name: str
    span: Span = _span()


@attrs.frozen
class Row:
    """One rule of a decision table; cells line up with the table's columns."""

    id: str
    inputs: tuple[Cell | None, ...]
    outputs: tuple[Cell | None, ...]
    span: Span = _span()


@attrs.frozen
class Table:
    name: str
    policy: str
    scope: str
    refs: tuple[Ref, ...]
    doc: str | None
    inputs: tuple[Column, ...]
    outputs: tuple[Column, ...]
    rows: tuple[Row, ...]
    span: Span = _span()


@attrs.frozen
class Amend:
    """Rows for a table of the base ruleset: same id replaces, a new id is inserted."""

    table: str
    before: str | None
    refs: tuple[Ref, ...]
    doc: str | None
    inputs: tuple[Column, ...]
    outputs: tuple[Column, ...]
    rows: tuple[Row, ...]
    span: Span = _span()


@attrs.frozen
class Condition:
    """`field = a, b`."""

    field: str
    values: tuple[Name, ...]
    span: Span = _span()


@attrs.frozen
class Merge:
    """Events that match `combine` and share `keys` become one, their time the union
    of theirs less any overlap with events matching `minus` under `minus_keys`."""

    name: str
    refs: tuple[Ref, ...]
    doc: str | None
    combine: Condition
    keys: tuple[str, ...]
    minus: Condition | None
    minus_keys: tuple[str, ...]
    span: Span = _span()


@attrs.frozen
class Ranking:
    """`key: a > b > c` (`key` is None for a ranking used whatever the selector).

    `primary` in the order is the documented primary reason, ranked there when its
    value is one of `primary_of` (any value when empty) and would rank lower.
    """

    key: str | None
    order: tuple[Name, ...]
    primary_of: tuple[Name, ...] = ()
    span: Span = _span()


@attrs.frozen
class Initial:
    """One initial event per group of `keys`, chosen by rank, then by `ties`."""

    name: str
    keys: tuple[str, ...]
    refs: tuple[Ref, ...]
    doc: str | None
    selector: str | None
    rankings: tuple[Ranking, ...]
    ties: tuple[str, ...]
    concurrent: tuple[Name, ...]
    span: Span = _span()


@attrs.frozen
class Units:
    """Units counted from time: one per `period` after `after`, a final part
    counted only when longer than `part` (`>`), or at least as long (`>=`, `inclusive`)."""

    name: str
    refs: tuple[Ref, ...]
    doc: str | None
    period: Duration
    after: Duration
    part: Value
    inclusive: bool = False
    span: Span = _span()


@attrs.frozen
class Require:
    addons: tuple[Name, ...]
    primaries: tuple[Name, ...]
    span: Span = _span()


@attrs.frozen
class Limit:
    code: Name
    units: int
    per: str
    span: Span = _span()


@attrs.frozen
class Distinction:
    """`distinct by site: separate_site`: a line distinct by this attribute gets the modifier.
    With `, when missing finding F`, a line that bundles without a documented value of the
    attribute also raises F: the bundling may be a documentation gap, not a shared value."""

    attribute: str
    modifier: Value
    missing: str | None = None  # the finding a bundled line without the attribute raises
    missing_span: Span = _span()
    span: Span = _span()


@attrs.frozen
class Pair:
    """Column 2 codes bundle into column 1 codes sharing `per` (or the whole encounter),
    unless distinct by one of `distinctions`, tried in order."""

    column1: tuple[Name, ...]
    column2: tuple[Name, ...]
    per: str
    distinctions: tuple[Distinction, ...]
    span: Span = _span()


@attrs.frozen
class PairsFrom:
    """`pairs from "data/ncci-ptp-hospital.csv" per date where claim = facility`: the pairs of
    a PTP file, each row's modifier indicator saying whether one of `distinctions` may keep its
    column 2 code; with `where`, only on lines whose attributes hold those values (CMS
    publishes one file per claim type). `data` is the file as read (dsl.edit_data.PairTable),
    filled in by the loader; it is the file's bytes (their digest) that make two clauses equal."""

    path: str
    per: str
    distinctions: tuple[Distinction, ...]
    where: tuple[Condition, ...] = ()
    path_span: Span = _span()
    data: object = attrs.field(default=None, eq=False, repr=False)
    digest: str | None = None
    span: Span = _span()


@attrs.frozen
class LimitsFrom:
    """`limit from "data/mue-hospital.csv" per date where claim = facility`: the units per code
    of an MUE file; with `where`, only on lines whose attributes hold those values (CMS
    publishes one file per claim type)."""

    path: str
    per: str
    where: tuple[Condition, ...] = ()
    path_span: Span = _span()
    data: object = attrs.field(default=None, eq=False, repr=False)
    digest: str | None = None
    span: Span = _span()


DataClause = PairsFrom | LimitsFrom
EditClause = Require | Limit | Pair | PairsFrom | LimitsFrom


@attrs.frozen
class Edit:
    name: str
    refs: tuple[Ref, ...]
    doc: str | None
    clauses: tuple[EditClause, ...]
    finding: str
    finding_span: Span = _span()
    span: Span = _span()


# ----- the declared input -----------------------------------------------------

@attrs.frozen
class Form:
    """`form two_digits "[0-9]{2}" "two digits"`: a text form a field may take."""

    name: str
    pattern: str
    described: str
    refs: tuple[Ref, ...]
    span: Span = _span()


@attrs.frozen
class FieldDecl:
    """`field NAME: TYPE, options "meaning"`. `type` is a built-in type, a vocabulary or a
    form; `refers_to` is the event kind an `id of KIND` field names one of."""

    name: str
    type: str
    refers_to: str | None
    options: tuple[str, ...]  # required, blank, folded, unique, picks payer
    first_in: str | None  # `else first in KIND`: missing takes the first documented value there
    meaning: str | None
    span: Span = _span()


@attrs.frozen
class Derivation:
    """A generic built-in over the event's fields or the events before it.

    `builtin` is one of: time_between, days_between (over `fields`), time_since,
    count_previous, overlaps_previous, previous_differs (over earlier events of the kind,
    those meeting `where`, sharing `per`; `fields[0]` is what previous_differs compares),
    count_lines (`fields[0]` is the event kind whose lines are counted)."""

    builtin: str
    fields: tuple[str, ...] = ()
    where: tuple[Condition, ...] = ()
    per: tuple[str, ...] = ()
    span: Span = _span()


@attrs.frozen
class DerivedDecl:
    """`derive NAME = derivation "meaning"`."""

    name: str
    derivation: Derivation
    meaning: str | None
    span: Span = _span()


@attrs.frozen
class UndeclaredDecl:
    """`undeclared fields => finding NAME`: a record's field the block does not declare (a
    misspelt name, read as not documented) raises the finding instead of passing unseen."""

    finding: str
    span: Span = _span()


@attrs.frozen
class InputDecl:
    """The encounter's own fields (`kind` None) or one kind of event it lists under `key`."""

    kind: str | None
    key: str | None
    options: tuple  # ("required",), ("at_most", n), ("timed", start, stop), ("alike", field)
    refs: tuple[Ref, ...]
    doc: str | None
    fields: tuple[FieldDecl, ...]
    derived: tuple[DerivedDecl, ...]
    undeclared: tuple[UndeclaredDecl, ...] = ()
    span: Span = _span()


Statement = (RulesetHeader | Extends | PayerDecl | Effective | Include | Source | Vocabulary
             | ValueSet | Const | CodeDecl | ModifierDecl | FindingDecl | Table | Amend
             | Merge | Initial | Units | Edit | Form | InputDecl)


@attrs.frozen
class Module:
    """One parsed file."""

    path: str
    text: str
    statements: tuple[Statement, ...]
