"""The checked ruleset: names resolved, cells turned into predicates, stages in order.

Both the reference evaluator and the compiler start from these nodes, so they
share one reading of the rule text.
"""
from __future__ import annotations

import attrs

from dsl.ast import Span


@attrs.frozen
class FieldType:
    """The type of an attribute a table may read or write."""

    kind: str  # "enum", "bool", "text", "duration", "number"
    values: tuple[str, ...] = ()  # the allowed words of an enum
    pattern: str | None = None  # a text field's form (a regular expression its values fullmatch)
    form: str = ""  # that form in words, for diagnostics: "two digits"


@attrs.frozen
class Predicate:
    """What one input cell accepts. `None` stands for a missing value."""

    kind: str  # "any", "missing", "in", "not_in", "range"
    values: frozenset = frozenset()
    low: int | None = None
    low_inclusive: bool = True
    high: int | None = None
    high_inclusive: bool = True

    def matches(self, value) -> bool:
        if self.kind == "any":
            return True
        if value is None:
            return self.kind == "missing"
        if self.kind == "in":
            return value in self.values
        if self.kind == "not_in":
            return value not in self.values
        if self.kind == "range":
            if self.low is not None and (value < self.low or (value == self.low and not self.low_inclusive)):
                return False
            if self.high is not None and (value > self.high or (value == self.high and not self.high_inclusive)):
                return False
            return True
        return False

    def thresholds(self) -> tuple[int, ...]:
        return tuple(v for v in (self.low, self.high) if v is not None)


ANY = Predicate("any")


class _Other:
    """The type of OTHER, the only instance."""

    def __repr__(self) -> str:
        return "OTHER"


OTHER = _Other()
"""Stands for every value that no cell of a column names: `*` and every `not` cell accept
it, no `in` cell does. The compiled tables index it, the analyses and the overlap check
search over it, and dsl.show writes it `(any other)`."""


@attrs.frozen
class CheckedRow:
    id: str
    predicates: tuple[Predicate, ...]
    outputs: tuple  # one resolved value per output column; None where blank
    span: Span = attrs.field(eq=False)
    # The AST row it was checked from, its cells in the table's columns (for a payer's
    # amended row, the base row's cells where the amend lists none): tools that show a
    # row as written read it here, never the file again.
    node: object = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen
class CheckedTable:
    name: str
    policy: str  # "first", "unique", "collect", "priority"
    scope: str  # "administration", "line", "em"
    refs: tuple[str, ...]
    doc: str | None
    inputs: tuple[str, ...]
    input_types: tuple[FieldType, ...]
    outputs: tuple[str, ...]
    rows: tuple[CheckedRow, ...]
    priority: tuple[str, ...] = ()  # output values best first, for the priority policy
    span: Span = attrs.field(eq=False, default=None)


@attrs.frozen
class CheckedMerge:
    name: str
    refs: tuple[str, ...]
    field: str
    values: frozenset
    keys: tuple[str, ...]
    minus_field: str | None
    minus_values: frozenset
    minus_keys: tuple[str, ...]
    span: Span = attrs.field(eq=False, default=None)


@attrs.frozen
class CheckedInitial:
    name: str
    refs: tuple[str, ...]
    keys: tuple[str, ...]
    selector: str | None  # the attribute that picks a ranking (e.g. the claim type), or None
    ranked_field: str  # the attribute whose values are ranked
    rankings: dict  # selector value (or None) -> tuple of ranked values, "primary" among them
    primary_of: dict  # selector value (or None) -> the values `primary` may promote (empty: any)
    ties: tuple[str, ...]
    concurrent: frozenset
    span: Span = attrs.field(eq=False, default=None)


@attrs.frozen
class CheckedUnits:
    name: str
    refs: tuple[str, ...]
    doc: str | None
    period: int  # seconds
    after: int
    part: int
    inclusive: bool = False  # `final part when >= part`: a part of exactly `part` counts

    span: Span = attrs.field(eq=False, default=None)

    @property
    def operator(self) -> str:
        return ">=" if self.inclusive else ">"

    @property
    def bar(self) -> int:
        """The counted seconds a final part must run more than (times are whole seconds, so
        `>= part` is `> part - 1 s`)."""
        return self.part - 1 if self.inclusive else self.part


@attrs.frozen
class CheckedRequire:
    addons: frozenset
    primaries: frozenset


@attrs.frozen
class CheckedLimit:
    code: str
    units: int
    per: str


@attrs.frozen
class CheckedPair:
    column1: frozenset
    column2: frozenset
    per: str  # a line attribute, or "encounter" for every line of the claim
    distinctions: tuple  # (attribute, modifier) pairs, tried in order
    missing: tuple = ()  # (attribute, finding): raised by a bundled line without the attribute


@attrs.frozen
class CheckedPairsFrom:
    """The pairs of a PTP file (dsl.edit_data.PairTable) per `per` ("date": the line's date of
    service, or "encounter"), on the lines whose attributes hold the `where` values. Equal when
    their files' bytes are."""

    path: str
    digest: str
    per: str
    distinctions: tuple  # (attribute, modifier) pairs, tried in order where the indicator is 1
    table: object = attrs.field(eq=False, repr=False, default=None)
    missing: tuple = ()  # (attribute, finding): raised by a bundled line without the attribute
    where: tuple = ()  # (attribute, frozenset of values): the lines the clause acts on


@attrs.frozen
class CheckedLimitsFrom:
    """The units per code of an MUE file (dsl.edit_data.LimitTable) per `per`, on the lines
    whose attributes hold the `where` values."""

    path: str
    digest: str
    per: str
    table: object = attrs.field(eq=False, repr=False, default=None)
    where: tuple = ()  # (attribute, frozenset of values): the lines the clause acts on


DATA_PER = ("date", "encounter")


@attrs.frozen
class CheckedEdit:
    name: str
    refs: tuple[str, ...]
    clauses: tuple
    finding: str
    span: Span = attrs.field(eq=False, default=None)


@attrs.frozen
class FindingInfo:
    id: str
    severity: str
    message: str
    refs: tuple[str, ...]


@attrs.frozen
class InputField:
    """One declared field of the encounter or of a kind of event, as records carry it.

    `type.kind` is "text", "enum", "bool", "number", "date", "time" or "id" (an id of an
    event of kind `refers_to`). `unique` marks the field that identifies the record: the
    encounter's id the result echoes, an event's id its lines name."""

    name: str
    type: FieldType
    required: bool = False
    blank: bool = False  # a text field that may be the empty string
    folded: bool = False  # compared ignoring case and surrounding space
    unique: bool = False
    picks_payer: bool = False
    first_in: str | None = None  # missing: the first value documented in events of this kind
    refers_to: str | None = None
    meaning: str = ""
    span: Span = attrs.field(eq=False, default=None)


@attrs.frozen
class DerivedFact:
    """A fact the engine derives for every event of a kind, by one generic built-in
    (dsl.ast.Derivation); `where` holds (field, values) conditions on the earlier event."""

    name: str
    builtin: str
    type: FieldType
    fields: tuple[str, ...] = ()
    where: tuple = ()
    per: tuple[str, ...] = ()
    meaning: str = ""
    span: Span = attrs.field(eq=False, default=None)


@attrs.frozen
class EventKind:
    """One kind of event an encounter lists under `key`; `start`/`stop` name its time
    fields when it is timed, `alike` the field that makes two events the same substance,
    `duration` the derived time from start to stop that merges and units count."""

    name: str
    key: str
    fields: tuple[InputField, ...]
    derived: tuple[DerivedFact, ...] = ()
    required: bool = False
    at_most: int | None = None
    start: str | None = None
    stop: str | None = None
    alike: str | None = None
    duration: str | None = None
    meaning: str = ""
    undeclared: str | None = None  # the finding a field the kind does not declare raises
    span: Span = attrs.field(eq=False, default=None)

    @property
    def id_field(self) -> str | None:
        return next((f.name for f in self.fields if f.unique), None)


@attrs.frozen
class CheckedInput:
    """What a record of this ruleset carries: the encounter's fields and its kinds of
    events, the first of which is the one merges, initial stages and `per line` tables act on."""

    fields: tuple[InputField, ...]
    kinds: tuple[EventKind, ...]
    meaning: str = ""
    undeclared: str | None = None  # the finding a field of the encounter it does not declare raises

    def kind(self, name: str) -> EventKind:
        return next(k for k in self.kinds if k.name == name)

    @property
    def main(self) -> EventKind:
        return self.kinds[0]

    @property
    def id_field(self) -> str:
        return next(f.name for f in self.fields if f.unique)

    @property
    def date_field(self) -> str:
        return next(f.name for f in self.fields if f.type.kind == "date")

    @property
    def payer_field(self) -> str | None:
        return next((f.name for f in self.fields if f.picks_payer), None)

    @property
    def primary_field(self) -> str | None:
        """The field naming the event a ranking's `primary` stands for."""
        return next((f.name for f in self.fields if f.refers_to == self.main.name), None)


BASE_PAYER = "base"
"""The target of `route payer ... to base`: the base ruleset, whatever variants exist."""


@attrs.frozen
class CheckedRuleset:
    name: str
    version: str
    payer: str | None
    base: str | None
    effective: tuple[str, str]
    digest: str
    sources: dict  # id -> text
    vocabularies: dict  # name -> tuple of words
    codes: dict  # code -> (kind, text)
    modifiers: dict  # code -> text
    findings: dict  # id -> FindingInfo
    consts: dict  # name -> resolved value (seconds for durations)
    units: dict  # name -> CheckedUnits
    stages: tuple  # CheckedTable | CheckedMerge | CheckedInitial | CheckedEdit, in run order
    # The text of each file the ruleset was checked from, by the name its spans use: tools
    # that quote the rules read it here, never the files again (they may have changed).
    texts: dict = attrs.field(factory=dict, eq=False, repr=False)
    # The statements it was checked from, a payer variant's merged over its base, in order:
    # the analyses and the tools that quote a statement read them here, never parse again.
    statements: tuple = attrs.field(default=(), eq=False, repr=False)
    # Payer names a record may carry without a variant of their own -> the payer variant
    # they take, or BASE_PAYER for the base ruleset (`route payer ... to ...`).
    payer_routes: dict = attrs.field(factory=dict)
    input: CheckedInput | None = attrs.field(default=None, eq=False)
    # The dsl.schema.Schema its stages were checked against: the engine's offer with the scopes of `input`.
    schema: object = attrs.field(default=None, eq=False, repr=False)

    def reference(self, refs: tuple[str, ...]) -> str:
        """The citation text of a rule, for findings."""
        return "; ".join(self.sources.get(r, r) for r in refs)
