"""One way to show a value: every report words values, predicates, outputs and clauses alike.

dsl/show.py is the one place; these pin its spelling and check that the check command's
two searches (overlapping rows of a unique table, gaps) show their examples with it.
"""
from __future__ import annotations

from dsl.analysis import analyse
from dsl.ast import NOWHERE
from dsl.checked import (OTHER, CheckedInput, CheckedLimit, CheckedPair, CheckedPairsFrom, CheckedRequire, CheckedRow,
                         CheckedRuleset, CheckedTable, EventKind, FieldType, InputField, Predicate)
from dsl.checker import Schema
from dsl.overlaps import common_input
from dsl.show import clause_text, const_text, input_text, output_text, predicate_text, value_text

DURATION = FieldType("duration")


def test_values_read_as_the_rules_write_them():
    assert [value_text(v) for v in (True, False, None, OTHER, "iv", 2)] == [
        "yes", "no", "missing", "(any other)", "iv", "2"]
    assert [value_text(v, "duration") for v in (900, 3600, 930)] == ["15 min", "1 h", "15 min 30 s"]
    assert value_text(2, "number") == "2"
    assert const_text("push_limit", 900, "duration") == "push_limit (15 min)"


def test_an_encounter_input_reads_in_minutes_and_an_absent_time_is_unknown():
    assert [input_text(v, "duration") for v in (4500, 3600, None)] == ["75 min", "60 min", "unknown"]
    assert [input_text(v, k) for v, k in ((True, "bool"), (None, "enum"), ("im", "enum"))] == ["yes", "missing", "im"]


def test_predicates_and_outputs_read_as_cells():
    assert predicate_text(Predicate("any"), DURATION) == "*"
    assert predicate_text(Predicate("missing"), DURATION) == "missing"
    assert predicate_text(Predicate("range", low=900, low_inclusive=False), DURATION) == "> 15 min"
    assert predicate_text(Predicate("range", low=960, high=5400), DURATION) == "16 min .. 90 min"
    assert predicate_text(Predicate("range", low=1, high=3, high_inclusive=False), FieldType("number")) == ">= 1 and < 3"
    assert predicate_text(Predicate("not_in", frozenset({"subq", "im"})), FieldType("enum")) == "not im, subq"
    assert predicate_text(Predicate("in", frozenset({True})), FieldType("bool")) == "yes"
    assert [output_text(v) for v in (None, ("a", "b"), False, "96365")] == ["-", "a, b", "no", "96365"]


def test_edit_clauses_read_as_written():
    assert clause_text(CheckedRequire(frozenset({"96367", "96366"}), frozenset({"96365"}))) == \
        "require 96366, 96367 with 96365"
    assert clause_text(CheckedLimit("96368", 1, "encounter")) == "limit 96368 to 1 per encounter"
    assert clause_text(CheckedPair(frozenset({"96360"}), frozenset({"96372"}), "encounter",
                                   (("session", "XE"), ("site", "XS")))) == \
        "pair 96360 with 96372 per encounter, distinct by session: XE; distinct by site: XS"
    assert clause_text(CheckedPairsFrom("p.csv", "", "date", (("site", "XS"),), None, (("site", "no-site"),),
                                        (("claim", frozenset({"facility"})),))) == \
        'pairs from "p.csv" per date where claim = facility, distinct by site: XS, when missing finding no-site'


COLUMNS = ("pos", "hormonal")
TYPES = (FieldType("text"), FieldType("bool"))


def _table(policy: str, rows) -> CheckedTable:
    return CheckedTable("t", policy, "administration", ("src",), None, COLUMNS, TYPES, ("code",),
                        tuple(CheckedRow(f"r{i}", cells, ("96365",), span=NOWHERE) for i, cells in enumerate(rows)),
                        span=NOWHERE)


def test_an_overlap_witness_and_a_gap_use_the_same_words():
    named = Predicate("not_in", frozenset({"02"}))
    table = _table("unique", [(named, Predicate("any")), (Predicate("any"), Predicate("in", frozenset({True})))])
    assert common_input(table, *table.rows) == ["pos=(any other)", "hormonal=yes"]
    gap = _table("first", [(Predicate("in", frozenset({"02"})), Predicate("any"))])
    # both columns always present: a required field of the encounter and a flag of the event
    declared = CheckedInput((InputField("pos", TYPES[0], required=True),),
                            (EventKind("administration", "administrations", (InputField("hormonal", TYPES[1]),)),))
    schema = Schema(initial_writes={}, outputs={"code": "code"}).for_input(declared)
    ruleset = CheckedRuleset("toy", "1", None, None, ("2026-01-01", "2026-12-31"), "", {"src": ""}, {},
                             {"96365": ("initial", "")}, {}, {}, {}, {}, (gap,), input=declared, schema=schema)
    messages = [d.message for d in analyse(ruleset).diagnostics if d.code == "W-gap"]
    assert messages == ["no row of table 't' matches pos=(any other) (any hormonal)"]
