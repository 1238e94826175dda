"""engine.core.generated_events: the events the code generated per declaration builds are
those of the generic build_events, field for field, with their values' keys in the same order,
for the declarations of the 2026 ruleset, the example rulesets and a test declaration using
every derived built-in (with `where` and `per`, and an untimed kind with times of its own)."""
from __future__ import annotations

import json

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

import engine
from engine.analyst.cases import load_cases
from engine.core.encounter import EncounterError, parse_encounter
from engine.core.events import build_events
from engine.core.generated_events import generated_builder
from engine.core.jsonin import decode_record
from tests.conftest import ROOT, RULESET_2026
from tests.engine.core.test_derived_facts import DAY, DECLARED, encounter, given_at
from tests.engine.core.test_jsonin_fast import PROPERTY
from tests.strategies import encounters

FOLDERS = [RULESET_2026, ROOT / "examples" / "rulesets" / "critical-care", ROOT / "tests" / "rulesets" / "different-drug-push"]


def _shown(built: dict) -> dict:
    """Each kind's events as plain data, their values as (key, value) pairs in order."""
    return {kind: [(*msgspec.structs.astuple(event)[:1], list(event.values.items()),
                    *msgspec.structs.astuple(event)[2:]) for event in events]
            for kind, events in built.items()}


def _alike(encounter_, declared):
    assert _shown(generated_builder(declared)(encounter_)) == _shown(build_events(encounter_, declared))


@PROPERTY
@given(data=st.one_of(encounters(), encounters(mixed_offsets=True)), notes=st.lists(st.sampled_from([
    {"about": "a1", "written": "2026-03-14T10:00", "read": "2026-03-14T10:05"},
    {"written": "2026-03-14T23:50+02:00", "read": "2026-03-15T00:10"},
    {"written": "2026-03-14T12:00"}]), max_size=3))
def test_every_built_in_is_built_as_the_generic_way_builds_it(data, notes):
    if not data["administrations"]:
        notes = [note for note in notes if "about" not in note]
    try:
        read = parse_encounter({**data, "notes": notes}, DECLARED)
    except EncounterError:  # a note about an administration the encounter lacks
        return
    _alike(read, DECLARED)


def test_the_day_of_the_derived_facts_tests_builds_alike():
    _alike(parse_encounter(DAY, DECLARED), DECLARED)
    _alike(parse_encounter(encounter(given_at("a1", "d", "2026-03-14T10:00+02:00", "2026-03-14T09:30+01:00")),
                           DECLARED), DECLARED)
    _alike(parse_encounter(encounter(given_at("a1", "d", "2026-03-12T23:00", "2026-03-13T01:00")), DECLARED),
           DECLARED)  # days between the date and an earlier start


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda f: f.name)
def test_every_case_of_a_ruleset_builds_alike(folder):
    declared = engine.load(folder).registry.latest.base.input
    cases, errors = load_cases(folder / "tests", declared)
    assert cases and not errors
    for case in cases:
        try:
            read = parse_encounter(decode_record(json.dumps(case.encounter)), declared)
        except EncounterError:
            continue
        _alike(read, declared)


@pytest.fixture(scope="module")
def declared_2026():
    return engine.load(RULESET_2026).registry.latest.base.input


@PROPERTY
@given(data=encounters(mixed_offsets=True))
def test_a_2026_encounter_builds_alike(declared_2026, data):
    _alike(parse_encounter(data, declared_2026), declared_2026)
