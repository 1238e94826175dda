"""The fast table steps (engine.core.fast_tables) and the result dict built straight as
dicts give what their definitions give: the generic table steps and `Result.as_dict`.

Compared as JSON text, so the order of keys counts too: on the shapes of bench/corpus.py,
on generated encounters and on the rulesets' own cases, for the 2026 ruleset, each of its
payer variants and the rulesets that declare their own input.
"""
import functools
import inspect
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench import corpus
from engine.analyst.cases import load_cases
from engine.core.compiled import CompiledTable, compiled_unit_offsets
from engine.core.encounter import EncounterError, parse_encounter
from engine.core.pipeline import Pipeline
from engine.core.registry import Registry
from engine.core.trace import TableRecord
from tests.conftest import ROOT
from tests.strategies import encounters

RULESET_2026 = ROOT / "rulesets" / "2026"
CRITICAL_CARE = ROOT / "examples" / "rulesets" / "critical-care"
DIFFERENT_DRUG_PUSH = ROOT / "tests" / "rulesets" / "different-drug-push"
# (folder, payer): the 2026 base, each of its variants, and the declared rulesets.
RULESETS = [(RULESET_2026, None), (RULESET_2026, "commercial"), (RULESET_2026, "medicare"),
            (RULESET_2026, "medicaid"), (RULESET_2026, "horizon"), (RULESET_2026, "regence"),
            (DIFFERENT_DRUG_PUSH, None), (CRITICAL_CARE, None), (CRITICAL_CARE, "medicare")]
SHAPES = {"domain": 300, "typical_day": 300, "oncology": 20, "adversarial": 2}
PROPERTY = settings(derandomize=True, max_examples=150, deadline=None)


@functools.cache
def pipelines(folder, payer) -> tuple:
    """(fast, generic) pipelines of the compiled engine for one ruleset."""
    ruleset = Registry.from_path(folder).latest.for_payer(payer)
    return (Pipeline(ruleset, CompiledTable, compiled_unit_offsets, generated=True),
            Pipeline(ruleset, CompiledTable, compiled_unit_offsets))


def assert_agree(folder, payer, data: dict) -> bool:
    """The fast steps' run_dict is the generic steps' Result as a dict, as JSON text, and so
    is a traced run's (which takes the generic steps); False for input the ruleset refuses."""
    fast, generic = pipelines(folder, payer)
    try:
        encounter = parse_encounter(data, fast.ruleset.input)
    except EncounterError:
        return False
    expected = json.dumps(generic.run(encounter).as_dict())
    assert json.dumps(fast.run_dict(encounter)) == expected
    assert json.dumps(generic.run_dict(encounter)) == expected
    assert json.dumps(fast.run(encounter, []).as_dict()) == expected
    return True


# The corpus is drawn for the 2026 input; different-drug-push's vocabularies take only
# the shapes that give some encounters of intravenous drugs other than chemotherapy.
ON_THE_CORPUS = [(folder, payer, shape) for folder, payer in RULESETS if folder == RULESET_2026 for shape in SHAPES] + [
    (DIFFERENT_DRUG_PUSH, None, "domain"), (DIFFERENT_DRUG_PUSH, None, "typical_day")]


@pytest.mark.parametrize("folder, payer, shape", ON_THE_CORPUS, ids=lambda value: getattr(value, "name", value))
def test_fast_steps_agree_on_the_corpus(folder, payer, shape):
    coded = [assert_agree(folder, payer, data) for data in getattr(corpus, shape)(SHAPES[shape], seed=3)]
    assert any(coded)


@pytest.mark.parametrize("folder, payer", RULESETS, ids=lambda value: getattr(value, "name", value))
def test_fast_steps_agree_on_the_rulesets_own_cases(folder, payer):
    base = Registry.from_path(folder).latest.base
    cases, problems = load_cases(folder / "tests", base.input)
    assert cases and not problems
    assert all([assert_agree(folder, payer, case.encounter) for case in cases])


@PROPERTY
@given(encounter=st.one_of(encounters(), encounters(mixed_offsets=True)),
       ruleset=st.sampled_from([r for r in RULESETS if r[0] != CRITICAL_CARE]))
def test_fast_steps_agree_on_generated_encounters(encounter, ruleset):
    assert_agree(*ruleset, encounter)


def _minute_of_may_4(minute: int) -> str:
    day, minute = divmod(minute, 24 * 60)
    return f"2026-05-{4 + day:02d}T{minute // 60:02d}:{minute % 60:02d}"


@st.composite
def critical_care_encounters(draw) -> dict:
    """Periods of care and procedures around the 30, 75 and 105 minute marks and midnight."""
    periods = []
    for index in range(draw(st.integers(0, 5))):
        start = draw(st.integers(0, 24 * 60))
        period = {"id": f"p{index}", "activity": draw(st.sampled_from(("care", "procedure"))),
                  "start": _minute_of_may_4(start)}
        if draw(st.integers(0, 5)):  # one in six without a stop time
            period["stop"] = _minute_of_may_4(start + draw(st.sampled_from((0, 29, 30, 31, 74, 75, 104, 105, 135, 300))))
        periods.append(period)
    return {"id": "cc", "date": "2026-05-04", "periods": periods}


@PROPERTY
@given(encounter=critical_care_encounters(), payer=st.sampled_from((None, "medicare")))
def test_fast_steps_agree_on_generated_critical_care(encounter, payer):
    assert_agree(CRITICAL_CARE, payer, encounter)


def test_the_compiled_engine_takes_the_fast_steps_and_the_reference_the_generic(compiled_coder, reference_coder):
    ruleset = compiled_coder.registry.latest.base
    table_steps = [step for name, step in compiled_coder.pipeline(ruleset).steps if name.startswith("table:")]
    assert table_steps and all(step.__module__ == "engine.core.fast_tables" for step in table_steps)
    reference = reference_coder.pipeline(reference_coder.registry.latest.base)
    assert all(isinstance(step, functools.partial) for name, step in reference.steps if name.startswith("table:"))
    trace = []  # only the generic steps record their tables' decisions
    compiled_coder.pipeline(ruleset).run(parse_encounter(corpus.typical_day(1)[0], ruleset.input), trace)
    assert any(isinstance(record, TableRecord) for record in trace)


def test_no_ruleset_text_becomes_code():
    """Rule names, codes and finding ids are passed in by name, never written in the source
    of the rows' functions (written as rows are decided: the corpus decides many first)."""
    fast, _ = pipelines(RULESET_2026, None)
    for data in corpus.domain(200, 3):
        fast.run_dict(parse_encounter(data, fast.ruleset.input))
    written = 0
    for name, step in fast.steps:
        if not name.startswith("table:"):
            continue
        applier = dict(zip(step.__code__.co_freevars, step.__closure__))["applier"].cell_contents
        for row_id, apply in applier.items():
            if apply is None:
                continue
            effect, source = fast._effects[row_id], inspect.getsource(apply)
            assert effect.rule not in source
            assert all(str(value) not in source for value in (effect.code, effect.addon, *effect.findings) if value)
            written += 1
    assert written > 20
