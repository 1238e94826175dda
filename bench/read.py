"""`python bench/read.py`: reading a typical-day encounter (decode, choose the ruleset, validate
into an Encounter) the careful way against the typed way (issue 11, item 2).

- careful: engine.core.jsonin.decode_record (msgspec to dicts, checked) then Coder.select
  (engine.core.encounter.parse_encounter reads each declared field in Python);
- typed: Coder.select_json (engine.core.typed: msgspec decodes straight into types made from
  the declared input), as a batch reads every JSON record first;
- typed from a dict: Coder.select_object on the decoded record (msgspec.convert into the same
  types), as Coder.code reads what an embedder decoded.
Also each whole (read, code, orjson out). On typical-day encounters (bench/corpus.py) as JSON
Lines text; the sides alternate round by round and the best round is reported, so load from
other work on the machine falls on both alike. Every record is checked to read alike first.

Usage:
    .venv/bin/python bench/read.py [--count 3000] [--rounds 5]
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import engine  # noqa: E402
from bench import corpus  # noqa: E402
from engine.core.jsonin import decode_record  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    lines = [json.dumps(e).encode() for e in corpus.typical_day(args.count, 3)]
    coder = engine.load()
    careful = [coder.select(decode_record(line, coder.id_field)) for line in lines]
    assert [coder.select_json(line) for line in lines] == careful, "the typed way reads a record otherwise"
    assert [coder.select_object(decode_record(line, coder.id_field)) for line in lines] == careful

    def careful_whole(line: bytes) -> bytes:
        ruleset, encounter = coder.select(decode_record(line, coder.id_field))
        return orjson.dumps(coder.pipeline(ruleset).run_dict(encounter))

    sides = {
        "read, careful (decode_record + select)": lambda line: coder.select(decode_record(line, coder.id_field)),
        "read, typed (select_json)": coder.select_json,
        "read, typed from a dict (+ select_object)": lambda line: coder.select_object(decode_record(line, coder.id_field)),
        "whole, careful + orjson": careful_whole,
        "whole, typed + orjson": lambda line: orjson.dumps(coder.code_json(line)),
    }
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    gc.collect()
    gc.freeze()  # the corpus and the coder, made once, are no work for the collector in any round
    times = {name: [] for name in sides}
    for _ in range(args.rounds):
        for name, read in sides.items():
            started = time.perf_counter()
            for line in lines:
                read(line)
            times[name].append((time.perf_counter() - started) / len(lines) * 1e6)
    gc.unfreeze()
    for name, values in times.items():
        print(f"{name:<42} best {min(values):7.2f} µs per encounter  (rounds: {' '.join(f'{v:.1f}' for v in values)})")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
