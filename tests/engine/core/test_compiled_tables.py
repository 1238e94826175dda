"""The compiled tables decide exactly as the reference row scan, table by table.

Three kinds of table: every table of the bundled rulesets and their payer variants; a
wide table (the 2026 coding table among 1,000 rows that never match, so its indexes
hold many values and bounds); and generated tables that use every hit policy and every
kind of cell. The inputs are the words a column names, a word it does not, a missing
value, and durations and numbers on and beside every bound.
"""
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsl.checked import CheckedRow, CheckedTable, FieldType, Predicate
from engine.core.compiled import CompiledTable
from engine.core.reference import ReferenceTable
from engine.core.registry import Registry
from tests.conftest import RULESET_2026

UNKNOWN = "never-named-word"
DECISIONS = settings(derandomize=True, max_examples=100, deadline=None)


def bundled_tables() -> dict:
    """'ruleset/table' -> CheckedTable for every table of every ruleset and variant."""
    tables = {}
    for family in Registry.from_path(RULESET_2026).families:
        for ruleset in (family.base, *family.variants.values()):
            for stage in ruleset.stages:
                if isinstance(stage, CheckedTable):
                    tables[f"{ruleset.name}/{stage.name}"] = stage
    return tables


TABLES = bundled_tables()


def column_values(table: CheckedTable, column: int) -> st.SearchStrategy:
    """Values for one input column: every value and bound its cells name, and beside them."""
    field_type = table.input_types[column]
    predicates = [row.predicates[column] for row in table.rows]
    named = {value for p in predicates for value in p.values}
    if field_type.kind in ("duration", "number"):
        bounds = sorted(named | {b for p in predicates for b in p.thresholds()})
        steps = (-60, -1, 0, 1, 60) if field_type.kind == "duration" else (-1, 0, 1)
        near = sorted({b + step for b in bounds for step in steps})
        return st.one_of(st.none(), st.sampled_from(near or [0]), st.integers(-100, 200_000))
    words = named | set(field_type.values) | ({True, False} if field_type.kind == "bool" else set())
    return st.sampled_from([*sorted(words, key=repr), UNKNOWN, None])


def inputs_for(table: CheckedTable) -> st.SearchStrategy:
    return st.fixed_dictionaries({c: column_values(table, i) for i, c in enumerate(table.inputs)})


def row_ids(rows) -> list:
    return [row.id for row in rows]


def decides_as_reference(compiled: CompiledTable, reference: ReferenceTable, values: dict):
    """Both compiled paths (the generated tree, or the masks it falls back to for a huge
    table, and the masks themselves) decide as the row scan."""
    expected = row_ids(reference.decide(values))
    assert row_ids(compiled.decide(values)) == expected, values
    assert row_ids(compiled.decide_by_masks(values)) == expected, values


@pytest.mark.parametrize("name", sorted(TABLES))
def test_bundled_table_compiles_to_the_same_decisions(name):
    table = TABLES[name]
    compiled, reference = CompiledTable(table), ReferenceTable(table)

    @DECISIONS
    @given(values=inputs_for(table))
    def decides_alike(values):
        decides_as_reference(compiled, reference, values)

    decides_alike()


@pytest.mark.parametrize("name", sorted(TABLES))
def test_a_column_the_mapping_lacks_is_read_as_missing(name):
    """The pipeline passes an event's values, which may lack a column a table reads (`role`
    before an initial stage ranks the event): the compiled table reads it as missing, as the
    row scan reads it with `.get`."""
    table = TABLES[name]
    compiled, reference = CompiledTable(table), ReferenceTable(table)

    @DECISIONS
    @given(values=inputs_for(table), kept=st.sets(st.sampled_from(table.inputs)))
    def decides_alike(values, kept):
        decides_as_reference(compiled, reference, {c: v for c, v in values.items() if c in kept})

    decides_alike()


def wide_coding_table(extra: int = 1000) -> CheckedTable:
    """The 2026 coding table with `extra` rows spread among its own, each of which asks
    for a word no input has in one discrete column, so none ever matches."""
    coding = TABLES["drug-administration/coding"]
    chooser = random.Random(2026)
    discrete = [i for i, t in enumerate(coding.input_types) if t.kind in ("enum", "text")]
    rows = list(coding.rows)
    for n in range(extra):
        predicates = []
        for i, field_type in enumerate(coding.input_types):
            if field_type.kind == "duration":
                low = chooser.randrange(0, 20 * 3600, 60)
                predicates.append(chooser.choice([
                    Predicate("range", low=low, high=low + chooser.randrange(0, 7200, 30)),
                    Predicate("range", low=low, low_inclusive=False),
                    Predicate("range", high=low, high_inclusive=chooser.random() < 0.5),
                    Predicate("missing"), Predicate("any")]))
            elif field_type.kind == "bool":
                predicates.append(chooser.choice([Predicate("in", frozenset({True})), Predicate("any")]))
            else:
                words = sorted(field_type.values)
                predicates.append(chooser.choice([Predicate("in", frozenset(chooser.sample(words, 2))),
                                                  Predicate("not_in", frozenset(chooser.sample(words, 1))),
                                                  Predicate("any")]))
        never = chooser.choice(discrete)
        predicates[never] = Predicate("in", frozenset({f"retired-{n}"}))
        rows.insert(chooser.randrange(len(rows) + 1), CheckedRow(f"extra-{n}", tuple(predicates), (None,) * len(coding.outputs), span=None))
    return CheckedTable(f"{coding.name}-wide", coding.policy, coding.scope, coding.refs, coding.doc, coding.inputs,
                        coding.input_types, coding.outputs, tuple(rows), coding.priority)


WIDE = wide_coding_table()
WIDE_DECIDERS = (CompiledTable(WIDE), ReferenceTable(WIDE))


@DECISIONS
@given(values=inputs_for(TABLES["drug-administration/coding"]))
def test_wide_table_compiles_to_the_same_decisions(values):
    narrow = ReferenceTable(TABLES["drug-administration/coding"]).decide(values)
    wide_compiled, wide_reference = WIDE_DECIDERS
    assert row_ids(wide_reference.decide(values)) == row_ids(narrow)
    decides_as_reference(wide_compiled, wide_reference, values)


# ----- generated tables -------------------------------------------------------------

COLUMNS = ("kind", "flag", "label", "minutes", "count")
TYPES = (FieldType("enum", ("a", "b", "c")), FieldType("bool"), FieldType("text"), FieldType("duration"),
         FieldType("number"))
WORDS = {"enum": ("a", "b", "c"), "bool": (True, False), "text": ("x", "y", "z")}
BOUNDS = {"duration": (0, 900, 1800, 1860, 3600, 5400), "number": (0, 1, 2, 5)}
OUTCOMES = ("high", "middle", "low")


@st.composite
def cells(draw, field_type: FieldType) -> Predicate:
    """Any cell the checker can produce for a column of this type: any, missing, a set,
    a negated set, and for durations and numbers comparisons and ranges. Wildcards come
    up most, as in real tables, so that several rows often match one input."""
    kinds = ["any", "any", "any", "missing", "in", "not_in"]
    if field_type.kind in BOUNDS:
        kinds.append("range")
        pool = st.sampled_from(BOUNDS[field_type.kind])
    else:
        pool = st.sampled_from(WORDS[field_type.kind])
    kind = draw(st.sampled_from(kinds))
    if kind in ("any", "missing"):
        return Predicate(kind)
    if kind in ("in", "not_in"):
        return Predicate(kind, frozenset(draw(st.lists(pool, min_size=1, max_size=3))))
    low, high = sorted(draw(st.lists(pool, min_size=2, max_size=2)))
    shape = draw(st.sampled_from(("between", "<", "<=", ">", ">=")))
    return {"between": Predicate("range", low=low, high=high),
            "<": Predicate("range", high=high, high_inclusive=False), "<=": Predicate("range", high=high),
            ">": Predicate("range", low=low, low_inclusive=False), ">=": Predicate("range", low=low)}[shape]


@st.composite
def synthetic_tables(draw) -> CheckedTable:
    count = draw(st.integers(1, 12))
    rows = tuple(CheckedRow(f"r{n}", tuple(draw(cells(t)) for t in TYPES), (draw(st.sampled_from(OUTCOMES)),),
                            span=None) for n in range(count))
    policy = draw(st.sampled_from(("first", "unique", "collect", "priority")))
    # A priority list may leave an outcome out: such rows rank last.
    priority = tuple(draw(st.permutations(OUTCOMES))[:draw(st.integers(2, 3))]) if policy == "priority" else ()
    return CheckedTable("synthetic", policy, "administration", (), None, COLUMNS, TYPES, ("service",), rows, priority)


def synthetic_inputs() -> st.SearchStrategy:
    def values(field_type):
        if field_type.kind in BOUNDS:
            near = sorted({b + step for b in BOUNDS[field_type.kind] for step in (-1, 0, 1)})
            return st.one_of(st.none(), st.sampled_from(near), st.integers(-10, 10_000))
        return st.sampled_from([*WORDS[field_type.kind], UNKNOWN, None])
    return st.fixed_dictionaries({c: values(t) for c, t in zip(COLUMNS, TYPES)})


@settings(derandomize=True, max_examples=200, deadline=None)
@given(table=synthetic_tables(), inputs=st.lists(synthetic_inputs(), min_size=1, max_size=25))
def test_synthetic_table_compiles_to_the_same_decisions(table, inputs):
    compiled, reference = CompiledTable(table), ReferenceTable(table)
    for values in inputs:
        decides_as_reference(compiled, reference, values)
