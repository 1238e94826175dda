"""Edges found in review: each a ruleset or encounter that once crashed, was silently
accepted, or coded differently than it should; now a located error or the right result."""
import os
import subprocess
import sys

import pytest

import engine
from dsl.diagnostics import RulesetError
from dsl.loader import load_family
from engine.encounter import EncounterError, parse_encounter
from engine.registry import OverlappingRulesets, Registry
from engine.schema import SCHEMA, VALIDATED_FIELDS
from tests.conftest import ROOT
from tests.test_pipeline_stages import RULESET, admin, encounter


def write(folder, text=RULESET, **variants):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ruleset.rules").write_text(text)
    if variants:
        (folder / "payers").mkdir(exist_ok=True)
        for name, variant in variants.items():
            (folder / "payers" / f"{name}.rules").write_text(variant)
    return folder


def errors_of(folder) -> list[tuple[str, str]]:
    with pytest.raises(RulesetError) as caught:
        load_family(folder, SCHEMA)
    return [(d.code, d.message) for d in caught.value.diagnostics if d.severity == "error"]


@pytest.mark.parametrize("old,new,code,words", [
    ("=> T4   |       |", "=> T4   | 30 min |", "E-type", "not a duration"),
    ("  id      | role    | distinct => modifier", "  id      | role    | role => modifier", "E-duplicate", "appears twice"),
    ("effective 2030-01-01 .. 2030-12-31", "effective 2030-02-30 .. 2030-12-31", "E-effective", "not a real date"),
    ("  order: big > small", "  order: big > small(blue)", "E-rank", "only 'primary'"),
])
def test_a_mistake_is_a_located_error(tmp_path, old, new, code, words):
    assert old in RULESET
    found = errors_of(write(tmp_path, RULESET.replace(old, new, 1)))
    assert any(c == code and words in m for c, m in found), found


def test_a_pair_edit_names_attributes_of_a_line(tmp_path):
    text = RULESET + """
edit bundles [manual]
  pair T1 with T4 per sesion
  distinct by sight: M1
  finding capped
"""
    found = errors_of(write(tmp_path, text))
    assert ("E-name", "unknown attribute of a line 'sesion'") in found
    assert ("E-name", "unknown attribute of a line 'sight'") in found


def test_a_replacing_amend_row_keeps_the_cells_it_does_not_list(tmp_path):
    variant = """ruleset toy-acme 1.0
extends toy
payer acme
amend table coding [manual]
  id          | role => code
  small.other | *    => T4
"""
    family = load_family(write(tmp_path, acme=variant), SCHEMA)
    coding = next(s for s in family.variants["acme"].stages if getattr(s, "name", "") == "coding")
    row = next(r for r in coding.rows if r.id == "small.other")
    kind = coding.inputs.index("kind")
    assert row.predicates[kind].values == frozenset({"small"})  # kept from the base row
    assert row.outputs[coding.outputs.index("code")] == "T4"


def test_a_payer_variant_vocabulary_validates_its_encounters(tmp_path):
    variant = """ruleset toy-acme 1.0
extends toy
payer acme
vocabulary category: red, blue, green [manual]
"""
    coder = engine.load(write(tmp_path, acme=variant))
    green = dict(encounter(admin("green", "09:00", "09:05")), payer="acme")
    assert coder.code(green).lines == ()
    with pytest.raises(EncounterError):
        coder.code(dict(green, payer=None))


def test_two_rulesets_effective_on_one_date_are_refused(tmp_path):
    write(tmp_path / "a")
    write(tmp_path / "b", RULESET.replace("ruleset toy 1.0", "ruleset toy 1.1"))
    with pytest.raises(OverlappingRulesets):
        Registry.from_path(tmp_path)


def test_times_near_year_one_with_an_offset_do_not_crash(compiled_coder):
    data = {"id": "x", "date": "2026-03-01", "claim": "facility", "administrations": [
        {"id": "a", "drug": "d", "category": "therapeutic", "route": "iv", "method": "push",
         "start": "0001-01-01T00:30+05:00", "stop": "0001-01-01T00:32+05:00"}]}
    words = {name: compiled_coder.registry.latest.base.vocabularies[name] for name in VALIDATED_FIELDS}
    administration = parse_encounter(data, words).administrations[0]
    assert administration.stop_s - administration.start_s == 120
    with pytest.raises(EncounterError) as error:  # given 2025 years before the rules in force
        compiled_coder.code(data)
    assert error.value.path == "administrations[0].start"


def test_a_stop_years_after_the_start_is_rejected(compiled_coder):
    data = {"id": "x", "date": "2026-03-01", "claim": "facility", "administrations": [
        {"id": "a", "drug": "d", "category": "therapeutic", "route": "iv", "method": "infusion",
         "start": "2026-03-01T10:00", "stop": "2036-03-01T10:00"}]}
    with pytest.raises(EncounterError) as error:
        compiled_coder.code(data)
    assert error.value.path == "administrations[0].stop" and "within 31 days" in error.value.message


def test_the_em_session_does_not_depend_on_input_order(compiled_coder):
    pushes = [{"id": i, "drug": d, "category": "therapeutic", "route": "iv", "method": "push",
               "start": "2026-03-01T10:00", "stop": "2026-03-01T10:01", "session": s}
              for i, d, s in (("a", "ondansetron", "s2"), ("b", "famotidine", "s1"))]
    data = {"id": "x", "date": "2026-03-01", "claim": "facility", "administrations": pushes,
            "em": [{"code": "99213", "separately_identifiable": True}]}
    flipped = dict(data, administrations=pushes[::-1])
    assert compiled_coder.code(data) == compiled_coder.code(flipped)


def test_the_bundled_rulesets_generate_the_same_code_in_every_process():
    script = ("import hashlib, engine, engine.compiled as compiled\n"
              "engine.load()\n"
              "sources = sorted(generated[1] for generated in compiled._GENERATED.values() if generated)\n"
              "print(hashlib.sha256(''.join(sources).encode()).hexdigest())")
    digests = {subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT,
                              env=dict(os.environ, PYTHONHASHSEED=seed), check=True).stdout for seed in ("1", "2", "3")}
    assert len(digests) == 1
