"""Properties every result must have, on generated encounters (tests/strategies.py).

The engines must agree, input order and process must not matter, and every result must
keep the ruleset's own promises: declared codes, modifiers and findings; one initial
service per session and access site; no add-on without a primary; nothing for the
practitioner at a facility place of service. What a property reads of the ruleset (the
add-on primaries, the facility places of service) it reads from the checked ruleset, so a
change of policy text changes the test with it.
"""
import collections
import json
import os
import subprocess
import sys

import jsonschema
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from dsl.checked import CheckedEdit, CheckedInitial, CheckedRequire, CheckedTable
from engine.core.encounter import parse_encounter
from tests.conftest import ROOT
from tests.strategies import encounters

RESULT_SCHEMA = json.loads((ROOT / "tests" / "contract" / "result.schema.json").read_text())
ENCOUNTER_SCHEMA = json.loads((ROOT / "tests" / "contract" / "encounter.schema.json").read_text())
INFUSE = os.path.join(os.path.dirname(sys.executable), "infuse")

PROPERTY = settings(derandomize=True, max_examples=150, deadline=None)


def ruleset_for(coder, encounter):
    return coder.registry.select(encounter["date"], encounter.get("payer"))


@PROPERTY
@given(encounter=st.one_of(encounters(), encounters(mixed_offsets=True)))
def test_generated_encounters_are_valid_input(encounter, compiled_coder):
    jsonschema.validate(encounter, ENCOUNTER_SCHEMA)
    parse_encounter(encounter, ruleset_for(compiled_coder, encounter).input)


@PROPERTY
@given(encounter=encounters())
def test_compiled_and_reference_engines_agree(encounter, compiled_coder, reference_coder):
    assert compiled_coder.code(encounter) == reference_coder.code(encounter)


@PROPERTY
@given(encounter=encounters(), data=st.data())
def test_order_of_administrations_never_changes_the_result(encounter, data, compiled_coder):
    administrations = data.draw(st.permutations(encounter["administrations"]), label="administrations")
    assert compiled_coder.code(dict(encounter, administrations=administrations)) == compiled_coder.code(encounter)


@PROPERTY
@given(encounter=encounters(mixed_offsets=True), data=st.data())
def test_order_never_changes_the_result_with_several_offsets(encounter, data, compiled_coder):
    administrations = data.draw(st.permutations(encounter["administrations"]), label="administrations")
    assert compiled_coder.code(dict(encounter, administrations=administrations)) == compiled_coder.code(encounter)


@PROPERTY
@given(encounter=encounters())
def test_order_of_em_services_never_changes_the_result(encounter, compiled_coder):
    services = encounter.get("em", [])
    reversed_services = dict(encounter, em=services[::-1])
    assert compiled_coder.code(reversed_services) == compiled_coder.code(dict(encounter, em=services))


def _cli(batch: bytes, hash_seed: str) -> bytes:
    env = dict(os.environ, PYTHONHASHSEED=hash_seed)
    done = subprocess.run([INFUSE, "code", "-", "--format", "jsonl"], input=batch, capture_output=True,
                          env=env, check=False, timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


# No shrinking: each step would start two processes.
@settings(derandomize=True, max_examples=2, deadline=None, phases=(Phase.explicit, Phase.generate))
@given(batch=st.lists(encounters(), min_size=25, max_size=25))
def test_output_is_byte_identical_across_runs_and_processes(batch, compiled_coder):
    text = "".join(json.dumps(e) + "\n" for e in batch).encode()
    first, second = _cli(text, "1"), _cli(text, "2")
    assert first == second
    in_process = "".join(json.dumps(compiled_coder.code(e).as_dict(), ensure_ascii=False, separators=(",", ":")) + "\n"
                         for e in batch)  # JSON Lines are written without spaces (engine.io.render)
    assert first == in_process.encode()


@PROPERTY
@given(encounter=encounters())
def test_everything_in_a_result_is_declared(encounter, compiled_coder):
    ruleset = ruleset_for(compiled_coder, encounter)
    result = compiled_coder.code(encounter).as_dict()
    jsonschema.validate(result, RESULT_SCHEMA)
    em_codes = {service["code"] for service in encounter.get("em", ())}
    for line in result["lines"]:
        assert line["code"] in ruleset.codes or line["code"] in em_codes, line
        assert set(line["modifiers"]) <= set(ruleset.modifiers), line
        assert line["units"] >= 1, line
    for finding in result["findings"]:
        assert finding["id"] in ruleset.findings, finding


@PROPERTY
@given(encounter=encounters())
def test_one_initial_service_per_session_and_site(encounter, compiled_coder):
    """At most one initial code per group of each `initial` stage (iv_access: session and
    site; subq_pump: session), but for a payer's repeat (76). The stage of a line is the
    one its rules name; its session and site are those of its administrations."""
    ruleset = ruleset_for(compiled_coder, encounter)
    stages = {f"initial/{s.name}": s for s in ruleset.stages if isinstance(s, CheckedInitial)}
    documented = {a["id"]: a for a in encounter["administrations"]}
    initial_units = collections.Counter()
    for line in compiled_coder.code(encounter).lines:
        if ruleset.codes.get(line.code, ("",))[0] != "initial" or "76" in line.modifiers:
            continue
        (stage,) = [stages[rule] for rule in line.rules if rule in stages]
        groups = {tuple(documented[a].get(key) for key in stage.keys) for a in line.administrations}
        assert len(groups) == 1, line
        initial_units[stage.name, groups.pop()] += line.units
    assert all(units <= 1 for units in initial_units.values()), initial_units


def addon_primaries(ruleset) -> list:
    """(add-on codes, primary codes) of every `require` clause of the edit `addon-primaries`."""
    edit = next(s for s in ruleset.stages if isinstance(s, CheckedEdit) and s.name == "addon-primaries")
    return [(c.addons, c.primaries) for c in edit.clauses if isinstance(c, CheckedRequire)]


def test_every_addon_code_has_primaries(compiled_coder):
    for family in compiled_coder.registry.families:
        for ruleset in (family.base, *family.variants.values()):
            required = set().union(*(addons for addons, _ in addon_primaries(ruleset)))
            assert required == {code for code, (kind, _) in ruleset.codes.items() if kind == "addon"}


@PROPERTY
@given(encounter=encounters())
def test_no_addon_without_one_of_its_primaries(encounter, compiled_coder):
    ruleset = ruleset_for(compiled_coder, encounter)
    codes = {line.code for line in compiled_coder.code(encounter).lines}
    for addons, primaries in addon_primaries(ruleset):
        for code in codes & addons:
            assert codes & primaries, f"{code} without any of {sorted(primaries)} on {sorted(codes)}"


def facility_places(ruleset) -> frozenset:
    """The places of service of row 'setting.professional-facility' of table 'service'."""
    table = next(s for s in ruleset.stages if isinstance(s, CheckedTable) and s.name == "service")
    row = next(r for r in table.rows if r.id == "setting.professional-facility")
    return row.predicates[table.inputs.index("pos")].values


@PROPERTY
@given(encounter=encounters())
def test_no_administration_code_for_a_practitioner_at_a_facility(encounter, compiled_coder):
    ruleset = ruleset_for(compiled_coder, encounter)
    if encounter["claim"] != "professional" or encounter.get("pos") not in facility_places(ruleset):
        return
    for line in compiled_coder.code(encounter).lines:
        assert ruleset.codes.get(line.code, ("em",))[0] == "em", line
