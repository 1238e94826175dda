"""engine.core.result: a Line and a Finding read back from the contract's dicts are the ones
written (Pipeline.run makes its Result from the dicts the batch writes)."""
from __future__ import annotations

import engine
from engine.analyst.cases import load_cases
from engine.core.result import Finding, Line
from tests.conftest import RULESET_2026


def test_lines_and_findings_read_back_from_their_dicts_are_equal():
    coder = engine.load(RULESET_2026)
    cases, errors = load_cases(RULESET_2026 / "tests", coder.declared)
    assert cases and not errors
    lines = findings = 0
    for case in cases:
        try:
            result = coder.code(case.encounter)
        except engine.EncounterError:
            continue
        for line in result.lines:
            assert Line.of(line.as_dict()) == line
            assert isinstance(line.modifiers, tuple) and isinstance(line.rules, tuple)
            lines += 1
        for finding in result.findings:
            assert Finding.of(finding.as_dict()) == finding
            findings += 1
        assert result.as_dict() == coder.code_dict(case.encounter)
    assert lines and findings
