"""The loader reads and parses each rule file once, and keeps what the tools need from it.

A checked ruleset keeps the statements it was checked from (a variant's merged over its
base) and the file texts; a checked row keeps its AST row. `infuse check`, `diff` and
`table` work from those, so each parses every file of a ruleset folder exactly once
(`diff` once per side).
"""
from __future__ import annotations

import collections
import shutil
import sys

import pytest

from dsl import ast, parser
from dsl.checked import CheckedTable
from dsl.loader import load_family
from engine.cli import main
from engine.core.schema import SCHEMA
from tests.conftest import ROOT, RULESET_2026

FILES = sorted(RULESET_2026.rglob("*.rules"))


@pytest.fixture
def parses(monkeypatch) -> collections.Counter:
    """How many times each file is parsed, wherever `dsl.parser.parse` was imported."""
    counts: collections.Counter = collections.Counter()
    original = parser.parse

    def counting(text, path):
        counts[path] += 1
        return original(text, path)

    for module in list(sys.modules.values()):
        if getattr(module, "parse", None) is original:
            monkeypatch.setattr(module, "parse", counting)
    monkeypatch.chdir(ROOT)
    return counts


def test_check_parses_each_file_once(parses, capsys):
    assert main(["check", "rulesets/2026"]) == 0
    assert len(parses) == len(FILES) and set(parses.values()) == {1}


def test_table_parses_each_file_once(parses, capsys):
    assert main(["table", "rulesets/2026", "--format", "html", "--no-cache"]) == 0  # a cache hit would parse none
    assert len(parses) == len(FILES) and set(parses.values()) == {1}


def test_diff_parses_each_file_once_per_side(parses, capsys, tmp_path):
    shutil.copytree(RULESET_2026, tmp_path / "2027")
    assert main(["diff", "rulesets/2026", str(tmp_path / "2027")]) == 0
    assert len(parses) == 2 * len(FILES) and set(parses.values()) == {1}


def test_a_checked_ruleset_keeps_its_statements_texts_and_rows():
    family = load_family(RULESET_2026, SCHEMA)
    medicare = family.variants["medicare"]
    assert {type(s) for s in medicare.statements} >= {ast.Table, ast.Units, ast.Edit}
    assert set(family.texts) == {*family.base.texts, *(t for v in family.variants.values() for t in v.texts)}
    assert set(family.variants) == {"commercial", "horizon", "medicare", "regence"}
    em = next(s for s in medicare.stages if isinstance(s, CheckedTable) and s.name == "em")
    row = next(r for r in em.rows if r.id == "em.99211")
    assert row.node.id == "em.99211" and row.node.span == row.span
    assert row.span.file.endswith("payers/medicare.rules")
