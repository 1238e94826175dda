"""Output records as text: a coder's view on a terminal, or JSON for programs.

An output record is a result's `as_dict()` or an error record (`{"line", "encounter",
"error": {"path", "message"}}`); both render in every format, so a batch can mix them.
"""
from __future__ import annotations

import json

FORMATS = ("table", "json", "jsonl")


def format_record(record: dict, fmt: str) -> str:
    """One record in `fmt`: "jsonl" (one line), "json" (indented) or "table"; no final newline.

    The text always encodes as UTF-8 (see `encodable`).
    """
    if fmt == "jsonl":
        return encodable(json.dumps(record, ensure_ascii=False))
    if fmt == "json":
        return encodable(json.dumps(record, indent=2, ensure_ascii=False))
    return encodable(render_table(record))


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
