"""engine.core.undeclared: a field a record carries that its ruleset does not declare raises
the finding its block names (`undeclared fields => finding NAME`), with the field's path and
the declared name it is close to, and changes nothing else; a block without the line lets
such fields pass, as before it existed."""
from __future__ import annotations

import copy
import json

import pytest

import engine
from dsl.diagnostics import RulesetError
from engine.core.coder import Coder
from engine.core.encounter import parse_encounter
from engine.core.registry import Registry
from engine.io.batch import code_record
from tests.conftest import ROOT
from tests.declared import HEADER, VOCABULARIES, checked_ruleset, declared_input, ruleset_text, write_ruleset

ENCOUNTER = json.loads((ROOT / "examples" / "ed-visit.json").read_text())


@pytest.fixture(scope="module", params=["compiled", "reference"])
def coder(request):
    return engine.load(ROOT / "rulesets" / "2026", engine=request.param)


def _with(**changes) -> dict:
    """The example encounter with keys added: `encounter`, `administration` (its first) or `em`."""
    data = copy.deepcopy(ENCOUNTER)
    data.update(changes.get("encounter", {}))
    data["administrations"][0].update(changes.get("administration", {}))
    data["em"][0].update(changes.get("em", {}))
    return data


def _undeclared(result: dict) -> list[dict]:
    return [f for f in result["findings"] if f["id"] == "undeclared-field"]


def test_a_clean_record_raises_nothing(coder):
    assert _undeclared(coder.code(ENCOUNTER).as_dict()) == []


def test_a_misspelt_field_of_an_administration_is_named_with_its_path_and_the_name_it_is_close_to(coder):
    clean = coder.code(ENCOUNTER).as_dict()
    result = coder.code(_with(administration={"rout": "iv"})).as_dict()
    [finding] = _undeclared(result)
    assert finding["severity"] == "warning"
    assert finding["rule"] == "input/administration"
    assert finding["administrations"] == ["a1"]
    assert finding["message"].endswith("(administrations[0].rout: did you mean 'route'?)")
    assert result["lines"] == clean["lines"]
    assert [f for f in result["findings"] if f["id"] != "undeclared-field"] == clean["findings"]


def test_fields_of_the_encounter_and_of_an_em_service_each_raise_under_their_block(coder):
    result = coder.code(_with(encounter={"payor": "medicare", "mrn": "123"},
                              em={"separately_identifable": True})).as_dict()
    by_rule = {f["rule"]: f for f in _undeclared(result)}
    assert set(by_rule) == {"input/encounter", "input/em"}
    assert by_rule["input/encounter"]["administrations"] == []
    assert by_rule["input/encounter"]["message"].endswith("(payor: did you mean 'payer'?; mrn)")
    assert by_rule["input/em"]["message"].endswith(
        "(em[0].separately_identifable: did you mean 'separately_identifiable'?)")


def test_the_batch_dict_says_what_the_result_says(coder):
    data = _with(administration={"stpo": "2026-03-14T10:04"}, encounter={"clam": "facility"})
    assert coder.code_dict(copy.deepcopy(data)) == coder.code(data).as_dict()


def test_the_fields_are_found_in_the_order_of_the_record():
    declared = Registry.from_path(ROOT / "rulesets" / "2026").families[0].base.input
    data = _with(administration={"zeta": 1, "alpha": 2})
    found = parse_encounter(data, declared).undeclared
    assert [(u.kind, u.index, u.name) for u in found] == [("administration", 0, "zeta"), ("administration", 0, "alpha")]


FINDING = 'finding unread warning [cpt]\n  "A field was not read."\n'


def test_a_block_without_the_line_lets_its_fields_pass_unseen():
    declared = declared_input(extra=FINDING, em="  undeclared fields => finding unread\n")
    assert declared.undeclared is None and declared.kind("administration").undeclared is None
    assert declared.kind("em").undeclared == "unread"
    assert parse_encounter(_with(administration={"rout": "iv"}, encounter={"mrn": "1"}), declared).undeclared == ()


def test_the_finding_must_be_declared_and_said_once_per_block():
    with pytest.raises(RulesetError) as raised:
        checked_ruleset(ruleset_text(extra=FINDING, administration="  undeclared fields => finding unred\n"
                                                                   "  undeclared fields => finding unread\n"))
    found = {(d.code, d.message, d.hint) for d in raised.value.diagnostics}
    assert ("E-name", "unknown finding 'unred'", "did you mean 'unread'?") in found
    assert any(code == "E-duplicate" and "'undeclared fields' is said twice" in message for code, message, _ in found)


def test_a_folder_codes_with_its_own_finding(tmp_path):
    write_ruleset(tmp_path, HEADER + VOCABULARIES + FINDING)
    (tmp_path / "input.rules").write_text((tmp_path / "input.rules").read_text().replace(
        "  derive days_from_date = days between date and start\n",
        "  derive days_from_date = days between date and start\n  undeclared fields => finding unread\n"))
    data = _with(administration={"dsoe": "4 mg"})
    del data["payer"]
    result = Coder(Registry.from_path(tmp_path)).code(data).as_dict()
    assert [(f["id"], f["rule"], f["message"]) for f in result["findings"]] == [
        ("unread", "input/administration", "A field was not read. (administrations[0].dsoe: did you mean 'dose'?)")]


def test_the_batch_path_from_json_bytes_raises_it_too():
    """The typed decoding (engine.core.typed) refuses a field it does not know, so such a
    record goes the careful way, which finds it."""
    coder = engine.load(ROOT / "rulesets" / "2026")
    raw = json.dumps(_with(administration={"rout": "iv"})).encode()
    assert coder.code_json(raw) is None
    assert [f["rule"] for f in _undeclared(code_record(coder, 1, raw))] == ["input/administration"]
    assert _undeclared(code_record(coder, 1, json.dumps(ENCOUNTER).encode())) == []


def test_a_misspelt_array_of_events_is_named_with_the_key_it_is_close_to(coder):
    data = copy.deepcopy(ENCOUNTER)
    data["ems"] = data.pop("em")
    [finding] = _undeclared(coder.code(data).as_dict())
    assert finding["message"].endswith("(ems: did you mean 'em'?)")
