"""Whole encounters, JSON text in and JSON text out, on the named input shapes of
bench/corpus.py: a typical ED / infusion suite / office day, long oncology chair days
(10 to 16 administrations), adversarial encounters (50 overlapping infusions) and many
administrations (1,000 each, the most an encounter may list).

Each round codes one batch; the lines of the measured batch are checked against infuse's.
"""
import functools

import pytest

from bench import subjects

SHAPES = {"typical_day": 1000, "oncology": 100, "adversarial": 5, "many_administrations": 3}
CANDIDATES = ("infuse compiled", "handwritten", "infuse reference")


@functools.cache
def subject(shape: str) -> subjects.Subject:
    return subjects.encounter_subject(shape, SHAPES[shape])


@pytest.mark.parametrize("candidate", CANDIDATES)
@pytest.mark.parametrize("shape", SHAPES)
def test_whole_encounters(benchmark, shape, candidate):
    work = subject(shape)
    benchmark.group = f"{shape}: {SHAPES[shape]} encounters, JSON in and out"
    answers = benchmark.pedantic(work.candidates[candidate], rounds=5, iterations=1, warmup_rounds=1)
    assert work.check(candidate, answers)
