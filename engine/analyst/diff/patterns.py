"""Grouping the encounters two rulesets code differently into patterns a reader can follow.

What each ruleset made of an encounter is an `Outcome`; how it changed, a `CodingChange`.
Encounters that change in the same way are grouped, per family, and their input
combinations covered by as few patterns as cover exactly those combinations, each named
in words by the generator that made them. Encounters that use a word only the new
vocabulary has, rejected by the old ruleset, are not patterns but one `NewWord` per word.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable

import attrs

from engine.analyst.diff.probes import _Generator, _materialise, _Probe
from engine.core.result import Result


@attrs.frozen
class Outcome:
    """What one ruleset made of one encounter: its lines (`96366 x2`, `96372-XS`) and finding
    ids, or why it was rejected. `trail` (the rules behind each line and finding) tells kinds
    of administration apart without making two outcomes differ."""

    lines: tuple[str, ...]
    findings: tuple[str, ...]
    rejected: str | None = None
    trail: tuple = attrs.field(default=(), eq=False)

    @classmethod
    def of(cls, result: Result) -> "Outcome":
        """A result's lines with units summed per code and modifiers, its finding ids, its rules."""
        units: dict = {}
        for line in result.lines:
            key = (line.code, tuple(line.modifiers))
            units[key] = units.get(key, 0) + line.units
        lines = tuple(f"{code}{''.join('-' + m for m in modifiers)}{f' x{n}' if n > 1 else ''}"
                      for (code, modifiers), n in units.items())
        trail = (tuple((line.code, line.rules) for line in result.lines),
                 tuple(sorted((f.id, f.rule) for f in result.findings)))
        return cls(lines, tuple(sorted({f.id for f in result.findings})), trail=trail)

    def text(self) -> str:
        if self.rejected:
            return f"rejected ({self.rejected})"
        return ", ".join(self.lines) or "no lines"

    def as_dict(self) -> dict:
        return {"lines": list(self.lines), "findings": list(self.findings), "rejected": self.rejected}


@attrs.frozen
class CodingChange:
    """How the outcome of an encounter changed: lines and findings removed and added."""

    removed: tuple[str, ...]
    added: tuple[str, ...]
    findings_removed: tuple[str, ...]
    findings_added: tuple[str, ...]
    rejected: tuple = (None, None)

    @classmethod
    def between(cls, old: Outcome, new: Outcome) -> "CodingChange":
        if old.rejected or new.rejected:
            return cls((old.text(),), (new.text(),), (), (), (old.rejected, new.rejected))
        return cls(_minus(old.lines, new.lines), _minus(new.lines, old.lines),
                   _minus(old.findings, new.findings), _minus(new.findings, old.findings))

    @property
    def lines_differ(self) -> bool:
        return bool(self.removed or self.added)

    def lines_text(self) -> str:
        return f"{', '.join(self.removed) or 'nothing'} → {', '.join(self.added) or 'nothing'}"

    def findings_text(self) -> str:
        return ", ".join([*(f"- {f}" for f in self.findings_removed), *(f"+ {f}" for f in self.findings_added)])


def _minus(these: tuple, those: tuple) -> tuple:
    left = list(those)
    kept = []
    for item in these:
        if item in left:
            left.remove(item)
        else:
            kept.append(item)
    return tuple(kept)


@attrs.frozen
class Pattern:
    """Encounters whose coding changes in the same way: `cases` input combinations (a tried
    value per dimension: kinds of administration, durations, relations) and one example,
    with what each ruleset made of it."""

    family: str  # "single", "pair", or the name of another kind of event
    text: str
    change: CodingChange
    cases: int
    example: dict
    old: Outcome
    new: Outcome

    def as_dict(self) -> dict:
        return {"family": self.family, "pattern": self.text, "removed": list(self.change.removed), "added": list(self.change.added),
                "findings_removed": list(self.change.findings_removed),
                "findings_added": list(self.change.findings_added), "cases": self.cases,
                "example": {"encounter": self.example, "old": self.old.as_dict(), "new": self.new.as_dict()}}


@attrs.frozen
class NewWord:
    """A word only the new ruleset's vocabulary has, and how the new ruleset codes the encounters
    that use it (which the old one rejected): `like` the existing value whose outcomes it matches
    on every such encounter, if one does, and the codes those encounters get."""

    field: str
    word: str
    like: str | None
    codes: tuple[str, ...]
    cases: int  # generated encounters the old ruleset rejected and the new one codes

    def text(self, limit: int = 8) -> str:
        """`route intraosseous: now coded like iv: 96365, 96374, …`"""
        shown = ", ".join(self.codes[:limit]) + (", …" if len(self.codes) > limit else "")
        how = f"now coded like {self.like}" if self.like is not None else "now coded, like no existing value"
        return f"{self.field} {self.word}: {how}: {shown or 'no lines'}"

    def as_dict(self) -> dict:
        return {"field": self.field, "word": self.word, "like": self.like, "codes": list(self.codes),
                "cases": self.cases}


def new_words(probes: list[_Probe], outcomes: Callable, vocabularies: tuple[dict, dict]) -> tuple[list[NewWord], list[_Probe]]:
    """One entry per word only the new vocabulary has, and the probes left to group into patterns.

    A probe that uses a new word, which the old ruleset rejects and the new one codes, is told
    by that word's entry alone: substituting each value both vocabularies have for the word,
    the first whose outcome (in the new ruleset) equals the probe's on every such probe is
    what the word is coded like. A probe the new ruleset rejects too stays a pattern.
    `vocabularies` holds the words of each vocabulary field, by field name, of the old ruleset
    and of the new.
    """
    old_vocabularies, new_vocabularies = vocabularies
    words = [(field, word) for field, new in new_vocabularies.items() for word in new
             if word not in old_vocabularies.get(field, ())]
    taken: dict = {word: [] for word in words}
    rest = []
    for probe in probes:
        used = next((w for w in words if _uses(probe.template, *w)), None)
        before, after = outcomes(probe.template)
        if used is not None and before.rejected and not after.rejected:
            taken[used].append(probe)
        else:
            rest.append(probe)
    entries = []
    for (field, word), found in taken.items():
        if not found:
            continue
        existing = [v for v in new_vocabularies.get(field, ()) if v in old_vocabularies.get(field, ())]
        like = next((value for value in existing
                     if all(outcomes(_substitute(p.template, field, word, value))[1] == outcomes(p.template)[1]
                            for p in found)), None)
        codes = sorted({line.split(" ")[0].split("-")[0] for p in found for line in outcomes(p.template)[1].lines})
        entries.append(NewWord(field, word, like, tuple(codes), len(found)))
    return entries, rest


def _uses(template: dict, field: str, word: str) -> bool:
    """Whether the encounter or one of its events (the template's lists) has `word` for `field`."""
    return template.get(field) == word or any(
        event.get(field) == word for events in template.values() if isinstance(events, list) for event in events)


def _substitute(template: dict, field: str, word: str, value: str) -> dict:
    """The template with `value` wherever `field` is `word`, in the encounter and in its events."""
    copy = {key: [{**event, field: value} if event.get(field) == word else event for event in events]
            if isinstance(events, list) else events for key, events in template.items()}
    if copy.get(field) == word:
        copy[field] = value
    return copy


def group(probes: list[_Probe], outcomes: Callable, generator: _Generator, date: str,
          payer: str | None) -> tuple[int, list[Pattern]]:
    """How many probes were coded differently, and the patterns of those.

    Probes that change in the same way (the same lines and findings removed and added) are
    grouped, per family, into as few patterns as cover exactly the input combinations they
    stand for. `outcomes(template)` is what the old and the new ruleset made of a probe; each
    pattern's example is shown as the contract's JSON on `date` for `payer`.
    """
    groups: dict = {}
    differing = 0
    for probe in probes:
        before, after = outcomes(probe.template)
        if before != after:
            differing += 1
            found = groups.setdefault((probe.family, CodingChange.between(before, after)), ([], probe.template))
            found[0].extend(probe.points)
    patterns = []
    for (family, change), (points, example) in groups.items():
        before, after = outcomes(example)
        for cube in _cover(points):
            cases = 1
            for values in cube:
                cases *= len(values)
            patterns.append(Pattern(family, generator.describe(family, cube), change, cases,
                                    _materialise(example, generator.declared, date, payer), before, after))
    order = {family: i for i, family in enumerate(generator.dimensions)}
    patterns.sort(key=lambda p: (not p.change.lines_differ, order[p.family], p.text))
    return differing, patterns


def _cover(points: list) -> list[list[list]]:
    """Cubes (one list of values per dimension, in first-seen order) that together cover
    exactly `points`. Each grows from the first uncovered point, one dimension at a time,
    by the values whose every combination with the cube is a point and which bring in a
    point no earlier cube covers."""
    inside = set(points)
    remaining = list(dict.fromkeys(points))
    if not remaining:
        return []
    order = [list(dict.fromkeys(p[d] for p in remaining)) for d in range(len(remaining[0]))]
    covered: set = set()
    cubes = []
    while remaining:
        start = remaining[0]
        cube = [[v] for v in start]
        for d in range(len(cube)):
            others = cube[:d] + cube[d + 1:]
            grown = []
            for value in order[d]:
                slice_ = [(*c[:d], value, *c[d:]) for c in itertools.product(*others)]
                if value == start[d] or (all(p in inside for p in slice_) and not all(p in covered for p in slice_)):
                    grown.append(value)
            cube[d] = grown
        members = set(itertools.product(*cube))
        covered |= members
        remaining = [p for p in remaining if p not in members]
        cubes.append(cube)
    return cubes
