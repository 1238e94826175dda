"""The encounters `infuse diff` codes with both rulesets, and what each stands for in words.

Two rulesets can differ only where some rule reads an input, so encounters are generated
there and nowhere else: single administrations of every kind at, before and after every
duration bound of either ruleset (and without a stop time); pairs through one access (a new
drug after the first, the same drug on both sides of every gap bound, an overlapping new
drug, a new drug at another site or in another session, and on professional claims a second
drug documented as the primary reason); and E/M services alone and beside an administration.
Kinds are not enumerated blindly: each input attribute's values are grouped by how every
row of both rulesets treats them, then whole combinations by which rows they can match,
so one encounter stands for every combination no rule tells apart.
"""
from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable

import attrs

from dsl.analysis import boundaries
from dsl.checked import CheckedInitial, CheckedMerge, CheckedRuleset, CheckedTable, Predicate
from dsl.show import value_text

ENUMS = ("claim", "category", "route", "method")  # the encounter's vocabulary fields
FLAGS = ("hormonal", "pump")
AFTER = 10  # minutes between one administration and the next of a pair
NEXT_SESSION = 120  # minutes after the first of a pair that a separate session starts

KIND_ATTRIBUTES = ("category", "route", "method", "hormonal", "pump")
DIMENSIONS = {  # "setting" is the claim and place of service, as a class no rule tells apart
    "single": ("setting", "category", "route", "method", "hormonal", "pump", "duration"),
    "pair": ("setting", "first", "relation", "second", "duration"),
    "em": ("setting", "code", "identifiable", "administration"),
}


@attrs.frozen
class _Probe:
    """A generated encounter (times in minutes from 08:00) and the input combinations it stands
    for, each a tuple of values along the dimensions of its family."""

    family: str
    template: dict
    points: tuple


def _predicates_on(rulesets, attribute: str) -> list[Predicate]:
    """Every predicate of either ruleset that reads `attribute`, with merges and ranking selectors."""
    found = []
    for ruleset in rulesets:
        for stage in ruleset.stages:
            if isinstance(stage, CheckedTable) and attribute in stage.inputs:
                index = stage.inputs.index(attribute)
                found += [row.predicates[index] for row in stage.rows]
            elif isinstance(stage, CheckedMerge):
                found += [Predicate("in", stage.values)] if stage.field == attribute else []
                found += [Predicate("in", stage.minus_values)] if stage.minus_field == attribute else []
            elif isinstance(stage, CheckedInitial) and stage.selector == attribute:
                found += [Predicate("in", frozenset({key})) for key in stage.rankings if key is not None]
    return found


def _classes(values, predicates) -> list[tuple]:
    """Values grouped by how every predicate treats them, in first-seen order."""
    groups: dict = {}
    for value in values:
        groups.setdefault(tuple(p.matches(value) for p in predicates), []).append(value)
    return [tuple(group) for group in groups.values()]


def _attribute_classes(old: CheckedRuleset, new: CheckedRuleset) -> dict:
    """For each input attribute, its values grouped by how both rulesets read them.

    A word only one ruleset's vocabulary has stays apart: the other rejects it.
    """
    rulesets = (old, new)
    classes = {}
    for name in ENUMS:
        values = list(dict.fromkeys((*old.vocabularies.get(name, ()), *new.vocabularies.get(name, ()))))
        validity = [Predicate("in", frozenset(r.vocabularies.get(name, ()))) for r in rulesets]
        classes[name] = _classes(values, _predicates_on(rulesets, name) + validity)
    for name in FLAGS:
        classes[name] = _classes((False, True), _predicates_on(rulesets, name))
    predicates = _predicates_on(rulesets, "pos")
    named = sorted({v for p in predicates for v in p.values if isinstance(v, str)})
    other = next(f"{n:02d}" for n in range(11, 100) if f"{n:02d}" not in named)
    classes["pos"] = _classes((*named, other, None), predicates)
    return classes


def _row_signature(rulesets, combination: dict) -> tuple:
    """Which rows of both rulesets the combination can match, looking only at its own
    attributes, and which of its words each ruleset's vocabularies accept."""
    signature = [value in ruleset.vocabularies.get(name, ()) for ruleset in rulesets
                 for name, value in combination.items() if name in ENUMS]
    for ruleset in rulesets:
        for stage in ruleset.stages:
            if not isinstance(stage, CheckedTable):
                continue
            columns = [(i, combination[c]) for i, c in enumerate(stage.inputs) if c in combination]
            signature += [all(row.predicates[i].matches(v) for i, v in columns) for row in stage.rows]
    return tuple(signature)


def _kinds(classes: dict, attributes: tuple, rulesets) -> list[tuple]:
    """Combinations of attribute classes grouped by the rows they can match: (representative, members).

    A combination is a tuple of class indexes, one per attribute. Attributes that a merge or
    a ranking reads outside any table keep their classes apart.
    """
    staged = {a for ruleset in rulesets for stage in ruleset.stages
              for a in ((stage.field, stage.minus_field) if isinstance(stage, CheckedMerge)
                        else (stage.selector,) if isinstance(stage, CheckedInitial) else ())}
    groups: dict = {}
    for combination in itertools.product(*(range(len(classes[a])) for a in attributes)):
        values = {a: classes[a][i][0] for a, i in zip(attributes, combination)}
        apart = tuple(i for a, i in zip(attributes, combination) if a in staged)
        groups.setdefault((_row_signature(rulesets, values), apart), []).append(combination)
    return [(members[0], tuple(members)) for members in groups.values()]


def _minutes_around(bounds) -> list[int]:
    """Whole minutes before, at and after each bound (in seconds)."""
    minutes = set()
    for bound in bounds:
        whole = -(-bound // 60)
        minutes.update(m for m in (whole - 1, whole, whole + 1) if m >= 0)
    return sorted(minutes)


def _between_bounds(bounds) -> int:
    """Whole minutes halfway between the two middle bounds (in seconds): a duration that sits on
    none, for the administrations of pairs."""
    minutes = sorted({-(-b // 60) for b in bounds if b > 0})
    if len(minutes) < 2:
        return 2 * minutes[0] if minutes else 1
    middle = len(minutes) // 2
    return (minutes[middle - 1] + minutes[middle]) // 2


def _durations(old: CheckedRuleset, new: CheckedRuleset) -> list:
    """The durations tried: around every duration bound of either ruleset, then None (no stop time)."""
    return [*_minutes_around({*boundaries(old, "duration"), *boundaries(new, "duration")}), None]


def _administration(ident: str, values: dict, start: int, minutes, drug: str, site="L-forearm", session="1") -> dict:
    return {"id": ident, "drug": drug, "dose": "1 unit", "category": values["category"], "route": values["route"],
            "method": values["method"], "hormonal": values["hormonal"], "pump": values["pump"],
            "start": start, "stop": None if minutes is None else start + minutes, "site": site, "session": session,
            "indication": "documented", "response": "monitored"}


def _encounter(setting: dict, administrations: list, em=(), primary=None) -> dict:
    return {"claim": setting["claim"], "pos": setting["pos"], "administrations": administrations,
            "em": list(em), "primary": primary}


def _materialise(template: dict, date: str, payer: str | None) -> dict:
    """The contract's JSON for a template, on `date`, each time counted in minutes from 08:00."""
    day = datetime.datetime.fromisoformat(date).replace(hour=8)

    def at(minutes):
        return (day + datetime.timedelta(minutes=minutes)).isoformat(timespec="minutes")

    administrations = []
    for item in template["administrations"]:
        record = {k: v for k, v in item.items() if v is not None}
        record["start"] = at(item["start"])
        if item["stop"] is not None:
            record["stop"] = at(item["stop"])
        administrations.append(record)
    encounter = {"id": "diff", "date": date, "claim": template["claim"], "administrations": administrations,
                 "em": template["em"]}
    for field, value in (("pos", template["pos"]), ("primary", template["primary"]), ("payer", payer)):
        if value is not None:
            encounter[field] = value
    return encounter


class _Generator:
    """Builds the encounters to code with both rulesets, and says in words what they stand for."""

    def __init__(self, old: CheckedRuleset, new: CheckedRuleset):
        rulesets = (old, new)
        self.classes = _attribute_classes(old, new)
        self.settings = _kinds(self.classes, ("claim", "pos"), rulesets)
        self.kinds = _kinds(self.classes, KIND_ATTRIBUTES, rulesets)
        self.durations = _durations(old, new)
        self.typical = _between_bounds({*boundaries(old, "duration"), *boundaries(new, "duration")})
        self.gaps = _minutes_around({*boundaries(old, "gap"), *boundaries(new, "gap")}) or [self.typical]
        self.em_codes = _em_codes(old, new)
        self.pair_kinds: list[str] = []  # the first administrations of the pairs, in words

    def setting(self, index) -> dict:
        return {"claim": self.classes["claim"][index[0]][0], "pos": self.classes["pos"][index[1]][0]}

    def kind(self, index) -> dict:
        return {a: self.classes[a][i][0] for a, i in zip(KIND_ATTRIBUTES, index)}

    def alone(self, setting, kind, minutes=None) -> dict:
        minutes = self.typical if minutes is None else minutes
        return _encounter(self.setting(setting), [_administration("a1", self.kind(kind), 0, minutes, "drug-a")])

    def singles(self) -> list[_Probe]:
        """Every setting and kind of administration, at every duration tried."""
        found = []
        for (setting, _), (kind, kinds) in itertools.product(self.settings, self.kinds):
            for minutes in self.durations:
                points = tuple((setting, *k, minutes) for k in kinds)
                found.append(_Probe("single", self.alone(setting, kind, minutes), points))
        return found

    def partners(self, outcomes: Callable) -> tuple[list, list, set]:
        """What pairs are built from: settings where something is reported; one kind for each
        way the rules treat a single administration (the same rules behind the same lines in
        both rulesets); and which of those kinds the duration changes."""
        settings = [s for s in self.settings if any(
            o.lines for k, _ in self.kinds for o in outcomes(self.alone(s[0], k)))]
        seen: dict = {}
        for kind, _ in self.kinds:
            results = [outcomes(self.alone(s, kind)) for s, _ in settings]
            if any(o.lines for pair in results for o in pair):
                seen.setdefault(tuple(o.trail for pair in results for o in pair), kind)
        kinds = list(seen.values())
        timed = {kind for kind in kinds if settings and len({
            tuple(o.trail for o in outcomes(self.alone(settings[0][0], kind, m))) for m in self.durations}) > 1}
        return settings, kinds, timed

    def pairs(self, settings: list, kinds: list, timed: set) -> list[_Probe]:
        """A second administration beside a first one of the typical duration, through one access."""
        found = []
        self.pair_kinds = [self.kind_text(k) for k in kinds]
        for (setting, _), first, second in itertools.product(settings, kinds, kinds):
            a = _administration("a1", self.kind(first), 0, self.typical, "drug-a")
            for relation, minutes, b, primary in self._seconds(self.kind(second), second in timed):
                template = _encounter(self.setting(setting), [a, b], primary=primary)
                points = ((setting, self.kind_text(first), relation, self.kind_text(second), minutes),)
                found.append(_Probe("pair", template, points))
        return found

    def _seconds(self, kind: dict, timed: bool):
        """(relation, duration, second administration, primary) for each relation tried."""
        end, typical = self.typical, self.typical
        for minutes in self.durations if timed else [typical]:
            yield "then a new drug", minutes, _administration("a2", kind, end + AFTER, minutes, "drug-b"), None
        for gap in self.gaps:
            yield (f"then the same drug {gap} min after it ends", typical,
                   _administration("a2", kind, end + gap, typical, "drug-a"), None)
        yield ("with a new drug overlapping it", typical,
               _administration("a2", kind, end // 2, typical, "drug-b"), None)
        yield ("then a new drug at another site", typical,
               _administration("a2", kind, end + AFTER, typical, "drug-b", site="R-hand"), None)
        yield ("then a new drug in another session", typical,
               _administration("a2", kind, end + NEXT_SESSION, typical, "drug-b", session="2"), None)
        yield ("then a new drug documented as the primary reason", typical,
               _administration("a2", kind, end + AFTER, typical, "drug-b"), "a2")

    def em(self, kinds: list) -> list[_Probe]:
        """Each E/M code, separately identifiable or not, alone and beside an administration."""
        found = []
        beside = kinds[0] if kinds else self.kinds[0][0]
        for (setting, _), code, identifiable, with_administration in itertools.product(
                self.settings, self.em_codes, (True, False), (False, True)):
            administrations = [_administration("a1", self.kind(beside), 0, self.typical, "drug-a")] if with_administration else []
            template = _encounter(self.setting(setting), administrations,
                                  [{"code": code, "separately_identifiable": identifiable}])
            found.append(_Probe("em", template, ((setting, code, identifiable, with_administration),)))
        return found

    def kind_text(self, kind: tuple) -> str:
        """A kind of administration by its representative: `therapeutic iv infusion`."""
        values = self.kind(kind)
        words = [str(values["category"]), str(values["route"]), str(values["method"])]
        words += [word for flag, word in (("hormonal", "hormonal"), ("pump", "by pump")) if values[flag]]
        return " ".join(words)

    def administration_text(self, picked: dict) -> str:
        """`therapeutic|prophylactic iv infusion hormonal`: each attribute's chosen classes, flags as words."""
        words = [_alternatives([self.classes[a][i] for i in picked[a]], len(self.classes[a]))
                 for a in ("category", "route", "method")]
        for flag, word in (("hormonal", "hormonal"), ("pump", "by pump")):
            chosen = {v for i in picked[flag] for v in self.classes[flag][i]}
            if chosen == {True}:
                words.append(word)
            elif chosen == {False} and len(self.classes[flag]) > 1:
                words.append(f"not {word}")
        return " ".join(w for w in words if w) or "any administration"

    def setting_text(self, settings: list) -> str:
        """`facility claim or professional claim, pos 11|none`; `any claim` for every setting."""
        if len(settings) == len(self.settings):
            return "any claim"
        members = [m for setting, ms in self.settings if setting in settings for m in ms]
        by_claim: dict = {}
        for claim, pos in members:
            by_claim.setdefault(claim, []).append(pos)
        parts = []
        for claim, positions in by_claim.items():
            text = f"{_alternatives([self.classes['claim'][claim]], 0)} claim"
            if len(positions) < len(self.classes["pos"]):
                text += f", pos {_alternatives([self.classes['pos'][i] for i in positions], 0)}"
            parts.append(text)
        return " or ".join(parts)

    def describe(self, family: str, cube: list) -> str:
        """A pattern in words; a dimension that takes every value tried goes unsaid."""
        picked = dict(zip(DIMENSIONS[family], cube))
        where = self.setting_text(picked["setting"])
        if family == "single":
            return f"{where}: {self.administration_text(picked)}, {_duration_runs(picked['duration'], self.durations)}"
        if family == "pair":
            second = " or ".join(picked["second"])
            if picked["relation"] == ["then a new drug"] and len(picked["duration"]) < len(self.durations):
                second += f" for {_duration_runs(picked['duration'], self.durations)}"
            return f"{where}: {self._firsts(picked['first'])}, {' or '.join(picked['relation'])}: {second}"
        words = [f"E/M {'|'.join(picked['code'])}"]
        if len(picked["identifiable"]) == 1:
            words.append("separately identifiable" if picked["identifiable"][0] else "not separately identifiable")
        if len(picked["administration"]) == 1:
            words.append("beside an administration" if picked["administration"][0] else "alone")
        return f"{where}: {', '.join(words)}"

    def _firsts(self, chosen: list) -> str:
        """The first administrations of a pair pattern; most of them are named by those left out."""
        every = list(dict.fromkeys(self.pair_kinds))
        if len(chosen) == len(every):
            return "any administration"
        if len(chosen) > len(every) / 2:
            return f"any administration but {' or '.join(k for k in every if k not in chosen)}"
        return " or ".join(chosen)


def _alternatives(groups, total: int, limit: int = 4) -> str:
    """Classes of values joined by `|` (cut after `limit`); empty when they are all `total` classes."""
    if total and len(groups) == total:
        return ""
    values = ["none" if v is None else value_text(v) for group in groups for v in group]
    return "|".join(values) if len(values) <= limit else "|".join(values[:limit - 1]) + "|…"


def _duration_runs(chosen: list, tried: list) -> str:
    """Tried durations as runs: `16–20 min, no stop time`; `any duration` when all were chosen."""
    if len(chosen) == len(tried):
        return "any duration"
    runs, current = [], []
    for minutes in tried:
        if minutes is not None and minutes in chosen:
            current.append(minutes)
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    parts = [f"{run[0]} min" if len(run) == 1 else f"{run[0]}–{run[-1]} min" for run in runs]
    if None in chosen:
        parts.append("no stop time")
    return ", ".join(parts)


def _em_codes(old: CheckedRuleset, new: CheckedRuleset) -> list[str]:
    """The E/M codes either ruleset declares or names, and one that neither does."""
    named = set()
    for ruleset in (old, new):
        named.update(code for code, (kind, _) in ruleset.codes.items() if kind == "em")
        for stage in ruleset.stages:
            if isinstance(stage, CheckedTable) and stage.scope == "em" and "code" in stage.inputs:
                index = stage.inputs.index("code")
                named.update(v for row in stage.rows for v in row.predicates[index].values)
    first = int(min(named)) if named else 10 ** 4
    other = next(str(n) for n in itertools.count(first) if str(n) not in named)
    return [*sorted(named), other]
