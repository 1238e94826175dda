"""`infuse schema`: the JSON Schema of the encounter a ruleset declares (issue 10, item 5).

The committed tests/contract/encounter.schema.json is the command's output for rulesets/2026;
every case's encounter validates against it; it takes what the shared contract's schema takes
and rejects what the engine rejects for a reason a schema can state; a payer variant's
vocabularies show in its schema."""
from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys

import jsonschema
import pytest
from jsonschema import Draft202012Validator

from dsl.loader import load_family
from engine.analyst.cases import load_cases
from engine.analyst.json_schema import encounter_schema
from engine.cli import main
from engine.core.encounter import EncounterError, parse_encounter
from engine.core.schema import SCHEMA
from tests.conftest import CASES, ROOT, RULESET_2026

COMMITTED = ROOT / "tests" / "contract" / "encounter.schema.json"
SHARED = ROOT.parent / "shared"
REGENERATE = "infuse schema rulesets/2026 > tests/contract/encounter.schema.json"
DECLARED = load_family(RULESET_2026, SCHEMA).base.input  # what a text case may say


@pytest.fixture(scope="module")
def ruleset():
    return load_family(RULESET_2026, SCHEMA).base


@pytest.fixture(scope="module")
def validator(ruleset):
    return Draft202012Validator(encounter_schema(ruleset.input, "test"))


def schema_of(capsys, *args) -> dict:
    assert main(["schema", *map(str, args)]) == 0
    return json.loads(capsys.readouterr().out)


def test_the_committed_schema_is_the_command_s_output(capsys):
    assert main(["schema", str(RULESET_2026)]) == 0
    printed = capsys.readouterr().out
    assert COMMITTED.read_text(encoding="utf-8") == printed, (
        f"{COMMITTED.relative_to(ROOT)} is stale: the declared input of rulesets/2026 changed. "
        f"Regenerate it from the repository's root with: {REGENERATE}")


def test_the_schema_is_a_draft_2020_12_schema_that_says_what_the_ruleset_declares(capsys):
    schema = schema_of(capsys, RULESET_2026)
    Draft202012Validator.check_schema(schema)
    assert list(schema)[:5] == ["$schema", "$id", "title", "description", "type"]
    assert (schema["$id"], schema["title"]) == ("encounter.schema.json", "drug-administration 2026.1 encounter")
    assert schema["required"] == ["id", "date", "claim", "administrations"]
    assert "additionalProperties" not in schema
    assert schema["properties"]["administrations"] == {
        "type": "array", "items": {"$ref": "#/$defs/administration"}, "maxItems": 1000}
    administration = schema["$defs"]["administration"]
    assert list(administration["properties"])[:3] == ["id", "drug", "dose"]  # as declared
    assert administration["properties"]["route"]["enum"] == ["iv", "im", "subq", "intra_arterial", "intralesional"]
    assert administration["properties"]["drug"]["minLength"] == 1
    assert "minLength" not in administration["properties"]["dose"]  # `blank`
    assert administration["properties"]["hormonal"]["type"] == "boolean"
    assert administration["properties"]["start"]["format"] == "date-time"
    assert schema["$defs"]["em"]["properties"]["code"]["pattern"] == "^[0-9]{5}$"
    assert schema["properties"]["claim"]["description"] == "the claim type of the encounter"


def test_the_output_is_deterministic_two_space_indented_with_a_final_newline(capsys):
    assert main(["schema", str(RULESET_2026)]) == 0
    first = capsys.readouterr().out
    assert main(["schema", str(RULESET_2026.parent)]) == 0  # a folder of years: the latest
    assert capsys.readouterr().out == first
    assert first.endswith("}\n") and first.splitlines()[1].startswith('  "$schema"')


@pytest.mark.parametrize("args,message", [
    (["--payer", "acme"], "no payer policy named 'acme'"),
    (["/nonexistent/rules"], "no ruleset in /nonexistent/rules"),
])
def test_an_unusable_ruleset_or_unknown_payer_is_exit_2_with_one_line(capsys, args, message):
    arguments = args if args[0].startswith("/") else [str(RULESET_2026), *args]
    assert main(["schema", *arguments]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and message in captured.err and captured.err.count("\n") == 1


# ----- the encounters of every case -------------------------------------------------

def _case_folders():
    folders = [CASES, RULESET_2026 / "tests"]
    return folders + [SHARED / "cases"] if (SHARED / "cases").is_dir() else folders


def _cases():
    found = []
    for folder in _case_folders():
        cases, problems = load_cases(folder, DECLARED)
        assert not problems, problems
        found += [pytest.param(case.encounter, id=f"{os.path.relpath(case.file, ROOT)}:{case.line}") for case in cases]
    return found


@pytest.mark.parametrize("encounter", _cases())
def test_every_case_s_encounter_validates(validator, encounter):
    validator.validate(encounter)


def test_the_shared_cases_are_read_when_they_are_there():
    if not (SHARED / "cases").is_dir():
        pytest.skip("no ../shared/cases beside the repository")
    assert len(load_cases(SHARED / "cases", DECLARED)[0]) > 0


# ----- against the engine and the shared contract's schema -------------------------

def _administration(**fields) -> dict:
    return {"id": "a1", "drug": "ondansetron", "category": "therapeutic", "route": "iv", "method": "push",
            "start": "2026-03-14T10:02", **fields}


def _encounter(*administrations, **fields) -> dict:
    return {"id": "e1", "date": "2026-03-14", "claim": "facility",
            "administrations": list(administrations or [_administration()]), **fields}


ACCEPTED = {
    "minimal": _encounter(),
    "every field": _encounter(
        _administration(dose="4 mg", hormonal=False, pump=True, stop="2026-03-14T10:05:30.25-05:00", site="L-arm",
                        session="1", indication="nausea", response="none"),
        pos="23", payer="medicare", primary="a1", em=[{"code": "99284", "session": "1",
                                                       "separately_identifiable": True}]),
    "blank free text": _encounter(_administration(dose="", indication="", response="")),
    "times with offsets and seconds": _encounter(_administration(start="2026-03-14T23:50:00Z",
                                                                 stop="2026-03-15T00:10:00+00:00")),
    "fields the contract passes on": _encounter(_administration(lot="X1"), note="free"),
    "a payer without a variant": _encounter(payer="medicaid"),
    "no E/M": _encounter(em=[]),
    "folded words in another case": _encounter(_administration(purpose="KVO", integral_to=" Imaging_Contrast ",
                                                               performer="Staff", supervision="direct")),
}

# What the engine rejects and a schema can say: each is a field of the wrong type or form.
REJECTED = {
    "a number for claim": _encounter(claim=1),
    "an unknown claim": _encounter(claim="institutional"),
    "a one-digit pos": _encounter(pos="2"),
    "a number for pos": _encounter(pos=23),
    "an empty drug": _encounter(_administration(drug="")),
    "an empty id": _encounter(id=""),
    "an unknown route": _encounter(_administration(route="oral")),
    "a misspelt folded word": _encounter(_administration(purpose="kov")),
    "a folded word inside another": _encounter(_administration(supervision="directly")),
    "a string for a flag": _encounter(_administration(hormonal="true")),
    "null for an optional time": _encounter(_administration(stop=None)),
    "a time with a space": _encounter(_administration(start="2026-03-14 10:02")),
    "a bare date for a time": _encounter(_administration(start="2026-03-14")),
    "seven decimals": _encounter(_administration(start="2026-03-14T10:02:00.1234567")),
    "a date in another order": _encounter(date="14/03/2026"),
    "no administrations": {k: v for k, v in _encounter().items() if k != "administrations"},
    "administrations as an object": _encounter(administrations={"a1": _administration()}),
    "a four-digit E/M code": _encounter(em=[{"code": "9928"}]),
    "an E/M without its code": _encounter(em=[{"session": "1"}]),
    "past the declared limit": _encounter(*(_administration(id=f"a{i}") for i in range(1001))),
    "a string for the record": "e1",
}


def _engine_accepts(ruleset, record) -> bool:
    try:
        parse_encounter(copy.deepcopy(record), ruleset.input)
    except EncounterError:
        return False
    return True


@pytest.mark.parametrize("name", ACCEPTED)
def test_what_the_engine_accepts_both_schemas_accept(ruleset, validator, name):
    record = ACCEPTED[name]
    assert _engine_accepts(ruleset, record)
    validator.validate(record)
    shared = SHARED / "contract" / "encounter.schema.json"
    if shared.is_file():
        jsonschema.validate(record, json.loads(shared.read_text()))


@pytest.mark.parametrize("name", REJECTED)
def test_what_the_engine_rejects_for_its_type_or_form_the_schema_rejects(ruleset, validator, name):
    record = REJECTED[name]
    assert not _engine_accepts(ruleset, record)
    assert not validator.is_valid(record)


def test_the_schema_is_at_least_as_permissive_as_the_shared_one_on_the_fields_it_lists(validator):
    """Every field the shared schema lists is here, required no more often, of the same type, with
    every word, no longer a minimum, the same pattern if any. Only where the shared schema leaves a
    string to its `format` (an annotation) does this one add a pattern: what the engine takes."""
    shared_file = SHARED / "contract" / "encounter.schema.json"
    if not shared_file.is_file():
        pytest.skip("no ../shared/contract beside the repository")
    shared, ours = json.loads(shared_file.read_text()), validator.schema
    pairs = [(shared, ours)] + [(shared["$defs"][k], ours["$defs"][k]) for k in shared["$defs"]]
    for theirs, mine in pairs:
        assert set(mine["required"]) <= set(theirs["required"])
        for name, field in theirs["properties"].items():
            here = mine["properties"][name]
            assert here.get("type", field.get("type")) == field.get("type", here.get("type")), name
            assert set(field.get("enum", ())) <= set(here.get("enum", field.get("enum", ()))), name
            assert here.get("minLength", 0) <= field.get("minLength", 0), name
            if "pattern" in field or "format" not in field:
                assert here.get("pattern", field.get("pattern")) == field.get("pattern"), name
            else:
                assert here["format"] == field["format"], name


def test_what_a_schema_cannot_say_is_left_to_the_engine(ruleset, validator):
    """`format` is an annotation: 2026-02-30 matches the date's pattern and passes unless a
    validator asserts formats. Ids used twice, an id naming no event and a stop before its
    start need the whole record, so only the engine sees them."""
    impossible = _encounter(date="2026-02-30")
    assert not _engine_accepts(ruleset, impossible) and validator.is_valid(impossible)
    asserting = Draft202012Validator(validator.schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    assert not asserting.is_valid(impossible)
    for record in (_encounter(_administration(), _administration()),
                   _encounter(primary="a9"),
                   _encounter(_administration(stop="2026-03-14T10:00"))):
        assert not _engine_accepts(ruleset, record) and validator.is_valid(record)


# ----- payer variants ----------------------------------------------------------------

def test_a_payer_variant_s_schema_differs_where_its_vocabularies_do(tmp_path, capsys):
    base = schema_of(capsys, RULESET_2026)
    medicare = schema_of(capsys, RULESET_2026, "--payer", "medicare")
    assert medicare["title"] == "drug-administration-medicare 2026.1 encounter"
    assert {**medicare, "title": base["title"]} == base  # 2026: Medicare keeps the base vocabularies

    folder = tmp_path / "2026"
    shutil.copytree(RULESET_2026, folder)
    (folder / "payers" / "acme.rules").write_text(
        "ruleset drug-administration-acme 2026.1\nextends drug-administration\npayer acme\n"
        "vocabulary route: iv, im, subq, intra_arterial, intralesional, intraosseous [cpt]\n")
    acme = schema_of(capsys, folder, "--payer", "acme")
    route = acme["$defs"]["administration"]["properties"]["route"]
    assert route["enum"] == ["iv", "im", "subq", "intra_arterial", "intralesional", "intraosseous"]
    acme["$defs"]["administration"]["properties"]["route"] = base["$defs"]["administration"]["properties"]["route"]
    assert {**acme, "title": base["title"]} == base  # nothing else changed
    record = _encounter(_administration(route="intraosseous"))
    assert Draft202012Validator(schema_of(capsys, folder, "--payer", "acme")).is_valid(record)
    assert not Draft202012Validator(base).is_valid(record)


def test_an_output_that_cannot_be_written_is_exit_3():
    infuse = os.path.join(os.path.dirname(sys.executable), "infuse")
    with open("/dev/full", "wb") as full:
        done = subprocess.run([infuse, "schema", str(RULESET_2026)], stdout=full, stderr=subprocess.PIPE)
    assert (done.returncode, done.stderr) == (3, b"infuse: cannot write the output: No space left on device\n")


def test_a_folded_word_with_punctuation_is_a_pattern_ecma_262_accepts():
    """JSON Schema patterns are ECMA-262 regular expressions: in unicode mode an escaped `-`
    outside a class is an error, so only the characters special there are escaped."""
    from engine.analyst.json_schema import _any_case
    assert _any_case("a-b.c") == "[aA]-[bB]\\.[cC]"
    assert _any_case("x|y_1") == "[xX]\\|[yY]_1"
