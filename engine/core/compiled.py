"""Compiled decision tables: each table becomes a generated Python decision tree, so a
decision is a handful of comparisons, as if the table had been written out by hand.

Every column is first indexed (engine.core.column_index) into row bitmasks: discrete columns map each value named
in the column to the mask of rows accepting it, with one mask for any other value and
one for a missing value; duration and number columns become sorted breakpoints with a
mask for each bound and each open segment between bounds. The tree is then built from
those masks: each node tests one column and narrows the set of candidate rows, and a
leaf is reached as soon as the rows left decide the table by its hit policy whatever the
columns not yet tested hold. The tree is written as Python source and compiled once per
table structure (a payer variant's unchanged tables share the code of its base's), with
its leaves bound to each table's own rows.

The source is generated only from these masks: bounds are numbers rendered by `repr`,
value sets are literals only when every member is a plain str, int or bool, and
everything else (row tuples, other values) is passed in by name, so no ruleset text can
become code. The one exception is a comment: each `return` line ends with the ids of the
rows it decides (`return _c3  # rows: push.initial`), written only if they have the form
the grammar gives row ids and escaped by `ascii` otherwise, so that no id can end its
comment. The source is registered in `linecache` under `<infuse table NAME HASH>` so
tracebacks and profiles show where a decision was made, and `rows_at(filename, line)`
tells a tool which rows a line decides. A table whose tree would be unreasonably large
keeps the index-and-memo decider the tree is built from.
"""
from __future__ import annotations

import collections
import hashlib
import linecache
import re
import threading

import attrs

from dsl.acceptance import positions
from dsl.checked import CheckedTable, CheckedUnits
from engine.core import codegen
from engine.core.column_index import DiscreteIndex, RangeIndex, column_indexes
from engine.core.reference import apply_policy

_MAX_TREE_LINES = 20_000
# The tokenizer allows 100 indentation levels; a deeper tree keeps the masks decider.
_MAX_DEPTH = 80
_LITERAL_TYPES = (str, int, bool)
# A row id as the grammar's NAME token has it: safe to write bare in a comment.
_ROW_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:[.-][A-Za-z0-9_]+)*")
# Ids named in one comment; the rest are counted (a collect table of 5,000 rows would
# otherwise write thousands on every line), and rows_at has them all.
_MAX_COMMENT_IDS = 8


class _TooLarge(Exception):
    """The decision tree would exceed the size or nesting the generator allows."""


class _TreeWriter:
    """Writes the decision tree of one table as the Python source of `decide(values)`.

    `decide` reads the columns it tests from the mapping by subscript, the fastest look-up;
    a mapping that lacks one of them raises KeyError, and `decide` starts again on a
    `_MissingAsNone` copy, which reads a column it lacks as None (missing), as the reference
    does with `.get`. `rows_by_line` maps each `return` line to the ids of the rows it decides.
    """

    _HEADER = ("def decide(values):", "    try:")

    def __init__(self, table: CheckedTable, indexes: list):
        self.table = table
        self.indexes = indexes
        self.full = [index.full() for index in indexes]
        self.first_hit = table.policy in ("first", "unique")
        self.names: dict = {}  # constant name -> object, the generated function's globals
        self.leaves: dict = {}  # row mask -> (name of its decision tuple, ids of its rows)
        self.position = {id(row): i for i, row in enumerate(table.rows)}
        self.body: list[tuple] = []  # (depth, statement) inside the `try`
        self.leaf_ids: dict = {}  # index in body of a `return` -> ids of the rows it decides

    def source(self) -> str:
        self._node((1 << len(self.table.rows)) - 1, tuple(range(len(self.indexes))), 0)
        lines = [*self._HEADER, *("    " * (depth + 2) + statement for depth, statement in self.body),
                 "    except KeyError:",
                 f"        return decide({self._constant(_MissingAsNone)}(values))"]
        return "\n".join(lines) + "\n"

    @property
    def rows_by_line(self) -> dict:
        """Line number (from 1) of each `return` in the source -> ids of the rows it decides."""
        return {len(self._HEADER) + 1 + i: ids for i, ids in self.leaf_ids.items()}

    def _emit(self, depth: int, text: str):
        if depth > _MAX_DEPTH or len(self.body) > _MAX_TREE_LINES:
            raise _TooLarge
        self.body.append((depth, text))

    def _node(self, mask: int, untested: tuple, depth: int):
        column = self._split_column(mask, untested)
        if column is None:
            name, ids = self._leaf(mask)
            self._emit(depth, f"return {name}  # {_rows_comment(ids)}")
            self.leaf_ids[len(self.body) - 1] = ids
            return
        rest = tuple(c for c in untested if c != column)
        variable = f"x{column}"
        self.body.append((depth, f"{variable} = values[{self.table.inputs[column]!r}]"))
        index = self.indexes[column]
        if isinstance(index, RangeIndex):
            self._range_split(mask, column, variable, rest, depth)
        else:
            self._discrete_split(mask, index, variable, rest, depth)

    def _settled(self, mask: int, untested: tuple) -> int:
        """`mask` less the rows that can no longer decide: under a first-hit policy, every
        row after the first one that accepts anything in the columns not yet tested. Two
        branches whose settled rows are equal lead to the same decision and share a test."""
        if not self.first_hit:
            return mask
        full = mask
        for column in untested:
            full &= self.full[column]
        if not full:
            return mask
        cutoff = full & -full
        return mask & (cutoff | (cutoff - 1))

    def _split_column(self, mask: int, untested: tuple) -> int | None:
        """The column to test next, or None when the rows in `mask` already decide."""
        if self.first_hit:
            if not mask:
                return None
            low = mask & -mask
            return next((c for c in untested if not low & self.full[c]), None)
        return next((c for c in untested if mask & self.full[c] != mask), None)

    def _leaf(self, mask: int) -> tuple[str, tuple]:
        """The name of the decision for the rows left (all of which match), held as row
        positions so that the generated code serves every table of the same structure,
        and the ids of the rows it decides."""
        leaf = self.leaves.get(mask)
        if leaf is None:
            rows = [self.table.rows[i] for i in positions(mask & -mask if self.first_hit else mask)]
            decided = apply_policy(self.table, rows)
            decision = _RowPositions(tuple(self.position[id(row)] for row in decided))
            leaf = self.leaves[mask] = (self._constant(decision), tuple(row.id for row in decided))
        return leaf

    def _constant(self, value) -> str:
        name = f"_c{len(self.names)}"
        self.names[name] = value
        return name

    def _discrete_split(self, mask: int, index: DiscreteIndex, variable: str, rest: tuple, depth: int):
        """An if/elif chain over the values that lead to the same rows; other values fall through."""
        groups: dict = {}  # settled narrowed mask -> values leading to it
        for value, value_mask in index.masks.items():
            groups.setdefault(self._settled(mask & value_mask, rest), []).append(value)
        groups.setdefault(self._settled(mask & index.missing, rest), []).append(None)
        otherwise = self._settled(mask & index.other, rest)
        branches = sorted(((m, vs) for m, vs in groups.items() if m != otherwise),
                          key=lambda item: _lowest(item[0]))
        for narrowed, values in branches:
            self._emit(depth, f"if {self._membership(variable, values)}:")
            self._node(narrowed, rest, depth + 1)
        self._node(otherwise, rest, depth)

    def _membership(self, variable: str, values: list) -> str:
        present = [v for v in values if v is not None]
        tests = [f"{variable} is None"] if None in values else []
        if len(present) == 1 and type(present[0]) in _LITERAL_TYPES:
            tests.append(f"{variable} == {present[0]!r}")
        elif present and all(type(v) in _LITERAL_TYPES for v in present):
            tests.append(f"{variable} in {{{', '.join(repr(v) for v in sorted(present, key=repr))}}}")
        elif present:
            tests.append(f"{variable} in {self._constant(frozenset(present))}")
        return " or ".join(tests)

    def _range_split(self, mask: int, column: int, variable: str, rest: tuple, depth: int):
        """A missing value first, then a balanced tree of comparisons over runs of segments."""
        index = self.indexes[column]
        missing = self._settled(mask & index.missing, rest)
        # Segment k: even k is the open segment below points[k // 2], odd k the bound.
        runs = []  # (narrowed mask, comparison that holds for this run and all before it)
        for k, segment_mask in enumerate(index.masks):
            narrowed = self._settled(mask & segment_mask, rest)
            if runs and runs[-1][0] == narrowed:
                runs.pop()
            if k == len(index.masks) - 1:
                upper = None
            elif k % 2:
                upper = f"{variable} <= {_number(index.points[k // 2])}"
            else:
                upper = f"{variable} < {_number(index.points[k // 2])}"
            runs.append((narrowed, upper))
        if len(runs) == 2 and runs[0][0] == missing:
            self._emit(depth, f"if {variable} is None or {runs[0][1]}:")
            self._node(missing, rest, depth + 1)
            self._node(runs[1][0], rest, depth)
            return
        self._emit(depth, f"if {variable} is None:")
        self._node(missing, rest, depth + 1)
        self._runs(runs, rest, depth)

    def _runs(self, runs: list, rest: tuple, depth: int):
        if len(runs) == 1:
            self._node(runs[0][0], rest, depth)
            return
        middle = (len(runs) - 1) // 2
        self._emit(depth, f"if {runs[middle][1]}:")
        self._runs(runs[:middle + 1], rest, depth + 1)
        self._runs(runs[middle + 1:], rest, depth)


class _MissingAsNone(dict):
    """A copy of a mapping that reads a key it lacks as None, as the reference's `.get` does.
    `decide` starts again on it when a column is lacking (a tenth of the pipeline's calls
    to the coding and modifiers tables): one C-level copy, then subscripts as fast as the
    first try, where building a dict of the columns with `.get` made that path 40% slower."""

    __slots__ = ()

    def __missing__(self, key):
        return None


def _lowest(mask: int) -> int:
    """The index of the first row in `mask` (rows absent sort last)."""
    return (mask & -mask).bit_length() if mask else 1 << 30


def _rows_comment(ids: tuple) -> str:
    """The comment naming a leaf's rows. An id the grammar could not have produced (a table
    built by hand) is written by `ascii`: one line of printable ASCII, so it ends no comment."""
    if not ids:
        return "no row"
    named = ", ".join(i if isinstance(i, str) and _ROW_ID.fullmatch(i) else ascii(i) for i in ids[:_MAX_COMMENT_IDS])
    more = len(ids) - _MAX_COMMENT_IDS
    return f"rows: {named}" + (f" and {more} more" if more > 0 else "")


def _number(value) -> str:
    if type(value) is int or (type(value) is float and value == value and abs(value) != float("inf")):
        return repr(value)
    raise _TooLarge  # a bound that is no plain number is left to the masks decider


@attrs.frozen
class _RowPositions:
    """A decision as the positions of its rows in the table, bound to rows per table."""

    positions: tuple[int, ...]


# Structure of a table -> (code, source, constants), or None if too large: the
# _MAX_GENERATED structures used most recently. Shared by every thread, under a lock: a
# look-up moves its entry to the end and a store may evict the first, several steps that
# no other thread may interleave with. An entry is stored only once complete, so a reader
# finds all of it or nothing. Code is generated outside the lock: two threads may both
# generate one structure's code first; both results are complete and equal, and the last
# one stored stays. (A plain dict needs no lock for that: CPython keeps each of its
# operations whole, with the GIL and without it, which the masks decider's memo and
# engine.core.coder rely on; an OrderedDict's look-up with move_to_end is two.)
_GENERATED: collections.OrderedDict = collections.OrderedDict()
_GENERATED_LOCK = threading.Lock()
_MAX_GENERATED = 256
_UNSEEN = object()
# Filename of generated source -> {line number: ids of the rows that line decides}; kept,
# as its source is in linecache, for as long as the process lives (tables may outlive
# their cache entry).
_ROWS_BY_LINE: dict = {}


def clear_generated():
    """Forget the generated code of every table, and every other source compiled
    (engine.core.codegen), as a fresh process starts (for measuring)."""
    with _GENERATED_LOCK:
        _GENERATED.clear()
    codegen.forget_compiled()


def rows_at(filename: str, line: int) -> tuple[str, ...] | None:
    """The ids of the rows that line `line` of the generated source `filename` decides.

    For a tool that holds a traceback or profile entry: () when the line decides that no
    row matches, None when it is no `return` of a generated table (a test of a column, or
    not infuse's source at all).

    Example:
        frame = traceback.extract_tb(error.__traceback__)[-1]
        rows_at(frame.filename, frame.lineno)  # ('push.initial',)
    """
    return _ROWS_BY_LINE.get(filename, {}).get(line)


def _structure(table: CheckedTable) -> tuple:
    """What the generated code depends on: equal for a payer variant's unchanged tables.
    Row ids are part of it because the source names them in comments."""
    ranked = table.policy == "priority"
    return (table.name, table.policy, table.inputs, table.input_types, table.priority,
            tuple((row.id, row.predicates, row.outputs[:1] if ranked else ()) for row in table.rows))


def _recall(key: tuple):
    """The generated entry for `key` (now the most recently used), or _UNSEEN."""
    with _GENERATED_LOCK:
        generated = _GENERATED.get(key, _UNSEEN)
        if generated is not _UNSEEN:
            _GENERATED.move_to_end(key)
        return generated


def _remember(key: tuple, generated):
    """Store a complete entry, forgetting the least recently used one beyond the bound."""
    with _GENERATED_LOCK:
        _GENERATED[key] = generated
        _GENERATED.move_to_end(key)  # a store over another thread's entry moves it too
        while len(_GENERATED) > _MAX_GENERATED:
            _GENERATED.popitem(last=False)


def _generated(table: CheckedTable, indexes_of) -> tuple | None:
    """The compiled code of a table's decision tree, its source and its constants; shared by
    every table of the same structure and registered in linecache for tracebacks."""
    key = _structure(table)
    generated = _recall(key)
    if generated is not _UNSEEN:
        return generated
    writer = _TreeWriter(table, indexes_of())
    try:
        source = writer.source()
    except _TooLarge:
        generated = None
    else:
        filename = f"<infuse table {table.name} {hashlib.sha256(source.encode()).hexdigest()[:12]}>"
        _ROWS_BY_LINE[filename] = writer.rows_by_line
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        generated = (compile(source, filename, "exec"), source, writer.names)
    _remember(key, generated)
    return generated


class CompiledTable:
    """Decides a table through a generated decision tree; same answers as ReferenceTable.

    `decide(values)` takes a mapping of column values (a column it lacks is a missing
    value). It is the generated function itself (an instance attribute), so a call costs
    no bound-method lookup; `source` holds its text for tests and debugging (None when the
    table is too large for a tree and is decided by `decide_by_masks`, the per-column
    indexes the tree is built from).

    Threads may share a table: once constructed, everything a decision reads is complete,
    and what a decision writes (the memo) is only ever added to, whole.
    """

    def __init__(self, table: CheckedTable):
        self.table = table
        self.columns = table.inputs
        self._indexes = None
        self.all_rows = (1 << len(table.rows)) - 1
        self.memo: dict = {}
        generated = _generated(table, lambda: self.indexes)
        if generated is None:
            # The masks decider reads the indexes at every decision: build them now (trying
            # the tree may have already), while no other thread can see this table, rather
            # than at a first decision that threads may reach together.
            _ = self.indexes
            self.decide, self.source = self.decide_by_masks, None
            return
        code, self.source, constants = generated
        namespace = {name: tuple(table.rows[i] for i in value.positions) if isinstance(value, _RowPositions) else value
                     for name, value in constants.items()}
        exec(code, namespace)
        self.decide = namespace["decide"]

    @property
    def indexes(self) -> tuple:
        """One index per input column: a value's (or a segment's) mask of accepting rows.

        Built whole, then published by one attribute store, so that a reader in another
        thread sees none or all of them, never a list still being filled (a key zipped from
        a short one would drop columns and match wrong rows). A table with a tree builds
        them only for its first generation, or here when `decide_by_masks` is called
        directly; two threads doing so at once each build an equal, complete tuple.
        """
        indexes = self._indexes
        if indexes is None:
            indexes = self._indexes = column_indexes(self.table)
        return indexes

    def decide_by_masks(self, values) -> tuple:
        """The decision from the column masks, memoised per combination of buckets.

        Threads share the memo: a decision is a finished tuple before it is stored, and a
        dict's `get` or store is atomic (see _GENERATED), so a reader finds a whole decision
        or computes it again; the size check and the store together are not, so threads may
        pass the cap by a few entries.
        """
        key = tuple(index.bucket(values.get(column)) for column, index in zip(self.columns, self.indexes, strict=True))
        decision = self.memo.get(key)
        if decision is None:
            mask = self.all_rows
            for column_mask in key:
                mask &= column_mask
            matched = []
            while mask:
                low = mask & -mask
                matched.append(self.table.rows[low.bit_length() - 1])
                if self.table.policy in ("first", "unique"):
                    break
                mask ^= low
            decision = apply_policy(self.table, matched)
            if len(self.memo) < 65536:
                self.memo[key] = decision
        return decision


def compiled_unit_offsets(rule: CheckedUnits, counted: int) -> list[int]:
    """Closed form of reference_unit_offsets."""
    remaining = counted - rule.after - rule.bar
    if remaining <= 0:
        return []
    count = (remaining - 1) // rule.period + 1
    first = rule.after + rule.bar + 1
    return list(range(first, first + count * rule.period, rule.period))
