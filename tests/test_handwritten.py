"""bench/handwritten.py, the speed floor of the benchmarks, codes exactly as infuse does: the
same lines (code, units, modifiers, date, administrations, in claim order) and the same
finding ids, on a generated corpus over the whole domain and on every golden case."""
from __future__ import annotations

import collections
import io
import json

import pytest

from bench import corpus, handwritten, handwritten_batch
from engine.core.reference import ReferenceTable
from tests.conftest import CASES
from tests.golden import load_cases

GOLDEN = [case["encounter"] for _, case in load_cases(CASES)]
DOMAIN = corpus.domain(2500, seed=2026)
SHAPES = corpus.typical_day(300, seed=1) + corpus.oncology(50, seed=1) + corpus.adversarial(3, seed=1)


def infuse_answer(coder, encounter) -> tuple:
    result = coder.code(encounter)
    lines = [(line.code, line.units, tuple(line.modifiers), line.date, tuple(line.administrations))
             for line in result.lines]
    return lines, sorted({finding.id for finding in result.findings})


def handwritten_answer(encounter) -> tuple:
    result = handwritten.code_encounter(encounter)
    lines = [(line["code"], line["units"], tuple(line["modifiers"]), line["date"], tuple(line["administrations"]))
             for line in result["lines"]]
    return lines, sorted({finding["id"] for finding in result["findings"]})


def _disagreements(coder, encounters) -> list:
    return [(encounter["id"], infuse_answer(coder, encounter), handwritten_answer(encounter))
            for encounter in encounters if infuse_answer(coder, encounter) != handwritten_answer(encounter)]


def test_the_domain_corpus_covers_every_code_and_payer(compiled_coder):
    codes = {line.code for encounter in DOMAIN for line in compiled_coder.code(encounter).lines}
    assert {"96360", "96361", "96365", "96366", "96367", "96368", "96369", "96370", "96371", "96372", "96373",
            "96374", "96375", "96376", "96377", "96401", "96402", "96409", "96411", "96413", "96415", "96416",
            "96417", "99211"} <= codes
    assert {encounter.get("payer") for encounter in DOMAIN} == {None, "medicare", "commercial", "medicaid"}


def test_handwritten_codes_the_domain_corpus_as_infuse_does(compiled_coder):
    bad = _disagreements(compiled_coder, DOMAIN)
    assert not bad, f"{len(bad)} of {len(DOMAIN)} differ; first: {bad[0]}"


def test_handwritten_codes_the_benchmark_shapes_as_infuse_does(compiled_coder):
    bad = _disagreements(compiled_coder, SHAPES)
    assert not bad, f"{len(bad)} of {len(SHAPES)} differ; first: {bad[0]}"


@pytest.mark.parametrize("encounter", GOLDEN, ids=[e["id"] for e in GOLDEN])
def test_handwritten_codes_each_golden_case_as_infuse_does(encounter, compiled_coder):
    assert handwritten_answer(encounter) == infuse_answer(compiled_coder, encounter)


def test_the_table_functions_answer_as_the_tables_do(compiled_coder):
    """service() and coding() against the ruleset's own tables (rows tried in order, as the
    language defines them), on every event of the corpus; coding() with the commercial
    policy against the commercial variant's amended table, on its encounters."""
    family = compiled_coder.registry.families[0]
    stages = {stage.name: stage for stage in family.base.stages if hasattr(stage, "rows")}
    service_table, coding_table = ReferenceTable(stages["service"]), ReferenceTable(stages["coding"])
    for inputs in corpus.table_inputs(compiled_coder, DOMAIN[:500], "service"):
        row, = service_table.decide(inputs)
        assert handwritten.service(*(inputs[c] for c in stages["service"].inputs)) == _service_outputs(row), inputs
    for inputs in corpus.table_inputs(compiled_coder, DOMAIN[:500], "coding"):
        rows = coding_table.decide(inputs)
        got = handwritten.coding(*(inputs[c] for c in stages["coding"].inputs))
        assert got[:5] == _coding_outputs(rows), inputs
    amended = next(stage for stage in family.variants["commercial"].stages if getattr(stage, "name", None) == "coding")
    amended_table = ReferenceTable(amended)
    commercial = [encounter for encounter in DOMAIN if encounter.get("payer") == "commercial"]
    decided = collections.Counter()
    for inputs in corpus.table_inputs(compiled_coder, commercial, "coding"):
        rows = amended_table.decide(inputs)
        got = handwritten.coding(*(inputs[c] for c in amended.inputs), repeat_push_76=True)
        assert got == (*_coding_outputs(rows), rows[0].outputs[-1] if rows else None), inputs
        decided.update(row.id for row in rows)
    assert decided["push.repeat.professional"] and decided["push.repeat.professional.add-on"]


def _service_outputs(row) -> tuple:
    service, findings = row.outputs
    return (None if service == "none" else service), findings or ()


def _coding_outputs(rows) -> tuple:
    if not rows:
        return None, None, None, None, ()
    code, units, addon, addon_units, findings = rows[0].outputs[:5]  # a variant may add `modifier`
    names = {None: None, "additional_hours": "additional", "hydration_hours": "hydration"}
    return code, names[units], addon, names[addon_units], findings or ()


def test_the_handwritten_batch_writes_a_record_for_every_line(tmp_path):
    """bench/handwritten_batch.py, the yardstick of a whole `infuse code` process: each line
    coded as code_encounter codes it, a bad one an error record in its place."""
    good = [json.dumps(encounter).encode() for encounter in SHAPES[:3]]
    lines = [good[0] + b"\n", b"{not json\n", good[1] + b"\n", good[2]]
    out = io.BytesIO()
    assert handwritten_batch.code_lines(lines, out) == 4
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [record.get("encounter") for record in records] == [SHAPES[0]["id"], None, SHAPES[1]["id"], SHAPES[2]["id"]]
    assert records[0] == json.loads(json.dumps(handwritten.code_encounter(SHAPES[0])))
    assert records[1]["line"] == 2 and records[1]["error"]["message"]
