"""Each time threshold lives once, by name, in rulesets/2026/thresholds.rules: change its value
there and the coding of the encounters at its boundary follows, with no change to any code.

Each test copies the ruleset, edits one constant as text, and codes the same encounter with the
bundled ruleset and with the copy.
"""
from __future__ import annotations

import re
import shutil

import pytest

import engine


def _administration(ident, drug, category, method, start, stop):
    return {"id": ident, "drug": drug, "dose": "1 unit", "category": category, "route": "iv", "method": method,
            "start": f"2026-05-04T{start}", "stop": f"2026-05-04T{stop}",
            "indication": "documented", "response": "tolerated, monitored"}


def _encounter(*administrations):
    return {"id": "boundary", "date": "2026-05-04", "claim": "facility", "pos": "22",
            "administrations": list(administrations)}


INFUSION_18_MIN = _encounter(_administration("a1", "ceftriaxone", "therapeutic", "infusion", "09:00", "09:18"))
HYDRATION_40_MIN = _encounter(_administration("a1", "normal saline", "hydration", "infusion", "09:00", "09:40"))
INFUSION_95_MIN = _encounter(_administration("a1", "ceftriaxone", "therapeutic", "infusion", "09:00", "10:35"))
PUSHES_40_MIN_APART = _encounter(_administration("a1", "morphine", "therapeutic", "push", "09:00", "09:02"),
                                 _administration("a2", "morphine", "therapeutic", "push", "09:42", "09:44"))

CHANGES = [
    # constant, old, new, encounter, codes with the bundled ruleset, codes with the copy, finding in the copy
    ("push_limit", "15 min", "20 min", INFUSION_18_MIN, ["96365"], ["96374"], None),
    ("hydration_minimum", "30 min", "45 min", HYDRATION_40_MIN, ["96360"], [], "hydration-not-reportable"),
    ("part_hour", "30 min", "40 min", INFUSION_95_MIN, ["96365", "96366"], ["96365"], None),
    ("repeat_push_gap", "30 min", "45 min", PUSHES_40_MIN_APART, ["96374", "96376"], ["96374"], "repeat-push-too-soon"),
]


@pytest.fixture(scope="module")
def bundled():
    return engine.load()


def _copy_with(tmp_path, name: str, old: str, new: str):
    """The 2026 ruleset copied to tmp_path with one constant's value changed as text."""
    folder = tmp_path / "2026"
    shutil.copytree(engine.core.registry.bundled_root() / "2026", folder)
    thresholds = folder / "thresholds.rules"
    text, count = re.subn(rf"^(const\s+{name}\s*=\s*){old}\b", rf"\g<1>{new}", thresholds.read_text(), flags=re.M)
    assert count == 1, f"thresholds.rules no longer says 'const {name} = {old}'"
    thresholds.write_text(text)
    return engine.load(folder)


def _codes(result) -> list[str]:
    return sorted(code for line in result.lines for code in [line.code] * line.units)


@pytest.mark.parametrize("name,old,new,encounter,before,after,finding", CHANGES, ids=[c[0] for c in CHANGES])
def test_changing_a_threshold_moves_its_boundary(name, old, new, encounter, before, after, finding, bundled, tmp_path):
    changed = _copy_with(tmp_path, name, old, new)
    original, edited = bundled.code(encounter), changed.code(encounter)
    assert _codes(original) == before
    assert _codes(edited) == after
    if finding:
        assert finding not in {f.id for f in original.findings}
        assert finding in {f.id for f in edited.findings}
    assert edited.ruleset["digest"] != original.ruleset["digest"]


@pytest.mark.parametrize("encounter", [c[3] for c in CHANGES], ids=[c[0] for c in CHANGES])
def test_an_unchanged_copy_codes_like_the_bundled_ruleset(encounter, bundled, tmp_path, monkeypatch):
    folder = tmp_path / "2026"
    shutil.copytree(engine.core.registry.bundled_root() / "2026", folder)
    monkeypatch.chdir(tmp_path)  # the digest depends on the text alone, not on where it lies or the working folder
    assert engine.load(folder).code(encounter).as_dict() == bundled.code(encounter).as_dict()


@pytest.mark.parametrize("day,far", [("2026-05-03", False), ("2026-05-05", False), ("2026-05-02", True),
                                     ("2026-05-06", True)])
def test_an_administration_more_than_a_day_from_the_date_is_questioned(bundled, day, far):
    """date_window = 1 (documentation.rules): one day either side is a visit across midnight;
    two is a date to check. The line keeps the administration's own date either way."""
    encounter = _encounter(_administration("a1", "ondansetron", "therapeutic", "push", "09:00", "09:02"))
    encounter["administrations"][0].update(start=f"{day}T09:00", stop=f"{day}T09:02")
    result = bundled.code(encounter)
    assert [(line.code, line.date) for line in result.lines] == [("96374", day)]
    assert ("administration-far-from-date" in {f.id for f in result.findings}) is far
