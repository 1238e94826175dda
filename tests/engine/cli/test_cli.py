"""Tests of `infuse code` as a user meets it: inputs, formats, exit statuses, payers, engines.

Most tests call engine.cli.main in this process (fast); a few run the installed `infuse`
script, since only a real process shows the entry point, stdin and the working folder at work.
"""
from __future__ import annotations

import io
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.io import batch
from engine.cli import main
from tests.conftest import CASES, RULESET_2026
from tests.golden import load_cases
from tests.engine.io.test_batch import typical_encounters, write_jsonl

INFUSE = Path(sys.executable).with_name("infuse")
ENCOUNTERS = [case["encounter"] for _, case in load_cases(CASES)]
PUSH = next(e for e in ENCOUNTERS if e["id"] == "seed-01")
SECOND_SITE = next(e for e in ENCOUNTERS if e["id"] == "gc-53")  # a second site: XS, or 59 for commercial


def run_cli(argv, capsys):
    status = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture
def batch_file(tmp_path):
    """Every golden encounter, then four broken lines, then the push again."""
    lines = [json.dumps(e) for e in ENCOUNTERS]
    broken = [
        json.dumps(dict(PUSH, id="bad-route", administrations=[dict(PUSH["administrations"][0], route="oral")])),
        "{not json",
        json.dumps({k: v for k, v in PUSH.items() if k != "claim"}),
        "",
    ]
    path = tmp_path / "batch.jsonl"
    path.write_text("\n".join(lines + broken + [json.dumps(PUSH)]) + "\n")
    return path


def test_a_json_file_is_one_encounter_printed_as_json(tmp_path, capsys, compiled_coder):
    path = tmp_path / "push.json"
    path.write_text(json.dumps(PUSH, indent=2))
    status, out, err = run_cli(["code", path], capsys)
    assert (status, err) == (0, "")
    assert json.loads(out) == compiled_coder.code(PUSH).as_dict()
    assert out.startswith('{\n  "encounter"')


def test_a_jsonl_file_gives_one_record_per_line_in_order(batch_file, capsys, compiled_coder):
    status, out, err = run_cli(["code", batch_file], capsys)
    assert status == 1 and err == ""
    records = [json.loads(line) for line in out.splitlines()]
    count = len(ENCOUNTERS)
    assert len(records) == count + 5
    assert records[:count] == [compiled_coder.code(e).as_dict() for e in ENCOUNTERS]
    assert records[count:count + 4] == [
        {"line": count + 1, "encounter": "bad-route",
         "error": {"path": "administrations[0].route",
                   "message": "expected one of: im, intra_arterial, intralesional, iv, subq; got 'oral'"}},
        {"line": count + 2, "encounter": None,
         "error": {"path": "", "message": records[count + 1]["error"]["message"]}},
        {"line": count + 3, "encounter": "seed-01", "error": {"path": "claim", "message": "required field is missing"}},
        {"line": count + 4, "encounter": None,
         "error": {"path": "", "message": records[count + 3]["error"]["message"]}},
    ]
    assert records[count + 1]["error"]["message"].startswith("not valid JSON")
    assert records[-1]["encounter"] == "seed-01" and "error" not in records[-1]


def test_a_dash_reads_stdin(batch_file, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(batch_file.read_bytes())))
    status, from_stdin, _ = run_cli(["code", "-"], capsys)
    assert status == 1
    assert from_stdin == run_cli(["code", batch_file], capsys)[1]


def test_every_format_renders_every_record(batch_file, capsys):
    _, jsonl, _ = run_cli(["code", batch_file, "--format", "jsonl"], capsys)
    _, pretty, _ = run_cli(["code", batch_file, "--format", "json"], capsys)
    _, table, _ = run_cli(["code", batch_file, "--format", "table"], capsys)
    records = [json.loads(line) for line in jsonl.splitlines()]
    decoder, position, pretty_records = json.JSONDecoder(), 0, []
    while position < len(pretty):
        record, position = decoder.raw_decode(pretty, position)
        pretty_records.append(record)
        position += 1
    assert pretty_records == records
    assert table.count("encounter seed-01  (ruleset drug-administration") == 2
    assert "96374" in table and "rejected at administrations[0].route: expected one of" in table
    assert f"line {len(ENCOUNTERS) + 3}: encounter seed-01 rejected at claim: required field is missing" in table


def test_the_default_format_is_a_table_on_a_terminal(batch_file, capsys, monkeypatch):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    status, out, _ = run_cli(["code", batch_file], capsys)
    assert status == 1
    assert out.startswith("encounter ") and "\n  code   units  modifiers" in out
    assert not out.lstrip().startswith("{")


def test_all_coded_is_exit_0(tmp_path, capsys):
    path = tmp_path / "good.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in ENCOUNTERS[:5]) + "\n")
    status, out, _ = run_cli(["code", path], capsys)
    assert status == 0 and len(out.splitlines()) == 5


def test_a_missing_input_is_unusable(tmp_path, capsys):
    status, out, err = run_cli(["code", tmp_path / "nowhere.jsonl"], capsys)
    assert (status, out) == (2, "")
    assert err == f"infuse: cannot read {tmp_path / 'nowhere.jsonl'}: No such file or directory\n"


def test_a_missing_ruleset_folder_is_unusable(batch_file, tmp_path, capsys):
    status, out, err = run_cli(["code", batch_file, "--ruleset", tmp_path / "nowhere"], capsys)
    assert (status, out) == (2, "")
    assert "no ruleset in" in err and "Traceback" not in err


def test_a_broken_ruleset_is_unusable_and_located(batch_file, tmp_path, capsys):
    broken = tmp_path / "2026"
    shutil.copytree(RULESET_2026, broken)
    service = broken / "service.rules"
    assert "push_limit" in service.read_text()
    service.write_text(service.read_text().replace("push_limit", "push_limt", 1))
    status, out, err = run_cli(["code", batch_file, "--ruleset", broken], capsys)
    assert (status, out) == (2, "")
    assert "service.rules:" in err and "error[E-name]: unknown constant 'push_limt'" in err
    assert "did you mean 'push_limit'?" in err and "Traceback" not in err


@pytest.mark.parametrize("payer,modifier,ruleset", [
    ("medicare", "XS", "drug-administration-medicare"),
    ("commercial", "59", "drug-administration-commercial"),
])
def test_payer_overrides_what_the_encounters_say(payer, modifier, ruleset, tmp_path, capsys):
    path = tmp_path / "second-site.jsonl"
    path.write_text(json.dumps(dict(SECOND_SITE, payer="commercial" if payer == "medicare" else "medicare")) + "\n")
    status, out, err = run_cli(["code", path, "--payer", payer], capsys)
    record = json.loads(out)
    assert (status, err) == (0, "")
    assert record["ruleset"]["name"] == ruleset
    assert sorted(tuple(line["modifiers"]) for line in record["lines"]) == [(), (modifier,)]


def test_a_payer_given_with_no_policy_is_an_unusable_argument(tmp_path, capsys):
    """`--payer medicre` once gave the base rules with a warning; now nothing is coded
    (issue 8, item 3): a payer no ruleset knows has no policy to apply."""
    path = tmp_path / "second-site.jsonl"
    path.write_text(json.dumps(SECOND_SITE) + "\n")
    status, out, err = run_cli(["code", path, "--payer", "medicre"], capsys)
    assert (status, out) == (2, "")
    assert "no payer policy named 'medicre'" in err and "did you mean 'medicare'?" in err


@pytest.mark.parametrize("payer", ["Commercial", "acme", " medicare"])
def test_a_record_naming_an_unknown_payer_is_an_error_record(tmp_path, capsys, payer):
    path = tmp_path / "day.jsonl"
    path.write_text(json.dumps(dict(SECOND_SITE, payer=payer)) + "\n" + json.dumps(SECOND_SITE) + "\n")
    status, out, _ = run_cli(["code", path], capsys)
    rejected, coded = (json.loads(line) for line in out.splitlines())
    assert status == 1 and "lines" in coded
    assert rejected["error"]["path"] == "payer"
    assert f"no payer policy named '{payer}'" in rejected["error"]["message"]


@pytest.mark.parametrize("engine", ["compiled", "reference"])
def test_a_misspelt_optional_fact_is_rejected_and_its_case_ignored(engine, tmp_path, capsys):
    """purpose, integral_to, performer and supervision are folded vocabularies: a word in
    another case or with surrounding space is the word; a misspelt one is an error record."""
    saline = {"id": "a2", "drug": "normal saline", "dose": "1000 mL", "category": "hydration", "route": "iv",
              "method": "infusion", "start": "2026-03-14T10:05", "stop": "2026-03-14T11:05",
              "indication": "dehydration", "response": "tolerated"}
    values = {"kvo": "kvo", "upper": "KVO", "spaced": " Kvo ", "hydration": "hydration", "misspelt": "kov"}
    path = tmp_path / "purpose.jsonl"
    write_jsonl(path, [dict(PUSH, id=name, administrations=[*PUSH["administrations"], dict(saline, purpose=value)])
                       for name, value in values.items()])
    status, out, _ = run_cli(["code", path, "--format", "jsonl", "--engine", engine], capsys)
    records = {record["encounter"]: record for record in map(json.loads, out.splitlines())}
    assert status == 1
    assert records["misspelt"] == {"line": 5, "encounter": "misspelt", "error": {
        "path": "administrations[1].purpose",
        "message": "expected one of: carrier, flush, hydration, kvo (ignoring case and surrounding space); got 'kov'"}}

    def coded(name):
        return [line["code"] for line in records[name]["lines"]], [f["id"] for f in records[name]["findings"]]
    assert coded("kvo") == coded("upper") == coded("spaced") == (["96374"], ["fluid-not-hydration", "hydration-not-reportable"])
    assert coded("hydration") == (["96374", "96361"], [])


def test_both_engines_give_identical_output(batch_file, capsys):
    compiled = run_cli(["code", batch_file, "--engine", "compiled"], capsys)
    reference = run_cli(["code", batch_file, "--engine", "reference"], capsys)
    assert compiled == reference
    assert len(compiled[1].splitlines()) == len(ENCOUNTERS) + 5


def test_version(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out.strip() == "infuse 1.0.0"


needs_script = pytest.mark.skipif(not INFUSE.exists(), reason="the infuse script is not installed beside Python")


@needs_script
def test_the_installed_script_reads_stdin_from_any_folder(batch_file, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = subprocess.run([INFUSE, "code", "-"], input=batch_file.read_bytes(), capture_output=True,
                          cwd=elsewhere, timeout=60)
    assert done.returncode == 1, done.stderr.decode()
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(records) == len(ENCOUNTERS) + 5
    assert records[0]["ruleset"]["name"].startswith("drug-administration")
    assert done.stderr == b""


@needs_script
def test_the_installed_script_reports_bad_arguments_without_a_traceback(tmp_path):
    done = subprocess.run([INFUSE, "code", "missing.json"], capture_output=True, cwd=tmp_path, timeout=60)
    assert done.returncode == 2
    assert done.stderr == b"infuse: cannot read missing.json: No such file or directory\n"
    version = subprocess.run([INFUSE, "--version"], capture_output=True, timeout=60)
    assert (version.returncode, version.stdout) == (0, b"infuse 1.0.0\n")


# ----- what a real process meets: full disks, size limits, closed pipes and descriptors -----

BUFFERING = pytest.mark.parametrize("unbuffered", [False, True], ids=["buffered", "unbuffered"])
"""Standard output as Python sets it up by default, and with PYTHONUNBUFFERED=1 (common in containers)."""


def infuse(*args, unbuffered=False, size_limit=None, closed=(), **streams) -> subprocess.CompletedProcess:
    """The installed script run in its own process. `size_limit`: the most bytes it may write to
    a file (RLIMIT_FSIZE, with SIGXFSZ ignored as a shell's `ulimit -f` user would see it fail);
    `closed`: descriptors closed before it starts (0 for `<&-`, 1 for `>&-`)."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONUNBUFFERED"}
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"

    def prepare():
        if size_limit is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (size_limit, size_limit))
        for descriptor in closed:
            os.close(descriptor)

    streams.setdefault("stdout", subprocess.PIPE)
    streams.setdefault("stderr", subprocess.PIPE)
    return subprocess.run([INFUSE, *map(str, args)], env=env, preexec_fn=prepare, timeout=120, **streams)


@pytest.fixture(scope="module")
def three_chunks(tmp_path_factory):
    """Enough encounters for three chunks, so that --jobs 2 codes them in worker processes."""
    path = tmp_path_factory.mktemp("chunks") / "year.jsonl"
    write_jsonl(path, typical_encounters(2 * batch.CHUNK_LINES + 10))
    return path


@needs_script
@BUFFERING
@pytest.mark.parametrize("jobs", [1, 2])
def test_a_full_disk_on_standard_output_is_exit_3(jobs, unbuffered, three_chunks):
    with open("/dev/full", "wb") as full:
        done = infuse("code", three_chunks, "--jobs", jobs, stdout=full, unbuffered=unbuffered)
    assert (done.returncode, done.stderr) == (3, b"infuse: cannot write the output: No space left on device\n")


@needs_script
@BUFFERING
@pytest.mark.parametrize("argv", [["explain", CASES / "04-infusion-with-premedication-pushes.json"],
                                  ["check", RULESET_2026], ["code", CASES / "01-ed-furosemide-push-facility.json"]],
                         ids=["explain", "check", "code"])
def test_a_small_output_that_cannot_be_written_is_exit_3_too(argv, unbuffered):
    """A buffered output this small fails only when flushed at the end: it must fail there too."""
    with open("/dev/full", "wb") as full:
        done = infuse(*argv, stdout=full, unbuffered=unbuffered)
    assert (done.returncode, done.stderr) == (3, b"infuse: cannot write the output: No space left on device\n")


@needs_script
@BUFFERING
def test_a_file_size_limit_on_standard_output_is_exit_3(unbuffered, batch_file, tmp_path):
    """Unbuffered, Python drops the rest of a write the limit cuts short without an error."""
    with open(tmp_path / "out.jsonl", "wb") as out:
        done = infuse("code", batch_file, stdout=out, size_limit=4096, unbuffered=unbuffered)
    assert (done.returncode, done.stderr) == (3, b"infuse: cannot write the output: File too large\n")
    assert (tmp_path / "out.jsonl").stat().st_size == 4096


@needs_script
@BUFFERING
def test_a_file_size_limit_on_an_output_file_keeps_the_old_file_and_is_exit_3(unbuffered, batch_file, tmp_path):
    target = tmp_path / "out.jsonl"
    target.write_text("previous run\n")
    done = infuse("code", batch_file, "-o", target, size_limit=4096, unbuffered=unbuffered)
    assert (done.returncode, done.stdout) == (3, b"")
    assert done.stderr == f"infuse: cannot write {target}: File too large\n".encode()
    assert target.read_text() == "previous run\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["batch.jsonl", "out.jsonl"]


@needs_script
@BUFFERING
@pytest.mark.parametrize("argv", [["code", "BATCH", "--jobs", "1"], ["code", "BATCH", "--jobs", "2"],
                                  ["explain", CASES / "04-infusion-with-premedication-pushes.json"]],
                         ids=["code", "code with jobs", "explain"])
def test_a_reader_that_stops_reading_is_no_failure(argv, unbuffered, three_chunks):
    """Like `infuse code year.jsonl | head -1`: exit 0, and no traceback when Python exits."""
    process = subprocess.Popen([INFUSE, *(three_chunks if a == "BATCH" else a for a in argv)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=dict(os.environ, PYTHONUNBUFFERED="1" if unbuffered else ""))
    process.stdout.close()  # before the first write: the reader has gone
    err = process.stderr.read()
    assert (process.wait(timeout=120), err) == (0, b"")


@needs_script
@pytest.mark.parametrize("command", ["code", "explain"])
def test_a_closed_standard_input_is_unusable(command):
    done = infuse(command, "-", closed=[0])
    assert (done.returncode, done.stdout, done.stderr) == (2, b"", b"infuse: cannot read standard input: it is closed\n")
    with open(os.devnull, "wb") as write_only:  # `infuse code - 0>/dev/null`
        done = infuse(command, "-", stdin=write_only)
    assert (done.returncode, done.stderr) == (2, b"infuse: cannot read standard input: Bad file descriptor\n")


@needs_script
@pytest.mark.parametrize("argv", [["code", CASES / "01-ed-furosemide-push-facility.json"],
                                  ["explain", CASES / "01-ed-furosemide-push-facility.json"]], ids=["code", "explain"])
def test_a_closed_standard_output_is_exit_3(argv):
    done = infuse(*argv, closed=[1], stdout=None)
    assert (done.returncode, done.stderr) == (3, b"infuse: cannot write the output: standard output is closed\n")


@needs_script
def test_the_file_a_killed_run_leaves_is_removed_by_the_next_run(three_chunks, batch_file, tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "out.jsonl"
    run = subprocess.Popen([INFUSE, "code", three_chunks, "--jobs", "1", "-o", target], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not os.listdir(folder) and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    run.send_signal(signal.SIGKILL)
    assert run.wait() == -signal.SIGKILL
    (left,) = os.listdir(folder)
    assert left.startswith(f".out.jsonl.infuse-{socket.gethostname()}-{run.pid}-")
    done = infuse("code", batch_file, "-o", target)
    assert done.returncode == 1, done.stderr
    assert os.listdir(folder) == ["out.jsonl"]


@pytest.mark.parametrize("target,message", [
    ("folder", "it is a folder; -o names the file to write"),
    ("missing/out.jsonl", "there is no folder {tmp_path}/missing"),
    ("fifo", "not a regular file (leave out -o to write to standard output)"),
    ("null", "not a regular file (leave out -o to write to standard output)"),  # renamed over, /dev/null would go
])
def test_an_unusable_output_target_is_refused_before_coding(target, message, batch_file, tmp_path, capsys,
                                                             monkeypatch):
    (tmp_path / "folder").mkdir()
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "null").symlink_to(os.devnull)  # not /dev/null itself: a regression would replace the link only
    target = str(tmp_path / target)
    coded = []
    monkeypatch.setattr(batch, "code_chunks", lambda *args, **kwargs: coded.append(args))
    status, out, err = run_cli(["code", batch_file, "-o", target], capsys)
    assert (status, out, coded) == (2, "", [])
    assert err == f"infuse: cannot write {target}: {message.format(tmp_path=tmp_path)}\n"
    assert not list(tmp_path.rglob("*.part"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_an_output_in_a_read_only_folder_is_refused_before_coding(batch_file, tmp_path, capsys):
    folder = tmp_path / "read-only"
    folder.mkdir(mode=0o555)
    status, out, err = run_cli(["code", batch_file, "-o", folder / "out.jsonl"], capsys)
    assert (status, out) == (2, "")
    assert err == f"infuse: cannot write {folder / 'out.jsonl'}: Permission denied\n"


def test_extensions_are_told_apart_in_any_case(batch_file, tmp_path, capsys, compiled_coder):
    (tmp_path / "ED.JSON").write_text(json.dumps(PUSH, indent=2))
    status, out, err = run_cli(["code", tmp_path / "ED.JSON"], capsys)
    assert (status, err) == (0, "")
    assert json.loads(out) == compiled_coder.code(PUSH).as_dict() and out.startswith('{\n  "encounter"')
    shutil.copy(batch_file, tmp_path / "DAY.Jsonl")
    assert run_cli(["code", tmp_path / "DAY.Jsonl"], capsys) == run_cli(["code", batch_file], capsys)
