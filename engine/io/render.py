"""Output records as text: a coder's view on a terminal, or JSON for programs.

An output record is a result's `as_dict()` or an error record (`{"line", "encounter",
"error": {"path", "message"}}`); both render in every format, so a batch can mix them.

JSON is written by orjson: "jsonl" without spaces (`{"a":1,"b":[2,3]}`, where json.dumps wrote
`{"a": 1, "b": [2, 3]}`), "json" indented as before, byte for byte. Everything else is as
json.dumps(..., ensure_ascii=False) wrote it: keys in order, text other than ASCII as UTF-8,
the same escapes (\\", \\\\, \\n and the like, \\u001f for other control characters). A record
orjson refuses (a lone surrogate, echoed from the input, in an id) is written by json.dumps
as before, the surrogate as its escape (see `encodable`).
"""
from __future__ import annotations

import json
from collections.abc import Iterable

import orjson

FORMATS = ("table", "json", "jsonl")


def format_record(record: dict, fmt: str) -> str:
    """One record in `fmt`: "jsonl" (one line), "json" (indented) or "table"; no final newline.

    The text always encodes as UTF-8 (see `encodable`).
    """
    if fmt in _ORJSON:
        try:
            return orjson.dumps(record, option=_ORJSON[fmt]).decode()
        except TypeError:  # a lone surrogate: json.dumps writes it, encodable escapes it
            return encodable(json.dumps(record, ensure_ascii=False, **_DUMPS[fmt]))
    return encodable(render_table(record))


def format_records(records: list[dict], fmt: str) -> str:
    """Each record in `fmt` followed by a newline, as one text."""
    return encode_records(records, fmt).decode()


def encode_records(records: Iterable[dict], fmt: str) -> bytes:
    """Each record in `fmt` followed by a newline, as UTF-8: what a batch worker hands back, so
    that neither it nor the parent decodes and encodes the text again on the way out."""
    option = _ORJSON.get(fmt)
    if option is None:
        return "".join(format_record(record, fmt) + "\n" for record in records).encode()
    parts = []
    for record in records:
        try:
            parts.append(orjson.dumps(record, option=option | orjson.OPT_APPEND_NEWLINE))
        except TypeError:
            parts.append(format_record(record, fmt).encode() + b"\n")  # encodable: always UTF-8
    return b"".join(parts)


_ORJSON = {"jsonl": 0, "json": orjson.OPT_INDENT_2}
_DUMPS = {"jsonl": {"separators": (",", ":")}, "json": {"indent": 2}}  # the same bytes as orjson's


def encodable(text: str) -> str:
    """`text` as UTF-8 can carry it: JSON input may bring a lone surrogate ("\\ud800") into an
    echoed id, and such a character is written as that escape instead of ending the output.

    In JSON text the escape is JSON's own, so the value read back is the same.
    """
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def render_table(record: dict) -> str:
    """Lines as a table, then findings; an error record as one sentence naming the path."""
    if "error" in record:
        error = record["error"]
        where = f" at {error['path']}" if error["path"] else ""
        return f"line {record['line']}: encounter {record['encounter'] or '?'} rejected{where}: {error['message']}"
    rows = [("code", "units", "modifiers", "date", "administrations", "rules")]
    for line in record["lines"]:
        rows.append((line["code"], str(line["units"]), "-".join(line["modifiers"]) or "", line["date"],
                     ", ".join(line["administrations"]), ", ".join(line["rules"])))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    ruleset = record["ruleset"]
    text = [f"encounter {record['encounter']}  (ruleset {ruleset['name']} {ruleset['version']})"]
    if len(rows) == 1:
        text.append("  no lines to report")
    else:
        text += ["  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    for finding in record["findings"]:
        on = f" [{', '.join(finding['administrations'])}]" if finding.get("administrations") else ""
        text.append(f"  {finding['severity']}: {finding['id']}{on}: {finding['message']}")
        text.append(f"      rule {finding['rule']}; source: {finding['reference']}")
    return "\n".join(text)
