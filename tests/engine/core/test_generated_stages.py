"""The code generated per ruleset (engine.core.generated_events, engine.core.stages.generated_initial)
against the generic pipeline it stands in for: the same decider (the compiled tables) with
and without the generated parts must leave every encounter in the same state, its result,
its events' values (in order) and trails, for the 2026 ruleset and its payer variants, the
example rulesets, the corpus of bench/corpus.py and random encounters."""
from __future__ import annotations

import pytest
from hypothesis import given

import engine
from bench import corpus
from engine.analyst.cases import load_cases
from engine.core.compiled import CompiledTable, compiled_unit_offsets
from engine.core.encounter import EncounterError
from engine.core.pipeline import Pipeline
from tests.conftest import ROOT, RULESET_2026
from tests.engine.core.test_jsonin_fast import PROPERTY
from tests.strategies import encounters

EXAMPLES = [ROOT / "examples" / "rulesets" / "critical-care", ROOT / "tests" / "rulesets" / "different-drug-push"]
PAYERS = [None, "commercial", "medicare", "medicaid", "horizon"]


class _Both:
    """One registry's rulesets through the generated and the generic pipeline."""

    def __init__(self, folder, payer=None):
        self.coder = engine.load(folder, payer=payer)
        self.pipelines: dict = {}

    def state(self, data: dict, generated: bool):
        try:
            ruleset, encounter = self.coder.select(data)
        except EncounterError as error:
            return str(error)
        key = (id(ruleset), generated)
        if key not in self.pipelines:
            self.pipelines[key] = Pipeline(ruleset, CompiledTable, compiled_unit_offsets, generated=generated)
        pipeline = self.pipelines[key]
        run = pipeline.start(encounter)
        for _, step in pipeline.steps:
            step(run)
        events = [(event.ids, list(event.values.items()), event.trail, event.intervals, event.order)
                  for event in [*run.events, *(e for kind in run.others.values() for e in kind)]]
        return pipeline.as_dict(run), events

    def agree(self, data: dict):
        assert self.state(data, True) == self.state(data, False), data.get("id")


@pytest.fixture(scope="module", params=PAYERS, ids=str)
def both_2026(request):
    return _Both(RULESET_2026, request.param)


def test_the_corpus_runs_alike(both_2026):
    for data in [*corpus.domain(300, 11), *corpus.typical_day(300, 12), *corpus.oncology(60, 13),
                 *corpus.adversarial(3, 14), *corpus.many_administrations(1, 15, administrations=300)]:
        both_2026.agree(data)


@PROPERTY
@given(data=encounters(mixed_offsets=True))
def test_a_random_encounter_runs_alike(both_2026, data):
    both_2026.agree(data)


@pytest.mark.parametrize("folder", EXAMPLES, ids=lambda f: f.name)
def test_the_example_rulesets_run_their_cases_alike(folder):
    both = _Both(folder)
    cases, _ = load_cases(folder / "tests", both.coder.registry.latest.base.input)
    for case in cases:
        both.agree(case.encounter)
