"""The batch function of the cluster engines: a partition's Arrow record batches of encounters
in, one output row per input row out, coded by a Coder built once per worker process.

A cluster ships functions and their arguments to worker processes by pickling them. A Coder
is not sent that way (it holds generated code, and a pickled one would be rebuilt by every
task that unpickles it); what travels is a `Job`: the ruleset files (the rules, tens of
kilobytes, and the data files they load: a full national edit file is tens of megabytes),
the engine and payer, and the key column. On a worker, `coder_for(job)` writes the files
to a temporary folder once, loads them there and keeps the Coder in a module-level dict
keyed by their digest, so that every later task in that process finds it built.
The functions here are module-level, so a cluster pickles them by reference (this module's
name), never by value: a worker imports this module once and keeps its cache.

Each input row yields the row `Job.key` names (the caller's key, passed on as it is; by
default the field the ruleset declares as the encounter's id), and
the result's `ruleset`, `lines` and `findings`, or for a rejected row the `error` (path,
message), the other columns null. The CLI's error records number input lines; across
partitions a line number means nothing, so the key stands in for it.

Example:
    job = Job.of(None)                         # the bundled rulesets
    check_columns(table.schema, job)           # ColumnError before any work is sent out
    coded = code_batch(table.to_batches()[0], job)
"""
from __future__ import annotations

import collections
import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import attrs
import pyarrow as pa

from dsl.checked import CheckedInput
from dsl.loader import TESTS_DIR
from engine.core.coder import Coder
from engine.core.registry import Registry, bundled_root
from engine.io.batch import code_record
from engine.io.parquet import RESULT_SCHEMA, Rows, encounter_schema, record_batch


OUTPUT_COLUMNS = ("ruleset", "lines", "findings", "error")
"""The output columns after the key, as engine.io.parquet.RESULT_SCHEMA types them."""

_RESULT_FIELDS = pa.schema([RESULT_SCHEMA.field(name) for name in OUTPUT_COLUMNS])


class ColumnError(ValueError):
    """The input's columns cannot carry the ruleset's declared input (a required column is
    missing, or a column has a type no declared value can have); said before any work runs."""


@attrs.frozen
class Job:
    """What a worker needs to code: the ruleset files (path relative to the ruleset folder ->
    bytes: its rule files and the data files they load), the engine, the payer that overrides
    the records' and the key column. Picklable; `digest` names the files, for the workers' cache."""

    files: tuple[tuple[str, bytes], ...]
    engine: str = "compiled"
    payer: str | None = None
    key: str = attrs.field(kw_only=True)
    digest: str = attrs.field(init=False, eq=False, default=attrs.Factory(lambda job: job._digest(), takes_self=True))

    @classmethod
    def of(cls, ruleset: str | os.PathLike | None, engine: str = "compiled", payer: str | None = None,
           key: str | None = None) -> "Job":
        """A job over the rulesets at `ruleset` (a ruleset folder or a folder of year folders;
        default: the bundled ones): every file but their test cases (`tests/` folders). Checked
        here, on the driver, where it is (for diagnostics naming its files) and as shipped (as
        the workers will load it). `key` None: the encounter's id field, as the latest ruleset
        declares it."""
        root = Path(ruleset) if ruleset is not None else bundled_root()
        registry = Registry.from_path(root)
        files = tuple(sorted((path.relative_to(root).as_posix(), path.read_bytes()) for path in root.rglob("*")
                             if path.is_file() and TESTS_DIR not in path.relative_to(root).parts[:-1]))
        job = cls(files, engine, payer, key=key or registry.latest.base.input.id_field)
        coder_for(job)
        return job

    def _digest(self) -> str:
        digest = hashlib.sha256()
        for name, content in self.files:
            digest.update(name.encode() + b"\0" + content + b"\0")
        return digest.hexdigest()

    @property
    def cache_key(self) -> tuple:
        return self.digest, self.engine, self.payer

    @property
    def declared(self) -> CheckedInput:
        """The input of the latest ruleset: the fields that pick a ruleset by date and payer."""
        return coder_for(self).declared


_CODERS: dict[tuple, Coder] = {}
"""This process's Coders by Job.cache_key: built once per worker process, never pickled."""

BUILDS: collections.Counter = collections.Counter()
"""How many Coders this process has built from shipped text, by Job.cache_key (for the
tests and benchmarks: code_counting_builds)."""


def coder_for(job: Job) -> Coder:
    """The Coder of `job` in this process, built from its text on first use."""
    coder = _CODERS.get(job.cache_key)
    if coder is None:
        with tempfile.TemporaryDirectory(prefix=f"infuse-{job.digest[:12]}-") as folder:
            for name, content in job.files:
                path = Path(folder, name)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)
            coder = Coder(Registry.from_path(folder), job.engine, job.payer)
        BUILDS[job.cache_key] += 1
        coder = _CODERS.setdefault(job.cache_key, coder)
    return coder


def output_schema(key: pa.Field) -> pa.Schema:
    """The output's Arrow schema: the key column as the input has it, then OUTPUT_COLUMNS."""
    return pa.schema([key, *_RESULT_FIELDS])


_ACCEPTED = {
    "text": (pa.types.is_string, pa.types.is_large_string),
    "enum": (pa.types.is_string, pa.types.is_large_string),
    "id": (pa.types.is_string, pa.types.is_large_string),
    "date": (pa.types.is_string, pa.types.is_large_string, pa.types.is_date, pa.types.is_timestamp),
    "time": (pa.types.is_string, pa.types.is_large_string, pa.types.is_timestamp),
    "bool": (pa.types.is_boolean,),
    "number": (pa.types.is_integer, pa.types.is_floating, pa.types.is_decimal),
}
"""The Arrow types a column of each kind of declared field may have (engine.io.parquet reads
dates and timestamps as ISO text). A null column (all values missing) fits any field."""

_LISTS = (pa.types.is_list, pa.types.is_large_list)


def check_columns(schema: pa.Schema, job: Job) -> None:
    """Raise ColumnError naming every column of `schema` that cannot carry the declared input
    of `job`'s rulesets, and every required one it lacks; the key column must be there too."""
    problems = []
    if job.key not in schema.names:
        problems.append(f"no key column '{job.key}' (the column the output rows are matched by)")
    declared = job.declared
    problems += _check_fields(schema, declared.fields, "")
    for kind in declared.kinds:
        if kind.key not in schema.names:
            if kind.required:
                problems.append(f"missing required column '{kind.key}' (list of {kind.name} structs)")
            continue
        column = schema.field(kind.key).type
        if pa.types.is_null(column):
            continue
        if not any(test(column) for test in _LISTS) or not pa.types.is_struct(column.value_type):
            problems.append(f"column '{kind.key}': expected a list of {kind.name} structs; got {column}")
            continue
        members = pa.schema(list(column.value_type))
        problems += _check_fields(members, kind.fields, f"{kind.key}[].")
    if problems:
        raise ColumnError("the input's columns do not fit the ruleset's declared input:\n  " + "\n  ".join(problems)
                          + "\n(expected, as engine.io.parquet.encounter_schema gives them: "
                          + ", ".join(f"{f.name}: {f.type}" for f in encounter_schema(declared)) + ")")


def _check_fields(schema: pa.Schema, fields, prefix: str) -> list[str]:
    problems = []
    for field in fields:
        if field.name not in schema.names:
            if field.required:
                problems.append(f"missing required column '{prefix}{field.name}' ({field.type.kind})")
            continue
        got = schema.field(field.name).type
        if not pa.types.is_null(got) and not any(test(got) for test in _ACCEPTED[field.type.kind]):
            problems.append(f"column '{prefix}{field.name}': expected {_expected(field.type.kind)}; got {got}")
    return problems


def _expected(kind: str) -> str:
    return {"bool": "a boolean", "number": "a number", "date": "text (ISO date), a date or a timestamp",
            "time": "text (ISO date-time) or a timestamp"}.get(kind, "text")


def columns_to_send(job: Job, names: Iterable[str]) -> list[str]:
    """The columns of `names` to select before the data is sent to the workers, in input order:
    those the coding reads (the declared ones) and the key; all of them where the ruleset
    watches the encounter for undeclared fields, so that each other column raises its finding
    (`undeclared fields => finding`) as the same record in JSON Lines or Parquet does."""
    declared = job.declared
    if declared.undeclared:
        return list(names)
    wanted = {f.name for f in declared.fields} | {k.key for k in declared.kinds} | {job.key}
    return [name for name in names if name in wanted]


def code_batch(batch: pa.RecordBatch, job: Job) -> pa.RecordBatch:
    """One output row (output_schema) per row of `batch`, in order."""
    coder = coder_for(job)
    keys = batch.column(job.key)
    rows = Rows(batch if job.key in _declared_names(coder) else batch.drop_columns([job.key]))
    rest = record_batch([code_record(coder, 0, row) for row in rows]).select(OUTPUT_COLUMNS)
    return pa.RecordBatch.from_arrays([keys, *rest.columns], schema=output_schema(batch.schema.field(job.key)))


def _declared_names(coder: Coder) -> frozenset[str]:
    declared = coder.declared
    return frozenset({f.name for f in declared.fields} | {k.key for k in declared.kinds})


def code_batches(batches: Iterator[pa.RecordBatch], job: Job) -> Iterator[pa.RecordBatch]:
    """code_batch over a partition's batches: the function Spark's mapInArrow calls."""
    for batch in batches:
        yield code_batch(batch, job)


def code_table(table: pa.Table, job: Job) -> pa.Table:
    """code_batch over a whole Arrow table (a Dask partition); an empty table stays empty."""
    coded = [code_batch(batch, job) for batch in table.to_batches()]
    return pa.Table.from_batches(coded, schema=output_schema(table.schema.field(job.key)))



BUILDS_SCHEMA = "pid long, builds long, rows long"
"""The rows of code_counting_builds, as a Spark DDL schema."""


def code_counting_builds(batches: Iterator[pa.RecordBatch], job: Job) -> Iterator[pa.RecordBatch]:
    """code_batches, for the tests and benchmarks: codes a partition and yields one row instead
    of its output: this process's id, how many Coders of `job` it has built (BUILDS) and the
    rows coded. A worker that builds its Coder once shows 1 however many tasks it has run."""
    rows = sum(coded.num_rows for coded in code_batches(batches, job))
    yield pa.RecordBatch.from_pylist([{"pid": os.getpid(), "builds": BUILDS[job.cache_key], "rows": rows}])
