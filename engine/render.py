"""A coder's view of one result on a terminal: lines as a table, then findings."""
from __future__ import annotations


def render_table(record: dict) -> str:
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
