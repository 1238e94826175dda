"""Ruleset load, apart from coding: parse, check and compile the 2026 family (base and
both payer variants) cold (every cache cleared, the grammar rebuilt), warm (the grammar
already built) and from a prototype cache (the checked rulesets pickled; infuse has no
such cache yet, so this measures what one would give). Each loaded set of pipelines must
code a sample encounter as the bundled coder does."""
import functools

import pytest

from bench import subjects


@functools.cache
def subject() -> subjects.Subject:
    return subjects.load_subject()


@pytest.mark.parametrize("how", ["cold", "warm (grammar built)", "cached (prototype)"])
def test_ruleset_load(benchmark, how):
    work = subject()
    benchmark.group = "ruleset load: 2026 base and payer variants"
    pipelines = benchmark.pedantic(work.candidates[how], rounds=5, iterations=1)
    assert work.check(how, pipelines)
