"""Start-up of the `infuse` command, each run a fresh process: `infuse code ONE.json` with the
ruleset cache warm (a hit: no parse, no check, no Lark), with an empty cache (the first run:
Lark built, the rulesets parsed and checked, both written), with only the parser cached (as
after an edit of a rule file: parsed and checked, no grammar build), and with the cache off,
against `python -c pass` on the same interpreter. The runs of all take turns, so that a change
in the machine's load falls on each alike; the medians are printed with their ratio to
`python -c pass`, and the load average before and after.

Bytecode: an installed infuse has its modules compiled (pip writes the .pyc files), but a
source checkout run with PYTHONDONTWRITEBYTECODE=1 compiles every module of infuse at every
start (some 50 ms here). The figures are taken with bytecode, as installed: every subject runs
with PYTHONPYCACHEPREFIX set to a fresh folder (written by a first run, which is not timed;
the source tree is not touched). `--as-is` runs them in the environment as it is instead.

    .venv/bin/python bench/startup.py [--runs 10] [--encounter examples/ed-visit.json]

The target (issue 11): warm cache within 8x `python -c pass`.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 8.0


def _infuse() -> str:
    beside = Path(sys.executable).parent / "infuse"
    return str(beside) if beside.exists() else shutil.which("infuse") or "infuse"


def _time(command: list[str], env: dict, before=None) -> float:
    if before is not None:
        before()
    start = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.decode()}")
    return elapsed


def _forget_rulesets(folder: str) -> None:
    """The cache as an edit of a rule file leaves it: the parser's entry kept, no rulesets'."""
    for entry in Path(folder).glob("rulesets-*.pickle"):
        entry.unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--encounter", default="examples/ed-visit.json")
    parser.add_argument("--as-is", action="store_true",
                        help="the environment as it is (PYTHONDONTWRITEBYTECODE kept), not a bytecode cache of its own")
    args = parser.parse_args(argv)
    infuse = _infuse()
    code = [infuse, "code", args.encounter]
    with tempfile.TemporaryDirectory(prefix="infuse-startup-") as scratch:
        warm_dir, empty_dir, edited_dir = (os.path.join(scratch, name) for name in ("warm", "empty", "edited"))
        base = {k: v for k, v in os.environ.items() if k != "INFUSE_CACHE_DIR"}
        if not args.as_is:
            base.pop("PYTHONDONTWRITEBYTECODE", None)
            base["PYTHONPYCACHEPREFIX"] = os.path.join(scratch, "bytecode")
        bytecode = "as is" if args.as_is else "with bytecode (PYTHONPYCACHEPREFIX, written by an untimed first run)"
        bytecode += f"; PYTHONDONTWRITEBYTECODE={base.get('PYTHONDONTWRITEBYTECODE', '(unset)')}"
        subjects = {
            "python -c pass": ([sys.executable, "-c", "pass"], base, None),
            "infuse code, cache warm": (code, {**base, "INFUSE_CACHE_DIR": warm_dir}, None),
            "infuse code, cache empty (first run)": (code, {**base, "INFUSE_CACHE_DIR": empty_dir},
                                                     lambda: shutil.rmtree(empty_dir, ignore_errors=True)),
            "infuse code, parser cached (rules edited)": (code, {**base, "INFUSE_CACHE_DIR": edited_dir},
                                                          lambda: _forget_rulesets(edited_dir)),
            "infuse code, cache off": (code, {**base, "INFUSE_CACHE_DIR": "off"}, None),
        }
        for subject in subjects.values():  # fills the warm cache, and the bytecode folder
            _time(*subject)
        load_before = os.getloadavg()
        started = time.perf_counter()
        times: dict[str, list[float]] = {name: [] for name in subjects}
        for _ in range(args.runs):
            for name, subject in subjects.items():
                times[name].append(_time(*subject))
        load_after = os.getloadavg()
    medians = {name: statistics.median(values) for name, values in times.items()}
    floor = medians["python -c pass"]
    print(f"infuse bench/startup.py, {time.strftime('%Y-%m-%dT%H:%M:%S')}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, {args.runs} runs each, {time.perf_counter() - started:.1f} s")
    print(f"command: {' '.join(code)}")
    print(f"modules: {bytecode}")
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f}")
    print(f"{'':44}{'median':>10}{'min':>10}{'max':>10}{'vs pass':>10}")
    for name, values in times.items():
        print(f"{name:44}{medians[name] * 1000:8.1f}ms{min(values) * 1000:8.1f}ms{max(values) * 1000:8.1f}ms"
              f"{medians[name] / floor:9.1f}x")
    warm = medians["infuse code, cache warm"] / floor
    print(f"target: cache warm <= {TARGET:.0f}x python -c pass: {warm:.1f}x, {'met' if warm <= TARGET else 'NOT MET'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
