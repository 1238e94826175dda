"""Compiled decision tables: each table becomes a generated Python decision tree, so a
decision is a handful of comparisons, as if the table had been written out by hand.

Every column is first indexed into row bitmasks: discrete columns map each value named
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
become code. It is registered in `linecache` under `<infuse table NAME>` so tracebacks
and profiles show where a decision was made. A table whose tree would be unreasonably
large keeps the index-and-memo decider the tree is built from.
"""
from __future__ import annotations

import bisect
import hashlib
import linecache

import attrs

from dsl.acceptance import acceptance_masks, positions
from dsl.checked import OTHER, CheckedTable, CheckedUnits, Predicate
from engine.reference import apply_policy

_MAX_TREE_LINES = 20_000
# The tokenizer allows 100 indentation levels; a deeper tree keeps the masks decider.
_MAX_DEPTH = 80
_LITERAL_TYPES = (str, int, bool)


class _DiscreteIndex:
    __slots__ = ("masks", "other", "missing")

    def __init__(self, predicates: list[Predicate]):
        named = sorted({value for p in predicates for value in p.values}, key=repr)  # same source every run
        *masks, self.other, self.missing = acceptance_masks(predicates, [*named, OTHER, None])
        self.masks = dict(zip(named, masks))

    def bucket(self, value):
        if value is None:
            return self.missing
        return self.masks.get(value, self.other)

    def full(self) -> int:
        """The rows that accept every value of the column."""
        mask = self.other & self.missing
        for value_mask in self.masks.values():
            mask &= value_mask
        return mask


class _RangeIndex:
    __slots__ = ("points", "masks", "missing")

    def __init__(self, predicates: list[Predicate]):
        bounds = sorted({b for p in predicates for b in (*p.thresholds(), *p.values)})
        # Probe each bound and each open segment between bounds once: masks[2i] is the
        # segment below points[i], masks[2i+1] the bound itself, masks[-1] above the last.
        probes = []
        previous = None
        for bound in bounds:
            probes.append(bound - 1 if previous is None else (previous + bound) / 2)
            probes.append(bound)
            previous = bound
        probes.append((previous + 1) if previous is not None else 0)
        *self.masks, self.missing = acceptance_masks(predicates, [*probes, None])
        self.points = bounds

    def bucket(self, value):
        if value is None:
            return self.missing
        i = bisect.bisect_left(self.points, value)
        if i < len(self.points) and self.points[i] == value:
            return self.masks[2 * i + 1]
        return self.masks[2 * i]

    def full(self) -> int:
        mask = self.missing
        for segment_mask in self.masks:
            mask &= segment_mask
        return mask


class _TooLarge(Exception):
    """The decision tree would exceed the size or nesting the generator allows."""


class _TreeWriter:
    """Writes the decision tree of one table as Python source, in two forms of one tree:

    `decide_args(x0, x1, ...)` takes the input values in column order; `decide(values)`
    reads the columns it tests from a mapping by subscript, the fastest look-up, and
    hands a mapping that lacks one of them to `decide_args` with `.get` (missing: None).
    """

    def __init__(self, table: CheckedTable, indexes: list):
        self.table = table
        self.indexes = indexes
        self.full = [index.full() for index in indexes]
        self.first_hit = table.policy in ("first", "unique")
        self.names: dict = {}  # constant name -> object, the generated functions' globals
        self.leaves: dict = {}  # row mask -> name of its decision tuple
        self.position = {id(row): i for i, row in enumerate(table.rows)}
        self.body: list[tuple] = []  # (depth, statement), or (depth, None, column) to read a column

    def source(self) -> str:
        untested = tuple(range(len(self.indexes)))
        self._node((1 << len(self.table.rows)) - 1, untested, 0)
        lines = [f"def decide_args({', '.join(f'x{i}' for i in untested)}):"]
        lines.extend("    " * (entry[0] + 1) + entry[1] for entry in self.body if entry[1] is not None)
        lines.extend(["def decide(values):", "    try:"])
        for depth, statement, *column in self.body:
            if statement is None:
                statement = f"x{column[0]} = values[{self.table.inputs[column[0]]!r}]"
            lines.append("    " * (depth + 2) + statement)
        lines.extend(["    except KeyError:",
                      f"        return decide_args(*map(values.get, {self._constant(self.table.inputs)}))"])
        return "\n".join(lines) + "\n"

    def _emit(self, depth: int, text: str):
        if depth > _MAX_DEPTH or len(self.body) > _MAX_TREE_LINES:
            raise _TooLarge
        self.body.append((depth, text))

    def _node(self, mask: int, untested: tuple, depth: int):
        column = self._split_column(mask, untested)
        if column is None:
            self._emit(depth, f"return {self._leaf(mask)}")
            return
        rest = tuple(c for c in untested if c != column)
        variable = f"x{column}"
        self.body.append((depth, None, column))
        index = self.indexes[column]
        if isinstance(index, _RangeIndex):
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

    def _leaf(self, mask: int) -> str:
        """The name of the decision for the rows left (all of which match), held as row
        positions so that the generated code serves every table of the same structure."""
        name = self.leaves.get(mask)
        if name is None:
            rows = [self.table.rows[i] for i in positions(mask & -mask if self.first_hit else mask)]
            decision = _RowPositions(tuple(self.position[id(row)] for row in apply_policy(self.table, rows)))
            name = self.leaves[mask] = self._constant(decision)
        return name

    def _constant(self, value) -> str:
        name = f"_c{len(self.names)}"
        self.names[name] = value
        return name

    def _discrete_split(self, mask: int, index: _DiscreteIndex, variable: str, rest: tuple, depth: int):
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


def _lowest(mask: int) -> int:
    """The index of the first row in `mask` (rows absent sort last)."""
    return (mask & -mask).bit_length() if mask else 1 << 30


def _number(value) -> str:
    if type(value) is int or (type(value) is float and value == value and abs(value) != float("inf")):
        return repr(value)
    raise _TooLarge  # a bound that is no plain number is left to the masks decider


@attrs.frozen
class _RowPositions:
    """A decision as the positions of its rows in the table, bound to rows per table."""

    positions: tuple[int, ...]


# Structure of a table -> (code, source, constants), or None if too large. Shared by every
# thread: an entry is stored once complete, in one store, and read with one `get`, so a
# reader finds all of it or nothing. CPython keeps each dict operation whole, with the GIL
# (a look-up that another thread's change interrupts starts again) and without it (each
# dict locks itself). Two threads may both generate one structure's code first: both
# results are complete and equal, and the last one stored stays.
_GENERATED: dict = {}
_MAX_GENERATED = 256
_UNSEEN = object()


def clear_generated():
    """Forget the generated code of every table, as a fresh process starts (for measuring)."""
    _GENERATED.clear()


def _structure(table: CheckedTable) -> tuple:
    """What the generated code depends on: equal for a payer variant's unchanged tables."""
    ranked = table.policy == "priority"
    return (table.name, table.policy, table.inputs, table.input_types, table.priority,
            tuple((row.predicates, row.outputs[:1] if ranked else ()) for row in table.rows))


def _generated(table: CheckedTable, indexes_of) -> tuple | None:
    """The compiled code of a table's decision tree, its source and its constants; shared by
    every table of the same structure and registered in linecache for tracebacks."""
    key = _structure(table)
    generated = _GENERATED.get(key, _UNSEEN)  # not `in` then `[key]`: a clear() may come between
    if generated is not _UNSEEN:
        return generated
    writer = _TreeWriter(table, indexes_of())
    try:
        source = writer.source()
    except _TooLarge:
        generated = None
    else:
        filename = f"<infuse table {table.name} {hashlib.sha256(source.encode()).hexdigest()[:12]}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        generated = (compile(source, filename, "exec"), source, writer.names)
    if len(_GENERATED) >= _MAX_GENERATED:
        _GENERATED.clear()
    _GENERATED[key] = generated
    return generated


class CompiledTable:
    """Decides a table through a generated decision tree; same answers as ReferenceTable.

    `decide(values)` takes a mapping of column values (a missing column is a missing
    value); `decide_args(*values)` takes the values in the order of `columns`, for a
    caller that holds them apart. Both are the generated functions themselves (instance
    attributes), so a call costs no bound-method lookup; `source` holds their text for
    tests and debugging (None when the table is too large for a tree and is decided by
    `decide_by_masks`, the per-column indexes the tree is built from).

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
            self.decide, self.decide_args, self.source = self.decide_by_masks, self._decide_args_by_masks, None
            return
        code, self.source, constants = generated
        namespace = {name: tuple(table.rows[i] for i in value.positions) if isinstance(value, _RowPositions) else value
                     for name, value in constants.items()}
        exec(code, namespace)
        self.decide, self.decide_args = namespace["decide"], namespace["decide_args"]

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
            indexes = self._indexes = _column_indexes(self.table)
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

    def _decide_args_by_masks(self, *values) -> tuple:
        return self.decide_by_masks(dict(zip(self.columns, values)))


def _column_indexes(table: CheckedTable) -> tuple:
    """The index of each input column: by ranges for durations and numbers, else by value."""
    indexes = []
    for i, field_type in enumerate(table.input_types):
        predicates = [row.predicates[i] for row in table.rows]
        ranged = field_type.kind in ("duration", "number")
        indexes.append(_RangeIndex(predicates) if ranged else _DiscreteIndex(predicates))
    return tuple(indexes)


def compiled_unit_offsets(rule: CheckedUnits, counted: int) -> list[int]:
    """Closed form of reference_unit_offsets."""
    remaining = counted - rule.after - rule.part
    if remaining <= 0:
        return []
    count = (remaining - 1) // rule.period + 1
    return [rule.after + k * rule.period + rule.part + 1 for k in range(count)]
