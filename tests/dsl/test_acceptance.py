"""Row masks built by buckets and sweeps are those of testing every cell on every value.

dsl/acceptance.py reads each cell once (named values into buckets, ranges swept over sorted
values) instead of testing every cell on every value. Its users must come out as if they
did: the compiled tables' column indexes (engine/core/compiled.py), the atoms and row regions
of `infuse check`'s search (dsl/analysis/), and the search's verdict on which rows ahead
take a row's inputs. The definitions they are checked against live here, and only here.
"""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dsl.analysis import reachability
from dsl.analysis.model import Model, atoms_of
from dsl.acceptance import acceptance_masks, positions
from dsl.ast import NOWHERE
from dsl.checked import OTHER, CheckedRow, CheckedTable, Predicate
from engine.core.column_index import DiscreteIndex, RangeIndex

EXACT = settings(derandomize=True, max_examples=300, deadline=None)
BOUNDS = (0, 1, 5, 15, 16, 60, 900)
WORDS = ("iv", "im", "subq", True, False)


def accepting(predicates, value) -> int:
    """The definition: bit i when predicates[i] accepts `value`; a word no cell names (`OTHER`)
    is accepted by `*` and by every `not` cell."""
    mask = 0
    for i, predicate in enumerate(predicates):
        if predicate.kind in ("any", "not_in") if value is OTHER else predicate.matches(value):
            mask |= 1 << i
    return mask


@st.composite
def number_cells(draw) -> Predicate:
    kind = draw(st.sampled_from(("any", "missing", "in", "not_in", "range", "range", "range")))
    if kind in ("any", "missing"):
        return Predicate(kind)
    if kind in ("in", "not_in"):
        return Predicate(kind, frozenset(draw(st.lists(st.sampled_from(BOUNDS), max_size=3))))
    low, high = (draw(st.one_of(st.none(), st.sampled_from(BOUNDS))) for _ in range(2))
    return Predicate("range", low=low, high=high, low_inclusive=draw(st.booleans()),
                     high_inclusive=draw(st.booleans()))


@st.composite
def word_cells(draw) -> Predicate:
    kind = draw(st.sampled_from(("any", "missing", "in", "not_in")))
    values = frozenset(draw(st.lists(st.sampled_from(WORDS), max_size=3))) if kind in ("in", "not_in") else frozenset()
    return Predicate(kind, values)


number_values = st.lists(st.one_of(st.none(), st.sampled_from(BOUNDS), st.integers(-5, 1000),
                                   st.floats(-5, 1000, allow_nan=False)), max_size=20)
word_values = st.lists(st.sampled_from((*WORDS, "other", None)), max_size=10)


@EXACT
@given(predicates=st.lists(number_cells(), max_size=10), values=number_values)
def test_masks_of_numbers_are_those_of_testing_every_cell(predicates, values):
    assert acceptance_masks(predicates, values) == [accepting(predicates, v) for v in values]


@EXACT
@given(predicates=st.lists(word_cells(), max_size=10), values=word_values)
def test_masks_of_words_are_those_of_testing_every_cell(predicates, values):
    assert acceptance_masks(predicates, values) == [accepting(predicates, v) for v in values]


@EXACT
@given(predicates=st.lists(number_cells(), min_size=1, max_size=12), values=number_values)
def test_a_range_index_holds_the_rows_each_value_reaches(predicates, values):
    index = RangeIndex(predicates)
    probes = {0, *(v for b in index.points for v in (b - 1, b, b + 1, b + 0.5)), *(v for v in values if v is not None)}
    for value in sorted(probes):
        assert index.bucket(value) == accepting(predicates, value), value
    assert index.missing == accepting(predicates, None)
    assert index.full() == accepting(predicates, None) & _and(accepting(predicates, v) for v in probes)


@EXACT
@given(predicates=st.lists(word_cells(), min_size=1, max_size=12))
def test_a_discrete_index_holds_the_rows_each_word_reaches(predicates):
    index = DiscreteIndex(predicates)
    assert index.masks == {v: accepting(predicates, v) for v in index.masks}
    assert set(index.masks) == {v for p in predicates for v in p.values}
    assert (index.other, index.missing) == (accepting(predicates, OTHER), accepting(predicates, None))


def _and(masks) -> int:
    result = -1
    for mask in masks:
        result &= mask
    return result


@EXACT
@given(mask=st.integers(0, 1 << 200))
def test_positions_are_the_set_bits(mask):
    assert positions(mask) == [i for i in range(mask.bit_length()) if mask >> i & 1]


# ----- the search of `infuse check` ------------------------------------------------------

@EXACT
@given(rows=st.lists(st.tuples(number_cells(), word_cells()), min_size=1, max_size=8),
       numbers=st.lists(st.sampled_from(BOUNDS), min_size=1, max_size=6, unique=True),
       missing=st.booleans())
def test_atoms_and_row_regions_are_those_of_testing_every_cell(rows, numbers, missing):
    """Atoms group the values every cell treats alike; a row's region is every input whose
    value in each column is one its cell accepts."""
    columns = [(*sorted(numbers), *((None,) if missing else ())), ("iv", "im", True, OTHER, None)]
    atoms, signatures = [], []
    for column, candidates in enumerate(columns):
        predicates = [row[column] for row in rows]
        column_atoms, column_signatures = atoms_of(candidates, predicates)
        groups: dict = {}
        for value in candidates:
            key = ("missing",) if value is None else tuple(p.matches(value) for p in predicates)
            groups.setdefault(key, []).append(value)
        assert column_atoms == tuple(tuple(group) for group in groups.values())
        assert column_signatures == tuple(accepting(predicates, atom[0]) for atom in column_atoms)
        atoms.append(column_atoms)
        signatures.append(column_signatures)
    model = Model.build(("duration", "route"), atoms)
    expected = []
    for row in rows:
        mask = model.full
        for column, predicate in enumerate(row):
            mask &= model.where(column, predicate.matches)
        expected.append(mask)
    assert model.regions(signatures, len(rows)) == expected


@st.composite
def searched(draw):
    """A table's rows (only their outputs matter here) and the inputs each row accepts."""
    count = draw(st.integers(1, 8))
    policy = draw(st.sampled_from(("first", "unique", "collect", "priority")))
    rows = tuple(CheckedRow(f"r{i}", (), (draw(st.sampled_from("abc")),), span=NOWHERE) for i in range(count))
    table = CheckedTable("t", policy, "administration", (), None, (), (), ("service",), rows,
                         priority=("c", "a") if policy == "priority" else (), span=NOWHERE)
    cells = [draw(st.integers(0, 255)) for _ in rows]
    feasible = draw(st.integers(0, 255))
    return table, [cell & feasible for cell in cells], cells


def reachability_by_pairs(table, accepted, cells) -> tuple[list, list]:
    """The definition: each row against every row ahead of it, in precedence order."""
    reached = []
    for index, row in enumerate(table.rows):
        region = accepted[index]
        if not region:
            reached.append(False)
            continue
        own = reachability.precedence(table, index)
        beaters = [] if table.policy == "collect" else sorted(
            (i for i in range(len(table.rows)) if reachability.precedence(table, i) < own),
            key=lambda i: reachability.precedence(table, i))
        remaining, shadows = region, []
        for other in beaters:
            if remaining & accepted[other]:
                shadows.append(other)
                remaining &= ~accepted[other]
        reached.append(bool(remaining) or shadows)
    return reached


@EXACT
@given(case=searched())
def test_rows_ahead_are_gathered_as_row_against_row(case):
    """Which rows decide, and the rows ahead that the warning for each other one names."""
    table, accepted, cells = case
    reached, warnings = reachability.reached(table, accepted, cells)
    expected = reachability_by_pairs(table, accepted, cells)
    assert reached == [value is True for value in expected]
    named = [d.message.split("never reached: ")[-1] for d in warnings if "never reached" in d.message]
    assert named == [_names(table, shadows) for shadows in expected if isinstance(shadows, list) and shadows]


def _names(table, shadows) -> str:
    names = ", ".join(f"'{table.rows[i].id}'" for i in shadows)
    return f"{'row' if len(shadows) == 1 else 'rows'} {names} {'matches' if len(shadows) == 1 else 'match'} every input it matches"
