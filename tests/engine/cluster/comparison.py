"""What the Spark and Dask tests share: a few thousand encounters (typical days and the whole
input domain, every payer, broken records among them) as JSONL and Parquet, the records
`infuse code` gives for them, and the comparison, row for row by key, of a cluster's output
rows with those records."""
from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq

from bench import corpus
from engine.cli import main
from engine.io.parquet import encounter_schema
import engine
from tests.conftest import RULESET_2026

PAYERS = (None, "commercial", "medicare", "medicaid")


def declared_2026():
    return engine.load(RULESET_2026).registry.latest.base.input


def encounters(count: int = 3000) -> list[dict]:
    """`count` encounters: two thirds a typical day, a third the input domain, payers in turn
    (none, both variants and a routed name), one in 40 broken in one of the ways a Parquet
    column can carry (unknown words and payers, a stop before its start, a missing required
    field, a date no ruleset covers, repeated ids, a missing encounter id)."""
    found = corpus.typical_day(count * 2 // 3, seed=12) + corpus.domain(count - count * 2 // 3, seed=12)
    for number, encounter in enumerate(found):
        encounter["id"] = f"c-{number:05d}"
        payer = PAYERS[number % len(PAYERS)]
        encounter.pop("payer", None)
        if payer:
            encounter["payer"] = payer
        if number % 40 == 7:
            _break(encounter, number // 40)
    return found


def _break(encounter: dict, which: int) -> None:
    if not encounter["administrations"]:
        encounter["claim"] = "dental"
        return
    first = encounter["administrations"][0]
    kind = which % 8
    if kind == 0:
        encounter["claim"] = "dental"
    elif kind == 1:
        encounter["payer"] = "Commercial"
    elif kind == 2:
        first["start"] = "2026-13-01T10:00"
    elif kind == 7:
        first["stop"] = "2000-01-01T00:00"
    elif kind == 3:
        del encounter["claim"]
    elif kind == 4:
        encounter["date"] = "2019-03-01"
    elif kind == 5:
        encounter["administrations"].append(dict(first))
    elif which == 6:  # once: the key must stay unique
        del encounter["id"]
    else:
        encounter["pos"] = "2"


def write_inputs(folder, found: list[dict]) -> tuple:
    """(folder, found, folder/in.jsonl, folder/in.parquet): `found` written as JSONL and as
    Parquet in the 2026 encounter_schema."""
    jsonl, parquet = folder / "in.jsonl", folder / "in.parquet"
    jsonl.write_text("".join(json.dumps(e) + "\n" for e in found), encoding="utf-8")
    pq.write_table(pa.Table.from_pylist(found, schema=encounter_schema(declared_2026())), parquet)
    return folder, found, jsonl, parquet


def cli_records(jsonl, folder, *options) -> list[dict]:
    """The records `infuse code IN.jsonl --format jsonl -o OUT` writes, in input order."""
    out = folder / f"cli{'-'.join(options)}.jsonl"
    status = main(["code", str(jsonl), "--format", "jsonl", "--jobs", "1", "-o", str(out), *options])
    assert status in (0, 1)
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def assert_same(rows: list[dict], found: list[dict], records: list[dict], key: str = "id") -> dict:
    """Each output row (a dict of the cluster's output columns) is what `infuse code` gave its
    input record: the same result, or an error at the same path with the same message. Returns
    counts of results and errors compared."""
    expected = {encounter.get(key): record for encounter, record in zip(found, records, strict=True)}
    assert len(expected) == len(found), "the keys must be unique"
    got = {row[key]: row for row in rows}
    assert len(rows) == len(found) and set(got) == set(expected)
    counts = {"results": 0, "errors": 0}
    for name, record in expected.items():
        row = got[name]
        if "error" in record:
            assert row["error"] == record["error"], name
            assert row["ruleset"] is None and row["lines"] is None and row["findings"] is None
            counts["errors"] += 1
        else:
            assert row["error"] is None, (name, row["error"])
            assert {k: row[k] for k in ("ruleset", "lines", "findings")} == \
                   {k: record[k] for k in ("ruleset", "lines", "findings")}, name
            counts["results"] += 1
    return counts
