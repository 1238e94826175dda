"""`infuse code INPUT --spark [MASTER] -o OUTPUT`: code a Parquet file or folder on Spark.

For users who do not write PySpark: the input is read by Spark (a Parquet file, a folder of
them, or any path Spark reads, such as hdfs:// or s3a://), coded by
engine.cluster.spark.code_dataframe keyed by the encounter's id, and written by Spark as a
Parquet dataset (a folder of part files) at OUTPUT. A local OUTPUT is written beside it under
a temporary name and renamed into place once complete, as `-o` is on the ordinary path.
Input with fewer partitions than the master has cores (one small file) is spread over them.
"""
from __future__ import annotations

import importlib
import os
import shutil
import sys
import time
import warnings

from engine.cli.common import EXIT_OK, EXIT_OUTPUT, EXIT_REJECTED, Unusable, fail

DEFAULT_MASTER = "local[*]"


def run(args) -> int:
    try:
        _check_arguments(args)
        spark_module = _spark_module()
    except Unusable as error:
        return fail(str(error))
    from pyspark.sql import SparkSession

    # pyspark 4.x warns on pandas 3 at each mapInArrow; nothing here goes through pandas.
    warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas", FutureWarning)

    local = args.spark.startswith("local")
    builder = SparkSession.builder.master(args.spark).appName("infuse code")
    if local:  # the workers run this Python, where infuse is installed, unless told otherwise
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = builder.config("spark.ui.showConsoleProgress", "false").getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    started = time.monotonic()
    try:
        try:
            frame = spark.read.parquet(args.path)
            coded = spark_module.code_dataframe(_spread(frame, spark), args.ruleset, args.payer, None, args.engine)
        except spark_module.ColumnError as error:
            return fail(f"{args.path}: {error}")
        except Exception as error:  # a missing or unreadable input (AnalysisException), a bad ruleset
            return fail(_one_line(error))
        target = args.output
        try:
            if "://" in target:
                coded.write.mode("overwrite").parquet(target)
            else:
                _write_local(coded, target)
        except Exception as error:  # Spark's own (Py4JJavaError), OSError renaming
            print(f"infuse: cannot write {target}: {_one_line(error)}", file=sys.stderr)
            return EXIT_OUTPUT
        counted = spark.read.parquet(target).selectExpr("count(*)", "count(error)").first()
    finally:
        spark.stop()
    records, rejected = counted[0], counted[1]
    seconds = time.monotonic() - started
    print(f"infuse: {records:,} record{'' if records == 1 else 's'}: {records - rejected:,} coded, "
          f"{rejected:,} rejected, {seconds:.1f} s on Spark {args.spark}", file=sys.stderr)
    return EXIT_REJECTED if rejected else EXIT_OK


def _check_arguments(args) -> None:
    if args.output is None or not args.output.lower().endswith(".parquet"):
        raise Unusable("--spark writes a Parquet dataset: name it with -o OUTPUT.parquet")
    if args.format:
        raise Unusable(f"--format {args.format} is for text output; --spark writes Parquet")
    if args.jobs:
        raise Unusable("--jobs is for the local worker processes; with --spark the master decides (local[N])")
    folder = os.path.dirname(os.path.abspath(args.output))
    if "://" not in args.output and not os.path.isdir(folder):
        raise Unusable(f"cannot write {args.output}: no folder {folder}")


def _spark_module():
    try:
        return importlib.import_module("engine.cluster.spark")
    except ModuleNotFoundError as error:
        if error.name is None or error.name.partition(".")[0] not in ("pyspark", "pyarrow", "pandas"):
            raise
        raise Unusable("--spark needs pyspark and pyarrow; install them with: pip install 'infuse[spark]'") from None


def _spread(frame, spark):
    """`frame`, repartitioned over the cores when it has fewer partitions (one small file)."""
    cores = spark.sparkContext.defaultParallelism
    return frame.repartition(cores) if frame.rdd.getNumPartitions() < cores else frame


def _write_local(coded, target: str) -> None:
    """Write `coded` at `target` whole or not at all: into a folder beside it, then renamed."""
    folder, name = os.path.split(os.path.abspath(target))
    temp = os.path.join(folder, f".{name}.infuse-spark-{os.getpid()}.part")
    old = temp + ".old"
    try:
        coded.write.mode("overwrite").parquet(temp)
        if os.path.lexists(target):
            os.rename(target, old)
        os.rename(temp, target)
    finally:
        for leftover in (temp, old):
            if os.path.isdir(leftover) and not os.path.islink(leftover):
                shutil.rmtree(leftover, ignore_errors=True)
            elif os.path.lexists(leftover):
                os.remove(leftover)


def _one_line(error: Exception) -> str:
    text = " ".join(str(error).split())
    return text if len(text) <= 400 else text[:400] + " ..."
