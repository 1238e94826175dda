"""Ruleset load, apart from coding: parse, check and compile the 2026 family (base and
both payer variants) cold (every cache cleared, the grammar rebuilt), warm (the grammar
already built) and from a prototype cache (the checked rulesets pickled; infuse has no
such cache yet, so this measures what one would give). Each loaded set of pipelines must
code a sample encounter as the bundled coder does.

The wide unique table (bench/subjects.py, `wide_unique_folder`: 5,000 disjoint duration
ranges) is checked and loaded the same way, each from a cold start: `infuse check` on it
and a load that codes one encounter must each stay within seconds."""
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


@functools.cache
def wide_unique(folder) -> subjects.Subject:
    return subjects.wide_unique_subject(folder)


@pytest.mark.parametrize("how", ["check", "load and code one"])
def test_wide_unique_table(benchmark, tmp_path_factory, how):
    work = wide_unique(tmp_path_factory.getbasetemp())
    benchmark.group = f"wide unique table: {subjects.WIDE_UNIQUE_ROWS:,} disjoint duration ranges"
    answer = benchmark.pedantic(work.candidates[how], rounds=3, iterations=1)
    assert work.check(how, answer)
