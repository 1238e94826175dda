"""Table decisions: the 2026 service and coding tables, and the coding table behind 1,000
rows that never match, decided by each candidate on the same 1,000 realistic inputs.

Each round is one batch of 1,000 decisions (divide the times by 1,000 for one decision);
the answers of the measured batch are checked against the reference row scan.
"""
import functools

import pytest

from bench import subjects

CANDIDATES = ("infuse compiled", "handwritten", "infuse reference")
TABLES = ("service", "coding", "wide coding")


@functools.cache
def subject(table: str) -> subjects.Subject:
    name = table.removeprefix("wide ")
    return subjects.table_subject(name, 1000, wide=table.startswith("wide "))


# ZEN last: its worker threads keep spinning for a while after a call and would slow
# whatever ran next on a 2-core machine.
CASES = [(t, c) for t in TABLES for c in CANDIDATES] + [(t, "zen") for t in TABLES]


@pytest.mark.parametrize("table,candidate", CASES, ids=[f"{t}-{c}" for t, c in CASES])
def test_table_decisions(benchmark, table, candidate):
    work = subject(table)
    if candidate not in work.candidates:
        pytest.skip("zen-engine is not installed (pip install -e '.[bench]')")
    benchmark.group = f"{table} table: 1,000 decisions"
    if candidate in ("infuse reference", "zen"):
        answers = benchmark.pedantic(work.candidates[candidate], rounds=5, iterations=1)
    else:
        answers = benchmark(work.candidates[candidate])
    assert work.check(candidate, answers)
