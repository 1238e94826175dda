"""`python bench/compare.py`: infuse against its references, in one run, with the issue's targets.

Measures medians of: table decisions (infuse compiled, the reference row scan, the same
table as hand-written Python, GoRules ZEN on the exported JDM), whole encounters JSON in
and JSON out on the typical day mix (infuse compiled, reference, hand-written), and ruleset
load (cold, warm, and a prototype cache). Prints one table of medians and ratios, each
ratio with its target beside it (met / not met), and writes bench/results.json.

Candidates of one subject are measured in interleaved rounds, so a change in the machine's
load during the run touches them alike; every answer of the first round is checked. ZEN is
measured after everything else, because its worker threads keep running for a while after
each call and would slow whatever ran next on a small machine.

Options: --quick (fewer rounds, for a smoke run), --output PATH (default bench/results.json).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

# Run as a script (python bench/compare.py), the repository root is not on the path yet.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import subjects  # noqa: E402

TABLE_ROUNDS = {"infuse compiled": 41, "handwritten": 41, "infuse reference": 7}
WIDE_ROUNDS = {**TABLE_ROUNDS, "infuse reference": 3}
ENCOUNTER_ROUNDS = {"infuse compiled": 9, "handwritten": 9, "infuse reference": 5}
LOAD_ROUNDS = {"cold": 7, "warm (grammar built)": 7, "cached (prototype)": 7}
ZEN_ROUNDS = {"service": 5, "coding": 5, "wide coding": 3}


def measure(subject: subjects.Subject, rounds: dict) -> dict:
    """Seconds per item of each candidate, one sample per round, rounds interleaved."""
    samples = {label: [] for label in rounds}
    for round_number in range(max(rounds.values())):
        for label, wanted in rounds.items():
            if round_number >= wanted:
                continue
            run = subject.candidates[label]
            start = time.perf_counter()
            answers = run()
            elapsed = time.perf_counter() - start
            if round_number == 0 and not subject.check(label, answers):
                raise SystemExit(f"compare: wrong answers from {label} on {subject.name}")
            samples[label].append(elapsed / subject.size)
    return {label: statistics.median(values) for label, values in samples.items()}


def machine() -> dict:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": model, "python": platform.python_version(),
            "platform": platform.platform(), "load_average": os.getloadavg()}


def run_all(quick: bool) -> dict:
    scale = (lambda rounds: {k: max(1, v // 4) for k, v in rounds.items()}) if quick else (lambda rounds: rounds)
    started = time.time()
    medians: dict = {}
    for table in ("service", "coding"):
        subject = subjects.table_subject(table)
        medians[f"{table} table"] = measure(subject, scale(TABLE_ROUNDS))
    wide = subjects.table_subject("coding", wide=True)
    medians["wide coding table"] = measure(wide, scale(WIDE_ROUNDS))
    typical = subjects.encounter_subject("typical_day", 1000)
    medians["typical_day encounters"] = measure(typical, scale(ENCOUNTER_ROUNDS))
    medians["ruleset load"] = measure(subjects.load_subject(), scale(LOAD_ROUNDS))
    zen = subjects.zen_version()
    if zen is not None:
        for table, rounds in ZEN_ROUNDS.items():
            subject = subjects.table_subject(table.removeprefix("wide "), wide=table.startswith("wide "))
            medians[f"{table} table"]["zen"] = measure(subject, scale({"zen": rounds}))["zen"]
    return {"medians": medians, "zen_version": zen, "seconds": round(time.time() - started, 1)}


UNITS = {"decision": "per decision", "encounter": "per encounter", "load": "per load"}


def rows(medians: dict, zen_version: str | None) -> list[dict]:
    """The printed table: each median, and each ratio with its target."""
    out = []
    zen = f"ZEN {zen_version}"

    def median(what: str, seconds: float, unit: str):
        out.append({"what": what, "median": seconds, "unit": unit})

    def ratio(what: str, value: float, target: str, met: bool | None, unit: str = "ratio"):
        out.append({"what": what, "ratio": value, "unit": unit, "target": target, "met": met})

    for table in ("service", "coding"):
        m = medians[f"{table} table"]
        for label in ("handwritten", "infuse compiled", "infuse reference", "zen"):
            if label in m:
                median(f"{table} table, {zen if label == 'zen' else label}", m[label], "decision")
        r = m["infuse compiled"] / m["handwritten"]
        ratio(f"{table}: compiled / handwritten", r, "<= 1.5x", r <= 1.5)
        if "zen" in m:
            r = m["zen"] / m["infuse compiled"]
            ratio(f"{table}: {zen} / compiled", r, ">= 20x", r >= 20)
        r = m["infuse reference"] / m["infuse compiled"]
        ratio(f"{table}: reference / compiled", r, ">= 5x", r >= 5)
    wide, coding = medians["wide coding table"], medians["coding table"]
    for label in ("infuse compiled", "infuse reference", "zen"):
        if label in wide:
            median(f"coding + 1,000 rows, {zen if label == 'zen' else label}", wide[label], "decision")
    r = wide["infuse compiled"] / coding["infuse compiled"]
    ratio("wide / 2026 coding table, compiled", r, "<= 1.5x", r <= 1.5)
    typical = medians["typical_day encounters"]
    for label in ("handwritten", "infuse compiled", "infuse reference"):
        median(f"typical day, JSON in+out, {label}", typical[label], "encounter")
    r = typical["infuse compiled"] / typical["handwritten"]
    ratio("typical day: compiled / handwritten", r, "<= 2x", r <= 2)
    per_second = 1 / typical["infuse compiled"]
    ratio("typical day: compiled, encounters/s on one core", per_second, ">= 50,000/s", per_second >= 50_000,
          "per second")
    r = typical["infuse reference"] / typical["infuse compiled"]
    ratio("typical day: reference / compiled", r, "(info)", None)
    load = medians["ruleset load"]
    for label, target in (("cold", 0.200), ("warm (grammar built)", None), ("cached (prototype)", 0.020)):
        median(f"ruleset load (2026 + 2 payer variants), {label}", load[label], "load")
        if target is not None:
            ratio(f"ruleset load, {label}", load[label], f"< {target * 1000:.0f} ms", load[label] < target, "seconds")
    return out


def _time(seconds: float) -> str:
    if seconds >= 0.1:
        return f"{seconds * 1000:.0f} ms"
    if seconds >= 1e-3:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds * 1e6:.2f} µs"


def render(table: list[dict]) -> str:
    """Medians flush left, ratios indented under them with their targets."""
    lines = [f"{'':<52} {'median':>10} {'':<13} {'ratio':>10}  {'target':<11}", "-" * 104]
    for row in table:
        if "median" in row:
            lines.append(f"{row['what']:<52} {_time(row['median']):>10} {UNITS[row['unit']]:<13}")
            continue
        if row["unit"] == "seconds":
            shown = _time(row["ratio"])
        elif row["unit"] == "per second":
            shown = f"{row['ratio']:,.0f}/s"
        else:
            shown = f"{row['ratio']:.2f}x"
        status = "" if row["met"] is None else ("met" if row["met"] else "NOT MET")
        lines.append(f"  {row['what']:<75} {shown:>10}  {row['target']:<11} {status}")
    lines.append("compiled: a mapping of values, as the pipeline calls a table; "
                 "handwritten: values passed positionally")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds: a smoke run, not a measurement")
    parser.add_argument("--output", default=str(ROOT / "bench" / "results.json"))
    args = parser.parse_args(argv)
    before = machine()
    measured = run_all(args.quick)
    table = rows(measured["medians"], measured["zen_version"])
    after = machine()
    print(f"infuse bench/compare.py, {datetime.datetime.now().isoformat(timespec='seconds')}, "
          f"{before['nproc']} x {before['cpu']}, Python {before['python']}, ZEN {measured['zen_version'] or 'not installed'}")
    print(f"load average before {before['load_average'][0]:.2f}, after {after['load_average'][0]:.2f}; "
          f"{measured['seconds']} s" + (" (--quick: a smoke run)" if args.quick else ""))
    print(render(table))
    result = {"date": datetime.datetime.now().isoformat(timespec="seconds"), "command": "python bench/compare.py"
              + (" --quick" if args.quick else ""), "machine": before, "load_average_after": after["load_average"],
              "zen_version": measured["zen_version"], "seconds": measured["seconds"],
              "medians_seconds": measured["medians"], "rows": table}
    Path(args.output).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
