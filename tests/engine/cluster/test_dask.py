"""engine.dask (engine.cluster.dask) on a LocalCluster of two worker processes: a few thousand
encounters give, row for row by key, what `infuse code` gives (rejected rows included, every
payer, a payer for all), as a DataFrame and as a Bag; each worker builds its Coder once; the
columns are checked before anything is computed.

Marked `dask` (deselect with `-m "not dask"`); skipped when dask or distributed is missing."""
from __future__ import annotations

import json

import pytest

dd = pytest.importorskip("dask.dataframe")
db = pytest.importorskip("dask.bag")
distributed = pytest.importorskip("distributed")
pa = pytest.importorskip("pyarrow")
pd = pytest.importorskip("pandas")

from engine.cluster import partitions  # noqa: E402
from engine.dask import ColumnError, code_bag, code_dataframe  # noqa: E402
from tests.engine.cluster.comparison import assert_same, cli_records, encounters, write_inputs  # noqa: E402

pytestmark = pytest.mark.dask


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as connected:
        yield connected


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    return write_inputs(tmp_path_factory.mktemp("dask"), encounters(3000))


def _rows(frame: pd.DataFrame) -> list[dict]:
    return pa.Table.from_pandas(frame, preserve_index=False).to_pylist()


def test_a_dataframe_codes_as_infuse_code_does_row_for_row(client, inputs):
    folder, found, jsonl, parquet = inputs
    frame = dd.read_parquet(parquet, dtype_backend="pyarrow").repartition(npartitions=6)
    coded = code_dataframe(frame).compute()
    assert list(coded.columns) == ["id", "ruleset", "lines", "findings", "error"]
    counts = assert_same(_rows(coded), found, cli_records(jsonl, folder))
    assert counts["errors"] >= 70 and counts["results"] >= 2800


def test_a_payer_for_all_codes_as_the_option_does(client, inputs):
    folder, found, jsonl, parquet = inputs
    frame = dd.from_pandas(pd.read_parquet(parquet, dtype_backend="pyarrow").head(600), npartitions=3)
    rows = _rows(code_dataframe(frame, payer="commercial").compute())
    assert_same(rows, found[:600], cli_records(jsonl, folder, "--payer", "commercial")[:600])


def test_a_column_the_ruleset_does_not_declare_raises_its_finding_as_in_json_lines(client, inputs):
    """The 2026 ruleset watches the encounter for undeclared fields: a misspelt column is sent
    to the workers with the others, so that it is reported as it is for the same record in JSON."""
    frame = pd.read_parquet(inputs[3], dtype_backend="pyarrow").head(40)
    frame["payor"] = "medicare"
    rows = _rows(code_dataframe(dd.from_pandas(frame, npartitions=2)).compute())
    coded = [row for row in rows if row["error"] is None]
    assert coded and all(any(f["id"] == "undeclared-field" and f["rule"] == "input/encounter"
                             and f["message"].endswith("(payor: did you mean 'payer'?)") for f in row["findings"])
                         for row in coded)


def test_a_bag_of_records_codes_as_infuse_code_does(client, inputs):
    folder, found, jsonl, parquet = inputs
    bag = db.read_text(str(jsonl), blocksize=200_000).map(json.loads)
    assert_same(code_bag(bag).compute(), found, cli_records(jsonl, folder))


def test_each_worker_builds_its_coder_once(client, inputs):
    job = partitions.Job.of(None, engine="reference")
    frame = dd.read_parquet(inputs[3], dtype_backend="pyarrow").repartition(npartitions=8)
    counted = frame.map_partitions(_count, job, meta={"pid": "int64", "builds": "int64", "rows": "int64"}).compute()
    assert len(counted) == 8 and counted["rows"].sum() == 3000
    assert counted["pid"].nunique() <= 2 and set(counted["builds"]) == {1}


def _count(frame, job):
    table = pa.Table.from_pandas(frame, preserve_index=False)
    (row,) = partitions.code_counting_builds(iter(table.to_batches()), job)
    return row.to_pandas()


def test_columns_that_cannot_carry_the_input_are_refused_before_anything_runs(client):
    frame = dd.from_pandas(pd.DataFrame({"id": [1], "date": ["2026-01-02"]}), npartitions=1)
    with pytest.raises(ColumnError, match="column 'id': expected text; got int64"):
        code_dataframe(frame)
