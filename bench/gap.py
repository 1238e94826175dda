"""Where infuse spends more than the hand-written coder: the typical-day mix through both,
each in the same parts (reading the record and building its events, merges, initial
services, tables and lines, edits, the result dict, encoding), so that the issue-11 targets
that ask infuse to come near plain Python can be read part by part.

infuse's parts are bench/stages.py's, grouped. The hand-written coder's are its own
functions (bench/handwritten.py), each wrapped in a timer for this run only: `_events` is
its reading, `service`, `coding` and `_emit` its tables and lines, and what `code_encounter`
does between the calls (dates, modifiers, E/M services, findings) is "inline", which also
takes most of what the timers of its functions cost. Timers add to the parts (about a
microsecond a timed call on a slow host); the sums of the parts stand beside the whole
paths, untimed by parts, to show how much.

Two of infuse's parts are then taken apart. Its read: msgspec decoding into the declared
types (and the count of pairs that finds a key given twice), the reader generated for the
declaration (formats, ids, references, the events and their facts), and what
Coder.read_json does after it (the ruleset by date and payer, the check that each
administration falls in its period). Its edits one by one, each as its own step (its codes
gathered for it alone, which the joined step does once).

The last line bounds what joining infuse's steps into one generated function could save of
the calls between them: a run's loop over as many steps as its pipeline has, each a function
that returns at once.

    .venv/bin/python bench/gap.py [--count 3000] [--passes 3]

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

from bench import handwritten, stages, subjects  # noqa: E402
from dsl.checked import CheckedEdit  # noqa: E402
from engine.core.jsonin import decode_typed  # noqa: E402
from engine.core.stages.edits import EditPlan  # noqa: E402
from engine.core.stages.prepared_edits import prepared_edit  # noqa: E402
from engine.core.typed import TypedReading  # noqa: E402
from engine.io.batch import code_record  # noqa: E402

clock = time.perf_counter

# The hand-written coder's functions by the part they do, as code_encounter calls them.
HANDWRITTEN_PARTS = {
    "_events": "read", "_merge_hydration": "merge", "_merge_subq_sites": "merge", "_initial_iv": "initial",
    "_initial_subq": "initial", "service": "tables and lines", "coding": "tables and lines",
    "_emit": "tables and lines", "_edits": "edits", "_claim_lines": "result dict",
}
PARTS = ("read", "merge", "initial", "tables and lines", "edits", "result dict", "encode", "inline")


def infuse_part(name: str) -> str:
    """The part of one of bench/stages.py's names."""
    if name.startswith(("read ", "start ")):
        return "read"
    return _STEP_PARTS.get(name.split(":", 1)[0], name)


_STEP_PARTS = {"table": "tables and lines", "edit": "edits", "merge": "merge", "initial": "initial"}


def handwritten_parts(texts: list) -> dict:
    """Seconds per part of the hand-written coder over `texts`, its functions timed in place."""
    spent: dict = collections.Counter()
    originals = {name: getattr(handwritten, name) for name in HANDWRITTEN_PARTS}

    def timed(name, function):
        part = HANDWRITTEN_PARTS[name]

        @functools.wraps(function)
        def call(*args, **kwargs):
            start = clock()
            try:
                return function(*args, **kwargs)
            finally:
                spent[part] += clock() - start
        return call
    for name, function in originals.items():
        setattr(handwritten, name, timed(name, function))
    try:
        for text in texts:
            t1 = clock()
            data = orjson.loads(text)
            t2 = clock()
            spent["read"] += t2 - t1
            before = sum(spent.values())
            result = handwritten.code_encounter(data)
            t3 = clock()
            spent["inline"] += (t3 - t2) - (sum(spent.values()) - before)
            orjson.dumps(result)
            spent["encode"] += clock() - t3
    finally:
        for name, function in originals.items():
            setattr(handwritten, name, function)
    return spent


def read_parts(texts: list, coder) -> dict:
    """Seconds over `texts` of each part of infuse's typed read (`texts` all read the typed way)."""
    reading = TypedReading.of(coder.declared)
    spent: dict = {}
    start = clock()
    structs = [decode_typed(text, reading.decode) for text in texts]
    spent["decode into the declared types, the pairs counted"] = clock() - start
    start = clock()
    for struct in structs:
        reading.assemble(struct)  # each read let go, as a batch lets it go (thousands kept alive cost the GC more)
    spent["the generated reader: formats, ids, events"] = clock() - start
    reads = [reading.assemble(struct) for struct in structs]
    start = clock()
    for read in reads:
        coder._chosen(read)  # what read_json does after the reader (a private step, timed alone here)
    spent["ruleset chosen, period checked"] = clock() - start
    return spent


def edit_parts(texts: list, coder) -> dict:
    """Seconds over `texts` of each edit of infuse's pipelines, as a step of its own."""
    spent: dict = collections.Counter()
    alone: dict = {}  # id(pipeline) -> ((edit name, its step), ...)
    for ruleset, pipeline, run in _started(texts, coder):
        edits = alone.get(id(pipeline))
        if edits is None:
            edits = alone[id(pipeline)] = tuple((stage.name, prepared_edit(EditPlan.of(stage)))
                                                for stage in ruleset.stages if isinstance(stage, CheckedEdit))
        for name, step in pipeline.run_steps:
            if not name.startswith("edit:"):
                step(run)
                continue
            for edit_name, edit_step in edits:
                start = clock()
                edit_step(run)
                spent[edit_name] += clock() - start
    return spent


def between_steps(texts: list, coder) -> float:
    """Seconds over `texts` of a run's loop over its pipeline's steps, each returning at once."""
    runs = [(run, (_return,) * len(pipeline.run_steps)) for _, pipeline, run in _started(texts, coder)]
    start = clock()
    for run, steps in runs:
        for step in steps:
            step(run)
    return clock() - start


def _started(texts: list, coder):
    """(ruleset, pipeline, run before its first step) of each of `texts`, as Coder.read_json reads them."""
    for text in texts:
        ruleset, encounter, events = coder.read_json(text)
        pipeline = coder.pipeline(ruleset)
        yield ruleset, pipeline, pipeline.start(encounter, events=events)


def _cell(figure: float | None, width: int) -> str:
    return f"{'-':>{width}}" if figure is None else f"{figure:{width}.2f}"


def _return(run) -> None:
    return None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--passes", type=int, default=3)
    options = parser.parse_args(argv)
    texts = [text.encode() for text in subjects.encounter_texts("typical_day", options.count)]
    coder = subjects.coder("compiled")
    load_before = os.getloadavg()[0]
    best: dict = {}

    def keep(side: str, seconds_by_name: dict, part=lambda name: name):
        """The best time so far of each of `side`'s parts, `part(name)` the part of a name timed."""
        grouped: dict = collections.Counter()
        for name, seconds in seconds_by_name.items():
            grouped[part(name)] += seconds
        for name, seconds in grouped.items():
            best[side, name] = min(seconds, best.get((side, name), seconds))
    for _ in range(options.passes):
        keep("infuse", stages.parts(texts, coder), infuse_part)
        keep("handwritten", handwritten_parts(texts))
        for side, code in (("infuse", functools.partial(code_record, coder, 0)),
                           ("handwritten", lambda text: handwritten.code_encounter(orjson.loads(text)))):
            keep(side, {"whole path": stages.whole(texts, code)})
        keep("read", read_parts(texts, coder))
        keep("edit", edit_parts(texts, coder))
        keep("infuse", {"between steps": between_steps(texts, coder)})
    micro = {key: seconds / len(texts) * 1e6 for key, seconds in best.items()}
    print(f"{'part':<22}{'infuse':>9}{'handwritten':>13}{'ratio':>8}")
    for part in PARTS:
        mine, theirs = micro.get(("infuse", part)), micro.get(("handwritten", part))
        ratio = f"{mine / theirs:7.2f}x" if mine and theirs else f"{'-':>8}"
        print(f"{part:<22}{_cell(mine, 9)}{_cell(theirs, 13)}{ratio}")
    sums = [sum(micro.get((side, part), 0.0) for part in PARTS) for side in ("infuse", "handwritten")]
    wholes = [micro[side, "whole path"] for side in ("infuse", "handwritten")]
    for label, (mine, theirs) in (("sum of the parts", sums), ("whole path", wholes)):
        print(f"{label:<22}{mine:9.2f}{theirs:13.2f}{mine / theirs:7.2f}x")
    for side, title in (("read", "infuse's read"), ("edit", "infuse's edits, each alone")):
        print(f"{title}:")
        for (kind, name), value in micro.items():
            if kind == side:
                print(f"{value:9.2f}  {name}")
    print(f"{'between steps':<22}{micro['infuse', 'between steps']:9.2f}  (of the whole path: its calls of the steps)")
    print(f"load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")
    return 0


if __name__ == "__main__":
    sys.exit(main())
