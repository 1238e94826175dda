"""Small rulesets for tests that need a declared input (dsl.checked.CheckedInput): the
contract's vocabularies, tests/fixtures/input.rules, and whatever a test adds or changes.

Example:
    declared = declared_input(extra='events dose from doses [cpt]\\n  field id: text, required, unique\\n')
    encounter = parse_encounter(data, declared)
"""
from __future__ import annotations

from dsl.checked import CheckedInput, CheckedRuleset
from dsl.checker import check
from dsl.parser import parse
from engine.core.schema import SCHEMA
from tests.conftest import ROOT

INPUT = (ROOT / "tests" / "fixtures" / "input.rules").read_text()

# The contract's vocabularies (../shared/contract/README.md), with the words the 2026 ruleset
# adds (route intralesional, method other: tests/strategies.py draws from its schema).
VOCABULARIES = """\
vocabulary claim: facility, professional                                   [cpt]
vocabulary category: therapeutic, prophylactic, diagnostic, hydration, chemotherapy [cpt]
vocabulary route: iv, im, subq, intra_arterial, intralesional              [cpt]
vocabulary method: push, infusion, injection, on_body_injector, other      [cpt]
"""

HEADER = """\
ruleset t 1
effective 2026-01-01 .. 2026-12-31
source cpt "CPT"
"""

# The last line of each kind of event in tests/fixtures/input.rules, where a test inserts
# its own `derive` or `field` lines (`declared_input(administration=...)`).
_LAST_LINE = {
    "administration": "  derive days_from_date = days between date and start\n",
    "em": "  derive administration_lines = count of administration lines per session\n",
}


def ruleset_text(*, vocabularies: str = VOCABULARIES, replace: dict | None = None, extra: str = "",
                 **kinds: str) -> str:
    """The text of a small ruleset: `replace` maps fixture text to what replaces it, each of
    `kinds` (administration=..., em=...) holds lines to add to that kind, `extra` goes last."""
    text = INPUT
    for old, new in (replace or {}).items():
        assert old in text, old
        text = text.replace(old, new)
    for kind, lines in kinds.items():
        text = text.replace(_LAST_LINE[kind], _LAST_LINE[kind] + lines)
    return HEADER + vocabularies + text + extra


def checked_ruleset(text: str) -> CheckedRuleset:
    return check(list(parse(text, "t.rules").statements), SCHEMA, "sha256:test", {"t.rules": text})


def declared_input(**options) -> CheckedInput:
    """The declared input of `ruleset_text(**options)`."""
    return checked_ruleset(ruleset_text(**options)).input


def write_ruleset(folder, text: str) -> None:
    """Write a ruleset folder: `text` as ruleset.rules, including its own copy of
    tests/fixtures/input.rules (and declaring the source `cpt` it cites, unless `text` does)."""
    cited = "" if "\nsource cpt " in f"\n{text}" else 'source cpt "CPT"\n'
    (folder / "input.rules").write_text(INPUT)
    (folder / "ruleset.rules").write_text(f'{text}\n{cited}include "input.rules"\n')
