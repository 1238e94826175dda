"""`infuse columns`: what each table scope may read, with type, meaning and source; and the
checker's answer to a column name with nothing close (issue 10, item 4)."""
from __future__ import annotations

import json

import pytest

from dsl.diagnostics import RulesetError
from dsl.loader import load_family
from engine.analyst.columns import ENGINE, columns
from engine.cli import main
from engine.core.schema import MEANINGS, SCHEMA
from tests.conftest import ROOT, RULESET_2026

MINI = ROOT / "tests" / "golden" / "diagnostics" / "valid"


@pytest.fixture(scope="module")
def listed():
    found = columns(load_family(RULESET_2026, SCHEMA).base, SCHEMA, MEANINGS)
    return {(c.scope, c.name): c for c in found}


def test_engine_columns_take_the_ruleset_vocabulary_and_say_what_they_hold(listed):
    route = listed[("administration", "route")]
    assert (route.kind, route.values, route.source) == ("enum", ("iv", "im", "subq", "intra_arterial"), ENGINE)
    assert listed[("administration", "pos")].kind == "two digits"
    assert "same drug" in listed[("administration", "gap")].meaning


def test_produced_columns_name_the_stage_and_reach_the_scopes_that_inherit_them(listed):
    service = listed[("administration", "service")]
    assert service.source.startswith("table service (") and "service.rules:" in service.source
    assert listed[("line", "service")].source == service.source
    assert listed[("line", "role")].source.startswith("initial iv_access (")
    assert ("em", "service") not in listed and ("em", "route") not in listed


def test_the_command_in_text_and_json(capsys):
    assert main(["columns", str(RULESET_2026)]) == 0
    text = capsys.readouterr().out
    assert "per administration:" in text and "per em:" in text
    assert main(["columns", str(RULESET_2026), "--format", "json", "--payer", "medicare"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ruleset"]["name"] == "drug-administration-medicare"
    assert {"scope": "em", "name": "administration_lines"}.items() <= next(
        c for c in data["columns"] if c["name"] == "administration_lines").items()
    assert main(["columns", str(RULESET_2026), "--payer", "acme"]) == 2


def test_an_unknown_column_with_nothing_close_lists_the_scope_s_columns(tmp_path):
    (tmp_path / "ruleset.rules").write_text((MINI / "ruleset.rules").read_text().replace(
        "  id               | route    | method   | duration     => service   | finding",
        "  id               | route    | method   | colour       => service   | finding"))
    (tmp_path / "codes.rules").write_text((MINI / "codes.rules").read_text())
    with pytest.raises(RulesetError) as caught:
        load_family(tmp_path, SCHEMA)
    (problem,) = [d for d in caught.value.diagnostics if d.message == "unknown column 'colour'"]
    assert problem.hint.startswith("columns per administration here: category, claim, days_from_date, dose")
