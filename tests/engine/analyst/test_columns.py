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
    found = columns(load_family(RULESET_2026, SCHEMA).base, MEANINGS)
    return {(c.scope, c.name): c for c in found}


def test_declared_columns_take_their_type_and_meaning_from_the_input_declaration(listed):
    route = listed[("administration", "route")]
    assert (route.kind, route.values) == ("enum", ("iv", "im", "subq", "intra_arterial", "intralesional"))
    assert route.source.startswith("events administration (rulesets/2026/input.rules:")
    assert listed[("line", "route")].source == route.source  # a line reads its event's fields
    pos = listed[("em", "pos")]
    assert pos.kind == "two digits" and pos.source.startswith("encounter (rulesets/2026/input.rules:")
    assert "same drug" in listed[("administration", "gap")].meaning
    assert listed[("em", "administration_lines")].source.startswith("events em (")


def test_what_the_engine_itself_adds_says_so(listed):
    part = listed[("line", "part")]
    assert (part.kind, part.values, part.source) == ("enum", ("base", "addon"), ENGINE)
    assert listed[("line", "code")].meaning == "the code of the line"


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
    for path in MINI.glob("*.rules"):
        (tmp_path / path.name).write_text(path.read_text())
    (tmp_path / "ruleset.rules").write_text((MINI / "ruleset.rules").read_text().replace(
        "  id               | route    | method   | duration     => service   | finding",
        "  id               | route    | method   | colour       => service   | finding"))
    with pytest.raises(RulesetError) as caught:
        load_family(tmp_path, SCHEMA)
    (problem,) = [d for d in caught.value.diagnostics if d.message == "unknown column 'colour'"]
    assert problem.hint.startswith("columns per administration here: category, claim, days_from_date, dose")
