"""Output records as text: a coder's view on a terminal, or JSON for programs.

An output record is a result's `as_dict()` or an error record (`{"line", "encounter",
"error": {"path", "message"}}`); both render in every format, so a batch can mix them.
"""
from __future__ import annotations

import json

FORMATS = ("table", "json", "jsonl")


def format_record(record: dict, fmt: str) -> str:
    """One record in `fmt`: "jsonl" (one line), "json" (indented) or "table"; no final newline.

    The text always encodes as UTF-8: JSON may carry a lone surrogate ("\\ud800") into an
    echoed id, and such a record is written with ASCII escapes instead of ending the batch.
    """
    text = _format(record, fmt, ascii_only=False)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = _format(record, fmt, ascii_only=True)
    return text


def _format(record: dict, fmt: str, ascii_only: bool) -> str:
    if fmt == "jsonl":
        return json.dumps(record, ensure_ascii=ascii_only)
    if fmt == "json":
        return json.dumps(record, indent=2, ensure_ascii=ascii_only)
    text = render_table(record)
    return text.encode("ascii", "backslashreplace").decode("ascii") if ascii_only else text


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
