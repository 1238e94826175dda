"""`infuse check`: golden output, the analyses one by one, and the exactness of the search they rest on.

The golden files in tests/golden/check/ fail on any change of the output. After reading the
difference, regenerate them with INFUSE_REGENERATE=1.
"""
from __future__ import annotations

import json
import os
import re
import shutil

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsl.analysis import analyse, analyse_family, thresholds
from dsl.ast import NOWHERE
from dsl.checked import CheckedInput, CheckedRow, CheckedRuleset, CheckedTable, FieldType, Predicate
from dsl.checker import Schema
from dsl.loader import load_family
from engine.cli import main
from engine.core.schema import SCHEMA
from tests.conftest import ROOT, RULESET_2026

GOLDEN = ROOT / "tests" / "golden" / "check"
REGENERATE = os.environ.get("INFUSE_REGENERATE") == "1"


def run_check(argv, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)  # paths in the output are relative to the working folder
    status = main(["check", *argv])
    return status, capsys.readouterr().out


@pytest.mark.parametrize("folder,golden,status", [
    ("rulesets/2026", "rulesets-2026.txt", 0),
    ("tests/golden/check/warnings", "warnings.txt", 0),
    ("tests/golden/check/broken", "broken.txt", 1),
])
def test_text_output_matches_its_golden_file(folder, golden, status, capsys, monkeypatch):
    got_status, out = run_check([folder], capsys, monkeypatch)
    path = GOLDEN / golden
    if REGENERATE:
        path.write_text(out, encoding="utf-8")
    assert got_status == status
    assert out == path.read_text(encoding="utf-8"), f"{path} differs; read the change, then INFUSE_REGENERATE=1"


def _analysis(folder):
    return analyse_family(load_family(folder, SCHEMA))


@pytest.fixture(scope="module")
def analysis_2026():
    return _analysis(RULESET_2026)


def test_2026_has_no_unreachable_row_and_no_gap(analysis_2026):
    codes = [d.code for d in analysis_2026.diagnostics]
    assert "W-unreachable" not in codes
    assert "W-gap" not in codes


def test_a_base_declaration_only_a_variant_uses_is_not_reported(analysis_2026):
    unused = {d.message for d in analysis_2026.diagnostics if d.code == "W-unused"}
    assert not unused  # 59 and 76 are attached by commercial only, 99211 named by medicare only
    assert not any("99211" in d.message for d in analysis_2026.diagnostics)  # medicare names it


def test_threshold_report_names_constants_and_the_rows_they_split(analysis_2026):
    report = {t.label: t.uses for t in analysis_2026.thresholds[None]}
    assert report["push_limit = 15 min"] == ("service/chemo.infusion", "service/hydration.subq",
                                            "service/infusion", "service/subq-infusion")
    assert report["part_hour = 30 min"] == ("units/additional_hours", "units/hydration_hours")
    assert report["0 on administration_lines"] == ("em/em.alone", "em/em.distinct", "em/em.bundled")
    assert list(analysis_2026.thresholds) == [None, "medicare"]  # medicare splits administration_lines once more
    assert [t.uses for t in analysis_2026.thresholds["medicare"]] == [
        ("em/em.99211", "em/em.alone", "em/em.distinct", "em/em.bundled")]


def test_json_output_for_ci(capsys, monkeypatch):
    status, out = run_check(["tests/golden/check/warnings", "--format", "json"], capsys, monkeypatch)
    report = json.loads(out)
    assert status == 0
    assert report["errors"] == 0 and report["warnings"] == 19 and report["notes"] == 3
    positions = [(d["file"], d["line"], d["column"]) for d in report["diagnostics"]]
    assert positions == sorted(positions)
    shadowed = next(d for d in report["diagnostics"] if d["message"].startswith("row 'long'"))
    assert shadowed == {"code": "W-unreachable", "severity": "warning", "line": 59, "column": 3,
                        "file": "tests/golden/check/warnings/ruleset.rules",
                        "message": "row 'long' of table 'service' is never reached: rows 'hydration', 'infusion' "
                                   "match every input it matches",
                        "hint": "row 'hydration' is at line 56", "notes": []}
    assert {"name": "long_infusion", "value": 1200, "text": "20 min", "kind": "duration", "columns": ["duration"],
            "uses": ["service/long"], "payer": None} in report["rulesets"][0]["thresholds"]


@pytest.mark.parametrize("folder,plain,strict", [
    ("tests/golden/check/warnings", 0, 1),  # warnings (and notes)
    ("rulesets/2026", 0, 0),  # notes only: never a failure
    ("tests/golden/check/broken", 1, 1),
])
def test_strict_fails_on_warnings_for_ci(folder, plain, strict, capsys, monkeypatch):
    assert run_check([folder], capsys, monkeypatch)[0] == plain
    status, out = run_check([folder, "--strict"], capsys, monkeypatch)
    assert status == strict
    assert out == run_check([folder], capsys, monkeypatch)[1]  # the report is the same
    assert run_check([folder, "--strict", "--format", "json"], capsys, monkeypatch)[0] == strict


def test_errors_exit_1_in_json_too(capsys, monkeypatch):
    status, out = run_check(["tests/golden/check/broken", "--format", "json"], capsys, monkeypatch)
    report = json.loads(out)
    assert status == 1 and report["errors"] == 6
    assert report["rulesets"] == [{"folder": "tests/golden/check/broken", "loaded": False}]


def test_a_folder_without_rulesets_is_unusable(tmp_path, capsys):
    assert main(["check", str(tmp_path)]) == 2
    assert "no ruleset" in capsys.readouterr().err


def _edited_copy(tmp_path, file, old, new):
    folder = tmp_path / "2026"
    shutil.copytree(RULESET_2026, folder)
    path = folder / file
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return folder


def test_moving_a_catch_all_row_up_shadows_the_rows_below_it(tmp_path):
    push = re.search(r"  push +\|.*\n", (RULESET_2026 / "service.rules").read_text()).group(0)
    folder = _edited_copy(tmp_path, "service.rules", push, "")
    text = (folder / "service.rules").read_text()
    anchor = "  infusion.no-stop "
    (folder / "service.rules").write_text(text.replace(anchor, push + anchor, 1))
    found = {d.message for d in _analysis(folder).diagnostics}
    # a variant that amends the table (regence) reports its own copy of it under "payer '...':"
    shadowed = {m.split(":")[0]: m for m in found if "is never reached" in m and not m.startswith("payer ")}
    assert set(shadowed) == {"row 'infusion' of table 'service' is never reached",
                             "row 'infusion.no-stop' of table 'service' is never reached"}
    assert all("'push' match every input it matches" in m for m in shadowed.values())
    assert "'hydration.infusion'" in shadowed["row 'infusion' of table 'service' is never reached"]
    # what follows from it: nothing is an infusion any more, so its coding rows and codes are dead
    assert "'infusion' of vocabulary 'service' is never produced by a row" in found
    assert "row 'infusion.initial' of table 'coding' matches no input" in found
    assert "code '96365' is declared but no row produces it" in found


def test_a_missing_row_is_a_gap_with_an_example(tmp_path):
    injection = re.search(r"  injection +\|.*\n", (RULESET_2026 / "service.rules").read_text()).group(0)
    folder = _edited_copy(tmp_path, "service.rules", injection, "")
    found = [d.message for d in _analysis(folder).diagnostics
             if d.code == "W-gap" and "'service'" in d.message]
    assert len(found) == 3 and found[-1].endswith("(and more)")
    assert all(g.startswith("no row of table 'service' matches claim=facility, "
                            "category=therapeutic|prophylactic|diagnostic, route=") for g in found)
    assert any("route=im|subq, method=push|injection|other, integral_to=standalone|missing (any pos, hormonal" in g
               for g in found)


def test_an_addon_whose_primaries_are_never_produced(tmp_path):
    folder = _edited_copy(tmp_path, "addons.rules", "require 96370, 96371 with 96369",
                          "require 96370, 96371 with 96360")
    found = [d for d in _analysis(folder).diagnostics if d.code == "W-addon"]
    assert found == []  # 96360 is produced: the edit is wrong, but not provably dead
    folder = _edited_copy(tmp_path / "again", "coding.rules", "=> 96369 |", "=> 96365 |")
    found = [d.message for d in _analysis(folder).diagnostics
             if d.code in ("W-addon", "W-unproduced")]
    assert found == ["add-on 96370, 96371 can never be reported: none of its primary codes 96369 is produced by a row",
                     "code '96369' is declared but no row produces it"]


def test_an_edit_after_the_addon_requirement_that_can_remove_a_primary(tmp_path, analysis_2026):
    """Edits run in the order written: the add-on requirement placed before the national edits
    would let a PTP row bundle 96360 away from its 96361 (the extract has a 96365/96360 row)."""
    assert not [d for d in analysis_2026.diagnostics if d.code == "W-addon"]
    folder = _edited_copy(tmp_path, "ruleset.rules", 'include "ncci.rules"\ninclude "addons.rules"\n',
                          'include "addons.rules"\ninclude "ncci.rules"\n')
    found = [(d.span.file.rsplit("/", 1)[-1], d.span.line, d.message, d.hint)
             for d in _analysis(folder).diagnostics if d.code == "W-addon"]
    assert found[0] == ("ncci.rules", 14, "this clause can remove 96360, a primary code of edit 'addon-primaries', "
                        "which runs before it: an add-on left without its primary would stay",
                        "move edit 'addon-primaries' after edit 'ncci-ptp' (edits run in the order written)")
    assert [f[1] for f in found] == [14, 17, 24, 25]


def test_national_data_before_a_table_adding_lines_is_noted(analysis_2026):
    """The E/M table reports its lines after the national edits: rows naming E/M codes never act."""
    found = [(d.span.line, d.severity, d.message) for d in analysis_2026.diagnostics if d.code == "I-order"]
    assert found == [(line, "info", f"this clause runs before table 'em', which adds lines after it: rows of {path} "
                      "naming the codes of those lines never act")
                     for line, path in ((14, "data/ncci-ptp-practitioner.csv"), (17, "data/ncci-ptp-hospital.csv"),
                                        (24, "data/mue-practitioner.csv"), (25, "data/mue-hospital.csv"))]


# ----- the search is exact: compared with trying every input --------------------------------

ROUTES = ("iv", "im", "subq")
TOY_SCHEMA = Schema(scopes={"administration": {"route": FieldType("enum", ROUTES), "duration": FieldType("duration")}},
                    initial_writes={}, outputs={})
# No declared field, so no attribute is always present: a toy input may lack any of them.
NO_INPUT = CheckedInput((), ())


def _predicates(draw, minutes):
    route = draw(st.sampled_from(["any", "missing", "in", "not_in"]))
    values = frozenset(draw(st.lists(st.sampled_from(ROUTES), min_size=1, max_size=2)))
    route_predicate = Predicate(route, values if route in ("in", "not_in") else frozenset())
    kind = draw(st.sampled_from(["any", "missing", "<=", ">", "between"]))
    low, high = sorted(draw(st.lists(st.sampled_from(minutes), min_size=2, max_size=2)))
    duration_predicate = {"any": Predicate("any"), "missing": Predicate("missing"),
                          "<=": Predicate("range", high=low * 60), ">": Predicate("range", low=low * 60, low_inclusive=False),
                          "between": Predicate("range", low=low * 60, high=high * 60)}[kind]
    return (route_predicate, duration_predicate)


SERVICES = ("a", "b", "c")
PRIORITY = ("c", "a", "b")


@st.composite
def tables(draw):
    rows = [CheckedRow(f"r{i}", _predicates(draw, (5, 15, 30, 90)), (draw(st.sampled_from(SERVICES)),), span=NOWHERE)
            for i in range(draw(st.integers(1, 6)))]
    policy = draw(st.sampled_from(["first", "collect", "priority"]))
    return CheckedTable("toy", policy, "administration", ("src",), None, ("route", "duration"),
                        (FieldType("enum", ROUTES), FieldType("duration")), ("service",), tuple(rows),
                        priority=PRIORITY if policy == "priority" else (), span=NOWHERE)


def _brute_force(table):
    """Rows that decide some input, and whether some input matches no row, trying every value."""
    reached, gap = set(), False
    for route in (*ROUTES, None):
        for duration in (None, *range(0, 100 * 60, 30)):
            matched = [(index, row) for index, row in enumerate(table.rows)
                       if row.predicates[0].matches(route) and row.predicates[1].matches(duration)]
            gap = gap or not matched
            if table.policy == "priority":
                matched = sorted(matched, key=lambda m: (PRIORITY.index(m[1].outputs[0]), m[0]))
            reached.update(row.id for _, row in (matched if table.policy == "collect" else matched[:1]))
    return reached, gap


@settings(max_examples=80, derandomize=True, deadline=None)
@given(tables())
def test_reachability_and_gaps_agree_with_trying_every_input(table):
    ruleset = CheckedRuleset("toy", "1", None, None, ("2026-01-01", "2026-12-31"), "", {"src": ""},
                             {"route": ROUTES, "service": SERVICES}, {}, {}, {}, {}, {}, (table,),
                             input=NO_INPUT, schema=TOY_SCHEMA)
    diagnostics = analyse(ruleset).diagnostics
    unreachable = {re.match(r"row '(\w+)'", d.message).group(1) for d in diagnostics if d.code == "W-unreachable"}
    reached, gap = _brute_force(table)
    assert unreachable == {row.id for row in table.rows} - reached
    assert any(d.code == "W-gap" for d in diagnostics) == (gap and table.policy != "collect")


def test_thresholds_of_the_warnings_ruleset():
    assert [t.label for t in thresholds(load_family(GOLDEN / "warnings", SCHEMA).base)] == [
        "long_infusion = 20 min", "push_limit = 15 min", "30 min on duration"]


def test_a_table_too_wide_to_search_gets_a_note_and_counts_as_reached():
    columns = tuple(f"c{i}" for i in range(12))  # 3 atoms each: a-d, any other, missing
    schema = Schema(scopes={"administration": {c: FieldType("text") for c in columns}}, initial_writes={},
                    outputs={"code": "code"})
    row = CheckedRow("r", tuple(Predicate("in", frozenset({"a", "b", "c", "d"})) for _ in columns), ("96365",),
                     span=NOWHERE)
    table = CheckedTable("wide", "first", "administration", ("src",), None, columns,
                         tuple(FieldType("text") for _ in columns), ("code",), (row, row), span=NOWHERE)
    ruleset = CheckedRuleset("toy", "1", None, None, ("2026-01-01", "2026-12-31"), "", {"src": ""}, {},
                             {"96365": ("initial", "")}, {}, {}, {}, {}, (table,),
                             input=NO_INPUT, schema=schema)
    diagnostics = analyse(ruleset).diagnostics
    assert [(d.code, d.severity) for d in diagnostics] == [("I-wide", "info")]
