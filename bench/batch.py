"""Batch run of `infuse code` measured from outside: wall time, CPU time (user + system, of
the parent and of its workers apart), and the peaks of the summed RSS and of the summed PSS
(shared pages counted once) of the parent and all its descendants, sampled from /proc every
0.2 s (Linux only).

Usage:
    python bench/batch.py [--every 0.2] -- infuse code /tmp/c200k.jsonl --jobs 2 -o /tmp/o.jsonl

The CPU of each process is its last sample of /proc/PID/stat (utime + stime), so a process
that lives less than one interval may be missed; the total (resource.getrusage of the
children, which counts every waited-for descendant) is exact.
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time

_TICK = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as file:
                found += [int(child) for child in file.read().split()]
    except OSError:
        pass
    return found


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        todo += _children(current)
    return pids


def _sample(pid: int) -> tuple[int, int, float] | None:
    """(RSS in bytes, PSS in bytes, CPU seconds) of `pid`, or None once it is gone. PSS counts
    a page shared by n processes as 1/n in each (a forked worker shares the parent's pages until
    either writes them), so the PSS of a process tree sums to the memory it really holds; RSS
    counts every shared page in every process. PSS is 0 where /proc has no smaps_rollup."""
    try:
        with open(f"/proc/{pid}/statm") as file:
            rss = int(file.read().split()[1]) * _PAGE
        with open(f"/proc/{pid}/stat") as file:
            fields = file.read().rpartition(")")[2].split()
        return rss, _pss(pid), (int(fields[11]) + int(fields[12])) / _TICK
    except (OSError, IndexError, ValueError):
        return None


def _pss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as file:
            for line in file:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def measure(command: list[str], every: float = 0.2) -> dict:
    load_before = os.getloadavg()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    process = subprocess.Popen(command)
    peak, peak_pss, peak_each, cpu = 0, 0, {}, {}
    while process.poll() is None:
        total = total_pss = 0
        for pid in _tree(process.pid):
            sample = _sample(pid)
            if sample is None:
                continue
            rss, pss, seconds = sample
            total += rss
            total_pss += pss
            peak_each[pid] = max(peak_each.get(pid, 0), rss)
            cpu[pid] = seconds
        peak = max(peak, total)
        peak_pss = max(peak_pss, total_pss)
        time.sleep(every)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "command": " ".join(command), "status": process.returncode, "wall": wall,
        "user": after.ru_utime - before.ru_utime, "sys": after.ru_stime - before.ru_stime,
        "parent_cpu": cpu.get(process.pid, 0.0),
        "worker_cpu": sorted((seconds for pid, seconds in cpu.items() if pid != process.pid), reverse=True),
        "peak_rss_sum": peak, "peak_pss_sum": peak_pss, "peak_rss_each": sorted(peak_each.values(), reverse=True),
        "load_before": load_before, "load_after": os.getloadavg(),
    }


def report(result: dict) -> str:
    mb = 2**20
    return "\n".join([
        f"$ {result['command']}  (exit {result['status']})",
        f"  load average before {result['load_before'][0]:.2f}, after {result['load_after'][0]:.2f}",
        f"  wall {result['wall']:.1f} s; CPU {result['user'] + result['sys']:.1f} s "
        f"(user {result['user']:.1f}, sys {result['sys']:.1f}); parent {result['parent_cpu']:.1f} s, "
        f"workers {', '.join(f'{s:.1f}' for s in result['worker_cpu'][:4])} s",
        f"  peak RSS summed {result['peak_rss_sum'] / mb:.0f} MB; each process's peak "
        f"{', '.join(f'{r / mb:.0f}' for r in result['peak_rss_each'][:4])} MB; "
        f"peak PSS summed {result['peak_pss_sum'] / mb:.0f} MB (shared pages counted once)",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=float, default=0.2, help="sampling interval in seconds")
    parser.add_argument("command", nargs="+")
    args = parser.parse_args(argv)
    print(report(measure(args.command, args.every)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
