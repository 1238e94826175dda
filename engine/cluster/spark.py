"""Coding a Spark DataFrame of encounters (the extra infuse[spark]: pyspark and pyarrow).

`code_dataframe` checks the DataFrame's columns against the ruleset's declared input on the
driver, then codes with `mapInArrow`: each executor's Python worker gets the partition as
Arrow record batches and engine.cluster.partitions codes them with a Coder it builds once
per process from the ruleset text shipped with the job (never a pickled Coder, never a
reload per task). Every executor needs infuse and pyarrow installed (`pip install
'infuse[spark]'`, or ship a packed environment with `--archives`): the mapped function is
pickled by its module path, not by value.

The output has one row per input row: the key column as the input has it, `ruleset`
(name, version, digest), `lines` and `findings` for a result, `error` (path, message) for a
rejected row, the other columns null. The key column is by default the field the ruleset
declares as the encounter's id. `output_schema(key_type)` is the output's Spark schema.

Example:
    from engine.spark import code_dataframe
    coded = code_dataframe(spark.read.parquet("s3://claims/2026/"), ruleset="rulesets/")
    coded.write.parquet("s3://claims/coded-2026/")
"""
from __future__ import annotations

import functools
import os

from pyspark.sql import DataFrame
from pyspark.sql.pandas.types import from_arrow_schema, to_arrow_schema
from pyspark.sql.types import DataType, StringType, StructField, StructType

from engine.cluster.partitions import Job, check_columns, code_batches, columns_to_send, output_schema as arrow_output
from engine.cluster.partitions import ColumnError  # noqa: F401  (raised by code_dataframe)
from engine.core.registry import Registry


def output_schema(key_type: DataType = StringType(), key: str | None = None,
                  ruleset: str | os.PathLike | None = None) -> StructType:
    """The Spark schema of code_dataframe's output, its key column `key` of `key_type` (None:
    the encounter's id field the rulesets at `ruleset` declare, the bundled ones by default)."""
    import pyarrow as pa
    key = key or Registry.from_path(ruleset).latest.base.input.id_field
    from_arrow = from_arrow_schema(arrow_output(pa.field(key, pa.string())))
    return StructType([StructField(key, key_type), *from_arrow.fields[1:]])


def code_dataframe(df: DataFrame, ruleset: str | os.PathLike | None = None, payer: str | None = None,
                   key: str | None = None, engine: str = "compiled") -> DataFrame:
    """Code every row of `df` (one encounter a row, in the columns of
    engine.io.parquet.encounter_schema) with the rulesets at `ruleset` (a folder on the
    driver; default: the bundled ones), `payer`'s variant when given, each output row keyed
    by the column `key` (None: the encounter's id field the ruleset declares).

    Raises:
        ColumnError: before any job runs, when a required column is missing or a column's
            type cannot carry its declared field (the key column `key` must be there too).
        dsl.diagnostics.RulesetError: the ruleset has mistakes.
    """
    job = Job.of(ruleset, engine, payer, key)
    arrow = to_arrow_schema(df.schema)
    check_columns(arrow, job)
    selected = df.select(*(f"`{name}`" for name in columns_to_send(job, df.columns)))
    schema = output_schema(df.schema[job.key].dataType, job.key)
    return selected.mapInArrow(functools.partial(code_batches, job=job), schema)
