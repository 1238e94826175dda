"""Tests of Parquet in and out of `infuse code` (engine.io.parquet): the same results as JSONL,
error records in place for bad rows, order across worker processes, atomic output, and a clear
message without pyarrow. Skipped when pyarrow (the extra infuse[parquet]) is not installed."""
from __future__ import annotations

import datetime
import importlib.util
import json
import sys
from concurrent.futures.process import BrokenProcessPool

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

import engine  # noqa: E402  (after the skip: parquet_io needs pyarrow)
from engine.io import parquet as parquet_io  # noqa: E402
from engine.io import batch, records  # noqa: E402
from engine.cli import main  # noqa: E402
from engine.io.render import encode_records  # noqa: E402
from engine.core.encounter import parse_encounter  # noqa: E402
from tests.conftest import CASES, RULESET_2026  # noqa: E402
from tests.engine.analyst.test_diff import _copy  # noqa: E402
from tests.engine.io.test_batch import _Terminal, typical_encounters, write_jsonl  # noqa: E402
from tests.engine.cli.test_cli import infuse, needs_script  # noqa: E402
from tests.engine.io import pyarrow_free  # noqa: E402


def run_cli(argv, capsys):
    status = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def declared_input(folder):
    """The input a ruleset folder declares (its base ruleset's)."""
    return engine.load(folder).registry.families[0].for_payer(None).input


SCHEMA_2026 = parquet_io.encounter_schema(declared_input(RULESET_2026))


def write_parquet(path, rows, schema=SCHEMA_2026, **options) -> None:
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path, **options)


def read_records(path) -> list[dict]:
    """The output records of a Parquet result file, as `infuse code` writes them in JSON."""
    records = []
    for row in pq.read_table(path).to_pylist():
        if row["error"] is None:
            records.append({key: row[key] for key in ("encounter", "ruleset", "lines", "findings")})
        else:
            records.append({key: row[key] for key in ("line", "encounter", "error")})
    return records


def jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


@pytest.fixture(scope="module")
def golden():
    """The encounters of the golden cases, in file order."""
    return [json.loads(path.read_text())["encounter"] for path in sorted(CASES.glob("*.json"))]


def test_the_encounter_schema_holds_every_field_of_the_golden_cases(golden):
    columns = {field.name: field.type for field in SCHEMA_2026}
    administration = {field.name for field in columns["administrations"].value_type}
    em = {field.name for field in columns["em"].value_type}
    assert {key for e in golden for key in e} <= set(columns)
    assert {key for e in golden for a in e["administrations"] for key in a} <= administration
    assert {key for e in golden for item in e.get("em", ()) for key in item} <= em


def test_the_2026_schema_is_the_contract_as_parquet_columns():
    administration = SCHEMA_2026.field("administrations").type.value_type
    assert SCHEMA_2026.names == ["id", "date", "claim", "pos", "payer", "primary", "administrations", "em"]
    assert [f.name for f in administration] == ["id", "drug", "dose", "category", "hormonal", "pump", "route",
                                                "method", "start", "stop", "site", "session", "indication",
                                                "response", "purpose", "integral_to", "performer", "supervision",
                                                "lesions"]
    assert administration.field("hormonal").type == pa.bool_() and administration.field("start").type == pa.string()
    assert SCHEMA_2026.field("em").type.value_type.field("separately_identifiable").type == pa.bool_()
    assert {SCHEMA_2026.field(name).type for name in ("id", "date", "claim", "pos", "primary")} == {pa.string()}


def test_a_declared_field_becomes_a_column_whose_value_reaches_the_record(tmp_path):
    anchor = "  field response: text, blank "
    folder = _copy(RULESET_2026, tmp_path / "2026", "input.rules", anchor,
                   '  field reason: text "why it was given"\n' + anchor)
    declared = declared_input(folder)
    schema = parquet_io.encounter_schema(declared)
    assert schema.field("administrations").type.value_type.field("reason").type == pa.string()
    assert "reason" not in SCHEMA_2026.field("administrations").type.value_type.names
    row = _good("p1")
    row["administrations"][0]["reason"] = "flush the line"
    write_parquet(tmp_path / "in.parquet", [row], schema)
    [[record]] = [list(chunk.records) for chunk in parquet_io.open_source(str(tmp_path / "in.parquet")).chunks]
    assert record["administrations"][0]["reason"] == "flush the line"
    encounter = parse_encounter(record, declared)
    assert encounter.events["administration"][0].values["reason"] == "flush the line"


def test_parquet_input_codes_like_jsonl(golden, tmp_path, capsys):
    write_jsonl(tmp_path / "cases.jsonl", golden)
    write_parquet(tmp_path / "cases.parquet", golden)
    status, direct, _ = run_cli(["code", tmp_path / "cases.jsonl"], capsys)
    assert run_cli(["code", tmp_path / "cases.parquet"], capsys) == (status, direct, "")
    assert run_cli(["code", tmp_path / "cases.parquet", "-o", tmp_path / "out.jsonl"], capsys)[0] == status
    assert (tmp_path / "out.jsonl").read_text() == direct
    assert [r["encounter"] for r in jsonl(direct)] == [e["id"] for e in golden]


def test_parquet_output_holds_the_json_records(golden, tmp_path, capsys):
    lines = [json.dumps(e) for e in golden[:20]]
    lines[3] = lines[3].replace('"claim": "', '"claim": "x', 1)
    lines[7] = "not json"
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n")
    status, direct, _ = run_cli(["code", tmp_path / "in.jsonl"], capsys)
    assert status == 1
    assert run_cli(["code", tmp_path / "in.jsonl", "-o", tmp_path / "out.parquet"], capsys)[:2] == (1, "")
    assert pq.read_schema(tmp_path / "out.parquet").equals(parquet_io.RESULT_SCHEMA)
    records = read_records(tmp_path / "out.parquet")
    assert records == jsonl(direct)
    assert [r["line"] for r in records if "error" in r] == [4, 8]
    assert records[7] == {"line": 8, "encounter": None, "error": records[7]["error"]}
    rows = pq.read_table(tmp_path / "out.parquet").to_pylist()
    assert rows[0]["line"] is None and rows[0]["error"] is None
    assert rows[3]["ruleset"] is None and rows[3]["lines"] is None and rows[3]["error"]["path"] == "claim"


def test_parquet_to_parquet_equals_jsonl_to_jsonl(golden, tmp_path, capsys):
    write_jsonl(tmp_path / "cases.jsonl", golden)
    write_parquet(tmp_path / "cases.parquet", golden)
    _, direct, _ = run_cli(["code", tmp_path / "cases.jsonl"], capsys)
    run_cli(["code", tmp_path / "cases.parquet", "-o", tmp_path / "out.parquet"], capsys)
    assert read_records(tmp_path / "out.parquet") == jsonl(direct)


def test_upper_case_extensions_are_parquet_too(golden, tmp_path, capsys):
    write_jsonl(tmp_path / "cases.jsonl", golden)
    write_parquet(tmp_path / "CASES.PARQUET", golden)
    _, direct, _ = run_cli(["code", tmp_path / "cases.jsonl"], capsys)
    assert run_cli(["code", tmp_path / "CASES.PARQUET", "-o", tmp_path / "OUT.Parquet"], capsys)[1] == ""
    assert read_records(tmp_path / "OUT.Parquet") == jsonl(direct)


@needs_script
def test_a_file_size_limit_keeps_the_old_file_and_is_exit_3(tmp_path):
    write_jsonl(tmp_path / "in.jsonl", typical_encounters(3000))
    target = tmp_path / "out.parquet"
    target.write_text("previous run")
    done = infuse("code", tmp_path / "in.jsonl", "-o", target, size_limit=16384)
    assert (done.returncode, done.stdout) == (3, b"")
    assert done.stderr == f"infuse: cannot write {target}: File too large\n".encode()
    assert target.read_text() == "previous run"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.parquet"]


def _good(ident: str) -> dict:
    return {"id": ident, "date": "2026-03-14", "claim": "facility", "pos": "23",
            "administrations": [{"id": "a1", "drug": "furosemide", "dose": "40 mg", "category": "therapeutic",
                                 "route": "iv", "method": "push", "start": "2026-03-14T10:00",
                                 "stop": "2026-03-14T10:02", "indication": "edema", "response": "tolerated"}]}


def test_bad_rows_give_error_outputin_place(tmp_path, capsys):
    administration = pa.struct([("id", pa.string()), ("drug", pa.string()), ("dose", pa.string()),
                                ("category", pa.string()), ("hormonal", pa.string()), ("route", pa.string()),
                                ("method", pa.string()), ("start", pa.string()), ("stop", pa.string()),
                                ("indication", pa.string()), ("response", pa.string())])
    schema = pa.schema([("id", pa.string()), ("date", pa.string()), ("claim", pa.string()), ("pos", pa.int32()),
                        ("administrations", pa.list_(administration))])

    def changed(ident, change):
        row = {**_good(ident), "pos": None}
        change(row)
        return row

    rows = [
        changed("r1", lambda r: None),
        changed("r2", lambda r: r.update(pos=23)),
        changed("r3", lambda r: r.update(claim=None)),
        changed("r4", lambda r: r.update(administrations=None)),
        changed("r5", lambda r: r.update(administrations=[None])),
        changed("r6", lambda r: r["administrations"][0].update(start=None)),
        changed("r7", lambda r: r["administrations"][0].update(hormonal="yes")),
        changed("r8", lambda r: r.update(id=None)),
        changed("r9", lambda r: None),
    ]
    write_parquet(tmp_path / "bad.parquet", rows, schema)
    status, out, _ = run_cli(["code", tmp_path / "bad.parquet"], capsys)
    records = jsonl(out)
    assert status == 1
    assert [r.get("encounter") for r in records] == [f"r{n}" for n in range(1, 8)] + [None, "r9"]
    assert [(r["line"], r["error"]["path"], r["error"]["message"]) for r in records if "error" in r] == [
        (2, "pos", "expected a string; got 23"),
        (3, "claim", "required field is missing"),
        (4, "administrations", "required field is missing"),
        (5, "administrations[0]", "expected an object; got None"),
        (6, "administrations[0].start", "required field is missing"),
        (7, "administrations[0].hormonal", "expected true or false; got 'yes'"),
        (8, "id", "required field is missing"),
    ]
    assert records[0]["lines"] == records[-1]["lines"] == [
        {"code": "96374", "units": 1, "modifiers": [], "date": "2026-03-14", "administrations": ["a1"],
         "rules": records[0]["lines"][0]["rules"]}]


def test_date_and_timestamp_columns_read_as_iso_text(tmp_path, capsys):
    administration = pa.struct([("id", pa.string()), ("drug", pa.string()), ("category", pa.string()),
                                ("route", pa.string()), ("method", pa.string()),
                                ("start", pa.timestamp("us")), ("stop", pa.timestamp("ns", tz="-05:00"))])
    schema = pa.schema([("id", pa.string()), ("date", pa.date32()), ("claim", pa.string()),
                        ("administrations", pa.list_(administration))])

    def typed(stop):
        return {"id": "t1", "date": datetime.date(2026, 3, 14), "claim": "facility",
                "administrations": [{"id": "a1", "drug": "ceftriaxone", "category": "therapeutic", "route": "iv",
                                     "method": "infusion", "start": datetime.datetime(2026, 3, 14, 10, 0),
                                     "stop": stop}]}

    stop = datetime.datetime(2026, 3, 14, 11, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=-5)))
    nanoseconds = 1_773_505_800_000_000_001  # no datetime holds it, so its row alone is rejected
    write_parquet(tmp_path / "typed.parquet", [typed(stop), typed(nanoseconds), typed(stop)], schema)
    as_text = {"id": "t1", "date": "2026-03-14", "claim": "facility",
               "administrations": [{"id": "a1", "drug": "ceftriaxone", "category": "therapeutic", "route": "iv",
                                    "method": "infusion", "start": "2026-03-14T10:00:00",
                                    "stop": "2026-03-14T11:30:00-05:00"}]}
    write_jsonl(tmp_path / "text.jsonl", [as_text])
    _, expected, _ = run_cli(["code", tmp_path / "text.jsonl"], capsys)
    status, out, _ = run_cli(["code", tmp_path / "typed.parquet"], capsys)
    first, unreadable, third = jsonl(out)
    assert status == 1
    assert first == third == json.loads(expected)
    assert first["lines"][0]["code"] == "96365"
    assert unreadable["line"] == 2 and unreadable["encounter"] is None
    if importlib.util.find_spec("pandas") is None:  # with pandas, pyarrow gives a Timestamp instead
        assert unreadable["error"]["message"].startswith("the row cannot be read: Nanosecond resolution")


def test_two_jobs_give_the_same_output_as_one(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(records, "CHUNK_LINES", 400)
    monkeypatch.setattr(parquet_io, "ROW_GROUP_BYTES", 2**20)
    rows = list(typical_encounters(3000, seed=4))
    for index in range(0, len(rows), 101):
        rows[index]["claim"] = "dental"
    write_parquet(tmp_path / "many.parquet", rows, row_group_size=700)
    assert parquet_io.open_source(str(tmp_path / "many.parquet")).total == 3000
    status1, one, _ = run_cli(["code", tmp_path / "many.parquet", "--jobs", "1"], capsys)
    status2, two, err = run_cli(["code", tmp_path / "many.parquet", "--jobs", "2"], capsys)
    assert (status1, status2) == (1, 1) and two == one
    assert "3,000 records: 2,970 coded, 30 rejected" in err
    run_cli(["code", tmp_path / "many.parquet", "--jobs", "2", "-o", tmp_path / "two.parquet"], capsys)
    assert read_records(tmp_path / "two.parquet") == jsonl(one)
    assert pq.ParquetFile(tmp_path / "two.parquet").metadata.num_row_groups > 1
    assert [r["line"] for r in jsonl(one) if "error" in r] == list(range(1, 3001, 101))


def test_parquet_workers_never_import_pyarrow(tmp_path, capsys, monkeypatch):
    """The rows reach a worker as dicts and the results come back as JSONL: a worker that
    imported pyarrow would hold some 50 MB more (bench/RESULTS.md, Parquet workers without pyarrow)."""
    monkeypatch.setattr(records, "CHUNK_LINES", 300)
    write_parquet(tmp_path / "in.parquet", list(typical_encounters(1200, seed=5)))
    run_cli(["code", tmp_path / "in.parquet", "--jobs", "1", "-o", tmp_path / "one.parquet"], capsys)
    monkeypatch.setattr(batch, "_code_chunk", pyarrow_free.code_chunk_without_pyarrow)
    status, _, err = run_cli(["code", tmp_path / "in.parquet", "--jobs", "2", "-o", tmp_path / "two.parquet"],
                             capsys)
    assert status == 0 and "1,200 coded, 0 rejected" in err
    assert pq.read_table(tmp_path / "two.parquet").equals(pq.read_table(tmp_path / "one.parquet"))


def test_a_lost_chunk_becomes_parquet_error_rows():
    """What stands in for a chunk no worker could code reaches the Parquet writer as any chunk does."""
    chunk = records.Chunk(first=7, records=({}, {}), size=2)
    coded = batch.ChunkCoder(coder=None, fmt="parquet").lost(chunk, (BrokenProcessPool("gone"),) * 2)
    rows = parquet_io.read_results(coded.output).to_pylist()
    assert (coded.records, coded.rejected) == (2, 2)
    assert [row["line"] for row in rows] == [7, 8]
    assert all(row["lines"] is None and "process died" in row["error"]["message"] for row in rows)


_TEXTS = st.one_of(st.text(), st.sampled_from(["ed-\ud800", "\udfff", "\u2028\u2029", "\x00\x1f\x7f", "caf\u00e9",
                                                 "\"\\/", "\ufeff", "\U0010ffff", "x" * 70_000]))


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(st.tuples(_TEXTS, _TEXTS, st.lists(_TEXTS, max_size=3), st.booleans()), max_size=5))
def test_results_read_back_from_jsonl_are_the_rows_record_batch_makes(texts):
    """read_results, which takes what the workers hand back (JSONL), makes the rows
    record_batch makes of the records themselves, whatever text they echo."""
    output = []
    for number, (encounter, message, ids, rejected) in enumerate(texts, 1):
        if rejected:
            output.append(batch.error_record(number, encounter or None, message, message))
        else:
            line = {"code": "96374", "units": 1, "modifiers": ids, "date": "2026-03-14", "administrations": ids,
                    "rules": [message]}
            finding = {"id": "f", "severity": "warning", "administrations": ids, "message": message, "rule": "r",
                       "reference": message}
            output.append({"encounter": encounter, "ruleset": {"name": "n", "version": "v", "digest": "d"},
                             "lines": [line], "findings": [finding]})
    read = parquet_io.read_results(encode_records(output, "jsonl"))
    assert read.schema == parquet_io.RESULT_SCHEMA
    assert read.to_pylist() == parquet_io.record_batch(output).to_pylist()


def test_a_lone_surrogate_in_an_id_is_written_escaped(tmp_path, capsys):
    (tmp_path / "in.jsonl").write_text(json.dumps(_good("ed-\ud800")) + "\n" + json.dumps(_good("plain")) + "\n")
    status, _, _ = run_cli(["code", tmp_path / "in.jsonl", "-o", tmp_path / "out.parquet"], capsys)
    assert status == 0
    assert [r["encounter"] for r in read_records(tmp_path / "out.parquet")] == ["ed-\\ud800", "plain"]


def test_a_file_that_breaks_off_leaves_the_output_untouched(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(records, "CHUNK_LINES", 100)
    write_parquet(tmp_path / "in.parquet", list(typical_encounters(400)), row_group_size=200, compression="none")
    column = pq.ParquetFile(tmp_path / "in.parquet").metadata.row_group(1).column(0)
    offset = column.dictionary_page_offset or column.data_page_offset
    data = bytearray((tmp_path / "in.parquet").read_bytes())
    data[offset:offset + 20] = b"\xff" * 20  # the page header of the second row group
    (tmp_path / "in.parquet").write_bytes(bytes(data))
    (tmp_path / "out.parquet").write_text("previous run")
    status, out, err = run_cli(["code", tmp_path / "in.parquet", "--jobs", "1", "-o", tmp_path / "out.parquet"],
                               capsys)
    assert (status, out) == (2, "")
    assert err.startswith(f"infuse: cannot read {tmp_path / 'in.parquet'}: ") and err.count("\n") == 1
    assert (tmp_path / "out.parquet").read_text() == "previous run"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.parquet", "out.parquet"]


def test_unusable_parquet_arguments(tmp_path, capsys):
    (tmp_path / "text.parquet").write_text('{"id": "not parquet"}\n')
    write_jsonl(tmp_path / "in.jsonl", [_good("e1")])
    status, _, err = run_cli(["code", tmp_path / "text.parquet"], capsys)
    assert status == 2 and "cannot read" in err and "Parquet" in err
    status, _, err = run_cli(["code", tmp_path / "missing.parquet"], capsys)
    assert status == 2 and "cannot read" in err
    status, _, err = run_cli(["code", tmp_path / "in.jsonl", "--format", "jsonl", "-o", tmp_path / "o.parquet"],
                             capsys)
    assert status == 2 and "writes Parquet" in err
    assert not (tmp_path / "o.parquet").exists()


def test_without_pyarrow_a_parquet_path_says_what_to_install(tmp_path, capsys, monkeypatch):
    write_jsonl(tmp_path / "in.jsonl", [_good("e1")])
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow now fails
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    monkeypatch.delitem(sys.modules, "engine.io.parquet")  # so that it is imported anew
    for argv in (["code", tmp_path / "in.parquet"], ["code", tmp_path / "in.jsonl", "-o", tmp_path / "out.parquet"]):
        status, out, err = run_cli(argv, capsys)
        assert (status, out) == (2, "")
        assert err == ("infuse: reading or writing .parquet files needs pyarrow; "
                       "install it with: pip install 'infuse[parquet]'\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


def test_progress_counts_rows_toward_the_file_total(tmp_path, monkeypatch):
    monkeypatch.setattr(records, "CHUNK_LINES", 100)
    write_parquet(tmp_path / "in.parquet", list(typical_encounters(300)))
    screen = _Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    assert main(["code", str(tmp_path / "in.parquet"), "--jobs", "1", "-o", str(tmp_path / "out.parquet")]) == 0
    shown = screen.getvalue()
    assert "100 records" in shown and ", 33%, ETA 0:00:" in shown  # after the first of three chunks
