"""Units from time and the interval arithmetic under them.

The closed form of the compiled engine counts the same units, earned at the same
seconds, as the reference's one-by-one count, for any rule; the 2026 unit rules earn
their units on the right side of every boundary, alone and through whole encounters;
and the interval operations keep their algebra, checked against a model that lists
every covered second.
"""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsl.checked import CheckedUnits
from engine.core import intervals
from engine.core.compiled import compiled_unit_offsets
from engine.core.reference import reference_unit_offsets
from engine.core.registry import Registry
from tests.conftest import RULESET_2026

RULESET = Registry.from_path(RULESET_2026).families[0].base
OFFSET_FUNCTIONS = pytest.mark.parametrize("offsets", [compiled_unit_offsets, reference_unit_offsets],
                                           ids=["compiled", "reference"])
PROPERTY = settings(derandomize=True, max_examples=300, deadline=None)


@st.composite
def unit_rules_and_times(draw):
    """A unit rule and a counted time, often exactly on or beside one of its thresholds."""
    rule = CheckedUnits("generated", (), None, period=draw(st.integers(1, 7200)), after=draw(st.integers(0, 7200)),
                        part=draw(st.integers(0, 7200)))
    k = draw(st.integers(0, 5))
    on_threshold = rule.after + k * rule.period + rule.part
    counted = draw(st.one_of(st.integers(-60, 50_000), st.sampled_from([on_threshold - 1, on_threshold,
                                                                       on_threshold + 1])))
    return rule, counted


@PROPERTY
@given(rule_and_time=unit_rules_and_times())
def test_compiled_units_equal_reference_units(rule_and_time):
    rule, counted = rule_and_time
    assert compiled_unit_offsets(rule, counted) == reference_unit_offsets(rule, counted)


@PROPERTY
@given(rule_and_time=unit_rules_and_times())
def test_units_are_earned_inside_the_counted_time_in_order(rule_and_time):
    rule, counted = rule_and_time
    offsets = reference_unit_offsets(rule, counted)
    assert offsets == sorted(set(offsets))
    assert all(rule.after < offset <= counted for offset in offsets)


# Minutes counted -> units earned. additional_hours: after the first hour, a final part
# counted when over 30 minutes; hydration_hours: the same from the first minute.
BOUNDARIES = [
    ("additional_hours", 60, 0), ("additional_hours", 90, 0), ("additional_hours", 91, 1),
    ("additional_hours", 150, 1), ("additional_hours", 151, 2),
    ("additional_hours", 210, 2), ("additional_hours", 211, 3),
    ("hydration_hours", 30, 0), ("hydration_hours", 31, 1),
    ("hydration_hours", 90, 1), ("hydration_hours", 91, 2),
]


@OFFSET_FUNCTIONS
@pytest.mark.parametrize("rule,minutes,units", BOUNDARIES)
def test_unit_boundaries(offsets, rule, minutes, units):
    assert len(offsets(RULESET.units[rule], minutes * 60)) == units
    # A second either side of a boundary minute already decides.
    if units:
        assert len(offsets(RULESET.units[rule], minutes * 60 - 59)) == units


def _encounter(minutes: int, hydration: bool) -> dict:
    """An infusion alone, or hydration after an initial push, running `minutes`."""
    stop = f"2026-05-04T{8 + (5 + minutes) // 60:02d}:{(5 + minutes) % 60:02d}"
    infusion = {"id": "a2", "drug": "normal saline" if hydration else "infliximab", "dose": "1 unit",
                "category": "hydration" if hydration else "therapeutic", "route": "iv", "method": "infusion",
                "start": "2026-05-04T08:05", "stop": stop, "indication": "x", "response": "y"}
    push = {"id": "a1", "drug": "ondansetron", "dose": "4 mg", "category": "therapeutic", "route": "iv",
            "method": "push", "start": "2026-05-04T08:00", "stop": "2026-05-04T08:02", "indication": "x",
            "response": "y"}
    return {"id": "boundary", "date": "2026-05-04", "claim": "facility", "pos": "22",
            "administrations": [push, infusion] if hydration else [infusion]}


@pytest.mark.parametrize("engine_name", ["compiled", "reference"])
@pytest.mark.parametrize("rule,minutes,units", BOUNDARIES)
def test_unit_boundaries_through_an_encounter(engine_name, rule, minutes, units, compiled_coder, reference_coder):
    """96366 units of an infusion alone; 96361 units of hydration after a push."""
    coder = compiled_coder if engine_name == "compiled" else reference_coder
    hydration = rule == "hydration_hours"
    code = "96361" if hydration else "96366"
    lines = coder.code(_encounter(minutes, hydration)).lines
    assert sum(line.units for line in lines if line.code == code) == units, lines


# ----- intervals ----------------------------------------------------------------------

spans = st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), max_size=8)


def covered(spans_) -> set:
    """The model: every second an interval list covers."""
    return {second for start, end in spans_ for second in range(start, end)}


@PROPERTY
@given(raw=spans)
def test_union_is_sorted_disjoint_and_covers_the_same_time(raw):
    merged = intervals.union(raw)
    assert covered(merged) == covered(raw)
    assert all(start < end for start, end in merged)
    assert all(a[1] < b[0] for a, b in zip(merged, merged[1:]))
    assert intervals.total(merged) == len(covered(raw))


@PROPERTY
@given(raw=spans)
def test_union_is_idempotent(raw):
    assert intervals.union(intervals.union(raw)) == intervals.union(raw)


@PROPERTY
@given(raw=spans, cut=spans)
def test_subtract_removes_exactly_the_cut_and_never_grows(raw, cut):
    kept, removed = intervals.union(raw), intervals.union(cut)
    left = intervals.subtract(kept, removed)
    assert covered(left) == covered(kept) - covered(removed)
    assert intervals.total(left) <= intervals.total(kept)
    assert intervals.union(left) == left


@PROPERTY
@given(raw=spans, offsets=st.lists(st.integers(0, 80), min_size=2, max_size=6))
def test_instant_at_is_monotone_and_reaches_the_offset(raw, offsets):
    merged = intervals.union(raw)
    instants = [intervals.instant_at(merged, offset) for offset in sorted(offsets)]
    assert instants == sorted(instants)
    time = covered(merged)
    for offset, instant in zip(sorted(offsets), instants):
        if 0 < offset <= len(time):
            # `offset` seconds are counted by `instant`, and the last of them just before it.
            assert len({s for s in time if s < instant}) == offset
            assert instant - 1 in time


proper = st.builds(lambda start, length: (start, start + length), st.integers(0, 30), st.integers(1, 30))


@PROPERTY
@given(a=proper, b=proper)
def test_overlaps_means_shared_time(a, b):
    """For intervals that hold time (the only ones events keep)."""
    assert intervals.overlaps(a, b) == intervals.overlaps(b, a) == bool(covered([a]) & covered([b]))
