"""Shared fixtures: the bundled 2026 ruleset loaded once per engine."""
import os
import shutil
import tempfile
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


_CACHE_KEY = pytest.StashKey[tuple]()  # (INFUSE_CACHE_DIR before the session, the session's folder)


def pytest_configure(config):
    """The ruleset cache (dsl.cache) of the whole test session, collection included (some
    modules parse rules as they are imported), in a temporary folder, never the user's."""
    config.stash[_CACHE_KEY] = (os.environ.get("INFUSE_CACHE_DIR"), tempfile.mkdtemp(prefix="infuse-cache-"))
    os.environ["INFUSE_CACHE_DIR"] = config.stash[_CACHE_KEY][1]


def pytest_unconfigure(config):
    before, folder = config.stash.get(_CACHE_KEY, (None, None))
    if folder is None:
        return
    shutil.rmtree(folder, ignore_errors=True)
    if before is None:
        os.environ.pop("INFUSE_CACHE_DIR", None)
    else:
        os.environ["INFUSE_CACHE_DIR"] = before


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
