"""Loading rulesets at their edges, each once crashed or silently accepted: mistakes in a stage
are located errors, pair edits read line attributes, an amend keeps the cells it does not list, a
variant's vocabulary validates its encounters, and two rulesets on one date are refused."""
import pytest

import engine
from dsl.diagnostics import RulesetError
from dsl.loader import load_family
from engine.core.encounter import EncounterError
from engine.core.registry import OverlappingRulesets, Registry
from engine.core.schema import SCHEMA
from tests.conftest import with_input
from tests.dsl.test_dsl_checker import family_errors
from tests.engine.core.test_pipeline_stages import RULESET, admin, encounter


def write(folder, text=RULESET, **variants):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ruleset.rules").write_text(with_input(text))
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


@pytest.mark.parametrize("variant,message", [
    ('const separate = XS [cpt]\nconst separate = XE [cpt]\n', "'separate' is given twice in this variant"),
    ("amend table coding [cpt]\n  id | service => code\n  push | push => 96374\n  push | push => 96365\n",
     "row 'push' is amended twice"),
])
def test_a_variant_saying_one_thing_twice_is_an_error_not_the_last_word(tmp_path, variant, message):
    """Once the later statement or row silently replaced the earlier one."""
    assert ("E-duplicate", message) in [(code, text) for code, text, _ in family_errors(tmp_path, variant)]
