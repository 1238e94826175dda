"""Tests of engine.io.batch: order and completeness across worker processes, atomic output,
workers that die, progress and summary.

`typical_encounters` also makes the inputs of the batch benchmark (see the module's end).
"""
from __future__ import annotations

import datetime
import io
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures.process import BrokenProcessPool

import pytest

from engine.io import batch

from engine.io import output

from engine.io import pool
from engine.cli import main
from tests.conftest import RULESET_2026


def _administration(ident, drug, category, route, method, start, minutes, **extra):
    stop = None if minutes is None else (start + datetime.timedelta(minutes=minutes)).isoformat(timespec="minutes")
    item = {"id": ident, "drug": drug, "dose": extra.pop("dose", "1 unit"), "category": category,
            "route": route, "method": method, "start": start.isoformat(timespec="minutes"),
            "indication": "documented", "response": "tolerated, monitored", **extra}
    if stop is not None:
        item["stop"] = stop
    return item


def _ed_visit(rng, start):
    """ED: an antiemetic push, then hydration of varied length, often an E/M."""
    minutes = rng.choice((20, 30, 31, 45, 75, 90, 91, 120, 150))
    return "facility", "23", [
        _administration("a1", "ondansetron", "therapeutic", "iv", "push", start, 2, dose="4 mg"),
        _administration("a2", "normal saline", "hydration", "iv", "infusion", start + datetime.timedelta(minutes=5),
                        minutes, dose="1000 mL"),
    ], [{"code": "99284", "separately_identifiable": rng.random() < 0.5}]


def _antibiotic(rng, start):
    """Infusion suite: one antibiotic, sometimes short enough to be a push, sometimes no stop."""
    minutes = rng.choice((10, 15, 16, 30, 60, 61, 90, 91, None))
    return "facility", "22", [_administration("a1", "ceftriaxone", "therapeutic", "iv", "infusion", start, minutes)], []


def _chemotherapy(rng, start):
    """Oncology: premedication pushes, then two chemotherapy infusions in turn."""
    first = rng.choice((60, 150, 180, 181, 200))
    second = rng.choice((15, 30, 45, 60, 91))
    pushes = [_administration("p1", "dexamethasone", "prophylactic", "iv", "push", start, 3),
              _administration("p2", "diphenhydramine", "prophylactic", "iv", "push", start + datetime.timedelta(minutes=5), 2)]
    begin = start + datetime.timedelta(minutes=15)
    return "facility", "22", pushes + [
        _administration("c1", "paclitaxel", "chemotherapy", "iv", "infusion", begin, first),
        _administration("c2", "carboplatin", "chemotherapy", "iv", "infusion",
                        begin + datetime.timedelta(minutes=first), second),
    ], []


def _office(rng, start):
    """Office, practitioner's claim: an IM injection and a push, sometimes at separate sites."""
    return "professional", "11", [
        _administration("a1", "ketorolac", "therapeutic", "im", "injection", start, None, site="R-deltoid"),
        _administration("a2", "metoclopramide", "therapeutic", "iv", "push", start + datetime.timedelta(minutes=3), 2,
                        site=rng.choice(("L-forearm", "R-deltoid"))),
    ], [{"code": "99213", "separately_identifiable": rng.random() < 0.3}]


def _repeat_push(rng, start):
    """ED: the same analgesic pushed twice, the gap on either side of the repeat threshold."""
    gap = rng.choice((20, 30, 31, 45, 60))
    return "facility", "23", [
        _administration("a1", "morphine", "therapeutic", "iv", "push", start, 2, dose="4 mg"),
        _administration("a2", "morphine", "therapeutic", "iv", "push", start + datetime.timedelta(minutes=2 + gap), 2,
                        dose="4 mg"),
    ], []


SHAPES = (_ed_visit, _antibiotic, _chemotherapy, _office, _repeat_push)


def typical_encounters(count: int, seed: int = 2026):
    """`count` realistic encounters (dicts), the same for the same seed: a mix of ED visits,
    infusion-suite antibiotics, chemotherapy days, office visits and repeat pushes over 2026."""
    rng = random.Random(seed)
    year = datetime.datetime(2026, 1, 1, 7, 0)
    for number in range(count):
        start = year + datetime.timedelta(days=rng.randrange(365), minutes=rng.randrange(14 * 60))
        claim, pos, administrations, em = rng.choice(SHAPES)(rng, start)
        encounter = {"id": f"enc-{number:07d}", "date": start.date().isoformat(), "claim": claim, "pos": pos,
                     "administrations": administrations}
        payer = rng.choice(("medicare", "commercial", None))
        if payer:
            encounter["payer"] = payer
        if em:
            encounter["em"] = em
        yield encounter


def write_jsonl(path, encounters) -> None:
    with open(path, "w", encoding="utf-8") as out:
        for encounter in encounters:
            out.write(json.dumps(encounter) + "\n")


@pytest.fixture(scope="module")
def many(tmp_path_factory):
    """5,000 typical encounters with a broken one every 97 lines: three chunks for the workers."""
    path = tmp_path_factory.mktemp("batch") / "many.jsonl"
    lines = [json.dumps(e) for e in typical_encounters(5000)]
    for index in range(0, len(lines), 97):
        lines[index] = lines[index].replace('"claim": ', '"claim": "dental", "x": ', 1)
    path.write_text("\n".join(lines) + "\n")
    return path


def run_cli(argv, capsys):
    status = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_two_jobs_give_the_same_output_as_one(many, tmp_path, capsys):
    status1, one, err1 = run_cli(["code", many, "--jobs", "1"], capsys)
    status2, two, err2 = run_cli(["code", many, "--jobs", "2", "-o", tmp_path / "two.jsonl"], capsys)
    assert (status1, status2) == (1, 1)
    assert two == ""
    assert (tmp_path / "two.jsonl").read_text() == one
    records = [json.loads(line) for line in one.splitlines()]
    assert len(records) == 5000
    rejected = [r for r in records if "error" in r]
    assert [r["line"] for r in rejected] == list(range(1, 5001, 97))
    assert {r["error"]["path"] for r in rejected} == {"claim"}
    coded = [r["encounter"] for r in records if "error" not in r]
    assert coded == [f"enc-{n:07d}" for n in range(5000) if n % 97]
    assert "5,000 records: 4,948 coded, 52 rejected" in err1 and "4,948 coded, 52 rejected" in err2


def test_the_reference_engine_agrees_across_jobs(many, tmp_path, capsys):
    small = tmp_path / "small.jsonl"
    small.write_text("".join(many.read_text().splitlines(keepends=True)[:300]))
    _, compiled, _ = run_cli(["code", small, "--jobs", "1"], capsys)
    _, reference, _ = run_cli(["code", small, "--jobs", "2", "--engine", "reference"], capsys)
    assert reference == compiled


def test_chunks_keep_every_line_and_its_number():
    data = b'{"a": 1}\n\n  \r\nlast without newline'
    chunks = list(batch.read_chunks(io.BytesIO(data), single=False, lines=2))
    assert [(c.first, c.records) for c in chunks] == [(1, (b'{"a": 1}', b"")), (3, (b"  ", b"last without newline"))]
    assert sum(c.size for c in chunks) == len(data)


def test_chunks_end_at_their_byte_budget():
    data = b"".join(b"x" * 99 + b"\n" for _ in range(10))
    assert [len(c.records) for c in batch.read_chunks(io.BytesIO(data), single=False, size=250)] == [3, 3, 3, 1]


def test_an_over_long_line_is_read_through_and_kept_as_its_length(monkeypatch):
    monkeypatch.setattr(batch, "MAX_RECORD_BYTES", 10)
    data = b"short\n" + b"y" * 25 + b"\r\n" + b"after\n" + b"z" * 11
    (chunk,) = batch.read_chunks(io.BytesIO(data), single=False)
    assert chunk.records == (b"short", batch.TooLong(25), b"after", batch.TooLong(11))
    assert chunk.size == len(data)
    (whole,) = batch.read_chunks(io.BytesIO(data), single=True)
    assert whole.records == (batch.TooLong(len(data)),)


def _die_on_marker(item):
    """Work for ordered_map that kills its own process when the item asks for it."""
    if item == "die later":
        time.sleep(0.3)
    if item.startswith("die"):
        os._exit(3)
    if item == "raise":
        raise ValueError("cannot")
    return item.upper()


_attempts = []


def _lost(item, errors):
    _attempts.append((item, tuple(type(e).__name__ for e in errors)))
    return f"lost {item}"


@pytest.mark.parametrize("spawn", [False, True])
def test_a_dying_worker_costs_only_its_items_and_the_order_holds(spawn):
    _attempts.clear()
    items = [f"item{n}" for n in range(12)]
    items[5] = "die"
    items[9] = "raise"
    results = list(pool.ordered_map(_die_on_marker, items, jobs=2, lost=_lost, spawn=spawn))
    expected = [item.upper() for item in items]
    expected[5], expected[9] = "lost die", "lost raise"
    assert results == expected
    assert _attempts == [("die", ("BrokenProcessPool", "BrokenProcessPool")),
                         ("raise", ("ValueError", "ValueError"))]


@pytest.mark.parametrize("spawn", [False, True])
def test_items_given_to_a_pool_that_broke_meanwhile_are_retried(spawn):
    _attempts.clear()
    results = pool.ordered_map(_die_on_marker, ["a", "die later", "b", "c", "d", "e"], jobs=2, lost=_lost,
                               spawn=spawn)
    first = next(results)
    time.sleep(1.0)  # the pool breaks while no one looks; "d" and "e" are then handed to it
    assert [first, *results] == ["A", "lost die later", "B", "C", "D", "E"]
    assert _attempts == [("die later", ("BrokenProcessPool", "BrokenProcessPool"))]


def _signals(item):
    """How the worker running this item takes Ctrl-C and SIGTERM."""
    return (signal.getsignal(signal.SIGINT) == signal.SIG_IGN,
            signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, []),
            signal.getsignal(signal.SIGTERM) == signal.SIG_DFL)


@pytest.mark.parametrize("spawn", [False, True])
def test_workers_leave_ctrl_c_to_the_parent_and_end_at_sigterm(spawn):
    with batch.terminate_as_exit():  # as in a batch: the parent's own SIGTERM handler is set
        results = list(pool.ordered_map(_signals, ["a", "b", "c"], jobs=2, lost=_lost, spawn=spawn))
    assert results == [(True, False, True)] * 3  # ignored, not left blocked; the default


def _put_sigint_blocked(queue):
    queue.put(signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, []))


def test_a_spawned_worker_starts_with_ctrl_c_blocked():
    """Blocked from its first instruction, so that a Ctrl-C while it imports its modules,
    before it ignores Ctrl-C, does not end it with a traceback; the parent's mask is as it was."""
    context = pool._Spawning()
    queue = context.SimpleQueue()
    worker = context.Process(target=_put_sigint_blocked, args=(queue,))
    worker.start()
    assert queue.get() is True
    worker.join()
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, [])


def test_lost_records_become_error_records_naming_the_failure():
    chunk = batch.Chunk(first=41, records=(b"{}", b"{}", b"{}"), size=6)
    coder = batch.ChunkCoder(coder=None, fmt="jsonl")
    coded = coder.lost(chunk, (BrokenProcessPool("gone"), BrokenProcessPool("gone")))
    records = [json.loads(line) for line in coded.output.splitlines()]
    assert (coded.records, coded.rejected) == (3, 3)
    assert [r["line"] for r in records] == [41, 42, 43]
    assert all(r["error"]["path"] == "" and "lines 41-43" in r["error"]["message"]
               and "process died" in r["error"]["message"] for r in records)


def test_an_internal_error_stays_in_its_record(compiled_coder, monkeypatch):
    def broken(data):
        raise KeyError("oops")

    monkeypatch.setattr(compiled_coder, "code_dict", broken)  # what a batch calls (Coder.code without Result objects)
    record = batch.code_record(compiled_coder, 7, b'{"id": "e7"}')
    assert record == {"line": 7, "encounter": "e7", "error": {"path": "", "message": "internal error: KeyError: 'oops'"}}


def test_output_file_appears_only_when_complete(tmp_path):
    target = tmp_path / "out.jsonl"
    target.write_text("previous run\n")
    with pytest.raises(RuntimeError), output.atomic_output(target) as out:
        out.write("half a batch\n")
        raise RuntimeError("stopped mid-way")
    assert target.read_text() == "previous run\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]
    with output.atomic_output(target) as out:
        out.write("complete\n")
        assert target.read_text() == "previous run\n"
    assert target.read_text() == "complete\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]


def _ended_pid() -> int:
    """The number of a process that has ended (the system hands numbers out again only much later)."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_temporary_files_name_host_and_process_and_stale_ones_are_removed(tmp_path):
    host = socket.gethostname()
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        stale = f".out.jsonl.infuse-{host}-{_ended_pid()}-k2j4_x9q.part"
        kept = [f".out.jsonl.infuse-{host}-{sleeper.pid}-a1b2c3d4.part",  # a concurrent run, still alive
                f".out.jsonl.infuse-{host}-{os.getpid()}-zz9y8x7w.part",  # this process
                f".out.jsonl.infuse-{host}x-{_ended_pid()}-a1b2c3d4.part",  # another machine sharing the folder
                f".other.jsonl.infuse-{host}-{_ended_pid()}-a1b2c3d4.part",  # another target
                ".out.jsonl.0xq5v7nl.part"]  # an older version's: whose, no one can tell
        for name in [stale, *kept]:
            (tmp_path / name).write_text("half a batch\n")
        with output.atomic_output(tmp_path / "out.jsonl") as out:
            out.write("complete\n")
            (ours,) = set(os.listdir(tmp_path)) - set(kept)
            assert re.fullmatch(rf"\.out\.jsonl\.infuse-{re.escape(host)}-{os.getpid()}-[a-z0-9_]+\.part", ours)
        assert sorted(os.listdir(tmp_path)) == sorted([*kept, "out.jsonl"])
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_new_output_file_gets_the_usual_permissions(tmp_path):
    mask = os.umask(0o022)
    try:
        with output.atomic_output(tmp_path / "new.jsonl") as out:
            out.write("x\n")
    finally:
        os.umask(mask)
    assert (tmp_path / "new.jsonl").stat().st_mode & 0o777 == 0o644


def test_a_batch_stopped_by_sigterm_leaves_no_output(many, tmp_path, monkeypatch):
    target = tmp_path / "out.jsonl"
    chunk_coder = batch.ChunkCoder(batch.CoderSpec(str(RULESET_2026)).build(), "jsonl")
    calls = []

    def code_then_terminate(chunk):
        calls.append(chunk.first)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGTERM)
        return chunk_coder(chunk)

    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(SystemExit) as stopped, batch.terminate_as_exit(), output.atomic_output(target) as out:
        with open(many, "rb") as stream:
            batch.code_chunks(batch.read_chunks(stream, False), out, code_then_terminate, batch.CoderSpec(None), jobs=1)
    assert stopped.value.code == 128 + signal.SIGTERM
    assert len(calls) == 2
    assert list(tmp_path.iterdir()) == []
    assert signal.getsignal(signal.SIGTERM) is before


def test_an_unwritable_output_is_unusable(many, tmp_path, capsys):
    status, out, err = run_cli(["code", many, "-o", tmp_path / "missing" / "out.jsonl"], capsys)
    assert status == 2 and out == ""
    assert "cannot write" in err and "Traceback" not in err


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_on_a_terminal_shows_rate_and_eta(many, tmp_path, capsys, monkeypatch):
    screen = _Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    status = main(["code", str(many), "--jobs", "1", "-o", str(tmp_path / "out.jsonl")])
    assert status == 1
    shown = screen.getvalue()
    assert "2,000 records" in shown and "/s" in shown and "ETA 0:00:" in shown and "%" in shown
    assert re.search(r"\d\r\x1b\[Kinfuse: 5,000 records: 4,948 coded, 52 rejected, [0-9.]+ s, [0-9,]+ records/s\n$",
                     shown), "the progress line is cleared before the summary"


def test_records_shown_on_the_terminal_get_no_progress_line(many, capsys, monkeypatch):
    screen = _Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert main(["code", str(many), "--jobs", "1"]) == 1
    assert capsys.readouterr().out.startswith("line 1: encounter enc-0000000 rejected at claim")
    assert "ETA" not in screen.getvalue()
    assert screen.getvalue().startswith("infuse: 5,000 records: 4,948 coded, 52 rejected")


def test_piped_runs_without_jobs_or_output_print_no_summary(many, capsys):
    status, out, err = run_cli(["code", many], capsys)
    assert status == 1 and len(out.splitlines()) == 5000
    assert err == ""


def test_jobs_must_be_positive(many, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["code", str(many), "--jobs", "0"])
    assert stopped.value.code == 2
    assert "positive whole number" in capsys.readouterr().err


# The batch benchmark (not part of the suite; figures in the project's notes):
#   /work/venv/bin/python -c "from tests.engine.io.test_batch import typical_encounters, write_jsonl; \
#       write_jsonl('/tmp/big.jsonl', typical_encounters(1_000_000))"
#   /usr/bin/time -v /work/venv/bin/infuse code /tmp/big.jsonl --jobs 2 -o /tmp/out.jsonl
