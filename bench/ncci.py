"""National edit data at national size: load two 500,000-row PTP files (practitioner and
hospital, as CMS publishes them) and two 15,000-row MUE files (the same two claim types), and
code 100,000 generated encounters against them.

    .venv/bin/python bench/ncci.py [--rows 500000] [--encounters 100000] [--mue-rows 15000]

A copy of rulesets/2026 gets generated data files in CMS's own headings: every row of the
bundled extract (so the drug administration pairs still act) among made-up pairs of
five-character codes, about a tenth of them deleted, indicators 0, 1 and 9 in proportions like
the national file's. Reported: the time to write the files (not counted), the load of the
ruleset folder cold (the grammar built, every file read, checked and indexed, as the first
`engine.load` of a process does), the reading of the PTP file alone, and coding throughput
on one core, with the bundled extract and with the national-size file, and the load average
before and after (target: load under 5 s).
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import corpus  # noqa: E402

PTP_HEADER = ("Column 1,Column 2,* = In existence prior to 1996,Effective Date,Deletion Date *=no data,"
              "Modifier 0=not allowed 1=allowed 9=not applicable,PTP Edit Rationale\n")
MUE_HEADER = "HCPCS/CPT Code,Practitioner Services MUE Values,MUE Adjudication Indicator,MUE Rationale\n"
RATIONALES = ("Misuse of column two code with column one code", "Standards of medical / surgical practice",
              "CPT Manual or CMS manual coding instructions", "Mutually exclusive procedures")
PTP_FILES = ("ncci-ptp-practitioner.csv", "ncci-ptp-hospital.csv")  # as rulesets/2026/ncci.rules names them
MUE_FILES = ("mue-practitioner.csv", "mue-hospital.csv")
MAI = ("1 Line Edit", "2 Date of Service Edit: Policy", "3 Date of Service Edit: Clinical")


def _codes(rng: random.Random, count: int) -> list[str]:
    found: set = set()
    while len(found) < count:
        found.add(rng.choice("0123456789JGA") + f"{rng.randrange(10_000):04d}")
    return sorted(found)


def write_ptp(path: Path, rows: int, extract: Path, seed: int = 1) -> None:
    rng = random.Random(seed)
    kept = [line for line in extract.read_text().splitlines()[1:] if line and not line.startswith(("#", "column1"))]
    codes = _codes(rng, 12_000)
    seen = {tuple(line.split(",")[:2]) for line in kept}
    out = [PTP_HEADER]
    for line in kept:  # the extract's rows, in CMS's column order
        c1, c2, effective, deletion, modifier, rationale = line.split(",", 5)
        out.append(f"{c1},{c2},,{effective},{deletion},{modifier},{rationale}\n")
    while len(seen) < rows:
        c1, c2 = rng.choice(codes), rng.choice(codes)
        if c1 == c2 or (c1, c2) in seen:
            continue
        seen.add((c1, c2))
        year = rng.randrange(1996, 2026)
        effective = f"{year}{rng.choice(('01', '04', '07', '10'))}01"
        deletion = f"{rng.randrange(year + 1, 2027)}0101" if rng.random() < 0.1 else "*"
        modifier = rng.choices("019", weights=(30, 65, 5))[0]
        out.append(f"{c1},{c2},{'*' if year == 1996 else ''},{effective},{deletion},{modifier},"
                   f"{rng.choice(RATIONALES)}\n")
    path.write_text("".join(out))


def write_mue(path: Path, rows: int, extract: Path, seed: int = 2) -> None:
    rng = random.Random(seed)
    kept = [line for line in extract.read_text().splitlines() if line and not line.startswith(("#", "code,"))]
    taken = {line.split(",")[0] for line in kept}
    out = [MUE_HEADER, *(line + "\n" for line in kept)]
    for code in _codes(rng, rows + len(taken)):
        if code in taken or len(out) > rows:
            continue
        out.append(f"{code},{rng.choice((1, 1, 1, 2, 3, 4, 6, 8, 24, 99))},{rng.choice(MAI)},Clinical: Data\n")
    path.write_text("".join(out))


def _throughput(coder, encounters: list[dict]) -> float:
    started = time.perf_counter()
    for record in encounters:
        coder.code(record)
    return len(encounters) / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--mue-rows", type=int, default=15_000)
    parser.add_argument("--encounters", type=int, default=100_000)
    args = parser.parse_args(argv)
    before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "2026"
        shutil.copytree(ROOT / "rulesets" / "2026", folder)
        started = time.perf_counter()
        for name in PTP_FILES:  # each claim type's national table is about as large
            write_ptp(folder / "data" / name, args.rows, ROOT / "rulesets" / "2026" / "data" / name)
        for name in MUE_FILES:
            write_mue(folder / "data" / name, args.mue_rows, ROOT / "rulesets" / "2026" / "data" / name)
        written = time.perf_counter() - started
        size = (folder / "data" / PTP_FILES[0]).stat().st_size

        import engine
        from dsl.edit_data import read_pairs
        started, cpu = time.perf_counter(), time.process_time()
        national = engine.load(folder)
        national.pipeline(national.select(corpus.typical_day(1, 0)[0])[0])  # the base's pipeline built
        load, load_cpu = time.perf_counter() - started, time.process_time() - cpu
        data = (folder / "data" / PTP_FILES[0]).read_bytes()
        started, cpu = time.perf_counter(), time.process_time()
        table, problems = read_pairs(data, PTP_FILES[0])
        read, read_cpu = time.perf_counter() - started, time.process_time() - cpu
        assert not problems and table.rows == args.rows, (problems[:3], table and table.rows)
        started = time.perf_counter()
        bundled = engine.load(ROOT / "rulesets" / "2026")
        bundled_load = time.perf_counter() - started

        encounters = corpus.typical_day(args.encounters, 3)
        _throughput(bundled, encounters[:2000])  # warm both pipelines
        _throughput(national, encounters[:2000])
        rate_bundled = _throughput(bundled, encounters)
        rate_national = _throughput(national, encounters)
        same = sum(national.code(r).as_dict()["lines"] == bundled.code(r).as_dict()["lines"]
                   for r in encounters[:10_000])
    after = os.getloadavg()[0]
    print(f"infuse bench/ncci.py, {time.strftime('%Y-%m-%dT%H:%M:%S')}, {os.cpu_count()} cores, "
          f"{platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(f"load average before {before:.2f}, after {after:.2f}")
    print(f"generated PTP files: {args.rows:,} rows each, {size / 1e6:.1f} MB; MUE file {args.mue_rows:,} rows "
          f"(written in {written:.1f} s, not counted)")
    print(f"ruleset load with the national-size files, cold: {load:.2f} s elapsed, {load_cpu:.2f} s CPU   "
          f"(target < 5 s: {'met' if load < 5 else 'NOT MET'})")
    print(f"  reading and indexing the PTP file alone:     {read:.2f} s elapsed, {read_cpu:.2f} s CPU")
    print(f"ruleset load with the bundled extract:         {bundled_load:.2f} s")
    print(f"coding {args.encounters:,} typical-day encounters on one core:")
    print(f"  bundled extract:      {rate_bundled:,.0f} encounters/s ({args.encounters / rate_bundled:.1f} s)")
    print(f"  {args.rows:,}-row PTP:  {rate_national:,.0f} encounters/s ({args.encounters / rate_national:.1f} s)")
    print(f"  lines equal to the bundled extract's on {same:,} of the first 10,000")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
