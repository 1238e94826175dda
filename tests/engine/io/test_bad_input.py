"""Every way a batch record can break the contract gives an error record naming the path, in
the record's place, and the batch goes on: as many output records as input lines, exit 1.

Records are built from one valid encounter, each broken in exactly one way, so the path the
error must name is known.
"""
from __future__ import annotations

import copy
import json

import pytest

from engine.cli import main
from tests.engine.io.test_batch import typical_encounters

VALID = {
    "id": "enc-1", "date": "2026-03-14", "claim": "facility", "pos": "23", "payer": "medicare", "primary": "a2",
    "administrations": [
        {"id": "a1", "drug": "ondansetron", "dose": "4 mg", "category": "therapeutic", "route": "iv",
         "method": "push", "start": "2026-03-14T10:02", "stop": "2026-03-14T10:04", "site": "L-forearm",
         "indication": "nausea", "response": "resolved"},
        {"id": "a2", "drug": "normal saline", "dose": "1000 mL", "category": "hydration", "route": "iv",
         "method": "infusion", "start": "2026-03-14T10:05", "stop": "2026-03-14T11:20", "site": "L-forearm",
         "indication": "dehydration", "response": "improved"},
    ],
    "em": [{"code": "99284", "separately_identifiable": True}],
}


def changed(path: str, value=None, *, delete: bool = False) -> bytes:
    """VALID as a JSON line, with the field at `path` (like "administrations[1].stop") set or deleted."""
    data = copy.deepcopy(VALID)
    *parents, last = path.replace("[", ".").replace("]", "").split(".")
    target = data
    for key in parents:
        target = target[int(key)] if key.isdigit() else target[key]
    if delete:
        del target[last]
    else:
        target[int(last) if last.isdigit() else last] = value
    return json.dumps(data).encode()


def raw(path: str, text: bytes) -> bytes:
    """VALID as a JSON line with the value at `path` written as `text`, which json.dumps would not write."""
    return changed(path, "RAW").replace(b'"RAW"', text)


def twice(path: str, first, second) -> bytes:
    """VALID as a JSON line whose object holding `path` gives its key twice: `first`, then `second`."""
    key = path.rpartition(".")[2].encode()
    return raw(path, json.dumps(first).encode() + b', "' + key + b'": ' + json.dumps(second).encode())


REQUIRED = ["id", "date", "claim", "administrations"] + [
    f"administrations[1].{field}" for field in ("id", "drug", "category", "route", "method", "start")
] + ["em[0].code"]

BROKEN: list[tuple[str, bytes, str]] = [
    *[(f"missing {path}", changed(path, delete=True), path) for path in REQUIRED],
    ("unknown claim", changed("claim", "institutional"), "claim"),
    ("unknown category", changed("administrations[0].category", "antiemetic"), "administrations[0].category"),
    ("unknown route", changed("administrations[1].route", "oral"), "administrations[1].route"),
    ("unknown method", changed("administrations[0].method", "drip"), "administrations[0].method"),
    ("id as a number", changed("id", 17), "id"),
    ("date as a number", changed("date", 20260314), "date"),
    ("claim as null", changed("claim", None), "claim"),
    ("pos as a number", changed("pos", 23), "pos"),
    ("pos of three digits", changed("pos", "230"), "pos"),
    ("administrations as an object", changed("administrations", {"a1": {}}), "administrations"),
    ("an administration as a string", changed("administrations[1]", "saline"), "administrations[1]"),
    ("start as a number", changed("administrations[0].start", 1000), "administrations[0].start"),
    ("hormonal as a string", changed("administrations[0].hormonal", "true"), "administrations[0].hormonal"),
    ("drug as a list", changed("administrations[1].drug", ["saline"]), "administrations[1].drug"),
    ("empty drug", changed("administrations[1].drug", ""), "administrations[1].drug"),
    ("em as an object", changed("em", {"code": "99284"}), "em"),
    ("separately_identifiable as 1", changed("em[0].separately_identifiable", 1), "em[0].separately_identifiable"),
    ("em code of four digits", changed("em[0].code", "9928"), "em[0].code"),
    ("stop before start", changed("administrations[1].stop", "2026-03-14T10:00"), "administrations[1].stop"),
    ("duplicate administration ids", changed("administrations[1].id", "a1"), "administrations[1].id"),
    ("30 February", changed("date", "2026-02-30"), "date"),
    ("hour 25", changed("administrations[0].start", "2026-03-14T25:00"), "administrations[0].start"),
    ("month 13", changed("administrations[1].stop", "2026-13-14T11:20"), "administrations[1].stop"),
    ("a date for a date-time", changed("administrations[0].start", "2026-03-14"), "administrations[0].start"),
    ("a date outside every ruleset", changed("date", "1999-03-14"), "date"),
    ("primary naming no administration", changed("primary", "a9"), "primary"),
    ("an administration a year before the date", changed("administrations[1]", dict(
        VALID["administrations"][1], start="2025-03-14T10:05", stop="2025-03-14T11:20")), "administrations[1].start"),
    ("a payer with no policy", changed("payer", "Medicare"), "payer"),
    ("not JSON", b"{'id': 'enc-1'}", ""),
    ("truncated JSON", json.dumps(VALID).encode()[:-2], ""),
    ("an empty line", b"", ""),
    ("only spaces", b"   \t ", ""),
    ("invalid UTF-8", json.dumps(VALID).encode().replace(b"ondansetron", b"ondansetr\xf3n"), ""),
    ("a JSON array", json.dumps([VALID]).encode(), ""),
    ("a JSON number", b"42", ""),
    ("a JSON string", b'"enc-1"', ""),
    ("JSON null", b"null", ""),
    ("nested 100,000 deep", b"[" * 100_000 + b"]" * 100_000, ""),
    ("an object nested 100,000 deep", b'{"a":' * 100_000 + b"1" + b"}" * 100_000, ""),
    ("a field nested 500 deep", changed("administrations[0].drug", json.loads("[" * 500 + "]" * 500)),
     "administrations[0].drug"),
    ("a field nested 100,000 deep", changed("administrations[0].drug", "DEEP").replace(
        b'"DEEP"', b"[" * 100_000 + b"]" * 100_000), ""),
    ("a number too long to read", raw("id", b"9" * 5000), "id"),
    ("hormonal of 5,000 digits", raw("administrations[0].hormonal", b"1" * 5000), "administrations[0].hormonal"),
    ("pos of 5,000 digits", raw("pos", b"-" + b"1" * 5000), "pos"),
    ("hormonal beyond a float", raw("administrations[0].hormonal", b"1e999999"), "administrations[0].hormonal"),
    ("separately_identifiable as -0", raw("em[0].separately_identifiable", b"-0"), "em[0].separately_identifiable"),
    ("hormonal as NaN", raw("administrations[0].hormonal", b"NaN"), "administrations[0].hormonal"),
    ("Infinity in a free-text field", raw("administrations[1].dose", b"-Infinity"), "administrations[1].dose"),
    ("Infinity in an unknown field", raw("administrations[1].note", b"Infinity"), "administrations[1].note"),
    ("claim given twice", twice("claim", "facility", "professional"), "claim"),
    ("id given twice", twice("id", "enc-1", "enc-2"), "id"),
    ("stop given twice", twice("administrations[1].stop", "2026-03-14T11:20", "2026-03-14T12:20"),
     "administrations[1].stop"),
    ("an E/M key given twice", twice("em[0].separately_identifiable", True, False), "em[0].separately_identifiable"),
    ("a key twice in an unknown field", raw("administrations[0].extra", b'[{"a": 1}, {"a": 1, "a": 1}]'),
     "administrations[0].extra[1].a"),
    ("a key twice after NaN", raw("administrations[0].extra", b'[NaN, {"a": 1, "a": 1}]'),
     "administrations[0].extra[0]"),
]

HUGE = "a 50 MB line"


@pytest.fixture(scope="module")
def coded(tmp_path_factory):
    """Every broken record between valid ones, and a 50 MB line, coded through the command line."""
    folder = tmp_path_factory.mktemp("bad")
    path, out = folder / "bad.jsonl", folder / "out.jsonl"
    valid = json.dumps(VALID).encode()
    huge = changed("administrations[0].drug", "x" * (50 * 2**20))
    with open(path, "wb") as stream:
        for _, line, _ in BROKEN:
            stream.write(valid + b"\n" + line + b"\n")
        stream.write(huge + b"\r\n" + valid)  # the last line has no line end
    status = main(["code", str(path), "--jobs", "1", "-o", str(out)])
    return status, [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def test_every_input_line_gives_one_record_and_exit_1(coded):
    status, records = coded
    assert status == 1
    assert len(records) == 2 * len(BROKEN) + 2


def test_the_valid_records_between_are_coded(coded):
    _, records = coded
    valid = records[0::2][: len(BROKEN)] + [records[-1]]
    assert all("error" not in r and r["encounter"] == "enc-1" for r in valid)
    assert all(r["lines"] == valid[0]["lines"] for r in valid)


@pytest.mark.parametrize("what,line,path", BROKEN, ids=[b[0] for b in BROKEN])
def test_a_broken_record_names_its_path(what, line, path, coded):
    _, records = coded
    index = 2 * [b[0] for b in BROKEN].index(what) + 1
    record = records[index]
    assert set(record) == {"line", "encounter", "error"}
    assert record["line"] == index + 1
    assert record["error"]["path"] == path, record["error"]
    assert record["error"]["message"]
    expected_id = "enc-1" if path and path != "id" else None
    assert record["encounter"] == expected_id


def test_messages_say_what_was_expected(coded):
    _, records = coded
    errors = {what: records[2 * i + 1]["error"]["message"] for i, (what, _, _) in enumerate(BROKEN)}
    assert errors["missing claim"] == "required field is missing"
    assert errors["unknown route"] == "expected one of: im, intra_arterial, intralesional, iv, subq; got 'oral'"
    assert errors["stop before start"] == "expected a time at or after start 2026-03-14T10:05:00; got '2026-03-14T10:00:00'"
    assert errors["duplicate administration ids"].startswith("expected a unique id (administrations[0] has it already)")
    assert errors["invalid UTF-8"].startswith("not UTF-8 text (byte ")
    assert errors["nested 100,000 deep"] == "the record is nested too deeply"
    assert errors["a JSON array"].startswith("expected an object; got [")
    assert errors["a date outside every ruleset"].startswith("no ruleset is effective on 1999-03-14")
    assert errors["a number too long to read"] == "expected a string; got a number of 5,000 digits"
    assert errors["hormonal of 5,000 digits"] == "expected true or false; got a number of 5,000 digits"
    assert errors["hormonal beyond a float"] == "expected true or false; got the number 1e999999 (too large to hold)"
    assert errors["separately_identifiable as -0"] == "expected true or false; got 0"
    assert errors["hormonal as NaN"] == "not valid JSON: NaN is not a JSON value"
    assert errors["Infinity in an unknown field"] == "not valid JSON: Infinity is not a JSON value"
    assert errors["claim given twice"] == "duplicated key 'claim'"
    assert errors["stop given twice"] == "duplicated key 'stop'"


def test_a_50_mb_line_is_rejected_unread(coded):
    _, records = coded
    record = records[-2]
    assert record["line"] == 2 * len(BROKEN) + 1
    assert record["error"]["path"] == ""
    assert record["error"]["message"].startswith("record too long: 52,4")


def test_a_lone_surrogate_in_an_echoed_id_is_written_escaped(tmp_path, capsys):
    path = tmp_path / "surrogate.jsonl"
    path.write_bytes(json.dumps(VALID).replace('"enc-1"', '"enc-\\ud800"').encode() + b"\n")
    for fmt in ("jsonl", "json", "table"):
        assert main(["code", str(path), "--format", fmt]) == 0
        out = capsys.readouterr().out
        assert "enc-\\ud800" in out
        out.encode("utf-8")


def _break(number: int, encounter: dict) -> tuple[bytes, str]:
    """One of ten ways to break an encounter of any shape, chosen by `number`; the line and its path."""
    last = len(encounter["administrations"]) - 1
    kind = number % 10
    if kind == 0:
        del encounter["claim"]
        return json.dumps(encounter).encode(), "claim"
    if kind == 1:
        encounter["administrations"][0]["route"] = "oral"
        return json.dumps(encounter).encode(), "administrations[0].route"
    if kind == 2:
        item = encounter["administrations"][last]
        item["stop"] = item["start"][:11] + "00:00"
        return json.dumps(encounter).encode(), f"administrations[{last}].stop"
    if kind == 3:
        encounter["administrations"].append(dict(encounter["administrations"][0]))
        return json.dumps(encounter).encode(), f"administrations[{last + 1}].id"
    if kind == 4:
        encounter["date"] = "2026-02-30"
        return json.dumps(encounter).encode(), "date"
    if kind == 5:
        encounter["primary"] = "nowhere"
        return json.dumps(encounter).encode(), "primary"
    if kind == 6:
        return json.dumps(encounter).encode()[:-1], ""
    if kind == 7:
        return json.dumps(encounter).encode().replace(b'"id"', b'"\xffid"', 1), ""
    if kind == 8:
        return json.dumps([encounter]).encode(), ""
    encounter["administrations"][last]["start"] = 1
    return json.dumps(encounter).encode(), f"administrations[{last}].start"


def test_ten_thousand_encounters_with_one_in_ten_broken(tmp_path, capsys):
    path = tmp_path / "mixed.jsonl"
    expected = {}
    with open(path, "wb") as stream:
        for number, encounter in enumerate(typical_encounters(10_000, seed=5)):
            line = json.dumps(encounter).encode()
            if number % 10 == 3:
                line, expected[number + 1] = _break(number // 10, encounter)
            stream.write(line + b"\n")
    status = main(["code", str(path), "--jobs", "1"])
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert status == 1
    assert len(records) == 10_000
    rejected = {r["line"]: r["error"]["path"] for r in records if "error" in r}
    assert rejected == expected
    assert [r["encounter"] for r in records if "error" not in r] == [
        f"enc-{n:07d}" for n in range(10_000) if n % 10 != 3]
