"""Shared fixtures: the bundled 2026 ruleset loaded once per engine."""
from pathlib import Path

import pytest

import engine

ROOT = Path(__file__).resolve().parent.parent
RULESET_2026 = ROOT / "rulesets" / "2026"
CASES = ROOT / "tests" / "cases"


@pytest.fixture(scope="session")
def compiled_coder():
    return engine.load(RULESET_2026, engine="compiled")


@pytest.fixture(scope="session")
def reference_coder():
    return engine.load(RULESET_2026, engine="reference")
