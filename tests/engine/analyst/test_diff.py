"""`infuse diff`: the changes in the rules and in the coding between two rulesets."""
from __future__ import annotations

import itertools
import json
import re
import shutil

import pytest

from engine.cli import main
from engine.analyst.diff import CodingChange, Outcome, _cover, compare, load_side
from engine.analyst.diff.probes import _Generator
from tests.conftest import ROOT, RULESET_2026

WARNINGS = ROOT / "tests" / "golden" / "check" / "warnings"
INPUT = ROOT / "tests" / "fixtures" / "input.rules"


def _copy(folder, target, file, old, new):
    shutil.copytree(folder, target)
    path = target / file
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return target


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The small ruleset of the `infuse check` goldens (with a payer variant), declaring the
    contract's input (tests/fixtures/input.rules) if it does not yet."""
    folder = tmp_path_factory.mktemp("demo") / "warnings"
    shutil.copytree(WARNINGS, folder)
    base = folder / "ruleset.rules"
    if not any("\nencounter " in "\n" + f.read_text() for f in folder.glob("*.rules")):
        shutil.copy(INPUT, folder / "input.rules")
        effective = "effective 2026-01-01 .. 2026-12-31\n"
        base.write_text(base.read_text().replace(effective, effective + 'include "input.rules"\n', 1))
    return folder


@pytest.fixture(scope="module")
def push_limit_diff(tmp_path_factory):
    moved = _copy(RULESET_2026, tmp_path_factory.mktemp("push") / "2026", "thresholds.rules",
                  "const push_limit = 15 min", "const push_limit = 20 min")
    old, new = load_side(RULESET_2026), load_side(moved)
    return compare(old, new), old, new


def test_a_moved_push_limit_is_named_with_the_rows_it_moves(push_limit_diff):
    push_limit_diff, _, _ = push_limit_diff
    changes = {(c.section, c.name): c for c in push_limit_diff.changes}
    assert changes[("constant", "push_limit")].details == ("15 min → 20 min",)
    assert changes[("row", "service/infusion")].details == ("duration > 15 min → > 20 min",)
    assert {section for section, _ in changes} == {"constant", "row"}


def test_a_moved_push_limit_changes_16_to_20_minute_infusions(push_limit_diff):
    push_limit_diff, _, _ = push_limit_diff
    singles = {(p.text, p.change.lines_text()) for p in push_limit_diff.patterns if p.family == "single"}
    assert singles == {
        (f"facility claim or professional claim, pos 11|none: {what}, 16–20 min", change)
        for what, change in (("therapeutic|prophylactic|diagnostic iv infusion", "96365 → 96374"),
                             ("chemotherapy iv infusion", "96413 → 96409"),
                             ("therapeutic|prophylactic|diagnostic subq infusion", "96369 → 96372"),
                             ("hydration subq infusion", "96369 → nothing"))} | {
        # Given by staff, the line that goes takes its supervision finding with it on a
        # practitioner's claim: changes of their own, the facility's listed beside them.
        (f"{where}: hydration subq infusion performer staff{supervision}, 16–20 min", "96369 → nothing")
        for where, supervision in (("facility claim", " supervision general|none|missing"),
                                   ("professional claim, pos 11|none", " supervision general|none"),
                                   ("professional claim, pos 11|none", ""))}
    sequential = next(p for p in push_limit_diff.patterns if p.change.lines_text() == "96367 → 96375")
    assert "then a new drug: therapeutic iv infusion for 16–20 min" in sequential.text
    assert all("16–20 min" in p.text for p in push_limit_diff.patterns)


def test_every_pattern_example_codes_as_the_pattern_says(push_limit_diff):
    result, old, new = push_limit_diff
    for pattern in result.patterns:
        outcomes = [Outcome.of(side.coder.code(pattern.example)) for side in (old, new)]
        assert outcomes == [pattern.old, pattern.new], pattern.text
        assert CodingChange.between(*outcomes) == pattern.change


def test_the_medicare_variant_against_its_base_shows_the_99211_rule():
    result = compare(load_side(RULESET_2026), load_side(RULESET_2026, "medicare"))
    changes = {(c.section, c.name, c.kind) for c in result.changes}
    assert ("row", "em/em.99211", "added") in changes
    assert ("finding", "em-99211-with-administration", "added") in changes
    lines = [p for p in result.patterns if p.change.lines_differ]
    [em] = [p for p in lines if p.family == "em"]
    assert (em.text, em.change.lines_text()) == (
        "professional claim, pos 11|none: em 99211, separately identifiable, beside an administration",
        "99211-25 → nothing")
    assert em.change.findings_added == ("em-99211-with-administration",)
    # The variant's amended supervision row: staff without direct supervision, the line goes.
    singles = [p for p in lines if p.family == "single"]
    assert singles and all(p.text.startswith("professional claim, pos 11|none: ")
                           and "performer staff supervision general|none" in p.text
                           and p.change.lines_text().endswith("→ nothing") for p in singles)
    assert {p.family for p in lines} == {"em", "single"}


def test_identical_rulesets_show_no_difference(capsys):
    assert main(["diff", str(RULESET_2026), str(RULESET_2026)]) == 0
    out = capsys.readouterr().out
    assert "no changes in the rules" in out
    assert "no change in behaviour" in out


def test_a_variant_with_its_base_from_the_command_line(demo, capsys):
    assert main(["diff", str(demo), "--payer", "acme"]) == 1
    out = capsys.readouterr().out
    assert "+ coding/push.repeat: service push | role repeat => code 96374 | modifier 76" in out
    assert "then the same drug 60 min after it ends: therapeutic iv push\n    lines nothing → 96374-76" in out


def test_json_for_programs(demo, capsys):
    assert main(["diff", str(demo), "--payer", "acme", "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["behaviour"]["differing"] == 2
    pattern = report["behaviour"]["patterns"][0]
    assert pattern["added"] == ["96374-76"] and pattern["removed"] == []
    assert pattern["example"]["new"]["lines"][-1] == "96374-76"
    assert pattern["example"]["encounter"]["payer"] == "acme"


@pytest.mark.parametrize("argv,message", [
    (["DEMO"], "diff needs two ruleset folders"),
    (["DEMO", "--payer", "nobody"], "has no variant for payer 'nobody' (payers: acme)"),
    ([str(ROOT / "rulesets"), "DEMO"], "is not a ruleset folder"),
])
def test_unusable_arguments_exit_2(argv, message, demo, capsys):
    assert main(["diff", *(str(demo) if a == "DEMO" else a for a in argv)]) == 2
    assert message in capsys.readouterr().err


def test_a_word_only_the_new_vocabulary_has_is_tried(demo, tmp_path):
    new = _copy(demo, tmp_path / "new", "ruleset.rules", "vocabulary route: iv, im ", "vocabulary route: iv, im, io ")
    result = compare(load_side(demo), load_side(new))
    assert [c.details for c in result.changes if c.section == "vocabulary"] == [("+ io",)]
    # The encounters using `io` that the old ruleset rejects are one entry, not rejected → coded patterns.
    assert [p for p in result.patterns if p.change.rejected[0]] == []
    assert [w.text() for w in result.new_words] == ["route io: now coded, like no existing value: no lines"]
    assert result.new_words[0].cases == result.differing == 19


def test_a_new_word_coded_like_an_existing_one_is_one_entry(tmp_path, capsys):
    new = _copy(RULESET_2026, tmp_path / "2026", "vocabulary.rules", "vocabulary route: iv, im, subq, intra_arterial, intralesional ",
                "vocabulary route: iv, im, subq, intra_arterial, intralesional, intraosseous ")
    service = new / "service.rules"
    service.write_text(re.sub(r"\| iv +\|", "| iv, intraosseous |", service.read_text()))
    result = compare(load_side(RULESET_2026), load_side(new))
    assert [(w.field, w.word, w.like) for w in result.new_words] == [("route", "intraosseous", "iv")]
    assert {"96360", "96365", "96374", "96409", "96413"} <= set(result.new_words[0].codes)
    assert result.patterns == ()
    assert main(["diff", str(RULESET_2026), str(new)]) == 1
    text = capsys.readouterr().out
    assert "  route intraosseous: now coded like iv: 96360, 96361, " in text
    assert len(text.splitlines()) < 30
    assert main(["diff", str(RULESET_2026), str(new), "--format", "json"]) == 1
    behaviour = json.loads(capsys.readouterr().out)["behaviour"]
    assert behaviour["new_words"][0]["like"] == "iv" and behaviour["patterns"] == []


def test_the_probes_come_from_the_declared_input(tmp_path):
    anchor = "  field pump: flag "
    new = _copy(RULESET_2026, tmp_path / "2026", "input.rules", anchor, '  field urgent: flag "given urgently"\n' + anchor)
    generator = _Generator(load_side(RULESET_2026).ruleset, load_side(new).ruleset)
    assert generator.setting_attributes == ("claim", "pos")
    assert generator.kind_attributes == ("category", "route", "method", "purpose", "integral_to", "performer",
                                         "supervision", "hormonal", "urgent", "pump")
    assert generator.optional == {"purpose", "integral_to", "performer", "supervision"}
    assert generator.dimensions["single"] == ("setting", "category", "route", "method", "hormonal", "urgent", "pump",
                                              "facts", "duration")
    assert generator.keys == ["site", "session"]
    assert generator.dimensions["em"] == ("setting", "code", "separately_identifiable", "beside")
    assert generator.values["em"]["code"] == ("99211", "99212")
    [event] = generator.singles()[0].template["administrations"]
    assert (event["urgent"], event["drug"], event["site"], event["dose"]) == (False, "drug-a", "site 1", "dose 1")


def test_a_changed_row_on_an_optional_fact_shows_in_the_coding(tmp_path):
    new = _copy(RULESET_2026, tmp_path / "2026", "service.rules", "| kvo, flush, carrier |", "| kvo, flush          |")
    result = compare(load_side(RULESET_2026), load_side(new))
    assert [(c.name, c.details) for c in result.changes] == [
        ("service/fluid.not-hydration", ("purpose carrier, flush, kvo → flush, kvo",))]
    texts = {p.text: p.change.lines_text() for p in result.patterns}
    # Not with a procedure it is integral to: the row on integral_to comes first.
    carrier = "hydration iv infusion purpose carrier integral_to standalone|missing"
    assert texts[f"facility claim or professional claim, pos 11|none: {carrier}, 31–90 min"] == "nothing → 96360"
    assert all("purpose carrier" in text for text in texts)


def test_optional_facts_read_together_are_varied_together(tmp_path):
    """Only staff under general supervision tell the two apart: performer and supervision,
    read by one table, are crossed with each other (not with the facts of other tables)."""
    new = _copy(RULESET_2026, tmp_path / "2026", "supervision.rules", "| general, none => incident",
                "| none          => incident")
    result = compare(load_side(RULESET_2026), load_side(new))
    assert result.patterns and all(
        "performer staff supervision general," in p.text and p.change.findings_text() == "- incident-to-without-direct-supervision"
        for p in result.patterns)
    generator = _Generator(load_side(RULESET_2026).ruleset, load_side(new).ruleset)
    assert generator.together == [("purpose", "integral_to"), ("performer", "supervision")]
    present = set()
    for probe in generator.singles():
        [event] = probe.template["administrations"]
        facts = {name for name in generator.optional if event.get(name) is not None}
        assert facts <= {"purpose", "integral_to"} or facts <= {"performer", "supervision"}
        present |= {(name, event[name]) for name in facts}
    assert {("purpose", "kvo"), ("integral_to", "imaging_contrast"), ("performer", "staff"), ("supervision", "general")} <= present


def test_a_changed_payer_route_is_listed(tmp_path):
    new = _copy(RULESET_2026, tmp_path / "2026", "payers.rules", "route payer medicaid to base",
                'route payer medicaid, "Blue Cross" to commercial')
    result = compare(load_side(RULESET_2026), load_side(new))
    assert [(c.name, c.kind, c.details) for c in result.changes if c.section == "payer route"] == [
        ("medicaid", "changed", ("to base → to commercial",)), ("Blue Cross", "added", ("to commercial",))]


def test_patterns_cover_exactly_the_points_that_differ():
    points = [p for p in itertools.product("ab", "xyz", (1, 2, 3)) if p != ("b", "z", 3)]
    cubes = _cover(points)
    covered = {p for cube in cubes for p in itertools.product(*cube)}
    assert covered == set(points)
    assert cubes == [[["a", "b"], ["x", "y", "z"], [1, 2]], [["a", "b"], ["x", "y"], [3]], [["a"], ["z"], [3]]]


def test_edit_clauses_are_compared_one_by_one(tmp_path):
    new = _copy(RULESET_2026, tmp_path / "2026", "addons.rules", "  require 96366 with 96365, 96367\n",
                "  require 96366 with 96365\n")
    path = new / "addons.rules"
    path.write_text(path.read_text().replace("  require 96417 with 96413\n",
                                             "  require 96417 with 96413\n  require 96372 with 96365\n"))
    result = compare(load_side(RULESET_2026), load_side(new))
    [change] = [c for c in result.changes if c.section == "stage"]
    assert (change.name, change.details) == ("edit addon-primaries", (
        "~ require 96366 with 96365, 96367 → require 96366 with 96365", "+ require 96372 with 96365"))


def test_the_exit_status_is_documented(capsys):
    with pytest.raises(SystemExit):
        main(["diff", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "exit status: 0 nothing differs, 1 the rules or the coding differ, 2" in help_text
