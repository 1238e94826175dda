"""Rulesets whose input is declared in their own text and nowhere in infuse's Python: the
critical-care example (timed events that are not drug administrations, units on them, a
payer variant) and a test ruleset coding a push of a different drug more than 60 minutes
after the previous push. Each checks clean, passes its own tests with every row covered,
and codes the same on both engines."""
import pytest

import engine
from engine.analyst.cases import load_cases
from engine.core.registry import Registry
from tests.conftest import ROOT
from tests.engine.cli.test_cli import run_cli

FOLDERS = [ROOT / "examples" / "rulesets" / "critical-care", ROOT / "tests" / "rulesets" / "different-drug-push"]


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda f: f.name)
def test_checks_clean_and_passes_its_tests(folder, capsys):
    code, out, _ = run_cli(["check", str(folder), "--strict"], capsys)
    assert code == 0, out
    code, out, _ = run_cli(["test", str(folder), "--min-coverage", "100"], capsys)
    assert code == 0, out
    assert " 0 failed" in out


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda f: f.name)
def test_both_engines_agree_on_its_cases(folder):
    cases, problems = load_cases(folder / "tests", Registry.from_path(folder).latest.base.input)
    assert cases and not problems
    compiled, reference = engine.load(folder, "compiled"), engine.load(folder, "reference")
    for case in cases:
        assert compiled.code(case.encounter).as_dict() == reference.code(case.encounter).as_dict(), case.title


def test_critical_care_is_timed_and_counted_by_the_declared_duration():
    coder = engine.load(FOLDERS[0])
    periods = [{"id": "p1", "activity": "care", "start": "2026-05-04T23:30", "stop": "2026-05-05T00:50"}]
    result = coder.code({"id": "cc", "date": "2026-05-04", "periods": periods}).as_dict()
    assert [(line["code"], line["units"], line["date"]) for line in result["lines"]] == [
        ("99291", 1, "2026-05-04"), ("99292", 1, "2026-05-05")]  # the 75th minute falls after midnight


def test_critical_care_rejects_a_stop_before_its_start_at_the_declared_path():
    coder = engine.load(FOLDERS[0])
    periods = [{"id": "p1", "activity": "care", "start": "2026-05-04T10:00", "stop": "2026-05-04T09:00"}]
    with pytest.raises(engine.EncounterError) as raised:
        coder.code({"id": "cc", "date": "2026-05-04", "periods": periods})
    assert raised.value.path == "periods[0].stop"


def test_report_needs_a_code_field_in_the_events_it_reports(tmp_path):
    import shutil

    from dsl.diagnostics import RulesetError
    from dsl.loader import load_family
    from engine.core.schema import SCHEMA

    folder = tmp_path / "cc"
    shutil.copytree(FOLDERS[0], folder)
    rules = folder / "critical-care.rules"
    rules.write_text(rules.read_text() + '\ntable reported first per period [cpt-cc]\n'
                                         '  id  | activity => report\n  all | *        => yes\n')
    with pytest.raises(RulesetError) as raised:
        load_family(folder, SCHEMA)
    (problem,) = [d for d in raised.value.diagnostics if d.code == "E-output"]
    assert problem.message == "'report' reports the event's own code, but events per period have no 'code' field"
