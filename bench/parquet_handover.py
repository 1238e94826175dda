"""`python bench/parquet_handover.py`: what handing Parquet rows to a worker that has no pyarrow,
and taking its results back, costs the batch's own process, per record (issue 11, item 4).

The parent turns each chunk of Arrow rows into dicts and pickles them (engine.io.parquet.Rows),
and makes Arrow rows of each chunk's results. For the results, two ways are timed: the worker
hands back JSONL and Arrow's JSON reader reads it (engine.io.parquet.read_results, the way
taken), or the worker hands back the records' dicts pickled and the parent unpickles them and
calls `record_batch`. The parent holds a loaded Coder as `infuse code` does, so that the
garbage collector's full passes cost what they cost there. Best of `--rounds` over the first
`--chunks` chunks of the file; the two ways for results are checked to give equal tables first.

Usage:
    .venv/bin/python bench/parquet_handover.py [/tmp/c200k_1rg.parquet] [--chunks 20] [--rounds 3]
"""
from __future__ import annotations

import argparse
import itertools
import pickle
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.io import batch, parquet  # noqa: E402 (after the path)
import pyarrow as pa  # noqa: E402 (after engine.io.parquet has chosen Arrow's memory pool)
from engine.io.render import encode_records  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default="/tmp/c200k_1rg.parquet")
    parser.add_argument("--chunks", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    coder = batch.CoderSpec(None, cache=True).build()
    with parquet.open_source(args.path) as source:
        chunks = list(itertools.islice(source.chunks, args.chunks))
    jsonl, pickled = [], []
    for chunk in chunks:
        results = [batch.code_record(coder, number, row) for number, row in enumerate(chunk.records, chunk.first)]
        jsonl.append(encode_records(results, "jsonl"))
        pickled.append(pickle.dumps(results))
        assert parquet.read_results(jsonl[-1]).equals(pa.Table.from_batches([parquet.record_batch(results)]))
    del results
    # (what is timed, what is made first untimed) for each chunk; nothing is kept from one to the next
    ways = {
        "rows: to dicts (to_pylist, _present)": (lambda chunk, _: tuple(chunk.records), None),
        "rows: to dicts, pickled (as handed over)": (lambda chunk, _: pickle.dumps(chunk.records), None),
        "results: JSONL, read_results (taken)": (lambda _, text: parquet.read_results(text), lambda index: jsonl[index]),
        "results: dicts unpickled, record_batch": (lambda _, data: parquet.record_batch(pickle.loads(data)),
                                                   lambda index: pickled[index]),
        "results: record_batch alone (the worker's before)": (lambda _, records: parquet.record_batch(records),
                                                              lambda index: pickle.loads(pickled[index])),
    }
    best = dict.fromkeys(ways, float("inf"))
    for _ in range(args.rounds):
        for name, (way, made) in ways.items():
            seconds = 0.0
            for index, chunk in enumerate(chunks):
                given = made(index) if made else None
                started = time.process_time()
                way(chunk, given)
                seconds += time.process_time() - started
                del given
            best[name] = min(best[name], seconds)
    records = sum(len(chunk.records) for chunk in chunks)
    print(f"{records:,} records in {len(chunks)} chunks of {args.path}, best of {args.rounds}, CPU µs a record:")
    for name, seconds in best.items():
        print(f"  {name:50s} {seconds / records * 1e6:6.2f}")


if __name__ == "__main__":
    main()
