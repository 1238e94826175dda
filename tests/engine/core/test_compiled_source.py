"""The generated source of a compiled table: each `return` line names the rows it decides,
in a comment no row id can leave and in the map `rows_at` reads, and the cache of
generated code forgets the structure used least recently, also under threads.

Tracebacks and profiles are the two ways a generated line reaches a person: a profiler
reports the line a `decide` returned from, a traceback the line that raised. Both are
tried here on the bundled tables, and hostile row ids (possible only in a table built in
Python: the grammar takes none of them) on a small table.
"""
import concurrent.futures
import io
import linecache
import os
import sys
import threading
import tokenize
import traceback

import pytest
from hypothesis import given

from dsl.checked import CheckedRow, CheckedTable, FieldType, Predicate
from engine.core import compiled
from engine.core.compiled import CompiledTable, clear_generated, rows_at
from engine.core.reference import ReferenceTable
from tests.engine.core.test_compiled_tables import DECISIONS, TABLES, inputs_for, row_ids
from tests.engine.core.test_threads import switching_often

GENERATED = "<infuse table "


def return_lines(table: CompiledTable) -> dict:
    """Line number -> text of each `return _cN` line of a table's source."""
    return {n: line for n, line in enumerate(table.source.splitlines(), 1) if line.lstrip().startswith("return _c")}


@pytest.mark.parametrize("name", sorted(TABLES))
def test_each_return_line_names_the_rows_it_returns(name):
    """The comment and the map name exactly the rows bound to the constant the line returns."""
    table = CompiledTable(TABLES[name])
    filename = table.decide.__code__.co_filename
    assert filename.startswith(GENERATED + TABLES[name].name + " ")
    lines = return_lines(table)
    assert lines
    for number, line in lines.items():
        constant = line.split()[1]
        ids = tuple(row.id for row in table.decide.__globals__[constant])
        assert rows_at(filename, number) == ids
        assert line.endswith(f"# rows: {', '.join(ids)}" if ids else "# no row")
        assert linecache.getline(filename, number) == line + "\n"
    tests = [n for n in range(1, len(table.source.splitlines()) + 1) if n not in lines]
    assert all(rows_at(filename, n) is None for n in tests)
    assert rows_at("<not infuse's>", 1) is None


def returned_from(decide, values) -> list:
    """(filename, line) of every `return` of generated code while `decide(values)` runs,
    innermost first, as a profiler sees them."""
    seen = []

    def profile(frame, event, arg):
        if event == "return" and frame.f_code.co_filename.startswith(GENERATED):
            seen.append((frame.f_code.co_filename, frame.f_lineno))

    sys.setprofile(profile)
    try:
        decide(values)
    finally:
        sys.setprofile(None)
    return seen


@pytest.mark.parametrize("name", ["drug-administration/service", "drug-administration/coding",
                                  "drug-administration/modifiers"])
def test_a_profile_finds_the_rows_that_decided(name):
    """The line a decision returns from names the rows the reference decides, also when the
    mapping lacks a column (then the inner `decide`, on the completed copy, returns them)."""
    table = TABLES[name]
    decide, reference = CompiledTable(table).decide, ReferenceTable(table)

    @DECISIONS
    @given(values=inputs_for(table))
    def names_the_rows(values):
        lacking = {c: v for c, v in values.items() if v is not None}  # a missing value left out
        for given_values in (values, lacking):
            (filename, line), *outer = returned_from(decide, given_values)
            assert rows_at(filename, line) == tuple(row_ids(reference.decide(given_values)))
            # The outer `decide`, if the tree read a column the mapping lacks, returns from
            # its fallback line, which decides nothing itself.
            assert len(outer) <= 1 and all(rows_at(*returned) is None for returned in outer)

    names_the_rows()


def test_a_traceback_at_a_return_line_names_its_rows():
    """A line that fails (here its decision is taken away from the table's globals) shows,
    in the traceback's own text and through rows_at, the rows it would have returned."""
    table = CompiledTable(TABLES["drug-administration/service"])
    values = {"claim": "facility", "pos": "22", "method": "push", "category": "therapeutic", "route": "iv",
              "duration": 120, "hormonal": False, "pump": False}
    expected = tuple(row_ids(ReferenceTable(TABLES["drug-administration/service"]).decide(values)))
    assert expected
    for constant, value in list(table.decide.__globals__.items()):
        if isinstance(value, tuple) and tuple(row_ids(value)) == expected:
            del table.decide.__globals__[constant]
    with pytest.raises(NameError) as raised:
        table.decide(values)
    frame = traceback.extract_tb(raised.value.__traceback__)[-1]
    assert frame.filename.startswith(GENERATED)
    assert rows_at(frame.filename, frame.lineno) == expected
    assert frame.line.endswith(f"# rows: {', '.join(expected)}")
    assert f"# rows: {', '.join(expected)}" in "".join(traceback.format_exception(raised.value))


# ----- hostile row ids ----------------------------------------------------------------------

HOSTILE_IDS = (
    "x\nimport os; os.system('touch pwned')", "x\r__import__('os').system('touch pwned')",
    "x\r\n    return None", "x\u2028open('pwned', 'w')", "x\x0cy", "x\x85y", "x\x00y", "x # y", "'\"",
    "\\", "x\\\nopen('pwned', 'w')", "\ufeffx", "_c0", "decide", "values", "x" * 2000, "",
)


def table_with_ids(ids) -> CheckedTable:
    """A first-hit table that decides each of its rows for one word, and no row otherwise."""
    words = tuple(f"w{i}" for i in range(len(ids)))
    rows = tuple(CheckedRow(row_id, (Predicate("in", frozenset({word})),), ("out",), span=None)
                 for row_id, word in zip(ids, words))
    return CheckedTable("hostile", "first", "administration", (), None, ("kind",), (FieldType("enum", words),),
                        ("service",), rows)


def code_tokens(source: str) -> list:
    return [(t.type, t.string) for t in tokenize.generate_tokens(io.StringIO(source).readline)
            if t.type != tokenize.COMMENT]


def test_a_row_id_cannot_leave_its_comment(tmp_path, monkeypatch):
    """Ids holding line breaks of every kind, quotes, backslashes and Python change nothing
    in the generated code but its comments: the tokens other than comments, and the lines,
    are those of the same table with plain ids. Nothing runs, and rows_at gives the ids as
    they are."""
    monkeypatch.chdir(tmp_path)
    hostile = CompiledTable(table_with_ids(HOSTILE_IDS))
    plain = CompiledTable(table_with_ids([f"r{i}" for i in range(len(HOSTILE_IDS))]))
    assert hostile.source != plain.source
    assert code_tokens(hostile.source) == code_tokens(plain.source)
    assert len(hostile.source.splitlines()) == len(plain.source.splitlines())
    assert hostile.source.isascii()
    reference = ReferenceTable(table_with_ids(HOSTILE_IDS))
    filename = hostile.decide.__code__.co_filename
    for i, row_id in enumerate(HOSTILE_IDS):
        values = {"kind": f"w{i}"}
        assert row_ids(hostile.decide(values)) == row_ids(reference.decide(values)) == [row_id]
        (returned, line), = returned_from(hostile.decide, values)
        assert returned == filename and rows_at(filename, line) == (row_id,)
    assert rows_at(filename, returned_from(hostile.decide, {"kind": "other"})[0][1]) == ()
    assert os.listdir(tmp_path) == []


def test_a_leaf_of_many_rows_names_a_few_and_counts_the_rest():
    """A collect table whose rows all match writes eight ids and a count, not 5,000 ids on
    a line; rows_at has them all."""
    rows = tuple(CheckedRow(f"row-{i}", (Predicate("any"),), ("out",), span=None) for i in range(5000))
    table = CompiledTable(CheckedTable("many", "collect", "administration", (), None, ("kind",),
                                       (FieldType("enum", ("a",)),), ("service",), rows))
    (number, line), = return_lines(table).items()
    assert line.endswith("# rows: " + ", ".join(f"row-{i}" for i in range(8)) + " and 4992 more")
    assert rows_at(table.decide.__code__.co_filename, number) == tuple(row.id for row in rows)


# ----- the cache of generated code -----------------------------------------------------------

def named(name: str) -> CheckedTable:
    """A small table of its own structure (the name is part of it)."""
    rows = (CheckedRow("a", (Predicate("in", frozenset({"a"})),), ("out",), span=None),
            CheckedRow("rest", (Predicate("any"),), ("other",), span=None))
    return CheckedTable(name, "first", "administration", (), None, ("kind",), (FieldType("enum", ("a", "b")),),
                        ("service",), rows)


def code_of(table: CheckedTable):
    """The code object a new CompiledTable of `table` runs: the same object while cached."""
    return CompiledTable(table).decide.__code__


def test_the_cache_forgets_the_structure_used_least_recently(monkeypatch):
    monkeypatch.setattr(compiled, "_MAX_GENERATED", 3)
    clear_generated()
    first, second, third, fourth = (named(f"t{i}") for i in range(4))
    codes = {t.name: code_of(t) for t in (first, second, third)}
    assert code_of(first) is codes["t0"]  # used again: now the most recent
    code_of(fourth)  # one beyond the bound: `second` goes, the others stay
    assert code_of(first) is codes["t0"] and code_of(third) is codes["t2"]
    assert code_of(second) is not codes["t1"]
    clear_generated()
    assert code_of(first) is not codes["t0"]


def test_threads_sharing_a_small_cache_decide_as_the_reference(monkeypatch):
    """Eight threads build tables of six structures over a cache of two, so that entries are
    stored, moved and evicted under each other; every decision is the reference's."""
    monkeypatch.setattr(compiled, "_MAX_GENERATED", 2)
    clear_generated()
    tables = [named(f"s{i}") for i in range(6)]
    inputs = [{"kind": "a"}, {"kind": "b"}, {}, {"kind": None}]
    expected = {t.name: [row_ids(ReferenceTable(t).decide(v)) for v in inputs] for t in tables}
    start = threading.Barrier(8)

    def work(thread: int) -> bool:
        start.wait()
        for round_number in range(200):
            table = tables[(thread + round_number) % len(tables)]
            decide = CompiledTable(table).decide
            if [row_ids(decide(v)) for v in inputs] != expected[table.name]:
                return False
        return True

    with switching_often(), concurrent.futures.ThreadPoolExecutor(8) as pool:
        assert all(pool.map(work, range(8)))
    assert len(compiled._GENERATED) <= 2
