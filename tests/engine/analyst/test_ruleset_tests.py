"""`infuse test`: case formats, failure diffs, coverage and thresholds, and the 2026 ruleset's own tests."""
import json
import shutil
import textwrap

import pytest

from dsl.loader import load_family
from engine.cli import main
from engine.analyst.coverage import Boundary, Coverage
from engine.analyst.cases import compare_lines, load_cases, parse_case_text, run_cases
from engine.core.schema import SCHEMA
from tests.conftest import CASES, RULESET_2026


DECLARED = load_family(RULESET_2026, SCHEMA).base.input  # what a case may say


@pytest.fixture(scope="module")
def family():
    return load_family(RULESET_2026, SCHEMA)


@pytest.fixture
def ruleset_copy(tmp_path):
    """The 2026 rules without their tests, and an empty tests folder to write cases into."""
    folder = tmp_path / "2026"
    shutil.copytree(RULESET_2026, folder, ignore=shutil.ignore_patterns("tests"))
    (folder / "tests").mkdir()
    return folder


PUSH = """\
case: furosemide push in the ED
source: CPT 96374
date: 2026-03-14
claim: facility
pos: 23
  id | drug       | category    | route | method | start | stop  | dose  | indication | response
  a1 | furosemide | therapeutic | iv    | push   | 10:00 | 10:02 | 40 mg | edema      | -
expect: 96374
findings: missing-response
"""


# ----- the 2026 ruleset's own tests -----

def test_the_2026_ruleset_tests_pass_with_full_row_coverage(capsys):
    assert main(["test", str(RULESET_2026), "--min-coverage", "100"]) == 0
    out = capsys.readouterr().out
    assert "FAIL" not in out and "rows      100.0%" in out


def test_the_2026_ruleset_tests_cover_everything_reachable(family):
    cases, problems = load_cases(RULESET_2026 / "tests", DECLARED)
    assert not problems
    coverage = Coverage(family)
    outcomes = run_cases(family, cases, coverage)
    assert all(o.passed for o in outcomes)
    assert {o.variant for o in outcomes} == {"base", "commercial", "horizon", "medicare", "regence"}
    uncovered = {item.name for category in ("rows", "units", "merges", "initial", "edits", "findings")
                 for item in coverage.uncovered(category)}
    # No valid encounter makes these act. An add-on comes with the initial service of its session
    # and site, ranked above it, and no edit removes that primary code: 96417 and 96415 follow a
    # chemotherapy infusion (96413), 96411 a chemotherapy infusion or push (96413, 96409), and
    # 96361, 96367, 96375 and 96376 any IV initial service (96413, 96409, 96365, 96374, or 96360
    # for hydration's own hours). No subcutaneous infusion is coded without its session's 96369.
    # A subcutaneous infusion never repeats within its group: one drug through one site in a
    # session is merged into one infusion (merge subq_site), another site is another group.
    # The national pairs of the 2026 extracts (data/ncci-ptp-practitioner.csv,
    # data/ncci-ptp-hospital.csv) are 96372 beside codes the hand-written edit injection-with-iv
    # pairs it with per encounter, which runs first: every 96372 left beside one carries XE, XS
    # or 59, so no indicator 1 row bundles one.
    assert uncovered == {"initial/subq_pump: gives role repeat", "finding/ncci-pair-bundled",
                         'edit/ncci-ptp: pairs from "data/ncci-ptp-practitioner.csv" per date bundles a line',
                         'edit/ncci-ptp: pairs from "data/ncci-ptp-hospital.csv" per date bundles a line'} | {
                         f"edit/addon-primaries: require {addons} with {primaries} removes an add-on"
                         for addons, primaries in [
                             ("96361", "96360, 96365, 96374, 96409, 96413"),
                             ("96367, 96375, 96376", "96365, 96374, 96409, 96413"),
                             ("96370, 96371", "96369"),
                             ("96411", "96409, 96413"),
                             ("96415", "96413, 96417"),
                             ("96417", "96413")]}
    # hydration_time drops hydration of 30 minutes or less before any unit is counted.
    # (The nearest value above it is whichever case sits there: not part of the claim.)
    missing = [(b.where, b.value, b.below) for b in coverage.boundary_list() if not b.covered]
    assert missing == [("units/hydration_hours", 1800, None)]


# ----- case formats -----

def test_a_text_case_reads_as_a_contract_encounter():
    text = textwrap.dedent("""\
        # a comment
        case: two sessions
        id: enc-7
        date: 2026-03-14
        claim: professional
        pos: 11
        payer: commercial
        primary: a2
          id | drug      | category     | route | method   | start            | stop             | hormonal | session
          a1 | leuprolide| chemotherapy | subq  | injection| 9:00             |                  | yes      | 1
          a2 | saline    | hydration    | iv    | infusion | 2026-03-14T23:30 | 2026-03-15T00:45 | no       | 2
        em: 99213 separate session 1
        em: 99212
        expect: 96402, 96360-XE|59, 99213-25 x1, 96361 x2
        findings: missing-dose, missing-indication
        """)
    cases, problems = parse_case_text(text, "t.cases", DECLARED)
    assert problems == []
    (case,) = cases
    assert (case.title, case.line, case.row_lines) == ("two sessions", 2, (10, 11))
    assert case.encounter == {
        "id": "enc-7", "date": "2026-03-14", "claim": "professional", "pos": "11", "payer": "commercial",
        "primary": "a2",
        "administrations": [
            {"id": "a1", "drug": "leuprolide", "category": "chemotherapy", "route": "subq", "method": "injection",
             "start": "2026-03-14T09:00", "hormonal": True, "session": "1"},
            {"id": "a2", "drug": "saline", "category": "hydration", "route": "iv", "method": "infusion",
             "start": "2026-03-14T23:30", "stop": "2026-03-15T00:45", "hormonal": False, "session": "2"}],
        "em": [{"code": "99213", "separately_identifiable": True, "session": "1"}, {"code": "99212"}]}
    assert case.lines == ({"code": "96402", "units": 1, "modifiers": []},
                          {"code": "96360", "units": 1, "modifiers": ["XE|59"]},
                          {"code": "99213", "units": 1, "modifiers": ["25"]},
                          {"code": "96361", "units": 2, "modifiers": []})
    assert case.findings == ("missing-dose", "missing-indication")


@pytest.mark.parametrize("change,line,message", [
    (("claim: facility", "clam: facility"), 4, "did you mean 'claim'?"),
    (("| response", "| respons"), 6, "unknown column 'respons'; did you mean 'response'?"),
    (("| edema      | -", "| edema"), 7, "the row has 9 cells; the header has 10"),
    (("expect: 96374", "expect: 96374 twice"), 8, "cannot read '96374 twice'"),
    (("expect: 96374\n", ""), 1, "the case has no 'expect:' line"),
    (("  id | drug", "  drug | id"), 6, "the administration table starts with a header row 'id | ...'"),
])
def test_a_case_that_cannot_be_read_is_reported_at_its_line(change, line, message):
    cases, problems = parse_case_text(PUSH + "\n" + PUSH.replace(*change), "t.cases", DECLARED)
    assert len(cases) == 1
    (problem,) = problems
    assert problem.line == line + PUSH.count("\n") + 1
    assert message in problem.message


def test_json_and_text_cases_run_and_failures_show_a_diff(ruleset_copy, capsys):
    tests = ruleset_copy / "tests"
    (tests / "pushes.cases").write_text(PUSH + "\n" + PUSH.replace("expect: 96374", "expect: 96375-XS|59 x2")
                                        .replace("findings: missing-response", "findings: repeat-push-too-soon"))
    wrong = {"title": "an infusion", "source": "here",
             "encounter": {"id": "j1", "date": "2026-03-14", "claim": "facility", "pos": "23",
                           "administrations": [{"id": "a1", "drug": "x", "category": "therapeutic", "route": "iv",
                                                "method": "infusion", "start": "2026-03-14T10:00",
                                                "stop": "2026-03-14T10:10"}]},
             "expect": {"lines": [{"code": "96365", "units": 1, "modifiers": []}], "findings": []}}
    (tests / "infusion.json").write_text(json.dumps(wrong))
    assert main(["test", str(ruleset_copy)]) == 1
    out = capsys.readouterr().out
    assert f"FAIL {tests / 'infusion.json'}:1  an infusion  (base)" in out
    assert "! 96365         1      -" in out and "! 96374         -      1" in out
    assert f"FAIL {tests / 'pushes.cases'}:11" in out
    assert "! 96375-XS         2      -" in out
    assert "findings expected but not raised: repeat-push-too-soon" in out
    assert "3 cases: 1 passed, 2 failed" in out

    assert main(["test", str(ruleset_copy), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [c["passed"] for c in report["cases"]] == [False, True, False]
    assert report["cases"][0]["lines"] == [{"code": "96365", "modifiers": [], "expected": 1, "coded": 0},
                                           {"code": "96374", "modifiers": [], "expected": 0, "coded": 1}]


def test_a_json_case_giving_a_key_twice_is_a_problem_naming_it(ruleset_copy, capsys):
    """Read as json.loads reads it, the facility case would be coded as a professional claim."""
    case = (CASES / "01-ed-furosemide-push-facility.json").read_text()
    assert case.count('"claim": "facility"') == 1
    (ruleset_copy / "tests" / "twice.json").write_text(
        case.replace('"claim": "facility"', '"claim": "facility", "claim": "professional"'))
    (ruleset_copy / "tests" / "broken.json").write_text('{"title": "t",\n "encounter": {,}}')
    assert main(["test", str(ruleset_copy)]) == 1
    out = capsys.readouterr().out
    assert f"ERROR {ruleset_copy / 'tests' / 'twice.json'}:1: encounter.claim: duplicated key 'claim'\n" in out
    assert f"ERROR {ruleset_copy / 'tests' / 'broken.json'}:2: not valid JSON: Expecting property name" in out
    assert "0 cases: 0 passed, 0 failed, 2 case files or cases unreadable" in out


def test_a_lone_surrogate_in_a_case_title_is_written_escaped(ruleset_copy, capsys):
    case = json.loads((CASES / "01-ed-furosemide-push-facility.json").read_text())
    case["title"] = "push \ud800"
    case["expect"]["lines"] = []  # so that it fails, and its title is shown
    (ruleset_copy / "tests" / "surrogate.json").write_text(json.dumps(case))
    assert main(["test", str(ruleset_copy)]) == 1
    out = capsys.readouterr().out
    assert f"FAIL {ruleset_copy / 'tests' / 'surrogate.json'}:1  push \\ud800  (base)" in out


def test_a_rejected_encounter_names_the_field_and_the_row(ruleset_copy, capsys):
    (ruleset_copy / "tests" / "bad.cases").write_text(PUSH.replace("| push   |", "| shove  |"))
    assert main(["test", str(ruleset_copy)]) == 1
    out = capsys.readouterr().out
    assert "encounter rejected at administrations[0].method (the row at line 7)" in out


def test_min_coverage_fails_below_the_row_percentage(ruleset_copy, capsys):
    (ruleset_copy / "tests" / "one.cases").write_text(PUSH)
    assert main(["test", str(ruleset_copy), "--min-coverage", "3"]) == 0  # 3 of 82 rows
    assert main(["test", str(ruleset_copy), "--min-coverage", "50"]) == 1
    out = capsys.readouterr().out
    assert "below the minimum of 50%" in out
    assert "not exercised: coding/push.repeat.professional  [commercial, horizon]" in out


def test_no_tests_folder_is_unusable(tmp_path, capsys):
    folder = tmp_path / "2026"
    shutil.copytree(RULESET_2026, folder, ignore=shutil.ignore_patterns("tests"))
    assert main(["test", str(folder)]) == 2
    assert "no test cases" in capsys.readouterr().err


def test_the_loader_reads_no_rules_from_the_tests_folder(ruleset_copy):
    (ruleset_copy / "tests" / "broken.rules").write_text("this is not a rule\n")
    assert load_family(ruleset_copy, SCHEMA).base.name == "drug-administration"


# ----- comparing lines -----

def test_alternative_modifiers_take_the_choice_closest_to_the_result():
    got = [{"code": "96365", "units": 1, "modifiers": ["59"]}, {"code": "96366", "units": 1, "modifiers": []},
           {"code": "96366", "units": 1, "modifiers": []}]
    diff = compare_lines([{"code": "96365", "units": 1, "modifiers": ["XS|59"]},
                          {"code": "96366", "units": 2, "modifiers": []}], got)
    assert all(d.expected == d.got for d in diff)
    diff = compare_lines([{"code": "96365", "units": 1, "modifiers": ["XS|XU"]}], got)
    assert [(d.code, d.modifiers, d.expected, d.got) for d in diff] == [
        ("96365", ("59",), 0, 1), ("96365", ("XS",), 1, 0), ("96366", (), 0, 2)]


# ----- coverage -----

def test_one_case_covers_its_rows_and_a_variant_row_needs_its_variant(family):
    cases, _ = parse_case_text(PUSH, "t.cases", DECLARED)
    coverage = Coverage(family)
    run_cases(family, cases, coverage)
    covered = {i.name for i in coverage.items.values() if i.hits}
    assert {"service/push", "coding/push.initial", "documentation/doc.response", "finding/missing-response",
            "initial/iv_access: gives role initial"} <= covered
    professional_repeat = [i for i in coverage.items.values() if i.name == "coding/push.repeat.professional"]
    assert sorted(i.variants for i in professional_repeat) == [["base", "medicare", "regence"], ["commercial", "horizon"]]
    modifiers = [i for i in coverage.items.values() if i.name == "modifiers/modifier.site"]
    assert sorted(i.variants for i in modifiers) == [["base", "horizon", "medicare", "regence"], ["commercial"]]
    em_rows = [i for i in coverage.items.values() if i.category == "rows" and i.name.startswith("em/")]
    assert {i.name: i.variants for i in em_rows}["em/em.99211"] == ["medicare"]
    assert {i.name: i.variants for i in em_rows}["em/em.alone"] == ["base", "commercial", "horizon", "medicare", "regence"]


def test_a_boundary_needs_a_tested_value_on_each_side():
    at_or_below = Boundary("t.duration", 900, "duration", True, [], [])
    for value in (60, 900):
        at_or_below.observe(value)
    assert (at_or_below.below, at_or_below.above, at_or_below.covered) == (900, None, False)
    at_or_below.observe(960)
    assert (at_or_below.above, at_or_below.covered) == (960, True)
    below = Boundary("t.duration", 900, "duration", False, [], [])  # `< 900` / `>= 900`
    below.observe(900)
    assert (below.below, below.above) == (None, 900)


def test_the_boundaries_of_the_2026_ruleset(family):
    found = {(b.where, b.value, b.at_or_below) for b in Coverage(family).boundary_list()}
    assert found == {("service.duration", 900, True), ("hydration_time.duration", 1800, True),
                     ("service.duration", 28800, True), ("coding.gap", 1800, True),
                     ("em.administration_lines", 0, True), ("documentation.days_from_date", 1, True),
                     ("units/additional_hours", 5400, True), ("units/additional_hours", 9000, True),
                     ("units/hydration_hours", 1800, True), ("units/hydration_hours", 5400, True),
                     ("service.lesions", 7, True)}


@pytest.mark.parametrize("line,expected", [
    ("em: 99213 separately_identifiable session 2", {"code": "99213", "separately_identifiable": True, "session": "2"}),
    ("em: 99213 sep ses 2", {"code": "99213", "separately_identifiable": True, "session": "2"}),
])
def test_another_kind_s_event_is_a_line_of_its_declared_fields(line, expected):
    cases, problems = parse_case_text(PUSH.replace("expect:", line + "\nexpect:"), "t.cases", DECLARED)
    assert not problems
    assert cases[0].encounter["em"] == [expected]


@pytest.mark.parametrize("line,message", [
    ("em: 99213 s", "unexpected 's'; expected 'em: CODE [FIELD [VALUE]]...'"),  # session or separately_identifiable
    ("em: 99213 session", "'session' needs a value after it"),
    ("em:", "expected 'em: CODE [FIELD [VALUE]]...'"),
])
def test_an_ambiguous_or_incomplete_event_line_is_reported(line, message):
    _, problems = parse_case_text(PUSH.replace("expect:", line + "\nexpect:"), "t.cases", DECLARED)
    (problem,) = problems
    assert problem.message == message


def test_a_number_column_reads_as_a_json_number():
    text = PUSH.replace("| response\n", "| response | lesions\n").replace("| -\n", "| -        | 8\n")
    cases, problems = parse_case_text(text, "t.cases", DECLARED)
    assert not problems
    assert cases[0].encounter["administrations"][0]["lesions"] == 8
    for bad in ("eight", "nan", "1e999"):
        _, problems = parse_case_text(text.replace("| 8\n", f"| {bad}\n"), "t.cases", DECLARED)
        assert [p.message for p in problems] == [f"'lesions' is a number; got '{bad}'"]
