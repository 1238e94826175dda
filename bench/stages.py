"""Where the time of one encounter goes: the typical-day mix coded one encounter at a time as a
batch codes it (engine.io.batch.code_record), each part timed on its own: reading the record
(JSON decoded straight into the declared types, the events built as it is read and the ruleset
chosen, Coder.read_json, or the careful way when that declines), starting the run (building the
events the reader left: a record with offsets, or read the careful way), each step of the
pipeline by name as a run takes them (Pipeline.run_steps: the edits that follow one another as
one step), the result dict, and JSON encode; beside it, the whole path untimed by parts
and bench/handwritten.py with the same JSON library (orjson), so the parts can be read against
the yardstick. Timing each part adds a little to the sum of the parts; the whole-path figure has
none of it.

    .venv/bin/python bench/stages.py [--count 3000] [--passes 3]

Figures are µs per encounter, the best of the passes (wall-clock time: run it on an idle machine).
"""
from __future__ import annotations

import argparse
import collections
import functools
import os
import sys
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("INFUSE_CACHE_DIR", "off")

from bench import handwritten, subjects  # noqa: E402
from engine.core.jsonin import decode_record  # noqa: E402
from engine.io.batch import code_record  # noqa: E402

clock = time.perf_counter


def parts(texts: list, coder) -> dict:
    """Seconds (wall clock) per part over `texts`, each encounter through every part in turn."""
    spent: dict = collections.Counter()
    for text in texts:
        t1 = clock()
        ruleset, encounter, events = (coder.read_json(text)
                                      or (*coder.select(decode_record(text, coder.id_field)), None))
        pipeline = coder.pipeline(ruleset)
        t2 = clock()
        run = pipeline.start(encounter, events=events)
        spent["read (decode, choose, validate, build events)"] += t2 - t1
        spent["start (events the reader left)"] += clock() - t2
        for name, step in pipeline.run_steps:
            t = clock()
            step(run)
            spent[name] += clock() - t
        t = clock()
        result = pipeline.as_dict(run)
        t3 = clock()
        orjson.dumps(result)
        spent["result dict"] += t3 - t
        spent["encode"] += clock() - t3
    return spent


def whole(texts: list, code) -> float:
    start = clock()
    for text in texts:
        orjson.dumps(code(text))
    return clock() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--passes", type=int, default=3)
    options = parser.parse_args(argv)
    texts = [text.encode() for text in subjects.encounter_texts("typical_day", options.count)]  # as a batch reads them
    coder = subjects.coder("compiled")
    load_before = os.getloadavg()[0]
    best: dict = {}
    for _ in range(options.passes):
        for name, seconds in parts(texts, coder).items():
            best[name] = min(seconds, best.get(name, seconds))
        for name, code in (("whole path, infuse", functools.partial(code_record, coder, 0)),
                           ("whole path, handwritten", lambda text: handwritten.code_encounter(orjson.loads(text)))):
            seconds = whole(texts, code)
            best[name] = min(seconds, best.get(name, seconds))
    micro = {name: seconds / len(texts) * 1e6 for name, seconds in best.items()}
    wholes = [name for name in micro if name.startswith("whole path")]
    for name in sorted((n for n in micro if n not in wholes), key=micro.get, reverse=True):
        print(f"{micro[name]:8.2f}  {name}")
    print(f"{sum(v for n, v in micro.items() if n not in wholes):8.2f}  sum of the parts")
    for name in wholes:
        print(f"{micro[name]:8.2f}  {name}")
    print(f"ratio infuse / handwritten: {micro['whole path, infuse'] / micro['whole path, handwritten']:.2f}x; "
          f"load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")
    return 0


if __name__ == "__main__":
    sys.exit(main())
