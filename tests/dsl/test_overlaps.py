"""The overlapping rows of `unique` tables: found column by column, reported as pair by pair.

dsl/overlaps.py narrows the pairs by sorted bounds and buckets before searching an input
both rows match. The pairs it finds, their order and their inputs must be those of the
definition, every pair of rows tried in turn; the search for a common value must find one
whenever one exists; and the checker lists ten, then says there are more only when there are.
"""
from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from dsl.ast import NOWHERE
from dsl.checked import OTHER, CheckedRow, CheckedTable, FieldType, Predicate
from dsl.overlaps import NONE, common_input, common_value, overlapping_pairs
from tests.dsl.test_hostile_rulesets import load_with_big_table

EXACT = settings(derandomize=True, max_examples=400, deadline=None)
TYPES = {"route": FieldType("enum", ("iv", "im", "subq")), "pump": FieldType("bool"), "drug": FieldType("text"),
         "duration": FieldType("duration"), "lines": FieldType("number")}
WORDS = {"route": ("iv", "im", "subq"), "pump": (True, False), "drug": ("a", "b")}
BOUNDS = (0, 1, 2, 60, 61, 120)


@st.composite
def cells(draw, column: str) -> Predicate:
    """Any cell of the column's type, empty ones included (a backwards range, every word excluded)."""
    numeric = column not in WORDS
    kinds = ["any", "any", "missing", "in", "not_in", *(["range"] * 4 if numeric else [])]
    kind = draw(st.sampled_from(kinds))
    if kind in ("any", "missing"):
        return Predicate(kind)
    pool = BOUNDS if numeric else WORDS[column]
    if kind in ("in", "not_in"):
        return Predicate(kind, frozenset(draw(st.lists(st.sampled_from(pool), max_size=3))))
    low, high = (draw(st.one_of(st.none(), st.sampled_from(pool))) for _ in range(2))
    return Predicate("range", low=low, high=high, low_inclusive=draw(st.booleans()), high_inclusive=draw(st.booleans()))


@st.composite
def tables(draw) -> CheckedTable:
    columns = tuple(draw(st.lists(st.sampled_from(sorted(TYPES)), max_size=3, unique=True)))
    rows = tuple(CheckedRow(f"r{i}", tuple(draw(cells(c)) for c in columns), ("x",), span=NOWHERE)
                 for i in range(draw(st.integers(0, 9))))
    return CheckedTable("t", "unique", "administration", (), None, columns, tuple(TYPES[c] for c in columns),
                        ("service",), rows, span=NOWHERE)


def pairwise(table: CheckedTable) -> list:
    """The definition: every pair of rows, in order, with the input both match."""
    found = []
    for first, second in itertools.combinations(table.rows, 2):
        example = common_input(table, first, second)
        if example is not None:
            found.append((first.id, second.id, example))
    return found


@EXACT
@given(table=tables())
def test_the_pairs_found_are_those_of_trying_every_pair(table):
    assert [(a.id, b.id, example) for a, b, example in overlapping_pairs(table)] == pairwise(table)


def domain(column: str) -> list:
    """Every value a column can hold, up to values no cell tells apart: a free text no cell
    names stands for all the others."""
    if column in WORDS:
        return [None, *WORDS[column], *([OTHER] if TYPES[column].kind == "text" else [])]
    return [None, *range(-3, 130)]


@EXACT
@given(data=st.data(), column=st.sampled_from(sorted(TYPES)))
def test_a_common_value_is_found_whenever_one_exists(data, column):
    """Over every value the column can hold (the bounds lie within -3 .. 130 here), a value
    both cells accept exists exactly when the search finds one, and it is one."""
    p, q = data.draw(cells(column)), data.draw(cells(column))
    witness = common_value(p, q, TYPES[column])
    exists = any(p.matches(v) and q.matches(v) for v in domain(column))
    assert (witness is not NONE) == exists
    if exists:
        assert p.matches(witness) and q.matches(witness)


def test_a_value_left_inside_two_not_cells_is_a_common_value():
    """`not 0` and `not 0, 1` in a number column both take 2: the candidates next to named
    values find it (before, only bounds and zero were tried, and the overlap went unreported)."""
    numbers = FieldType("number")
    assert common_value(Predicate("not_in", frozenset({0})), Predicate("not_in", frozenset({0, 1})), numbers) == -1
    between = Predicate("range", low=60, high=64)
    assert common_value(between, Predicate("not_in", frozenset({60, 61, 63, 64})), FieldType("duration")) == 62


def overlaps_listed(tmp_path, rows) -> list[str]:
    error = load_with_big_table(tmp_path, "unique", "id | route | duration => code", rows)
    return [d.message for d in error.diagnostics if d.code == "E-overlap"]


def test_ten_overlaps_are_listed_without_claiming_more(tmp_path):
    """Five rows that all overlap (ten pairs), then one that overlaps none of them."""
    found = overlaps_listed(tmp_path, [*(f"r{i} | iv | * => 96365" for i in range(5)), "r5 | im | * => 96365"])
    assert len(found) == 10 and not any(m.startswith("more") for m in found)


def test_an_eleventh_overlap_is_counted_not_listed(tmp_path):
    found = overlaps_listed(tmp_path, [f"r{i} | iv | * => 96365" for i in range(6)])
    assert len(found) == 11 and found.count("more overlapping rows in unique table 'big' are not listed") == 1


def test_a_wide_table_of_disjoint_ranges_has_one_overlap_found(tmp_path):
    """Three thousand disjoint duration ranges and, last, one row that meets the middle one."""
    rows = [f"r{i} | * | {2 * i} min .. {2 * i + 1} min => 96365" for i in range(3000)]
    found = overlaps_listed(tmp_path, [*rows, "late | iv | 3001 min => 96365"])
    assert found == ["rows 'r1500' and 'late' of unique table 'big' both match route=iv, duration=3001 min"]
