"""Ruleset tests: the cases analysts write beside their rules, and running them.

A ruleset folder keeps its cases in `tests/`, in either of two formats:

- `*.json`, one case per file in the shared case format
  (`{"title", "source", "encounter", "expect": {"lines", "findings"}}`);
- `*.cases`, any number of cases in a plain text format meant to be written by hand
  (described for analysts in rulesets/2026/tests/README.md):

      # Lines starting with '#' are comments.
      case: furosemide push in the ED
      source: CPT 96374
      date: 2026-03-14
      claim: facility
      pos: 23
        id | drug       | category    | route | method | start | stop  | dose  | indication
        a1 | furosemide | therapeutic | iv    | push   | 10:02 | 10:04 | 40 mg | edema
      em: 99284 separate
      expect: 96374, 99284-25
      findings: missing-response

  What a case may say comes from the ruleset's declared input (dsl.checked.CheckedInput):
  a key per field of the encounter (its required ones are required, its id defaults to the
  file's name and the case's number); a table of the first kind of events, one column per
  field (its required fields are required columns, its id first); and for each other kind a
  line per event under the kind's key (`em: 99284 separate`): the first field's value, then
  field names each followed by a value, a flag's name alone meaning yes; a field may be
  named by any unambiguous start of its name (`separate` for `separately_identifiable`).
  An empty cell or `-` leaves a field out; a time like `10:02` is on the case's date; a
  flag cell is yes or no; a number cell a number (`7`, `2.5`). `source`, `expect` and `findings` are the case's own keys. An
  expected line is `CODE[-MODIFIER...][ xUNITS]`, e.g. `96366 x2` or `96365-XE|59`; `none`
  expects no line.

A case passes when its lines, units summed per code and modifiers, equal the expected
ones exactly (a modifier written `A|B` takes either) and every expected finding is raised.
Cases run on the reference semantics, each with the payer variant its encounter names, and
every run's decision trace goes to the coverage (engine.analyst.coverage).
"""
from __future__ import annotations

import collections
import itertools
import re
from pathlib import Path

import attrs

from dsl.checked import CheckedInput, EventKind
from dsl.confine import inside, outside_message
from dsl.diagnostics import did_you_mean
from dsl.loader import RulesetFamily
from engine.core.coder import Coder
from engine.analyst.coverage import Coverage
from engine.core.encounter import EncounterError
from engine.core.jsonin import DecodeError, decode_record
from engine.core.registry import Registry

TEXT_SUFFIX = ".cases"

_OWN_KEYS = ("case", "source", "expect", "findings")
_FLAGS = {"yes": True, "no": False}
_TIME = re.compile(r"(\d{1,2})(:\d{2}(?::\d{2})?)")
_KEY = re.compile(r"([a-z]+)\s*:")
_EXPECTED_LINE = re.compile(r"(?P<code>[^\s\-]+)(?P<modifiers>(-[^\s\-]+)*)(\s+x(?P<units>\d+))?")


@attrs.frozen
class Case:
    """One test case: an encounter in the contract's JSON shape and what it must code to."""

    title: str
    file: str
    line: int
    encounter: dict
    lines: tuple  # expected lines: {"code", "units", "modifiers"}; a modifier may read "A|B"
    findings: tuple[str, ...]
    source: str | None = None
    row_lines: tuple[int, ...] = ()  # for a text case, the line of each administration row

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@attrs.frozen
class CaseFileError:
    """A case file, or one case in it, that cannot be read."""

    file: str
    line: int
    message: str

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@attrs.frozen
class LineDiff:
    """Units of one code and modifiers: as expected and as coded (0 where absent)."""

    code: str
    modifiers: tuple[str, ...]
    expected: int
    got: int


@attrs.frozen
class Outcome:
    """What running one case gave."""

    case: Case
    variant: str  # the payer variant that coded it, or "base"
    lines: tuple[LineDiff, ...] = ()
    missing_findings: tuple[str, ...] = ()
    findings: tuple[str, ...] = ()  # every finding id raised
    error: str | None = None  # the encounter was rejected

    @property
    def passed(self) -> bool:
        return (self.error is None and not self.missing_findings
                and all(d.expected == d.got for d in self.lines))


# ----- reading cases ------------------------------------------------------------

def load_cases(folder: Path, declared: CheckedInput) -> tuple[list[Case], list[CaseFileError]]:
    """Every case under `folder` (JSON and text files, sorted by path) and the problems met;
    text cases are read by the fields `declared` (the ruleset's input)."""
    cases: list[Case] = []
    problems: list[CaseFileError] = []
    for path in sorted(p for p in folder.rglob("*") if p.suffix in (".json", TEXT_SUFFIX) and p.is_file()):
        shown = str(path)
        if not inside(path, folder):
            problems.append(CaseFileError(shown, 1, outside_message(shown)))
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            problems.append(CaseFileError(shown, 1, f"cannot read: {error}"))
            continue
        if path.suffix == ".json":
            try:
                cases.append(_json_case(text, shown))
            except _Problem as problem:
                problems.append(CaseFileError(shown, problem.line, problem.message))
        else:
            found, errors = parse_case_text(text, shown, declared)
            cases += found
            problems += errors
    return cases, problems


class _Problem(Exception):
    """A case that cannot be read, at a line of its file."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


def _json_case(text: str, file: str) -> Case:
    try:
        data = decode_record(text)
    except DecodeError as error:
        raise _Problem(error.line, str(error)) from None
    if not isinstance(data, dict) or not isinstance(data.get("encounter"), dict):
        raise _Problem(1, 'expected an object with "encounter" and "expect"')
    expect = data.get("expect")
    if not isinstance(expect, dict) or not isinstance(expect.get("lines"), list):
        raise _Problem(1, 'expected "expect": {"lines": [...], "findings": [...]}')
    findings = expect.get("findings", [])
    lines = expect["lines"]
    if not all(isinstance(x, dict) and isinstance(x.get("code"), str) and type(x.get("units", 1)) is int
               and isinstance(x.get("modifiers", []), list) for x in lines):
        raise _Problem(1, 'each of "expect.lines" is {"code": "...", "units": N, "modifiers": [...]}')
    if not isinstance(findings, list) or not all(isinstance(f, str) for f in findings):
        raise _Problem(1, '"expect.findings" is a list of finding ids')
    return Case(str(data.get("title") or Path(file).stem), file, 1, data["encounter"],
                tuple({"code": x["code"], "units": x.get("units", 1), "modifiers": list(x.get("modifiers", []))}
                      for x in lines),
                tuple(findings), data.get("source"))


def parse_case_text(text: str, file: str, declared: CheckedInput) -> tuple[list[Case], list[CaseFileError]]:
    """The cases of one text case file, and a problem for each case that cannot be read."""
    cases, problems = [], []
    blocks: list[list[tuple[int, str]]] = []
    for number, raw in enumerate(text.removesuffix("\n").split("\n"), start=1):
        raw = raw.removesuffix("\r")
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key = _KEY.match(line)
        if (key and key[1] == "case") or not blocks:
            blocks.append([])
        blocks[-1].append((number, line))
    for index, block in enumerate(blocks, start=1):
        try:
            cases.append(_text_case(block, file, f"{Path(file).stem}-{index}", declared))
        except _Problem as problem:
            problems.append(CaseFileError(file, problem.line, problem.message))
    return cases, problems


def _text_case(block: list[tuple[int, str]], file: str, default_id: str, declared: CheckedInput) -> Case:
    first_line, first = block[0]
    opening = _KEY.match(first)
    if opening is None or opening[1] != "case":
        raise _Problem(first_line, "a case starts with 'case: TITLE'")
    main = declared.main
    others = {kind.key: kind for kind in declared.kinds[1:]}
    keys = (*_OWN_KEYS, *(f.name for f in declared.fields), *others)
    fields: dict[str, tuple[int, str]] = {}
    listed: dict[str, list] = {key: [] for key in others}
    header: list[str] | None = None
    rows: list[tuple[int, dict]] = []
    for number, line in block:
        key = _KEY.match(line)
        if key is None or key[1] not in keys:
            if "|" not in line:
                hint = did_you_mean(key[1], keys) if key else None
                raise _Problem(number, f"expected 'KEY: value' with KEY one of {', '.join(keys)}, "
                                       f"or a row of the {main.name} table" + (f"; {hint}" if hint else ""))
            cells = [c.strip() for c in line.split("|")]
            if header is None:
                header = _table_header(cells, number, main)
            else:
                rows.append((number, _table_row(header, cells, number, main)))
            continue
        key, value = key[1], line[key.end():].strip()
        if key in others:
            listed[key].append(_listed(value, number, others[key]))
        elif key in fields:
            raise _Problem(number, f"'{key}' is given twice (first at line {fields[key][0]})")
        else:
            fields[key] = (number, value)
    required = [f.name for f in declared.fields if f.required and not f.unique]
    for key in ("expect", *required):
        if key not in fields:
            raise _Problem(first_line, f"the case has no '{key}:' line")
    if not rows and main.required:
        raise _Problem(first_line, f"the case has no {main.name} table ('{main.id_field} | ...' and a row under it)")
    date = fields[declared.date_field][1]
    encounter = {declared.id_field: fields.get(declared.id_field, (0, default_id))[1]}
    for field in declared.fields:
        if field.name in fields and field.name != declared.id_field:
            encounter[field.name] = fields[field.name][1]
    encounter[main.key] = [_timed(row, date, main) for _, row in rows]
    for key, kind in others.items():
        if listed[key]:
            encounter[key] = [_timed(event, date, kind) for event in listed[key]]
    findings = fields.get("findings", (0, "none"))
    return Case(fields["case"][1] or default_id, file, first_line, encounter,
                _expected_lines(*fields["expect"]), _names(findings[1]),
                fields["source"][1] if "source" in fields else None, tuple(n for n, _ in rows))


def _table_header(cells: list[str], number: int, kind: EventKind) -> list[str]:
    columns = [f.name for f in kind.fields]
    if kind.id_field and cells[0] != kind.id_field:
        raise _Problem(number, f"the {kind.name} table starts with a header row '{kind.id_field} | ...'")
    for cell in cells:
        if cell not in columns:
            hint = did_you_mean(cell, columns)
            raise _Problem(number, f"unknown column '{cell}'" + (f"; {hint}" if hint else
                                                                 f"; expected some of {', '.join(columns)}"))
    repeated = [c for c, n in collections.Counter(cells).items() if n > 1]
    if repeated:
        raise _Problem(number, f"column '{repeated[0]}' is given twice")
    missing = [f.name for f in kind.fields if f.required and f.name not in cells]
    if missing:
        raise _Problem(number, f"the {kind.name} table needs the column(s) {', '.join(missing)}")
    return cells


def _table_row(header: list[str], cells: list[str], number: int, kind: EventKind) -> dict:
    if len(cells) != len(header):
        raise _Problem(number, f"the row has {len(cells)} cells; the header has {len(header)}")
    kinds = {f.name: f.type.kind for f in kind.fields}
    row = {}
    for column, cell in zip(header, cells):
        if cell in ("", "-"):
            continue
        if kinds[column] == "bool":
            if cell not in _FLAGS:
                raise _Problem(number, f"'{column}' is yes or no; got '{cell}'")
            row[column] = _FLAGS[cell]
        elif kinds[column] == "number":
            row[column] = _number(column, cell, number)
        else:
            row[column] = cell
    return row


def _number(column: str, cell: str, number: int) -> int | float:
    """A number cell as the JSON number it stands for: `7`, `2.5` (not `nan` nor `1e999`)."""
    if not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", cell):
        raise _Problem(number, f"'{column}' is a number; got '{cell}'")
    return float(cell) if "." in cell else int(cell)


def _timed(row: dict, date: str, kind: EventKind) -> dict:
    """The event with times of day placed on the case's date."""
    timed = dict(row)
    for field in kind.fields:
        clock = _TIME.fullmatch(row.get(field.name, "")) if field.type.kind == "time" else None
        if clock:
            timed[field.name] = f"{date}T{int(clock[1]):02d}{clock[2]}"
    return timed


def _listed(value: str, number: int, kind: EventKind) -> dict:
    """One event of a kind written on a line: `99284 separate session 2`."""
    usage = f"expected '{kind.key}: {kind.fields[0].name.upper()} [FIELD [VALUE]]...'"
    words = value.split()
    if not words:
        raise _Problem(number, usage)
    event: dict = {kind.fields[0].name: words[0]}
    rest = iter(words[1:])
    for word in rest:
        named = [f for f in kind.fields[1:] if f.name == word] or [f for f in kind.fields[1:] if f.name.startswith(word)]
        if len(named) != 1:
            raise _Problem(number, f"unexpected '{word}'; {usage}")
        field = named[0]
        if field.type.kind == "bool":
            event[field.name] = True
            continue
        event[field.name] = next(rest, None)
        if event[field.name] is None:
            raise _Problem(number, f"'{word}' needs a value after it")
    return event


def _names(value: str) -> tuple[str, ...]:
    return () if value in ("", "none", "-") else tuple(v.strip() for v in value.split(",") if v.strip())


def _expected_lines(number: int, value: str) -> tuple[dict, ...]:
    lines = []
    for item in _names(value):
        match = _EXPECTED_LINE.fullmatch(item)
        if match is None:
            raise _Problem(number, f"cannot read '{item}'; write a line as CODE[-MODIFIER...][ xUNITS], "
                                   "e.g. 96366 x2 or 96365-XE|59")
        modifiers = [m for m in match["modifiers"].split("-") if m]
        lines.append({"code": match["code"], "units": int(match["units"] or 1), "modifiers": modifiers})
    return tuple(lines)


# ----- running cases ------------------------------------------------------------

def run_cases(family: RulesetFamily, cases: list[Case], coverage: Coverage | None = None) -> list[Outcome]:
    """Code every case on the reference semantics; feed each decision trace to `coverage`."""
    coder = Coder(Registry((family,)), engine="reference")  # picks the ruleset and validates as `infuse code` does
    outcomes = []
    for case in cases:
        try:
            ruleset, encounter = coder.select(case.encounter)
        except EncounterError as error:
            outcomes.append(Outcome(case, "base", error=_rejected(case, error, family.base.input.main.key)))
            continue
        variant = ruleset.payer or "base"
        pipeline = coder.pipeline(ruleset)
        trace: list = []
        result = pipeline.run(encounter, trace=trace)
        if coverage is not None:
            coverage.add(variant, trace, result)
        got = result.as_dict()
        raised = tuple(dict.fromkeys(f["id"] for f in got["findings"]))
        outcomes.append(Outcome(case, variant, compare_lines(case.lines, got["lines"]),
                                tuple(f for f in case.findings if f not in raised), raised))
    return outcomes


def _rejected(case: Case, error: EncounterError, table_key: str) -> str:
    where = re.match(rf"{re.escape(table_key)}\[(\d+)\]", error.path)
    row = f" (the row at line {case.row_lines[int(where[1])]})" if where and case.row_lines else ""
    return f"encounter rejected at {error.path or 'the top'}{row}: {error.message}"


def _tally(lines) -> collections.Counter:
    totals = collections.Counter()
    for line in lines:
        totals[(line["code"], tuple(sorted(line.get("modifiers", []))))] += int(line.get("units", 1))
    return totals


def compare_lines(expected, got) -> tuple[LineDiff, ...]:
    """Expected and coded units per (code, sorted modifiers), every key of either side.

    Where an expected modifier reads `A|B`, the choice closest to what was coded is taken,
    so a diff shows only what no choice can explain.
    """
    want = _tally(got)
    choices = [itertools.product(*(m.split("|") for m in line.get("modifiers", []))) for line in expected]
    best = None
    for picked in itertools.product(*choices):
        tally = _tally(dict(line, modifiers=list(mods)) for line, mods in zip(expected, picked))
        distance = sum(abs(tally[k] - want[k]) for k in tally.keys() | want.keys())
        if best is None or distance < best[0]:
            best = (distance, tally)
        if distance == 0:
            break
    tally = best[1] if best else collections.Counter()
    return tuple(LineDiff(code, modifiers, tally[(code, modifiers)], want[(code, modifiers)])
                 for code, modifiers in sorted(tally.keys() | want.keys()))
