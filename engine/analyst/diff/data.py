"""What changed between two national edit files (`pairs from`, `limit from`), for `infuse diff`.

A quarter's PTP file differs from the last by some hundreds of its hundreds of thousands of
rows: pairs added, pairs deleted (a deletion date set), modifier indicators changed. They are
compared pair by pair, by (column 1, column 2) for PTP and by code for MUEs, and reported as
counts by kind and the first few of each kind, never one line per row of the file.
"""
from __future__ import annotations

from dsl.checked import CheckedLimitsFrom, CheckedPairsFrom
from dsl.edit_data import LimitRow

SHOWN = 10  # changes shown per kind; the counts say how many there are


def data_changes(old, new, shown: int = SHOWN) -> list[str]:
    """The differences between two data clauses' files (CheckedPairsFrom or CheckedLimitsFrom),
    as lines: a summary, then up to `shown` examples of each kind. None when equal."""
    if old.digest == new.digest or old.table is None or new.table is None:
        return []
    if isinstance(new, CheckedPairsFrom):
        kinds = _pair_changes(_pairs(old.table), _pairs(new.table))
    else:
        kinds = _limit_changes({code: LimitRow._make(row) for code, row in old.table.by_code.items()},
                               {code: LimitRow._make(row) for code, row in new.table.by_code.items()})
    counted = [f"{len(items)} {kind}" for kind, items in kinds.items() if items]
    lines = [f"data {new.path}: {', '.join(counted) or 'no pair changed (the file differs in order or other columns)'}"
             f" ({old.table.rows:,} → {new.table.rows:,} rows)"]
    for kind, items in kinds.items():
        for text in sorted(items)[:shown]:
            lines.append(f"  {kind}: {text}")
        if len(items) > shown:
            lines.append(f"  {kind}: … and {len(items) - shown:,} more")
    return lines


def _pairs(table) -> dict:
    """{(column1, column2): ((effective, deletion, indicator), ...)} of a PTP table."""
    return {(c1, c2): tuple(sorted((r[2], r[3] or "", r[4]) for r in rows))
            for c2, partners in table.by_column2.items() for c1, rows in partners.items()}


def _period(row: tuple) -> str:
    effective, deletion, indicator = row
    return f"indicator {indicator}, effective {effective}" + (f", deleted {deletion}" if deletion else "")


def _pair_changes(old: dict, new: dict) -> dict:
    kinds: dict = {"added": [], "removed": [], "deleted": [], "indicator changed": [], "dates changed": []}
    for key, rows in new.items():
        name = f"{key[0]}/{key[1]}"
        before = old.get(key)
        if before is None:
            kinds["added"].append(f"{name} ({'; '.join(_period(r) for r in rows)})")
        elif before != rows:
            last_old, last_new = before[-1], rows[-1]
            if last_new[1] and not last_old[1]:
                kinds["deleted"].append(f"{name} deleted {last_new[1]} (was {_period(last_old)})")
            elif {r[2] for r in before} != {r[2] for r in rows}:
                kinds["indicator changed"].append(f"{name} indicator {'/'.join(r[2] for r in before)} → "
                                                  f"{'/'.join(r[2] for r in rows)}")
            else:
                kinds["dates changed"].append(f"{name} {'; '.join(_period(r) for r in before)} → "
                                              f"{'; '.join(_period(r) for r in rows)}")
    for key, rows in old.items():
        if key not in new:
            kinds["removed"].append(f"{key[0]}/{key[1]} ({'; '.join(_period(r) for r in rows)})")
    return kinds


def _limit_changes(old: dict, new: dict) -> dict:
    kinds: dict = {"added": [], "removed": [], "units changed": [], "indicator changed": []}
    for code, row in new.items():
        before = old.get(code)
        if before is None:
            kinds["added"].append(f"{code} {row.units} units (MAI {row.mai})")
        elif before.units != row.units:
            kinds["units changed"].append(f"{code} {before.units} → {row.units} units (MAI {row.mai})")
        elif before.mai != row.mai:
            kinds["indicator changed"].append(f"{code} MAI {before.mai} → {row.mai}")
    kinds["removed"] = [f"{code} {row.units} units (MAI {row.mai})" for code, row in old.items() if code not in new]
    return kinds


def clause_data_changes(old_clauses: tuple, new_clauses: tuple) -> list[str]:
    """The data changes of an edit's data clauses, matched by kind and file name, then by
    kind in order (a file renamed for the new quarter)."""
    found = []
    for kind in (CheckedPairsFrom, CheckedLimitsFrom):
        olds = [c for c in old_clauses if isinstance(c, kind)]
        news = [c for c in new_clauses if isinstance(c, kind)]
        by_path = {c.path: c for c in olds}
        unmatched = [c for c in olds if c.path not in {n.path for n in news}]
        for clause in news:
            before = by_path.get(clause.path) or (unmatched.pop(0) if unmatched else None)
            if before is not None:
                found += data_changes(before, clause)
    return found
