"""`infuse explain`: golden stories for chosen cases, agreement with the result, why-not answers
worded from the ruleset, JSON, and the command line.

Golden files live in tests/golden/explain/ and fail on any change; to accept a change on
purpose, run with INFUSE_REGENERATE=1 and read the diff before committing it.
"""
from __future__ import annotations

import copy
import difflib
import json
import os
import re
import shutil
from pathlib import Path

import pytest

import engine
from engine.cli import main
from engine.analyst.explain import explain
from engine.analyst.explain_text import render_text
from engine.core.registry import Registry
from engine.core.trace import TableRecord
from tests.conftest import CASES, ROOT, ruleset_with_range_row
from tests.golden import load_cases

GOLDEN = ROOT / "tests" / "golden" / "explain"
EXPLAINED = (
    "04-infusion-with-premedication-pushes",  # premedication pushes before the infusion that is initial
    "21-hydration-overlap-subtracted",  # hydration minutes overlapping an infusion removed
    "67-infusion-crossing-midnight",  # an additional hour dated the next day
    "51-two-access-sites-xs",  # two groups, a modifier for the second site
    "02-ed-furosemide-push-professional",  # professional claim in a facility: nothing reported
    "56-repeat-push-30-min-after-stop",  # a tie broken by start time, a repeat too soon
    "41-three-concurrent-infusions-96368-once",  # concurrent roles and a unit limit edit
    "48-im-injection-bundled-shared-site",  # a bundling edit removes a line
    "53-commercial-second-site-59",  # a payer variant's constant as the modifier
    "17-hydration-30-min-not-reportable",  # hydration at its minimum: why not the initial code
    "38-fluorouracil-pump-46h-96416",  # a prolonged pump infusion shadows the ordinary rows
)
CASE_DATA = dict(load_cases(CASES))


@pytest.fixture(scope="module")
def registry():
    """The 2026 ruleset loaded from the repository root, so locations read rulesets/2026/..."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        yield Registry.from_path(Path("rulesets/2026"))


def encounter(name: str) -> dict:
    """A fresh copy of a case's encounter (tests may change it)."""
    return copy.deepcopy(CASE_DATA[f"{name}.json"]["encounter"])


DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


@pytest.mark.parametrize("name", EXPLAINED)
def test_explanation_matches_its_golden_file(name, registry):
    """The whole text, but the ruleset digest, which any edit of a comment changes."""
    text = DIGEST.sub("sha256:(digest)", render_text(explain(registry, encounter(name))))
    path = GOLDEN / f"{name}.txt"
    if os.environ.get("INFUSE_REGENERATE") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"{path} is missing; run with INFUSE_REGENERATE=1 to write it, then read it"
    expected = path.read_text(encoding="utf-8")
    diff = "".join(difflib.unified_diff(expected.splitlines(True), text.splitlines(True), "golden", "now"))
    assert text == expected, f"explanation of {name} changed (INFUSE_REGENERATE=1 accepts it):\n{diff}"


def test_every_golden_file_belongs_to_a_chosen_case():
    assert sorted(p.stem for p in GOLDEN.glob("*.txt")) == sorted(EXPLAINED)


@pytest.mark.parametrize("name", sorted(CASE_DATA))
def test_the_story_tells_the_result_it_explains(name, registry, compiled_coder):
    """Same lines as the compiled engine; every line's coding row is told; no why-not names a code
    the administration got."""
    data = CASE_DATA[name]["encounter"]
    story = explain(registry, data)
    assert story.result == compiled_coder.code(data).as_dict()
    told = {f"{c.decision.table}/{c.decision.row}" for c in story.coding if c.decision.row}
    told |= {f"{d.table}/{d.row}" for d in story.others}
    for line in story.result["lines"]:
        assert told & set(line["rules"]), f"{name}: no coding decision told for {line}"
    for coding in story.coding:
        got = {line["code"] for line in story.result["lines"] if set(line["administrations"]) & set(coding.administrations)}
        for why in coding.why_not:
            assert why.code not in got, f"{name}: why not {why.code}, but {coding.administrations} got it"
            assert why.reason and why.location.startswith("rulesets/2026/")


def test_why_not_names_the_failed_cell_with_the_constant(registry):
    text = render_text(explain(registry, encounter("11-infusion-15-min-is-push")))
    assert "why not 96365: duration 15 min is not more than push_limit (15 min) [service/infusion, rulesets/2026/service.rules:31]" in text


def test_why_not_an_additional_hour_at_ninety_minutes(registry):
    story = explain(registry, encounter("13-infusion-90-min-first-hour-only"))
    (units,) = story.coding[0].units
    assert units.text == ("90 min counted: the first 1 h, then 30 min: "
                          "a final 30 min (not counted, not more than part_hour (30 min)): no unit")
    assert "why not 96366: 90 min counted is not more than part_hour (30 min) past the first 1 h" in render_text(story)


def infusion(minutes: int, start="2026-03-14T09:00") -> dict:
    hours, rest = divmod(9 * 60 + minutes, 60)
    return {"id": "x", "date": "2026-03-14", "claim": "facility", "pos": "19",
            "administrations": [{"id": "a1", "drug": "vancomycin", "dose": "1 g", "category": "therapeutic",
                                 "route": "iv", "method": "infusion", "start": start,
                                 "stop": f"2026-03-14T{hours:02d}:{rest:02d}", "indication": "x", "response": "y"}]}


@pytest.mark.parametrize("minutes,told", [
    (125, "125 min counted: the first 1 h, then 65 min: 1 x 1 h and a final 5 min "
          "(not counted, not more than part_hour (30 min)): 1 unit on 2026-03-14"),
    (151, "151 min counted: the first 1 h, then 91 min: 1 x 1 h and a final 31 min "
          "(counted, more than part_hour (30 min)): 2 units on 2026-03-14"),
    (75, "75 min counted: the first 1 h, then 15 min: a final 15 min (not counted, not more than part_hour (30 min)): no unit"),
    (45, "45 min counted, nothing beyond the first 1 h: no unit"),
])
def test_units_are_told_from_the_minutes(minutes, told, registry):
    story = explain(registry, infusion(minutes))
    (units,) = story.coding[0].units
    assert units.text == told
    assert units.units == sum(line["units"] for line in story.result["lines"] if line["code"] == units.code)


def test_why_not_at_seventy_five_minutes(registry):
    why = {w.code: w.reason for w in explain(registry, infusion(75)).coding[0].why_not}
    assert why["96366"] == "75 min counted is not more than part_hour (30 min) past the first 1 h"


def test_numbers_come_from_the_ruleset(tmp_path, monkeypatch):
    """Move the push line to 20 minutes in a copy: the story follows, with no change in Python."""
    folder = tmp_path / "2026"
    shutil.copytree(ROOT / "rulesets" / "2026", folder)
    thresholds = folder / "thresholds.rules"
    thresholds.write_text(thresholds.read_text().replace("const push_limit = 15 min", "const push_limit = 20 min"))
    monkeypatch.chdir(tmp_path)
    story = explain(Registry.from_path(Path("2026")), infusion(18))
    text = render_text(story)
    assert "why not 96365: duration 18 min is not more than push_limit (20 min) [service/infusion, 2026/service.rules:31]" in text
    assert [line["code"] for line in story.result["lines"]] == ["96374"]


def test_a_payer_variant_is_told_with_its_own_rows(registry):
    text = render_text(explain(registry, encounter("54-commercial-professional-repeat-push-76")))
    assert "payer variant commercial" in text
    assert "row coding/push.repeat.professional (rulesets/2026/payers/commercial.rules:19)" in text


def test_a_modifier_edit_is_told_with_the_distinction_that_held(registry):
    """The injection's site differs from the push's, its session does not: the site modifier."""
    text = render_text(explain(registry, encounter("05-office-migraine-push-and-im")))
    assert "96372 for a2 is beside a code it bundles into, but not in its site: modifier separate_site (XS)" in text


def test_a_concurrent_infusion_is_told_beside_another_drug(registry):
    """a2 runs beside the initial a3 too, but a3 is its own drug: a1 is what makes it concurrent."""
    data = infusion(60)
    a1 = data["administrations"][0]
    data["administrations"] = [
        dict(a1, id="a1", drug="ondansetron", start="2026-03-14T09:00", stop="2026-03-14T10:00"),
        dict(a1, id="a2", drug="cisplatin", start="2026-03-14T09:10", stop="2026-03-14T09:50"),
        dict(a1, id="a3", drug="cisplatin", category="chemotherapy", start="2026-03-14T09:20", stop="2026-03-14T10:30")]
    text = render_text(explain(registry, data))
    assert "a2  infusion (rank 3): concurrent: a different drug running at the same time as a1 (ondansetron)" in text
    assert "a1  infusion (rank 3): concurrent: a different drug running at the same time as a3 (cisplatin)" in text


def test_the_json_is_the_same_story_with_the_trace(registry):
    data = encounter("21-hydration-overlap-subtracted")
    story = explain(registry, data)
    decoded = json.loads(json.dumps(story.as_dict()))
    assert decoded["result"] == story.result
    assert [g["chosen"] for g in decoded["groups"]] == [["a2"]]
    assert decoded["merges"][0]["removed"] == "60 min"
    stages = [record["stage"] for record in decoded["trace"]]
    assert {"table", "merge", "initial", "units"} <= set(stages)
    initial = next(r for r in decoded["trace"] if r["stage"] == "initial")
    assert initial["roles"] == {"a1": "sequential", "a2": "initial"}


def test_the_primary_is_told_first_only_where_the_ranking_promotes_it(registry):
    """Professional ranking: `primary(infusion, push)` promotes a documented primary push, not hydration."""
    data = encounter("64-professional-primary-push-wins")
    story = json.loads(json.dumps(explain(registry, data).as_dict()))
    (group,) = story["groups"]
    assert group["ranking"] == ("by claim (professional): chemo_infusion > chemo_push > primary(infusion, push) "
                                "> infusion > push > hydration")
    assert group["choice"] == "a2 is the documented primary reason, which the ranking for professional puts above its push"
    assert [(m["administrations"], m["rank"], m["role"]) for m in group["members"]] == [
        (["a2"], "primary", "initial"), (["a1"], "4", "sequential")]
    (initial,) = [r for r in story["trace"] if r["stage"] == "initial"]
    assert initial["promoted"] == [["a2"]]
    assert initial["ranked_by"] == [[["a2"], "push", 2], [["a1"], "infusion", 3]]

    data["primary"] = "a1"
    hydration = next(a for a in data["administrations"] if a["id"] == "a1")
    hydration.update(category="hydration", stop="2026-04-01T11:05")
    story = json.loads(json.dumps(explain(registry, data).as_dict()))
    (group,) = story["groups"]
    assert group["choice"] == "a2 (push) ranks highest"
    assert [(m["administrations"], m["rank"], m["role"]) for m in group["members"]] == [
        (["a2"], "5", "initial"), (["a1"], "6", "sequential")]
    (initial,) = [r for r in story["trace"] if r["stage"] == "initial"]
    assert initial["promoted"] == []
    assert [line["code"] for line in story["result"]["lines"]] == ["96374", "96361"]


def test_the_trace_is_the_reference_pipelines(registry):
    coder = engine.load(ROOT / "rulesets" / "2026", engine="reference")
    data = encounter("04-infusion-with-premedication-pushes")
    story = explain(registry, data)
    assert story.result == coder.code(data).as_dict()
    assert sum(1 for r in story.trace if isinstance(r, TableRecord) and r.table == "coding") == 3


def test_the_story_quotes_the_text_that_was_checked_wherever_it_runs(tmp_path, monkeypatch):
    """The rule files changing, or the working folder, after the load does not change the story:
    it quotes the texts the ruleset was checked from (the ones its digest names)."""
    folder = tmp_path / "2026"
    shutil.copytree(ROOT / "rulesets" / "2026", folder)
    monkeypatch.chdir(tmp_path)
    loaded = Registry.from_path(Path("2026"))
    before = render_text(explain(loaded, encounter("04-infusion-with-premedication-pushes")))
    service = folder / "service.rules"
    service.write_text("# a new first line\n" + service.read_text())
    monkeypatch.chdir(ROOT)
    assert render_text(explain(loaded, encounter("04-infusion-with-premedication-pushes"))) == before


# ----- the command line -----

def test_cli_explains_a_case_file_as_text(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["explain", str(CASES / "67-infusion-crossing-midnight.json"), "--ruleset", "rulesets/2026"]) == 0
    out = capsys.readouterr().out
    assert "units of 96366 by additional_hours" in out and "1 unit on 2026-04-07" in out


def test_cli_json_and_payer(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    path = tmp_path / "e.json"
    path.write_text(json.dumps(encounter("51-two-access-sites-xs")))
    assert main(["explain", str(path), "--format", "json", "--payer", "commercial"]) == 0
    decoded = json.loads(capsys.readouterr().out)
    assert decoded["ruleset"]["payer"] == "commercial"
    assert ["59"] in [line["modifiers"] for line in decoded["result"]["lines"]]


def test_cli_reads_stdin(capsys, monkeypatch):
    import io
    import sys
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(json.dumps(encounter("11-infusion-15-min-is-push")).encode())))
    assert main(["explain", "-"]) == 0
    assert "Encounter gc-11" in capsys.readouterr().out


def test_cli_rejects_a_bad_encounter_naming_the_field(capsys, tmp_path):
    data = encounter("04-infusion-with-premedication-pushes")
    data["administrations"][1]["route"] = "oral"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    assert main(["explain", str(path)]) == 1
    assert "administrations[1].route" in capsys.readouterr().err


def test_cli_rejects_what_is_not_json(capsys, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    assert main(["explain", str(path)]) == 1
    assert "encounter rejected at (record): not valid JSON: Expecting property name" in capsys.readouterr().err


@pytest.mark.parametrize("wrapped", [False, True], ids=["encounter", "case file"])
def test_cli_rejects_a_duplicated_key_naming_it(wrapped, capsys, tmp_path):
    data = encounter("04-infusion-with-premedication-pushes")
    data["administrations"][1]["route"] = "DUPLICATE"
    text = json.dumps({"encounter": data} if wrapped else data).replace('"DUPLICATE"', '"iv", "route": "im"')
    path = tmp_path / "twice.json"
    path.write_text(text)
    assert main(["explain", str(path)]) == 1
    where = "encounter.administrations[1].route" if wrapped else "administrations[1].route"
    assert capsys.readouterr() == ("", f"infuse: encounter rejected at {where}: duplicated key 'route'\n")


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_cli_writes_a_lone_surrogate_in_an_id_escaped(fmt, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    path = tmp_path / "surrogate.json"
    path.write_text(json.dumps(dict(encounter("11-infusion-15-min-is-push"), id="gc-\ud800")))
    assert main(["explain", str(path), "--format", fmt]) == 0
    out = capsys.readouterr().out
    out.encode("utf-8")
    if fmt == "json":
        assert json.loads(out)["encounter"] == "gc-\ud800"
    else:
        assert out.startswith("Encounter gc-\\ud800 on ")


def test_cli_unusable_ruleset_or_file(capsys, tmp_path):
    assert main(["explain", str(tmp_path / "missing.json")]) == 2
    assert main(["explain", str(CASES / "04-infusion-with-premedication-pushes.json"), "--ruleset", str(tmp_path)]) == 2


def test_ranges_and_negations_are_worded(tmp_path, monkeypatch):
    """Cells the 2026 ruleset does not use yet: `a .. b` and `not a`."""
    ruleset_with_range_row(tmp_path)
    monkeypatch.chdir(tmp_path)
    data = encounter("58-medicare-99211-with-injection")
    del data["payer"]
    data["em"][0]["separately_identifiable"] = False
    story = explain(Registry.from_path(Path("2026")), data)
    (decision,) = story.others
    assert decision.row == "em.range"
    assert [c.text for c in decision.conditions] == [
        "administration_lines 1 is between 1 and 3", "separately_identifiable no is not yes"]
    data["em"][0]["separately_identifiable"] = True
    (decision,) = explain(Registry.from_path(Path("2026")), data).others
    assert decision.row == "em.distinct"
