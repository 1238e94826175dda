"""Read the national edit tables a ruleset takes as data: NCCI procedure-to-procedure pairs
and medically unlikely edits (MUEs), as CSV files in the ruleset folder.

CMS publishes both quarterly as tables of hundreds of thousands of rows; a ruleset names them
(`pairs from "data/ncci-ptp-hospital.csv" per date`, `limit from "data/mue-hospital.csv" per date`) and the
loader reads each once, checks every row, and indexes it for the edit stage. A malformed row
is a located diagnostic (file:line:column and what was expected) like any ruleset mistake.

The columns are found by their names in the first row that is not a comment (`#`), compared
ignoring case, spaces and punctuation, and by how they begin, so CMS's own headings are
accepted as published ("Column 1", "Effective Date", "Deletion Date *=no data",
"Modifier 0=not allowed 1=allowed 9=not applicable", "MUE Adjudication Indicator"); other
columns (a rationale, CMS's "prior to 1996" flag) are kept out of the way. See
rulesets/2026/data/README.md for the layouts.
"""
from __future__ import annotations

import contextlib
import csv
import datetime
import gc
import hashlib
import io
import re
import threading
import typing

import attrs

from dsl.ast import Span
from dsl.diagnostics import Diagnostic

MAX_DATA_BYTES = 400_000_000  # a full national file is some tens of megabytes
MAX_DIAGNOSTICS = 20  # a file wrong throughout says so in its first rows, not in 500,000 lines

# (column, how a heading begins or what it holds, ignoring case, spaces and punctuation), tried in order
PTP_COLUMNS = (("column1", "column1"), ("column2", "column2"), ("effective", "effective"),
               ("deletion", "deletion"), ("modifier", "modifier"))
MUE_COLUMNS = (("mai", "adjudication"), ("mai", "mai"), ("units", "muevalue"), ("units", "units"),
               ("code", "hcpcs"), ("code", "code"))
_CODE = re.compile(r"[A-Za-z0-9]{5}")
_ISO = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")


class PairRow(typing.NamedTuple):
    """One PTP row: column 2 code bundles into column 1 from `effective` until `deletion`
    (exclusive; None: in force), `indicator` 0 (never separately), 1 (with a modifier) or 9
    (not applicable). `line` is its line in the file, for a trace to cite.

    The index holds each row as a plain tuple of text and numbers, in this order: the
    collector stops tracking such tuples, so half a million of them cost no full collection
    anything (a tracked object would be visited at each; `PairRow._make` names the fields)."""

    column1: str
    column2: str
    effective: str
    deletion: str | None
    indicator: str
    line: int

    def in_force(self, date: str) -> bool:
        return in_force(self, date)


def in_force(row: tuple, date: str) -> bool:
    """Whether a PTP row (a PairRow or its plain tuple) applies on a date of service: on or
    after its effective date and before its deletion date."""
    return row[2] <= date and (row[3] is None or date < row[3])


class LimitRow(typing.NamedTuple):
    """One MUE row: at most `units` of `code` on a line (`mai` 1) or a date of service (`mai`
    2 or 3). Held in the index as a plain tuple, like PairRow."""

    code: str
    units: int
    mai: str
    line: int


@attrs.frozen(eq=False)
class PairTable:
    """A PTP file, indexed by column 2 code: {column2: {column1: (row, ...)}}, each row a
    PairRow's plain tuple."""

    path: str
    sha256: str
    rows: int
    by_column2: dict

    def find(self, column1: str, column2: str) -> tuple[PairRow, ...]:
        """The rows of one pair, in file order."""
        return tuple(PairRow._make(row) for row in self.by_column2.get(column2, {}).get(column1, ()))


@attrs.frozen(eq=False)
class LimitTable:
    """An MUE file, indexed by code: {code: row}, each row a LimitRow's plain tuple."""

    path: str
    sha256: str
    rows: int
    by_code: dict

    def find(self, code: str) -> LimitRow | None:
        row = self.by_code.get(code)
        return None if row is None else LimitRow._make(row)


class _Problems:
    def __init__(self, shown: str):
        self.shown = shown
        self.found: list[Diagnostic] = []

    def add(self, line: int, column: int, width: int, message: str, hint: str | None = None):
        if len(self.found) < MAX_DIAGNOSTICS:
            self.found.append(Diagnostic("E-data", message, Span(self.shown, line, column, line, column + max(width, 1)),
                                         hint=hint))
        elif len(self.found) == MAX_DIAGNOSTICS:
            self.found.append(Diagnostic("E-limit", f"more than {MAX_DIAGNOSTICS} malformed rows; the rest are not "
                                         "listed", Span(self.shown, line, 1, line, 2)))


def read_remembered(reader, data: bytes, shown: str) -> tuple:
    """`reader(data, shown)` (read_pairs or read_limits), remembered by the digest of the bytes
    for the files used last (REMEMBERED_FILES, least recently used out first): the language
    server loads a folder again at every edit, and a national file takes seconds to read. The
    same bytes shown under another name are read again, so that their diagnostics name the
    file the analyst has."""
    key = (reader, hashlib.sha256(data).digest(), shown)
    with _REMEMBERED_LOCK:
        found = _REMEMBERED.pop(key, None)
        if found is not None:
            _REMEMBERED[key] = found  # used last now
    if found is None:
        found = reader(data, shown)
        with _REMEMBERED_LOCK:
            _REMEMBERED[key] = found
            while len(_REMEMBERED) > REMEMBERED_FILES:
                del _REMEMBERED[next(iter(_REMEMBERED))]
    return found


def forget_remembered() -> None:
    """Read every file again from now on, as a fresh process does (a benchmark of loading)."""
    with _REMEMBERED_LOCK:
        _REMEMBERED.clear()


REMEMBERED_FILES = 16  # four national files a year: a few years' folders open in an editor
_REMEMBERED: dict = {}  # (reader, sha256 of the bytes, shown) -> (table, diagnostics), least recently used first
_REMEMBERED_LOCK = threading.Lock()


def read_pairs(data: bytes, shown: str) -> tuple[PairTable | None, list[Diagnostic]]:
    """The PTP table in `data` (the file's bytes), or None with its diagnostics.

    Each distinct field text is checked once (a national file repeats a few thousand codes
    and dates over its rows), so a row costs a handful of dictionary look-ups; the cyclic
    garbage collector, which the million tuples made would otherwise wake a thousand times
    to find no cycle, waits until they are built."""
    with _collector_paused():
        return _read_pairs(data, shown)


@contextlib.contextmanager
def _collector_paused():
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _read_pairs(data: bytes, shown: str) -> tuple[PairTable | None, list[Diagnostic]]:
    problems = _Problems(shown)
    rows = _rows(data, problems)
    if rows is None:
        return None, problems.found
    header = _header(rows, PTP_COLUMNS, ("column1", "column2", "effective", "deletion", "modifier"), problems)
    if header is None:
        return None, problems.found
    (i1, i2, ie, id_, im), width = header
    codes: dict = {}  # field text -> the code, once valid
    starts: dict = {}  # field text -> ISO date, once valid
    ends: dict = {"": None, "*": None}
    indicators = {"0": "0", "1": "1", "9": "9"}
    by_column2: dict = {}
    count = 0
    for number, raw, fields in rows:
        try:
            column1, column2 = codes[fields[i1]], codes[fields[i2]]
            start, end, indicator = starts[fields[ie]], ends[fields[id_]], indicators[fields[im]]
        except (KeyError, IndexError):
            checked = _check_pair_row(number, raw, fields, (i1, i2, ie, id_, im), width, codes, starts, ends,
                                      indicators, problems)
            if checked is None:
                continue
            column1, column2, start, end, indicator = checked
        if end is not None and end < start:
            problems.add(number, _column(raw, fields, id_), len(fields[id_]),
                         f"deletion date {end} is before the effective date {start}")
            continue
        row = (column1, column2, start, end, indicator, number)
        partners = by_column2.get(column2)
        if partners is None:
            partners = by_column2[column2] = {}
        earlier = partners.get(column1)
        partners[column1] = (row,) if earlier is None else earlier + (row,)
        count += 1
    if problems.found:
        return None, problems.found
    return PairTable(shown, hashlib.sha256(data).hexdigest(), count, by_column2), []


def _check_pair_row(number, raw, fields, indexes, width, codes, starts, ends, indicators, problems):
    """A row some field of which is not yet known good: each field checked, the good ones
    remembered; the row's values, or None when it has a mistake (reported)."""
    if len(fields) < width:
        problems.add(number, len(raw) + 1, 1, f"expected {width} fields; got {len(fields)}")
        return None
    i1, i2, ie, id_, im = indexes
    bad = False
    for index in (i1, i2):
        text = fields[index]
        code = text.strip()
        if _CODE.fullmatch(code):
            codes[text] = code
        else:
            problems.add(number, _column(raw, fields, index), len(text),
                         f"expected a code of five letters or digits; got '{code[:20]}'")
            bad = True
    text = fields[ie]
    start = _date(text.strip())
    if start is None:
        problems.add(number, _column(raw, fields, ie), len(text),
                     f"expected an effective date (YYYYMMDD or YYYY-MM-DD); got '{text.strip()[:20]}'")
        bad = True
    else:
        starts[text] = start
    text = fields[id_]
    end = None if text.strip() in ("", "*") else _date(text.strip())
    if end is None and text.strip() not in ("", "*"):
        problems.add(number, _column(raw, fields, id_), len(text),
                     f"expected a deletion date (YYYYMMDD or YYYY-MM-DD), or '*' or nothing for none; "
                     f"got '{text.strip()[:20]}'")
        bad = True
    else:
        ends[text] = end
    text = fields[im]
    if text.strip() in ("0", "1", "9"):
        indicators[text] = text.strip()
    else:
        problems.add(number, _column(raw, fields, im), len(text),
                     f"expected a modifier indicator 0, 1 or 9; got '{text.strip()[:20]}'",
                     hint="0: not allowed, 1: allowed, 9: not applicable")
        bad = True
    return None if bad else (codes[fields[i1]], codes[fields[i2]], start, end, indicators[text])


def read_limits(data: bytes, shown: str) -> tuple[LimitTable | None, list[Diagnostic]]:
    """The MUE table in `data`, or None with its diagnostics. One row per code."""
    problems = _Problems(shown)
    rows = _rows(data, problems)
    if rows is None:
        return None, problems.found
    header = _header(rows, MUE_COLUMNS, ("code", "units", "mai"), problems)
    if header is None:
        return None, problems.found
    (ic, iu, ia), width = header
    by_code: dict = {}
    for number, raw, fields in rows:
        if len(fields) < width:
            problems.add(number, len(raw) + 1, 1, f"expected {width} fields; got {len(fields)}")
            continue
        code, units, mai = fields[ic].strip(), fields[iu].strip(), fields[ia].strip()
        mai = mai[:1] if mai[:1].isdigit() else mai  # CMS writes "1 Line Edit", "3 Date of Service Edit: Clinical"
        bad = False
        if not _CODE.fullmatch(code):
            problems.add(number, _column(raw, fields, ic), len(code),
                         f"expected a code of five letters or digits; got '{code[:20]}'")
            bad = True
        elif code in by_code:
            problems.add(number, _column(raw, fields, ic), len(code),
                         f"code {code} is limited twice", hint=f"first limited on line {by_code[code][3]}")
            bad = True
        if not (units.isascii() and units.isdigit() and len(units) <= 6):
            problems.add(number, _column(raw, fields, iu), len(units),
                         f"expected a whole number of units; got '{units[:20]}'")
            bad = True
        if mai not in ("1", "2", "3"):
            problems.add(number, _column(raw, fields, ia), len(fields[ia]),
                         f"expected an MUE adjudication indicator 1, 2 or 3; got '{fields[ia].strip()[:20]}'",
                         hint="1: line edit, 2: date of service edit (policy), 3: date of service edit (clinical)")
            bad = True
        if not bad:
            by_code[code] = (code, int(units), mai, number)
    if problems.found:
        return None, problems.found
    return LimitTable(shown, hashlib.sha256(data).hexdigest(), len(by_code), by_code), []


def _rows(data: bytes, problems: _Problems):
    """(line number, raw line, fields) of every row that is not blank or a comment, the
    header first; None when the bytes are not UTF-8 text."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        problems.add(line, 1, 1, f"file is not UTF-8 ({error.reason})")
        return None
    if '"' not in text:  # the usual case, and a fast one
        return [(number, raw, raw.split(",")) for number, raw in enumerate(text.splitlines(), 1)
                if raw and (raw[0] not in "# \t" or raw.strip() and not raw.lstrip().startswith("#"))]
    try:
        return [(number, raw, next(csv.reader(io.StringIO(raw)), []))
                for number, raw in enumerate(text.splitlines(), 1) if raw.strip() and not raw.lstrip().startswith("#")]
    except csv.Error as error:
        problems.add(1, 1, 1, f"malformed CSV ({error})")
        return None


def _header(rows: list, known: dict, wanted: tuple, problems: _Problems):
    """The index of each wanted column, and how many fields a row needs to hold them all."""
    if not rows:
        problems.add(1, 1, 1, f"expected a header row naming the columns {', '.join(wanted)}; the file has no rows")
        return None
    number, raw, fields = rows.pop(0)
    found: dict = {}
    for index, name in enumerate(fields):
        word = re.sub(r"[^a-z0-9]", "", name.lower())
        column = next((column for column, part in known if word.startswith(part) or part in word and len(part) > 4),
                      None)
        if column is not None and column not in found:
            found[column] = index
    missing = [column for column in wanted if column not in found]
    if missing:
        problems.add(number, 1, len(raw), f"expected a header row naming the columns {', '.join(wanted)}; "
                     f"missing {', '.join(missing)}")
        return None
    indexes = tuple(found[column] for column in wanted)
    return indexes, max(indexes) + 1


def _date(text: str) -> str | None:
    """`20260101` or `2026-01-01` as ISO text (comparable with a line's date), None if no date."""
    match = _ISO.fullmatch(text)
    if not match:
        return None
    try:
        return datetime.date(*(int(part) for part in match.groups())).isoformat()
    except ValueError:
        return None


def _column(raw: str, fields: list, index: int) -> int:
    """The 1-based column where field `index` of a row starts (exact for unquoted rows)."""
    if '"' not in raw:
        return sum(len(field) + 1 for field in fields[:index]) + 1
    position = raw.find(fields[index]) if fields[index] else -1
    return position + 1 if position >= 0 else 1
