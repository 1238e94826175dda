"""Parquet in and out of a batch, through pyarrow (the optional extra infuse[parquet]).

Claims data sits in warehouses as Parquet, one row per encounter with each kind of event the
ruleset declares as a list of structs (encounter_schema, from the ruleset's input). A batch
reads such a file a row batch at a time, never whole, and each batch's rows become the very
dicts a JSONL line decodes to, so every check and error path is the one JSONL input has.
Only this module touches Arrow data, in the batch's own process: a worker gets the rows as
dicts and hands back the output records as JSONL (engine.io.batch), so it never imports
pyarrow, which would cost each worker some 50 MB.
Two things differ from JSON and are undone on the way: a field a row leaves empty is null in
Parquet but absent in the contract (which rejects null), so null fields are dropped; and a
warehouse keeps dates and times as date and timestamp columns, which become ISO text (a
timestamp with a time zone keeps its offset, so a UTC-adjusted column gives UTC times).

Results go out one row per output record in RESULT_SCHEMA: results and error records share
it, each leaving the other's columns null, and rows are gathered into row groups of about
ROW_GROUP_BYTES.

Example:
    with open_source("claims.parquet") as source, atomic_output("coded.parquet") as out:
        batch.code_chunks(source.chunks, out, batch.ChunkCoder(engine.load(), "parquet"),
                          batch.CoderSpec(None), jobs=2, spawn=True)
"""
from __future__ import annotations

import contextlib
import datetime
import io
import json
import os
import sys
from collections.abc import Iterator

import attrs

_OURS_TO_CHOOSE = "ARROW_DEFAULT_MEMORY_POOL" not in os.environ and "pyarrow" not in sys.modules
if _OURS_TO_CHOOSE and sys.platform.startswith("linux"):
    # Arrow's pool is chosen once, when pyarrow first allocates, and for all of Arrow's own
    # allocations (the Parquet reader's and writer's included) only by this variable:
    # pa.set_memory_pool later covers only what Python asks for. mimalloc, the default here,
    # keeps what it freed; jemalloc returns it (bench/RESULTS.md, "Batch overhead": 200k rows
    # in and out, `--jobs 2`, summed RSS 253 MB with jemalloc chosen so, 314-320 MB with
    # jemalloc or the C library's malloc set from Python). Forked workers inherit the choice.
    os.environ["ARROW_DEFAULT_MEMORY_POOL"] = "jemalloc"

import pyarrow as pa  # noqa: E402 (the pool is chosen before)
import pyarrow.json as pa_json  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from dsl.checked import CheckedInput
from engine.core.result import Line
from engine.io import output, records
from engine.io.render import encodable

if _OURS_TO_CHOOSE and pa.default_memory_pool().backend_name != "jemalloc":  # not Linux, or built without it
    pa.set_memory_pool(pa.system_memory_pool())  # what Python allocates, at least

READ_BUFFER_BYTES = 2**20
"""Column data read at a time: a row group's column chunks are streamed in pieces this size
instead of read whole, so a file written as one huge row group reads in bounded memory."""

ROW_GROUP_BYTES = 8 * 2**20
"""Coded rows held before a row group is written: large enough for readers (some 13,000 rows of
typical results, 3% more file than 32 MB groups), small for memory (the parent holds them)."""

_TEXT_LIST = pa.list_(pa.string())

_COLUMN_TYPES = {"text": pa.string(), "enum": pa.string(), "id": pa.string(), "date": pa.string(),
                 "time": pa.string(), "bool": pa.bool_(), "number": pa.float64()}
"""The Parquet type of each kind of declared field. A number is float64, which holds every JSON
number (an int64 column reads the same way: the contract takes whole numbers either way)."""


def encounter_schema(declared: CheckedInput) -> pa.Schema:
    """The encounter contract of a ruleset (its `input`) as Parquet columns: each encounter
    field a column, each kind of event a list of structs of its fields under the kind's key.

    Any file whose columns carry these names reads the same way: other columns are passed on
    as unknown JSON fields are (not read; a ruleset that watches for undeclared fields raises
    its finding for a value in one), a date or timestamp column stands for its ISO text, and a
    value of the wrong type is rejected by path."""
    return pa.schema([*_columns(declared.fields),
                      *((kind.key, pa.list_(pa.struct(_columns(kind.fields)))) for kind in declared.kinds)])


def _columns(fields) -> list[tuple[str, pa.DataType]]:
    return [(field.name, _COLUMN_TYPES[field.type.kind]) for field in fields]


_LISTED = Line.administrations.__name__  # its slot: a rename of the field breaks here, not in the files written
"""The result contract's name for the events a line or a finding stands for (engine.core.result)."""

RESULT_SCHEMA = pa.schema([
    ("line", pa.int64()),  # error records: the number of the input row
    ("encounter", pa.string()),
    ("ruleset", pa.struct([("name", pa.string()), ("version", pa.string()), ("digest", pa.string())])),
    ("lines", pa.list_(pa.struct([
        ("code", pa.string()), ("units", pa.int64()), ("modifiers", _TEXT_LIST), ("date", pa.string()),
        (_LISTED, _TEXT_LIST), ("rules", _TEXT_LIST),
    ]))),
    ("findings", pa.list_(pa.struct([
        ("id", pa.string()), ("severity", pa.string()), (_LISTED, _TEXT_LIST),
        ("message", pa.string()), ("rule", pa.string()), ("reference", pa.string()),
    ]))),
    ("error", pa.struct([("path", pa.string()), ("message", pa.string())])),
])
"""One row per output record: a result fills encounter, ruleset, lines and findings; an error
record fills line, encounter (null when the row had no readable id) and error."""

_UNREADABLE = (ValueError, OverflowError, pa.ArrowException)
"""What pyarrow raises for a value Python cannot hold (a nanosecond timestamp, a date past 9999)."""


@attrs.frozen
class Rows:
    """A record batch of encounters, turned into dicts only when iterated, or when pickled for
    a worker: it travels as the tuple of its rows, which needs no pyarrow to read, and until
    then it is held as Arrow data (a chunk of 2,000 typical rows: 0.8 MB, against 6.5 MB of dicts)."""

    arrow: pa.RecordBatch

    def __len__(self) -> int:
        return self.arrow.num_rows

    def __reduce__(self) -> tuple:
        return tuple, (tuple(self),)

    def __iter__(self) -> Iterator[dict | records.Unreadable]:
        try:
            rows = self.arrow.to_pylist()
        except _UNREADABLE:  # one value spoils the whole batch: read row by row to find it
            yield from map(self._row, range(self.arrow.num_rows))
            return
        yield from map(_readable, rows)

    def _row(self, index: int) -> dict | records.Unreadable:
        try:
            (row,) = self.arrow.slice(index, 1).to_pylist()
        except _UNREADABLE as error:
            return records.Unreadable(f"the row cannot be read: {error}")
        return _readable(row)


def _readable(row: dict) -> dict | records.Unreadable:
    try:
        return _present(row)
    except ValueError as error:  # a nanosecond timestamp that pandas, if installed, let through
        return records.Unreadable(f"the row cannot be read: {error}")


def _present(value: object) -> object:
    """`value` as JSON would have it: null struct fields dropped, dates and times as ISO text.

    A null inside a list stays, so that `administrations: [null]` is rejected at its index.
    """
    kind = type(value)
    if kind is dict:
        return {key: item if type(item) in _PLAIN else _present(item)
                for key, item in value.items() if item is not None}
    if kind is list:
        return [item if type(item) in _PLAIN else _present(item) for item in value]
    if isinstance(value, datetime.date):  # datetime.datetime too
        if type(value) not in _DATES:  # pandas.Timestamp: pyarrow's nanoseconds when pandas is installed
            if value.nanosecond:  # as without pandas, where pyarrow refuses the value
                raise ValueError(f"Nanosecond resolution timestamp {value} cannot be held to the microsecond")
            value = value.to_pydatetime()
        return value.isoformat()
    return value


_DATES = frozenset({datetime.date, datetime.datetime})
"""The types of dates and times pyarrow gives (a pandas.Timestamp is neither: see _present)."""

_PLAIN = frozenset({str, bool, int, float})
"""Values `_present` keeps as they are, tested first: a third less time per row."""


def open_source(path: str) -> records.Source:
    """The encounters of the Parquet file at `path`, in chunks of records.CHUNK_LINES rows.

    Raises:
        records.InputError: the file cannot be opened or is not Parquet; or later, from the
            chunks, a row group turns out unreadable.
    """
    try:
        # pre_buffer, for high-latency stores, holds more of a row group at once: 30-40 MB more here.
        file = pq.ParquetFile(path, pre_buffer=False, buffer_size=READ_BUFFER_BYTES)
    except (OSError, pa.ArrowException) as error:
        raise records.InputError(f"cannot read {path}: {_one_line(error)}") from None
    return records.Source(_chunks(file, path), file.metadata.num_rows, file)


def _chunks(file: pq.ParquetFile, path: str) -> Iterator[records.Chunk]:
    # Without threads: a batch of a few thousand rows gains nothing from them, and each thread's
    # allocations are memory held.
    batches, first = file.iter_batches(batch_size=records.CHUNK_LINES, use_threads=False), 1
    while True:
        try:
            rows = next(batches, None)
        except (OSError, pa.ArrowException) as error:
            raise records.InputError(f"cannot read {path}: {_one_line(error)}") from None
        if rows is None:
            return
        yield records.Chunk(first, Rows(rows), rows.num_rows)
        first += rows.num_rows


def _one_line(error: Exception) -> str:
    """pyarrow's message for `error`, which may run over several lines, on one."""
    return " ".join(str(error).split())


def record_batch(records: list[dict]) -> pa.RecordBatch:
    """Output records (results and error records) as rows of RESULT_SCHEMA."""
    try:
        return pa.RecordBatch.from_pylist(records, schema=RESULT_SCHEMA)
    except UnicodeEncodeError:  # a lone surrogate that JSON input let into an echoed id
        return pa.RecordBatch.from_pylist([_escaped(record) for record in records], schema=RESULT_SCHEMA)


def _escaped(value: object) -> object:
    """`value` with every string made encodable, a lone surrogate written as its escape."""
    if isinstance(value, str):
        return encodable(value)
    if isinstance(value, dict):
        return {key: _escaped(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_escaped(item) for item in value]
    return value


_RESULT_JSON = pa_json.ParseOptions(explicit_schema=RESULT_SCHEMA, unexpected_field_behavior="ignore")
"""Fields as `record_batch` takes them: those RESULT_SCHEMA lacks are left out, missing ones null."""


def read_results(jsonl: bytes) -> pa.Table:
    """Output records written as JSONL (engine.io.render, "jsonl"), as rows of RESULT_SCHEMA.

    Arrow's JSON reader makes them without a Python object per value: 2.9 µs a typical
    record in the batch's own process, against 9.4 for unpickling the records' dicts there
    and `record_batch` (bench/parquet_handover.py). What it refuses, such as a lone
    surrogate's escape, goes through `record_batch` as before (which writes that as text).
    """
    try:
        return pa_json.read_json(io.BytesIO(jsonl), parse_options=_RESULT_JSON,
                                 read_options=pa_json.ReadOptions(use_threads=False, block_size=max(len(jsonl), 1)))
    except pa.ArrowInvalid:
        return pa.Table.from_batches([record_batch([json.loads(line) for line in jsonl.splitlines()])])


@attrs.define
class ResultWriter:
    """Writes coded records to Parquet, gathered into row groups of about ROW_GROUP_BYTES
    (a row group per chunk would make thousands of small ones, which readers pay for)."""

    parquet: pq.ParquetWriter
    name: str  # of the file, for OutputError
    _pending: list[pa.Table] = attrs.field(init=False, factory=list)
    _size: int = attrs.field(init=False, default=0)

    def write(self, jsonl: bytes) -> None:
        """Take a chunk's output records, as JSONL (engine.io.batch.Coded.output)."""
        rows = read_results(jsonl)
        self._pending.append(rows)
        self._size += rows.nbytes
        if self._size >= ROW_GROUP_BYTES:
            self.flush()

    def flush(self) -> None:
        """Write the rows held so far as one row group."""
        if self._pending:
            with output.writing(self.name):
                self.parquet.write_table(pa.concat_tables(self._pending))
            self._pending, self._size = [], 0


@contextlib.contextmanager
def atomic_output(path: str) -> Iterator[ResultWriter]:
    """A Parquet file of results that appears at `path` complete or not at all (see
    engine.io.output.atomic_output); a failure to write it is an OutputError."""
    with output.atomic_output(path, binary=True) as file:
        with output.writing(path):
            parquet = pq.ParquetWriter(file, RESULT_SCHEMA, compression="zstd")
        try:
            writer = ResultWriter(parquet, path)
            yield writer
            writer.flush()
        finally:
            with output.writing(path):
                parquet.close()  # on failure too, so no footer is written later into a closed file
