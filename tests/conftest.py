"""Shared fixtures: the bundled 2026 ruleset loaded once per engine."""
import shutil
from pathlib import Path

import pytest

import engine

ROOT = Path(__file__).resolve().parent.parent
RULESET_2026 = ROOT / "rulesets" / "2026"
CASES = ROOT / "tests" / "cases"
# The contract's declared input (encounter, events) for the small rulesets tests write.
INPUT_RULES = ROOT / "tests" / "fixtures" / "input.rules"


def with_input(text: str) -> str:
    """`text` with the declared input appended after it, so its own lines keep their numbers
    (and the source `cpt` the input cites, unless `text` declares it)."""
    cited = "" if "\nsource cpt " in f"\n{text}" else 'source cpt "CPT"\n'
    return f"{text}\n{cited}{INPUT_RULES.read_text(encoding='utf-8')}"


@pytest.fixture(autouse=True)
def _ruleset_cache(tmp_path_factory, monkeypatch):
    """Every test's cache (dsl.cache) in a folder of the test session, never the user's."""
    monkeypatch.setenv("INFUSE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "infuse-cache"))


@pytest.fixture(scope="session")
def compiled_coder():
    return engine.load(RULESET_2026, engine="compiled")


@pytest.fixture(scope="session")
def reference_coder():
    return engine.load(RULESET_2026, engine="reference")


def ruleset_with_range_row(tmp_path):
    """A copy of the 2026 ruleset whose `em` table starts with a row using the cell kinds it
    does not use yet (`a .. b`, `not a`); returns the copy's folder."""
    folder = tmp_path / "2026"
    shutil.copytree(RULESET_2026, folder)
    em = folder / "em.rules"
    em.write_text(em.read_text().replace(
        "  em.alone    |", "  em.range    | 1 .. 3               | not yes                 => yes    | 25       |\n"
                          "  em.alone    |"))
    return folder
