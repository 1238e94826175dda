"""Coding a Dask DataFrame (or Bag) of encounters (the extra infuse[dask]: dask[dataframe],
distributed and pyarrow), with the batch function Spark uses (engine.cluster.partitions).

Each partition becomes an Arrow table and is coded by the worker process's Coder, built once
per process from the ruleset text sent with the graph. The output keeps the partitions and
their index: one row per input row, the key column as the input has it, then `ruleset`,
`lines`, `findings` and `error` as Arrow-backed columns (pandas.ArrowDtype).

Give the nested columns as Arrow types (`dd.read_parquet(path, dtype_backend="pyarrow")`) and
the columns are checked before anything is computed; an object column (`dd.read_parquet`'s
default for lists) is typed by pyarrow partition by partition. Dask's `dataframe.convert-string`
turns object columns made from Python lists (dd.from_pandas) into text: code those with
`dask.config.set({"dataframe.convert-string": False})`, or as a Bag of dicts with `code_bag`.

Example:
    from engine.dask import code_dataframe
    coded = code_dataframe(dd.read_parquet("claims/", dtype_backend="pyarrow"), ruleset="rulesets/")
    coded.to_parquet("coded/")
"""
from __future__ import annotations

import os

import pandas as pd
import pyarrow as pa

from engine.cluster.partitions import (ColumnError, Job, check_columns, code_batch, coder_for,  # noqa: F401
                                       columns_to_send, output_schema)
from engine.io.batch import code_record


def code_dataframe(df, ruleset: str | os.PathLike | None = None, payer: str | None = None,
                   key: str | None = None, engine: str = "compiled"):
    """Code every row of the dask DataFrame `df` (see engine.cluster.spark.code_dataframe for
    the arguments); a lazy dask DataFrame of output rows with `df`'s partitions and index.

    Raises:
        ColumnError: before anything is computed, as engine.cluster.spark.code_dataframe.
    """
    job = Job.of(ruleset, engine, payer, key)
    check_columns(pa.Schema.from_pandas(df._meta, preserve_index=False), job)
    selected = df[columns_to_send(job, df.columns)]
    return selected.map_partitions(code_partition, job, meta=_meta(df._meta[job.key]), align_dataframes=False)


def code_partition(frame: pd.DataFrame, job: Job) -> pd.DataFrame:
    """One output row per row of the pandas DataFrame `frame`, with its index and key column."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    coded = [code_batch(batch, job) for batch in table.to_batches()]
    rest = pa.Table.from_batches(coded, schema=output_schema(table.schema.field(job.key))).drop_columns([job.key])
    out = rest.to_pandas(types_mapper=pd.ArrowDtype)
    out.index = frame.index
    out.insert(0, job.key, frame[job.key])
    return out


def _meta(key: pd.Series) -> pd.DataFrame:
    empty = output_schema(pa.field(key.name, pa.string())).empty_table().drop_columns([key.name])
    meta = empty.to_pandas(types_mapper=pd.ArrowDtype)
    meta.insert(0, key.name, key.iloc[:0])
    return meta


def code_bag(bag, ruleset: str | os.PathLike | None = None, payer: str | None = None, key: str | None = None,
             engine: str = "compiled"):
    """Code a dask Bag of encounter dicts (as JSON reads them: `db.read_text(...).map(json.loads)`);
    a Bag of output dicts as the DataFrame's rows: `key` (the record's, None when it has none;
    `key` None: the encounter's id field the ruleset declares),
    then `ruleset`, `lines`, `findings` for a result or `error` for a rejected record."""
    job = Job.of(ruleset, engine, payer, key)
    return bag.map_partitions(_code_records, job)


def _code_records(records, job: Job) -> list[dict]:
    coder = coder_for(job)
    out = []
    for record in records:
        coded = code_record(coder, 0, record)
        row = {job.key: record.get(job.key) if isinstance(record, dict) else None,
               "ruleset": None, "lines": None, "findings": None, "error": None}
        row.update((name, coded[name]) for name in ("ruleset", "lines", "findings", "error") if name in coded)
        out.append(row)
    return out
