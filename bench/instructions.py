"""Instructions per encounter, counted by valgrind (callgrind): the typical-day mix coded as a
batch codes it (engine.io.batch.code_record, orjson out), beside bench/handwritten.py with the
same JSON library (orjson in and out), and the ratio of the two.

Timings on a shared machine move with its load; a count of instructions does not, so a change
can be judged by it when the machine is busy (it is no timing: a cache miss costs no
instruction). Only the measured pass is counted: the work runs under `map`, and callgrind
collects only inside map_next (`--toggle-collect`), after a warm-up pass outside it.

    .venv/bin/python bench/instructions.py [--count 3000] [--path embedder]

`--path embedder` counts instead the way an embedder codes (`Coder.code` to Result objects,
then `as_dict()`), with the std json module on both sides, as bench/compare.py times it.

Needs valgrind on PATH. Each side takes about a minute (valgrind runs some fifty times slower).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_WORK = """
import os, sys
sys.path.insert(0, {root!r})
os.environ.setdefault("INFUSE_CACHE_DIR", "off")
import orjson
from bench import subjects
texts = [text.encode() for text in subjects.encounter_texts("typical_day", {count})]
if {side!r} == "infuse" and {path!r} == "batch":
    from engine.io.batch import code_record
    coder = subjects.coder("compiled")
    work = lambda text: orjson.dumps(code_record(coder, 0, text))
elif {side!r} == "infuse":
    import json
    coder = subjects.coder("compiled")
    work = lambda text: json.dumps(coder.code(json.loads(text)).as_dict())
elif {path!r} == "batch":
    from bench import handwritten
    work = lambda text: orjson.dumps(handwritten.code_encounter(orjson.loads(text)))
else:
    import json
    from bench import handwritten
    work = lambda text: json.dumps(handwritten.code_encounter(json.loads(text)))
for text in texts:
    work(text)
list(map(work, texts))
"""


def instructions(side: str, count: int, path: str = "batch") -> int:
    """Instructions callgrind counts in the measured pass of `side` over `count` encounters,
    coded the way `path` ("batch" or "embedder") codes them."""
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "work.py"
        script.write_text(_WORK.format(root=str(ROOT), count=count, side=side, path=path))
        done = subprocess.run(["valgrind", "--tool=callgrind", "--collect-atstart=no", "--toggle-collect=map_next",
                               f"--callgrind-out-file={Path(folder) / 'out'}", sys.executable, str(script)],
                              capture_output=True, text=True, check=True)
    collected = re.search(r"Collected : (\d+)", done.stderr)
    if collected is None:
        raise SystemExit(f"valgrind gave no count for {side}:\n{done.stderr[-2000:]}")
    return int(collected.group(1))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--path", choices=("batch", "embedder"), default="batch")
    options = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        print("bench/instructions.py needs valgrind on PATH", file=sys.stderr)
        return 2
    per = {side: instructions(side, options.count, options.path) / options.count for side in ("infuse", "handwritten")}
    for side, figure in per.items():
        print(f"{figure / 1000:9.1f}  thousand instructions an encounter, {side}")
    print(f"ratio infuse / handwritten: {per['infuse'] / per['handwritten']:.2f}x "
          f"({options.count:,} typical-day encounters, the {options.path} path, "
          f"{os.path.basename(sys.executable)} {sys.version.split()[0]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
