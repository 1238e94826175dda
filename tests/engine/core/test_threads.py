"""Threads sharing one Coder get the results it gives serially, from its very first use.

A Coder builds a ruleset's pipeline when an encounter first needs it, and with it each
table's compiled decider; a table too large for a generated decision tree is decided
from per-column indexes instead. Threads that start together on a cold Coder race to
those first builds, so each test starts them at once (behind a barrier), makes them
switch every microsecond, and compares every thread's results with serial coding.

The wide table is a made-up ruleset with a 1,000-row table whose cells vary over nine
columns, far beyond the size of a generated tree; the property test codes generated
encounters (tests/strategies.py) with the bundled 2026 ruleset on both engines.
"""
import concurrent.futures
import contextlib
import datetime
import random
import sys
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine.core.coder import Coder
from engine.core.compiled import CompiledTable, clear_generated
from tests.conftest import RULESET_2026
from tests.declared import write_ruleset
from tests.strategies import encounters

THREADS = 8
ROUNDS = 4

WORDS = {"claim": ("north", "south"), "category": ("c0", "c1", "c2", "c3"), "route": ("r0", "r1", "r2"),
         "method": ("m0", "m1", "m2"), "drug": tuple(f"d{i}" for i in range(12)),
         "site": tuple(f"s{i}" for i in range(8)), "dose": tuple(f"q{i}" for i in range(6))}
TIMES = ("duration", "gap")

WIDE_HEADER = """\
ruleset wide 1.0
effective 2030-01-01 .. 2030-12-31
source manual "The manual"
code K0 initial "no row matched" [manual]
code K1 initial "one"            [manual]
code K2 initial "two"            [manual]
code K3 initial "three"          [manual]
"""


def wide_ruleset(rows: int = 1000, seed: int = 8) -> str:
    """The wide ruleset: every row asks for a few words or durations in most columns, and
    a last row codes K0 for what none of them takes."""
    chooser = random.Random(seed)
    columns = (*WORDS, *TIMES)

    def cell(column: str) -> str:
        if column in TIMES:
            low = chooser.randrange(0, 240)
            return chooser.choice(("*", "missing", f"> {low} min", f"<= {low} min",
                                   f"{low} min .. {low + chooser.randrange(1, 120)} min"))
        words = WORDS[column]
        picked = ", ".join(chooser.sample(words, chooser.randint(1, max(1, len(words) // 2))))
        return chooser.choice(("*", picked, picked, f"not {picked}"))

    vocabularies = "".join(f"vocabulary {name}: {', '.join(WORDS[name])} [manual]\n"
                           for name in ("claim", "category", "route", "method"))
    table = "".join((f"table wide first per administration [manual]\n  id | {' | '.join(columns)} => code\n",
                     *(f"  r{n} | {' | '.join(cell(c) for c in columns)} => K{chooser.randint(1, 3)}\n"
                       for n in range(rows)),
                     f"  rest | {' | '.join('*' for _ in columns)} => K0\n"))
    return WIDE_HEADER + vocabularies + table


def wide_encounters(count: int = 200, seed: int = 8) -> list:
    """Encounters with one to four administrations over the wide ruleset's words, some
    without a stop time, some giving a drug again (so that `gap` varies too)."""
    chooser = random.Random(seed)
    opening = datetime.datetime(2030, 5, 1, 8)
    made = []
    for n in range(count):
        administrations = []
        for i in range(chooser.randint(1, 4)):
            start = opening + datetime.timedelta(minutes=chooser.randrange(0, 600))
            item = {"id": f"a{i}", **{k: chooser.choice(WORDS[k]) for k in ("category", "route", "method")},
                    "drug": chooser.choice(WORDS["drug"][:4]), "site": chooser.choice(WORDS["site"]),
                    "dose": chooser.choice(WORDS["dose"]), "start": start.isoformat(timespec="minutes")}
            if chooser.random() < 0.8:
                item["stop"] = (start + datetime.timedelta(minutes=chooser.randrange(0, 300))).isoformat(timespec="minutes")
            administrations.append(item)
        made.append({"id": f"w{n}", "date": "2030-05-01", "claim": chooser.choice(WORDS["claim"]),
                     "administrations": administrations})
    return made


@contextlib.contextmanager
def switching_often():
    """Threads switch every microsecond instead of every 5 ms, so that a thread is
    interrupted inside a first build within a few encounters rather than by luck."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(interval)


def code_in_threads(coder, records: list) -> list:
    """Every record coded by each of THREADS threads sharing `coder`, all starting at once,
    each from its own place in the list; one list of results per thread, in record order."""
    start = threading.Barrier(THREADS)

    def work(thread: int) -> list:
        first = thread * len(records) // THREADS
        order = [*range(first, len(records)), *range(first)]
        start.wait()
        coded = {i: coder.code(records[i]) for i in order}
        return [coded[i] for i in range(len(records))]

    with switching_often(), concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(work, range(THREADS)))


@pytest.fixture(scope="module")
def wide(tmp_path_factory):
    """The wide ruleset's registry, its encounters and their results coded serially."""
    folder = tmp_path_factory.mktemp("wide")
    write_ruleset(folder, wide_ruleset())
    records = wide_encounters()
    serial = engine.load(folder)
    expected = [serial.code(record) for record in records]
    assert CompiledTable(serial.registry.latest.base.stages[0]).source is None, "the wide table must keep the masks"
    return serial.registry, records, expected


def test_threads_sharing_a_cold_coder_decide_a_wide_table_as_serially(wide):
    """Each round a new Coder, nothing built yet. The first round starts with the generated
    code of every table forgotten: building the pipeline tries a tree for the wide table,
    which builds its indexes first. The later rounds find the verdict that the tree is too
    large, do not try it, and build the indexes on their own; there threads once saw them
    half built and matched wrong rows. Several rounds make a lucky pass unlikely."""
    registry, records, expected = wide
    clear_generated()
    for _ in range(ROUNDS):
        for results in code_in_threads(Coder(registry), records):
            assert results == expected


@pytest.fixture(scope="module")
def registry():
    return engine.load(RULESET_2026).registry


@pytest.mark.parametrize("name", ["compiled", "reference"])
def test_threads_sharing_a_cold_coder_code_as_serially(registry, name):
    """Generated 2026 encounters, each batch coded by threads on a new Coder with the
    generated code forgotten, so that every example races to first builds again."""

    @settings(derandomize=True, max_examples=15, deadline=None)
    @given(records=st.lists(encounters(), min_size=THREADS, max_size=2 * THREADS))
    def codes_as_serially(records):
        serial = Coder(registry, name)
        expected = [serial.code(record) for record in records]
        clear_generated()
        for results in code_in_threads(Coder(registry, name), records):
            assert results == expected

    codes_as_serially()
