"""`infuse new-year`: next year's folder from this year's, whose check is clean and whose tests
pass; and `infuse check` over year folders that overlap, leave a gap, or whose payer files
kept last year's version (issue 10, item 6)."""
from __future__ import annotations

import json
import shutil

import pytest

import engine
from dsl.diagnostics import RulesetError
from dsl.loader import load_family
from engine.analyst.new_year import new_year
from engine.cli import main
from engine.core.schema import SCHEMA
from tests.conftest import CASES, RULESET_2026


@pytest.fixture(scope="module")
def years(tmp_path_factory):
    """rulesets/2026 copied, and 2027 made from it by `infuse new-year`."""
    root = tmp_path_factory.mktemp("years")
    shutil.copytree(RULESET_2026, root / "2026")
    assert main(["new-year", str(root / "2026"), "2027"]) == 0  # its check is clean and its tests pass
    return root


def test_every_variant_of_the_new_year_carries_its_version(years):
    family = load_family(years / "2027", SCHEMA)
    assert [family.base.version, *(v.version for v in family.variants.values())] == ["2027.1"] * 5
    assert family.base.effective == ("2027-01-01", "2027-12-31")


def test_a_2027_encounter_is_coded_by_2027_and_a_2026_one_by_2026(years):
    encounter = json.loads(sorted(CASES.glob("*.json"))[0].read_text())["encounter"]
    moved = json.loads(json.dumps(encounter).replace("2026-", "2027-"))
    coder = engine.load(years, payer="commercial")
    assert coder.code(moved).ruleset["version"] == "2027.1"
    assert coder.code(encounter).ruleset["version"] == "2026.1"
    assert coder.code(moved).as_dict()["lines"] == [
        dict(line, date=line["date"].replace("2026-", "2027-")) for line in coder.code(encounter).as_dict()["lines"]]


def test_test_dates_move_with_the_year_and_the_old_year_is_listed_for_review(tmp_path):
    shutil.copytree(RULESET_2026, tmp_path / "2026")
    made = new_year(tmp_path / "2026", 2027)
    cases = (made.folder / "tests" / "documentation.cases").read_text()
    assert "2026-" not in cases and "start            | stop" in cases and "2027-04-10T08:00" in cases
    assert any(line.startswith("sources.rules:") and "CPT 2026" in line for line in made.review)


def test_an_existing_target_is_refused(tmp_path, capsys):
    shutil.copytree(RULESET_2026, tmp_path / "2026")
    (tmp_path / "2027").mkdir()
    assert main(["new-year", str(tmp_path / "2026"), "2027"]) == 2
    assert "exists already" in capsys.readouterr().err


def _errors(root, capsys) -> str:
    assert main(["check", str(root), "--format", "json"]) == 1
    return json.dumps([d for d in json.loads(capsys.readouterr().out)["diagnostics"] if d["severity"] == "error"])


def test_check_refuses_a_gap_and_an_overlap_between_years(tmp_path, capsys):
    shutil.copytree(RULESET_2026, tmp_path / "gap" / "2026")
    new_year(tmp_path / "gap" / "2026", 2028)
    assert "no ruleset covers 2027-01-01 .. 2027-12-31" in _errors(tmp_path / "gap", capsys)
    shutil.copytree(RULESET_2026, tmp_path / "overlap" / "2026")
    second = new_year(tmp_path / "overlap" / "2026", 2027).folder
    base = second / "ruleset.rules"
    base.write_text(base.read_text().replace("effective 2027-01-01", "effective 2026-12-01"))
    assert "effective from 2026-12-01, while drug-administration 2026.1 is effective until 2026-12-31" \
        in _errors(tmp_path / "overlap", capsys)


def test_a_payer_file_that_kept_last_years_version_is_an_error(tmp_path):
    shutil.copytree(RULESET_2026, tmp_path / "2027")
    base = tmp_path / "2027" / "ruleset.rules"
    base.write_text(base.read_text().replace("drug-administration 2026.1", "drug-administration 2027.1"))
    with pytest.raises(RulesetError) as caught:
        load_family(tmp_path / "2027", SCHEMA)
    messages = sorted(d.message for d in caught.value.diagnostics)
    versions = [m for m in messages if m.startswith("variant version")]
    assert versions == ["variant version 2026.1 differs from its base's 2027.1; results would be labelled 2026.1"] * 4
    # the names payers.rules routes to the variants left out are reported too
    assert sorted(set(messages) - set(versions)) == ["no payer variant 'horizon' to route to",
                                                     "no payer variant 'regence' to route to"]


def test_a_date_the_new_year_lacks_is_left_and_listed(tmp_path):
    shutil.copytree(RULESET_2026, tmp_path / "2026")
    leap_year = new_year(tmp_path / "2026", 2028).folder
    (leap_year / "tests" / "leap.cases").write_text(
        (leap_year / "tests" / "pushes.cases").read_text().replace("date: 2028-03-14", "date: 2028-02-29", 1))
    made = new_year(leap_year, 2029)
    assert "date: 2028-02-29" in (made.folder / "tests" / "leap.cases").read_text()
    assert "tests/leap.cases: 2028-02-29 has no date in 2029; choose one" in made.review
