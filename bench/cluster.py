"""Spark local[2] against `infuse code --jobs 2` on the same encounters, with the split of
Spark's time into its stages (issue 12, part 6).

Generates COUNT typical-day encounters (bench.corpus.typical_day, in seeds of 50,000) as JSONL
and Parquet, then times, each as a whole process where a user would run it:

1. `infuse code big.jsonl --jobs 2 -o out.jsonl` and `infuse code big.parquet --jobs 2 -o out.parquet`;
2. `infuse code big.parquet --spark local[2] -o spark.parquet` (JVM start included);

and inside one Spark session (local[2], the input spread over 2 partitions):

3. JVM <-> Arrow <-> Python: the input read and sent through mapInArrow to Python and back
   unchanged, written to Spark's `noop` sink;
4. the same with code_dataframe instead of the identity: the difference is the coding;
5. code_dataframe written as Parquet;
6. the coding alone, in this process: engine.cluster.partitions.code_batch over the file's
   row batches on one core;
7. Coders built per Python worker over 8 tasks (code_counting_builds): 1 each means the
   per-worker cost is the coding, not ruleset reloads.

Usage: python bench/cluster.py [COUNT] [FOLDER]    (default 100000 /tmp/infuse-cluster-bench)
"""
from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import corpus  # noqa: E402
from engine.cluster import partitions  # noqa: E402
from engine.io.parquet import encounter_schema  # noqa: E402

SEED_SIZE = 50_000


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def generate(count: int, folder: Path) -> tuple[Path, Path]:
    jsonl, parquet = folder / "big.jsonl", folder / "big.parquet"
    if jsonl.exists() and parquet.exists() and pq.ParquetFile(parquet).metadata.num_rows == count:
        return jsonl, parquet
    schema = encounter_schema(partitions.Job.of(None).declared)
    with open(jsonl, "w", encoding="utf-8") as text, pq.ParquetWriter(parquet, schema, compression="zstd") as writer:
        for seed, start in enumerate(range(0, count, SEED_SIZE)):
            found = corpus.typical_day(min(SEED_SIZE, count - start), seed=seed)
            text.write("".join(json.dumps(e) + "\n" for e in found))
            writer.write_table(pa.Table.from_pylist(found, schema=schema))
    return jsonl, parquet


def timed_process(label: str, argv: list[str], results: dict) -> None:
    before = load()
    started = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True)
    seconds = time.monotonic() - started
    tail = [line for line in done.stderr.splitlines() if line.startswith("infuse:")]
    results[label] = {"seconds": seconds, "command": " ".join(argv), "status": done.returncode,
                      "load_before": before, "load_after": load(), "summary": tail[-1:] }
    print(f"{label:55} {seconds:8.1f} s   load {before} -> {load()}   {tail[-1:]}", flush=True)


def spark_stages(parquet: Path, folder: Path, count: int, results: dict) -> None:
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    from engine.spark import code_dataframe

    started = time.monotonic()
    spark = (SparkSession.builder.master("local[2]").appName("infuse bench")
             .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    results["spark session start"] = {"seconds": time.monotonic() - started}
    frame = spark.read.parquet(str(parquet)).repartition(2).cache()
    frame.count()  # read once: the stages below start from rows in the JVM

    def stage(label, make, sink):
        before = load()
        began = time.monotonic()
        sink(make())
        seconds = time.monotonic() - began
        results[label] = {"seconds": seconds, "per_encounter_us": seconds / count * 1e6,
                          "load_before": before, "load_after": load()}
        print(f"{label:55} {seconds:8.1f} s   {seconds / count * 1e6:7.1f} µs/encounter (2 cores)   "
              f"load {before} -> {load()}", flush=True)

    def noop(df):
        df.write.format("noop").mode("overwrite").save()

    stage("spark: JVM<->Arrow<->Python round trip (identity)", lambda: frame.mapInArrow(_identity, frame.schema), noop)
    stage("spark: code_dataframe, noop sink (first run)", lambda: code_dataframe(frame), noop)
    stage("spark: code_dataframe, noop sink (again)", lambda: code_dataframe(frame), noop)
    stage("spark: code_dataframe, written as Parquet", lambda: code_dataframe(frame),
          lambda df: df.write.mode("overwrite").parquet(str(folder / "stages.parquet")))
    job = partitions.Job.of(None, engine="compiled", payer=None, key="id")
    counted = (spark.read.parquet(str(parquet)).repartition(8)
               .mapInArrow(functools.partial(partitions.code_counting_builds, job=job), partitions.BUILDS_SCHEMA)
               .collect())
    per_worker = {}
    for row in counted:
        per_worker.setdefault(row.pid, {"tasks": 0, "builds": row.builds, "rows": 0})
        per_worker[row.pid]["tasks"] += 1
        per_worker[row.pid]["rows"] += row.rows
        per_worker[row.pid]["builds"] = max(per_worker[row.pid]["builds"], row.builds)
    results["spark: Coders built per Python worker (8 tasks)"] = per_worker
    print("spark: Coders built per Python worker over 8 tasks:", per_worker, flush=True)
    spark.stop()


def _identity(batches):
    yield from batches


def coding_alone(parquet: Path, count: int, results: dict) -> None:
    job = partitions.Job.of(None)
    before = load()
    began = time.monotonic()
    for batch in pq.ParquetFile(parquet).iter_batches(batch_size=10_000):
        partitions.code_batch(batch, job)
    seconds = time.monotonic() - began
    results["coding alone, one core (code_batch in this process)"] = {
        "seconds": seconds, "per_encounter_us": seconds / count * 1e6, "load_before": before, "load_after": load()}
    print(f"{'coding alone, one core (code_batch in this process)':55} {seconds:8.1f} s   "
          f"{seconds / count * 1e6:7.1f} µs/encounter (1 core)   load {before} -> {load()}", flush=True)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    folder = Path(sys.argv[2] if len(sys.argv) > 2 else "/tmp/infuse-cluster-bench")
    folder.mkdir(parents=True, exist_ok=True)
    infuse = str(Path(sys.executable).with_name("infuse"))
    results: dict = {"count": count, "cores": os.cpu_count(), "load_start": load(),
                     "date": time.strftime("%Y-%m-%dT%H:%M:%S")}
    jsonl, parquet = generate(count, folder)
    print(f"{count:,} encounters in {folder}; load {load()}", flush=True)
    timed_process("infuse code big.jsonl --jobs 2 -o out.jsonl",
                  [infuse, "code", str(jsonl), "--jobs", "2", "-o", str(folder / "out.jsonl")], results)
    timed_process("infuse code big.parquet --jobs 2 -o out.parquet",
                  [infuse, "code", str(parquet), "--jobs", "2", "-o", str(folder / "out.parquet")], results)
    timed_process("infuse code big.parquet --spark local[2] -o spark.parquet",
                  [infuse, "code", str(parquet), "--spark", "local[2]", "-o", str(folder / "spark.parquet")], results)
    spark_stages(parquet, folder, count, results)
    coding_alone(parquet, count, results)
    results["load_end"] = load()
    (folder / "results.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
