"""The code generated per ruleset (engine.core.generated_events, engine.core.stages.generated_initial)
against the generic pipeline it stands in for: the same decider (the compiled tables) with
and without the generated parts must leave every encounter in the same state, its result,
its events' values (in order) and trails, for the 2026 ruleset and its payer variants, the
example rulesets, the corpus of bench/corpus.py and random encounters."""
from __future__ import annotations

import attrs
import pytest
from hypothesis import given

import engine
from bench import corpus
from dsl.checked import CheckedInitial
from engine.analyst.cases import load_cases
from engine.core.compiled import CompiledTable, compiled_unit_offsets
from engine.core.encounter import EncounterError, parse_encounter
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


def _initial_changed(ruleset, ties: tuple, default_ranking: bool):
    """The ruleset with its iv_access stage breaking ties by `ties`; with `default_ranking`, the
    professional ranking (with its `primary`) is the default that other claim values take."""
    stages = []
    for stage in ruleset.stages:
        if isinstance(stage, CheckedInitial) and stage.name == "iv_access":
            rankings, primary_of = dict(stage.rankings), dict(stage.primary_of)
            if default_ranking:
                rankings = {None: rankings["professional"], "facility": rankings["facility"]}
                primary_of = {None: primary_of["professional"]} if "professional" in primary_of else {}
            stage = attrs.evolve(stage, rankings=rankings, primary_of=primary_of, ties=ties)
        stages.append(stage)
    return attrs.evolve(ruleset, stages=tuple(stages))


@pytest.mark.parametrize("default_ranking", [False, True])
@pytest.mark.parametrize("ties", [("latest start", "shortest duration"), ("primary", "shortest duration", "latest start")])
def test_an_initial_stage_of_other_ties_and_a_default_ranking_runs_alike(ties, default_ranking):
    """The tie-breakers and the default ranking's promotion 2026 does not use, by changing its stage."""
    ruleset = _initial_changed(engine.load(RULESET_2026).registry.latest.base, ties, default_ranking)
    generated, generic = (Pipeline(ruleset, CompiledTable, compiled_unit_offsets, generated=flag) for flag in (True, False))
    for data in [*corpus.domain(200, 5), *corpus.typical_day(200, 6), *corpus.many_administrations(1, 7, administrations=60)]:
        encounter = parse_encounter(data, ruleset.input)
        assert generated.run_dict(encounter) == generic.run_dict(encounter), data["id"]
