"""engine.spark (engine.cluster.spark) in Spark local[2]: a few thousand encounters coded with
mapInArrow give, row for row by key, what `infuse code` gives for the same records (rejected
rows included, every payer, --payer), the columns are checked before any job runs, each
Python worker builds its Coder once, and `infuse code --spark` writes the same rows.

Marked `spark` (deselect with `-m "not spark"`); skipped when pyspark or Java is missing."""
from __future__ import annotations

import functools
import os
import shutil
import sys

import pytest

pytest.importorskip("pyspark")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
if shutil.which("java") is None and "JAVA_HOME" not in os.environ:
    pytest.skip("Spark needs Java", allow_module_level=True)

from engine.cli import main  # noqa: E402
from engine.cluster import partitions  # noqa: E402
from engine.spark import ColumnError, code_dataframe, output_schema  # noqa: E402
from tests.engine.cluster.comparison import assert_same, cli_records, encounters, write_inputs  # noqa: E402

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark():
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession
    session = (SparkSession.builder.master("local[2]").appName("infuse tests")
               .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", "2").getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    return write_inputs(tmp_path_factory.mktemp("spark"), encounters(3000))


def _rows(frame) -> list[dict]:
    return frame.toArrow().to_pylist()


def test_a_dataframe_codes_as_infuse_code_does_row_for_row(spark, inputs):
    folder, found, jsonl, parquet = inputs
    frame = spark.read.parquet(str(parquet)).repartition(4)
    coded = code_dataframe(frame)
    assert coded.schema == output_schema()
    counts = assert_same(_rows(coded), found, cli_records(jsonl, folder))
    assert counts["errors"] >= 70 and counts["results"] >= 2800


def test_a_payer_for_all_codes_as_the_option_does(spark, inputs):
    folder, found, jsonl, parquet = inputs
    frame = spark.read.parquet(str(parquet)).limit(600).repartition(2)
    rows = _rows(code_dataframe(frame, payer="medicare"))
    assert_same(rows, found[:600], cli_records(jsonl, folder, "--payer", "medicare")[:600])


def test_each_python_worker_builds_its_coder_once(spark, inputs):
    """Eight tasks over two worker processes: two builds at most, one per process."""
    frame = spark.read.parquet(str(inputs[3])).repartition(8)
    job = partitions.Job.of(None)
    counted = frame.mapInArrow(functools.partial(partitions.code_counting_builds, job=job),
                               partitions.BUILDS_SCHEMA).collect()
    builds = {row.pid: row.builds for row in counted}
    assert len(counted) == 8 and sum(row.rows for row in counted) == 3000
    assert len(builds) <= 2 and all(count == 1 for count in builds.values())


def test_another_key_column_is_passed_on(spark, inputs):
    frame = spark.read.parquet(str(inputs[3])).limit(50).selectExpr("*", "concat('k-', id) as claim_key")
    rows = _rows(code_dataframe(frame, key="claim_key"))
    assert [row["claim_key"] for row in rows] == [f"k-{e['id']}" if "id" in e else None for e in inputs[1][:50]]


def test_columns_that_cannot_carry_the_input_are_refused_before_any_job(spark):
    frame = spark.createDataFrame([(1, "2026-01-02", ["x"])], "id long, date string, administrations array<string>")
    with pytest.raises(ColumnError) as caught:
        code_dataframe(frame)
    message = str(caught.value)
    assert "column 'id': expected text; got int64" in message
    assert "missing required column 'claim' (enum)" in message
    assert "column 'administrations': expected a list of administration structs" in message
    with pytest.raises(ColumnError, match="no key column 'claim_id'"):
        code_dataframe(frame, key="claim_id")


def test_the_command_line_codes_a_parquet_file_on_spark(spark, inputs, capsys):
    folder, found, jsonl, parquet = inputs
    out = folder / "coded.parquet"
    status = main(["code", str(parquet), "--spark", "local[2]", "-o", str(out)])
    assert status == 1  # some rejected
    assert "3,000 records:" in capsys.readouterr().err
    assert_same(pq.read_table(out).to_pylist(), found, cli_records(jsonl, folder))
    assert [p.name for p in folder.iterdir() if p.name.startswith(".coded")] == []


def test_the_command_line_wants_a_parquet_output(inputs, capsys):
    assert main(["code", str(inputs[3]), "--spark", "-o", "x.jsonl"]) == 2
    assert "--spark writes a Parquet dataset" in capsys.readouterr().err
