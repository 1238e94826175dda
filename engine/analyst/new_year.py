"""Next year's ruleset folder from this year's: the copy an analyst starts the yearly update from.

Copying by hand leaves traps: payer files keep last year's version (and label next year's
results with it), test cases keep last year's dates (and fail, as no ruleset is in force on
them), and the effective dates overlap. `new_year` copies the folder and changes exactly
those: the version of the base and of every payer file to `YEAR.1`, the effective dates to
the whole of YEAR, and every date in the test cases by the same number of years. Nothing
else is edited: what else mentions the old year (a source citing "CPT 2026") is listed for
the analyst to review, never rewritten.

Example:
    made = new_year(Path("rulesets/2026"), 2027)   # rulesets/2027
    for line in made.review: print(line)
"""
from __future__ import annotations

import datetime
import re
import shutil
from pathlib import Path

import attrs

from dsl.confine import inside, outside_message
from dsl.loader import BASE_FILE, TESTS_DIR, VARIANT_DIR

_HEADER = re.compile(r"^(ruleset[ \t]+\S+[ \t]+)(\S+)", re.M)
_EFFECTIVE = re.compile(r"^(effective[ \t]+)\d{4}-\d{2}-\d{2}([ \t]*\.\.[ \t]*)\d{4}-\d{2}-\d{2}", re.M)
_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")  # in a date-time too: 2026-03-14T10:02


class NewYearError(Exception):
    """The new folder cannot be made; the message is for the user."""


@attrs.frozen
class NewYear:
    """The folder made, what changed in it, and the lines an analyst should review."""

    folder: Path
    version: str
    changed: tuple[str, ...]  # "file: what changed"
    review: tuple[str, ...]  # "file:line: text" mentioning the old year


def new_year(source: Path, year: int, target: Path | None = None) -> NewYear:
    """Copy the ruleset folder `source` to `target` (default: a sibling named YEAR) as the
    ruleset of `year`. Raises NewYearError when `source` is no ruleset folder, `target`
    exists, or a file of `source` links outside it."""
    source = Path(source)
    target = Path(target) if target is not None else source.parent / str(year)
    if not (source / BASE_FILE).is_file():
        raise NewYearError(f"{source} is not a ruleset folder (no {BASE_FILE} in it)")
    if target.exists():
        raise NewYearError(f"{target} exists already; new-year makes a new folder")
    outside = [p for p in source.rglob("*") if not inside(p, source)]
    if outside:
        raise NewYearError(outside_message(str(outside[0])))
    old_year = _year_of(source)
    shutil.copytree(source, target)
    version = f"{year}.1"
    changed, review = [], []
    rules = [target / BASE_FILE, *sorted((target / VARIANT_DIR).glob("*.rules"))]
    for path in sorted(target.rglob("*.rules")):
        text = path.read_text(encoding="utf-8")
        edited = _HEADER.sub(lambda m: m.group(1) + version, text) if path in rules else text
        first, last = datetime.date(year, 1, 1).isoformat(), datetime.date(year + 1, 1, 1) - datetime.timedelta(days=1)
        edited = _EFFECTIVE.sub(lambda m: f"{m.group(1)}{first}{m.group(2)}{last.isoformat()}", edited)
        _write_if_changed(path, text, edited, target, changed, "version and effective dates")
        review += _mentions(path, edited, old_year, target)
    for path in sorted((target / TESTS_DIR).rglob("*")) if (target / TESTS_DIR).is_dir() else []:
        if path.is_file() and path.suffix in (".cases", ".json"):
            text = path.read_text(encoding="utf-8")
            edited = _DATE.sub(lambda m: _moved(m, year - old_year, path, target, review), text)
            _write_if_changed(path, text, edited, target, changed, f"dates moved by {year - old_year} year(s)")
    return NewYear(target, version, tuple(changed), tuple(review))


def _year_of(folder: Path) -> int:
    """The year the folder's base ruleset starts in, from its `effective` line."""
    match = _EFFECTIVE.search((folder / BASE_FILE).read_text(encoding="utf-8"))
    if match is None:
        raise NewYearError(f"{folder / BASE_FILE} has no 'effective START .. END' line")
    return int(match.group(0).split()[1][:4])


def _moved(match: re.Match, years: int, path: Path, root: Path, review: list) -> str:
    """A date `years` later; one the new year does not have (29 February) stays, listed for review."""
    year = int(match.group(1)) + years
    try:
        return datetime.date(year, int(match.group(2)), int(match.group(3))).isoformat()
    except ValueError:
        review.append(f"{path.relative_to(root)}: {match.group(0)} has no date in {year}; choose one")
        return match.group(0)


def _mentions(path: Path, text: str, old_year: int, root: Path) -> list[str]:
    """The lines of a rule file that still name the old year: sources and texts to review."""
    return [f"{path.relative_to(root)}:{number}: {line.strip()}"
            for number, line in enumerate(text.splitlines(), start=1) if str(old_year) in line]


def _write_if_changed(path: Path, text: str, edited: str, root: Path, changed: list, what: str) -> None:
    if edited != text:
        path.write_text(edited, encoding="utf-8")
        changed.append(f"{path.relative_to(root)}: {what}")
