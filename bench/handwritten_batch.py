"""The hand-written coder (bench/handwritten.py) as a whole process over a JSONL file: the
yardstick beside `infuse code FILE --format jsonl --jobs 1`, measured the same way:

    .venv/bin/python bench/batch.py -- .venv/bin/python bench/handwritten_batch.py /tmp/c20k.jsonl -o /tmp/h.jsonl

It reads, codes and writes as a single `infuse` process does (orjson in and out, a line
each), so that a records-per-second figure of infuse can be read against what plain Python
does on the same machine: a host three times slower moves both. A record it cannot code
becomes an error record, as in infuse, so no record is lost.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import handwritten  # noqa: E402 -- after the path that makes `bench` importable


def code_lines(lines, out) -> int:
    """Code each JSONL line of `lines` into `out` (bytes); the number of records."""
    count = 0
    for number, line in enumerate(lines, start=1):
        try:
            coded = handwritten.code_encounter(orjson.loads(line))
        except Exception as error:  # noqa: BLE001 -- a bad record is an error record, never a lost one
            coded = {"line": number, "error": {"path": "", "message": f"{type(error).__name__}: {error}"}}
        out.write(orjson.dumps(coded) + b"\n")
        count += 1
    return count


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("-o", "--output", required=True)
    options = parser.parse_args(argv)
    started = time.monotonic()
    with open(options.path, "rb") as lines, open(options.output, "wb") as out:
        count = code_lines(lines, out)
    seconds = time.monotonic() - started
    print(f"handwritten: {count:,} records, {seconds:.1f} s, {count / seconds:,.0f} records/s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
