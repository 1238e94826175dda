"""Site and session labels are compared as drugs are, ignoring case and surrounding space
(rulesets/2026/input.rules declares them `folded`): one access site written two ways is one
site, never a second initial service with XS; one session written two ways is one session,
for the E/M beside it too."""
from __future__ import annotations

import pytest

import engine
from tests.conftest import ROOT


@pytest.fixture(scope="module", params=["compiled", "reference"])
def coder(request):
    return engine.load(ROOT / "rulesets" / "2026", engine=request.param)


def _infusion(ident: str, drug: str, start: str, stop: str, **more) -> dict:
    return {"id": ident, "drug": drug, "dose": "1 g", "category": "therapeutic", "route": "iv", "method": "infusion",
            "start": f"2026-03-13T{start}", "stop": f"2026-03-13T{stop}", "indication": "cellulitis",
            "response": "tolerated, monitored", **more}


def _lines(result) -> list:
    return [(line.code, line.modifiers) for line in result.lines]


@pytest.mark.parametrize("second", ["l-forearm", " L-FOREARM ", "L-forearm"])
def test_one_site_written_two_ways_is_one_site(coder, second):
    result = coder.code({"id": "e", "date": "2026-03-13", "claim": "facility", "pos": "23", "administrations": [
        _infusion("a1", "vancomycin", "09:00", "10:00", site="L-forearm"),
        _infusion("a2", "ceftriaxone", "10:05", "10:40", site=second)]})
    assert _lines(result) == [("96365", ()), ("96367", ())]


def test_another_site_is_still_another_site(coder):
    result = coder.code({"id": "e", "date": "2026-03-13", "claim": "facility", "pos": "23", "administrations": [
        _infusion("a1", "vancomycin", "09:00", "10:00", site="L-forearm"),
        _infusion("a2", "ceftriaxone", "09:20", "10:00", site="R-forearm")]})
    assert _lines(result) == [("96365", ()), ("96365", ("XS",))]


def test_an_em_service_in_the_same_session_written_another_way_sits_beside_its_drug_administration(coder):
    result = coder.code({"id": "e", "date": "2026-03-13", "claim": "professional", "pos": "11",
                         "administrations": [_infusion("a1", "vancomycin", "09:00", "10:00", session="Morning")],
                         "em": [{"code": "99214", "session": " morning", "separately_identifiable": True}]})
    assert _lines(result) == [("96365", ()), ("99214", ("25",))]


def test_a_folded_field_of_the_encounter_reaches_the_tables_folded(tmp_path):
    """The encounter's own fields are copied into every event: a folded one (here `claim`,
    declared folded in a copy of the 2026 ruleset) must arrive folded, or 'Facility' would
    pass validation and match no row."""
    import shutil
    folder = tmp_path / "2026"
    shutil.copytree(ROOT / "rulesets" / "2026", folder)
    rules = folder / "input.rules"
    rules.write_text(rules.read_text().replace("field claim: claim, required", "field claim: claim, required, folded"))
    data = {"id": "e", "date": "2026-03-13", "claim": " Facility", "pos": "23",
            "administrations": [_infusion("a1", "vancomycin", "09:00", "10:00")]}
    for engine_name in ("compiled", "reference"):
        assert _lines(engine.load(folder, engine=engine_name).code(data)) == [("96365", ())]


def test_the_field_that_picks_the_payer_cannot_be_folded():
    from dsl.diagnostics import RulesetError
    from tests.declared import checked_ruleset, ruleset_text
    with pytest.raises(RulesetError, match="'picks payer' cannot be folded"):
        checked_ruleset(ruleset_text(replace={"picks payer": "picks payer, folded"}))
