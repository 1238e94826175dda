"""`infuse export --jdm`: the cells as ZEN unary tests, the files written, and (where the
bench extra installed zen-engine) the same decisions from ZEN as from infuse."""
from __future__ import annotations

import json
import random

import pytest

import engine
from dsl.checked import ANY, FieldType, Predicate
from engine.cli import main
from engine.cli.export import ROW_FIELD, jdm_decision, jdm_test, jdm_value, tables
from engine.core.reference import ReferenceTable
from tests.conftest import RULESET_2026

ENUM = FieldType("enum", ("iv", "im", "subq"))
DURATION = FieldType("duration")


@pytest.fixture(scope="module")
def rulesets():
    family = engine.load(RULESET_2026).registry.families[0]
    return [family.base, *family.variants.values()]


@pytest.mark.parametrize("predicate,expected", [
    (ANY, ""),
    (Predicate("missing"), "$ == null"),
    (Predicate("in", frozenset({"subq", "im"})), '"im", "subq"'),
    (Predicate("in", frozenset({True})), "true"),
    (Predicate("not_in", frozenset({"iv"})), '$ != null and not ($ in ["iv"])'),
    (Predicate("range", low=900, low_inclusive=False), "> 900"),
    (Predicate("range", low=900), ">= 900"),
    (Predicate("range", high=1800), "<= 1800"),
    (Predicate("range", high=1800, high_inclusive=False), "< 1800"),
    (Predicate("range", low=960, high=5400), "[960..5400]"),
    (Predicate("range", low=960, low_inclusive=False, high=5400, high_inclusive=False), "(960..5400)"),
])
def test_each_cell_becomes_a_unary_test(predicate, expected):
    assert jdm_test(predicate, DURATION if predicate.kind == "range" else ENUM) == expected


def test_outputs_are_expressions_and_blank_is_left_out():
    assert jdm_value("96374") == '"96374"'
    assert jdm_value(True) == "true"
    assert jdm_value(("missing-stop-time", "hydration-not-reportable")) == '["missing-stop-time", "hydration-not-reportable"]'
    assert jdm_value(None) == ""


def test_a_decision_is_one_table_between_input_and_output(rulesets):
    service = next(t for t in tables(rulesets[0]) if t.name == "service")
    document = jdm_decision(service)
    node = next(n for n in document["nodes"] if n["type"] == "decisionTableNode")
    content = node["content"]
    assert content["hitPolicy"] == "first"
    assert [i["field"] for i in content["inputs"]] == list(service.inputs)
    assert [o["field"] for o in content["outputs"]] == [ROW_FIELD, *service.outputs]
    assert [r["_id"] for r in content["rules"]] == [row.id for row in service.rows]
    long_chemo = next(r for r in content["rules"] if r["_id"] == "chemo.infusion")
    assert long_chemo["in-duration"] == "> 900"  # `> push_limit`, 15 min in seconds
    assert long_chemo["in-pos"] == ""
    assert long_chemo["out-service"] == '"chemo_infusion"'
    facility = content["rules"][0]
    assert facility["in-pos"] == '"19", "21", "22", "23", "24", "26", "51", "52", "61"'
    edges = {(e["sourceId"], e["targetId"]) for e in document["edges"]}
    assert edges == {("request", "service"), ("service", "response")}


def test_the_command_writes_every_table_of_every_variant(tmp_path, capsys):
    assert main(["export", "--jdm", str(RULESET_2026), "-o", str(tmp_path)]) == 0
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.json"))
    assert "drug-administration@2026.1/coding.json" in written
    assert "drug-administration-medicare@2026.1/em.json" in written
    assert len(written) == 5 * 7  # five variants (base, commercial, horizon, medicare, regence), seven tables
    medicare_em = json.loads((tmp_path / "drug-administration-medicare@2026.1" / "em.json").read_text())
    rules = medicare_em["nodes"][1]["content"]["rules"]
    assert rules[0]["_id"] == "em.99211"
    assert "coding.json: 32 rows" in capsys.readouterr().out


def test_the_command_needs_an_output_folder(capsys):
    with pytest.raises(SystemExit):
        main(["export", "--jdm"])


def _boundary_inputs(table, count: int, seed: int) -> list[dict]:
    """Inputs on and around every value and bound the table names, missing values included."""
    rng = random.Random(seed)
    domains = []
    for i, field_type in enumerate(table.input_types):
        predicates = [row.predicates[i] for row in table.rows]
        if field_type.kind in ("duration", "number"):
            bounds = {b for p in predicates for b in (*p.thresholds(), *p.values)}
            domains.append([None, 0, *(b + d for b in bounds for d in (-1, 0, 1))])
        elif field_type.kind == "bool":
            domains.append([None, True, False])
        else:
            named = {v for p in predicates for v in p.values}
            domains.append([None, "zz-unnamed", *sorted(named, key=repr), *field_type.values])
    return [dict(zip(table.inputs, (rng.choice(d) for d in domains))) for _ in range(count)]


def _expected(table, rows) -> list[dict]:
    return [{ROW_FIELD: row.id, **{column: list(value) if isinstance(value, tuple) else value
                                   for column, value in zip(table.outputs, row.outputs) if value is not None}}
            for row in rows]


def test_zen_decides_every_exported_table_as_infuse_does(rulesets):
    zen = pytest.importorskip("zen", reason="zen-engine comes with the bench extra")
    zen_engine = zen.ZenEngine()
    for ruleset in rulesets:
        for table in tables(ruleset):
            decision = zen_engine.create_decision(json.dumps(jdm_decision(table)))
            reference = ReferenceTable(table)
            for values in _boundary_inputs(table, 400, seed=len(table.rows)):
                result = decision.evaluate(values)["result"]
                got = result if table.policy == "collect" else [result] if result else []
                assert got == _expected(table, reference.decide(values)), (ruleset.name, table.name, values)
