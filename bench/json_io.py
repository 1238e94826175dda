"""JSON in and out per encounter, the std json way against msgspec in and orjson out (issue 11).

In one process, on typical-day encounters (bench/corpus.py) as JSON Lines text, per encounter:
- decode: `decode_slowly` (std json with hooks, as before) against `decode_record` (msgspec,
  checked; engine.core.jsonin);
- encode: json.dumps(..., ensure_ascii=False) of a result dict against orjson.dumps;
- whole: decode, code, encode: before = decode_slowly, Coder.code(...).as_dict(), json.dumps;
  after = decode_record, Coder.code_dict, orjson, as `infuse code` now does.
The two sides alternate round by round and the median round is reported, so load from other
work on the machine falls on both alike.

With `--process BEFORE_SRC`, also whole `infuse code CORPUS --format jsonl -o OUT` runs, each a
fresh process (wall and CPU time, all its processes), alternating a tree of the code before (`git archive REV | tar -x -C BEFORE_SRC`,
run with PYTHONPATH=BEFORE_SRC) and this one; the outputs are checked to differ only in spaces.

Usage:
    .venv/bin/python bench/json_io.py [--in-process-count 5000] [--rounds 7] [--process BEFORE_SRC]
        [--count 20000] [--jobs N]
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import engine  # noqa: E402
from bench import corpus  # noqa: E402
from engine.core.jsonin import decode_record, decode_slowly  # noqa: E402


def _median_rounds(sides: dict, rounds: int, count: int) -> dict:
    """Median µs per encounter of each side, the sides alternating in every round. Each round
    keeps nothing it makes, as a batch writes each record and forgets it."""
    gc.collect()
    gc.freeze()  # the corpus and the coder, made once, are no work for the collector in any round
    times = {name: [] for name in sides}
    for _ in range(rounds):
        for name, work in sides.items():
            started = time.perf_counter()
            work()
            times[name].append((time.perf_counter() - started) / count * 1e6)
    gc.unfreeze()
    return {name: statistics.median(values) for name, values in times.items()}


def _each(function, items) -> None:
    for item in items:
        function(item)


def in_process(count: int, rounds: int) -> list[tuple[str, float]]:
    lines = [json.dumps(e).encode() for e in corpus.typical_day(count, 3)]
    coder = engine.load()
    results = [coder.code_dict(decode_record(line)) for line in lines]
    dumps = json.dumps
    got = _median_rounds({
        "decode, std json (before)": lambda: _each(decode_slowly, lines),
        "decode, msgspec (after)": lambda: _each(decode_record, lines),
        "encode, json.dumps (before)": lambda: _each(lambda r: dumps(r, ensure_ascii=False), results),
        "encode, orjson (after)": lambda: _each(orjson.dumps, results),
        "whole, std json + Result (before)": lambda: _each(
            lambda line: dumps(coder.code(decode_slowly(line)).as_dict(), ensure_ascii=False), lines),
        "whole, msgspec + dicts + orjson (after)": lambda: _each(
            lambda line: orjson.dumps(coder.code_dict(decode_record(line))), lines),
    }, rounds, count)
    return list(got.items())


_STRING_OR_SPACE = re.compile(rb'("(?:[^"\\]|\\.)*")| +')  # json.dumps put only spaces between tokens


def whole_process(before_src: str, count: int, rounds: int, jobs: int | None) -> list[tuple[str, float]]:
    folder = Path(tempfile.mkdtemp(prefix="infuse-json-bench-"))
    data = folder / "corpus.jsonl"
    data.write_text("".join(json.dumps(e) + "\n" for e in corpus.typical_day(count, 3)))
    infuse = str(Path(sys.executable).with_name("infuse"))
    runs = {"before": [], "after": []}
    cpu = {"before": [], "after": []}
    for _ in range(rounds):
        for side in runs:
            environment = dict(os.environ)
            if side == "before":
                environment["PYTHONPATH"] = before_src
            command = [infuse, "code", str(data), "--format", "jsonl", "-o", str(folder / f"{side}.jsonl")]
            command += ["--jobs", str(jobs)] if jobs else []
            used = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            subprocess.run(command, env=environment, cwd=folder, check=True, stderr=subprocess.DEVNULL)
            runs[side].append((time.perf_counter() - started) / count * 1e6)
            now = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[side].append((now.ru_utime + now.ru_stime - used.ru_utime - used.ru_stime) / count * 1e6)
    before, after = (folder / "before.jsonl").read_bytes(), (folder / "after.jsonl").read_bytes()
    assert _STRING_OR_SPACE.sub(lambda m: m[1] or b"", before) == after, "the outputs differ in more than spaces"
    shutil.rmtree(folder)
    label = f"whole process, {count:,} encounters, --jobs {jobs or 'default'}"
    return [(f"{label}, {what} ({side})", statistics.median(figures[side]))
            for what, figures in (("wall", runs), ("CPU", cpu)) for side in ("before", "after")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--in-process-count", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=7, help="in process; whole processes: 3 each")
    parser.add_argument("--process", metavar="BEFORE_SRC")
    parser.add_argument("--jobs", type=int)
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    figures = in_process(args.in_process_count, args.rounds)
    if args.process:
        figures += whole_process(args.process, args.count, 3, args.jobs)
    for label, value in figures:
        print(f"{label:<66} {value:8.2f} µs per encounter")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
