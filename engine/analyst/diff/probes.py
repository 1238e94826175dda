"""The encounters `infuse diff` codes with both rulesets, and what each stands for in words.

Everything here comes from the ruleset's declared input (dsl.checked.CheckedInput), never
from the names of a domain. Two rulesets can differ only where some rule reads an input, so
encounters are generated there and nowhere else: single events of the main kind (`input.main`)
of every kind at, before and after every bound of its duration in either ruleset (and without
a stop time); pairs of them (a new one after the first, the same one, by its `alike` field,
on both sides of every bound of a time-since fact, an overlapping new one, a new one in
another group of each field merges and initial stages group by, and a second one documented
as the encounter's `primary_field`); and each other kind of event alone and beside one of the
main kind. The encounter's vocabulary, flag and form fields make the "setting" of each.
Kinds are not enumerated blindly: each input attribute's values are grouped by how every
row of both rulesets treats them, then whole combinations by which rows they can match,
so one encounter stands for every combination no rule tells apart. Required attributes,
forms and flags are crossed with one another; optional vocabulary facts (fields that are not
`required`) are not crossed with each other: they are varied one group at a time, the facts
some table reads together crossed (`_together`), every other optional fact absent. So each
group adds to the kinds instead of multiplying them (crossing four such facts took `infuse
diff` on the 2026 ruleset from seconds to minutes). Pairs leave absent those no merge or
ranking reads (`_Generator.partners`). The price: facts that meet only through a column one
table writes and a later one reads (2026: `purpose` sets `service`, which the supervision table
reads beside `performer`) are not crossed, so a change that shows only where they meet is not
generated; joining groups along such chains crosses all four facts of 2026 again.
"""
from __future__ import annotations

import datetime
import itertools
import re
import string
from collections.abc import Callable

import attrs

from dsl.analysis import boundaries
from dsl.checked import (CheckedInitial, CheckedInput, CheckedMerge, CheckedRuleset, CheckedTable, EventKind,
                         InputField, Predicate)
from dsl.show import value_text

AFTER = 10  # minutes between one event and the next of a pair
APART = 120  # minutes after the first of a pair that an event in another group starts
FILLER = "{} 1"  # a text field's value where no rule tells values apart: `site 1`
OTHER_FILLER = "{} 2"  # the same field's value in another group: `site 2`
TIME_SINCE = "time_since"  # the built-in of a derived fact whose bounds pairs are tried around


@attrs.frozen
class _Probe:
    """A generated encounter (times in minutes from 08:00) and the input combinations it stands
    for, each a tuple of values along the dimensions of its family."""

    family: str
    template: dict
    points: tuple


def _is_form(field: InputField) -> bool:
    return field.type.kind == "text" and field.type.pattern is not None


def _attributes(fields) -> list[InputField]:
    """The fields whose values rules tell apart, in the order a kind is described: vocabulary
    words and forms first, flags after."""
    return [*(f for f in fields if f.type.kind == "enum" or _is_form(f)), *(f for f in fields if f.type.kind == "bool")]


def _predicates_on(rulesets, attribute: str, scope: str | None = None) -> list[Predicate]:
    """Every predicate of either ruleset that reads `attribute` (in tables of `scope`, if given),
    with merges and ranking selectors."""
    found = []
    for ruleset in rulesets:
        for stage in ruleset.stages:
            if isinstance(stage, CheckedTable) and attribute in stage.inputs and scope in (None, stage.scope):
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


def _words(ruleset: CheckedRuleset) -> dict:
    """The words each vocabulary field of the ruleset's input takes, by field name."""
    fields = [*ruleset.input.fields, *(f for kind in ruleset.input.kinds for f in kind.fields)]
    return {f.name: f.type.values for f in fields if f.type.kind == "enum"}


def _unnamed(named, pattern: str) -> str | None:
    """A value of the form `pattern` that is not `named`: counting up from the least named number
    with its last digit made 1 (`19` gives `11`; `99211` gives `99212`), else from 1s (`1`, `11`,
    ...), else letters; None when a thousand tries of each find none."""
    numbers = sorted(v for v in named if v.isdigit())
    starts = [numbers[0][:-1] + "1"] if numbers else []
    starts += ["1" * width for width in range(1, 21)]
    digits = (str(n).zfill(len(s)) for s in starts for n in range(int(s), min(int(s) + 1000, 10 ** len(s))))
    letters = (c * width for width in range(1, 21) for c in string.ascii_letters)
    return next((v for v in itertools.chain(digits, letters) if v not in named and re.fullmatch(pattern, v)), None)


def _named(rulesets, field: InputField, scope: str | None) -> list[str]:
    """The values of a form field that rules name (a code declared of the kind `scope` included),
    sorted, and one value of the form that none names."""
    named = {v for p in _predicates_on(rulesets, field.name, scope) for v in p.values if isinstance(v, str)}
    named.update(code for ruleset in rulesets for code, (kind, _) in ruleset.codes.items()
                 if kind == scope and re.fullmatch(field.type.pattern, code))
    other = _unnamed(named, field.type.pattern)
    return [*sorted(named), *([other] if other is not None else [])]


def _row_signature(rulesets, vocabularies, combination: dict) -> tuple:
    """Which rows of both rulesets the combination can match, looking only at its own
    attributes, and which of its words each ruleset's vocabularies accept (an optional fact
    left absent, None, both accept). In a table where the first matching row decides, the rows
    after one the combination matches whatever the other columns hold are left out: they
    never decide."""
    signature = [value is None or value in words[name]
                 for words in vocabularies for name, value in combination.items() if name in words]
    for ruleset in rulesets:
        for stage in ruleset.stages:
            if not isinstance(stage, CheckedTable):
                continue
            columns = [(i, combination[c]) for i, c in enumerate(stage.inputs) if c in combination]
            own = {i for i, _ in columns}
            first = stage.policy in ("first", "unique")
            rows = []
            for row in stage.rows:
                rows.append(all(row.predicates[i].matches(v) for i, v in columns))
                if rows[-1] and first and all(p.kind == "any" for i, p in enumerate(row.predicates) if i not in own):
                    break
            signature.append(tuple(rows))
    return tuple(signature)


def _absent(classes: dict, attribute: str) -> int:
    """The index of the class of an optional attribute that holds its absence (None)."""
    return next(i for i, values in enumerate(classes[attribute]) if None in values)


def _together(rulesets, optional: frozenset, order: tuple) -> list[tuple]:
    """The optional facts in groups a table of either ruleset reads together (one group when
    tables link them), each in the `order` given: a table decides on its inputs jointly, so
    the facts of one group are crossed with one another."""
    groups = [{a} for a in optional]
    for ruleset in rulesets:
        for stage in ruleset.stages:
            read = set(stage.inputs) & optional if isinstance(stage, CheckedTable) else set()
            joined = [g for g in groups if g & read]
            groups = [g for g in groups if not g & read] + ([set().union(*joined)] if joined else [])
    rank = {a: i for i, a in enumerate(order)}
    return sorted((tuple(sorted(g, key=rank.get)) for g in groups), key=lambda g: rank[g[0]])


def _combinations(classes: dict, attributes: tuple, together: list[tuple]):
    """Tuples of class indexes, one per attribute: every class of the other attributes crossed,
    with the optional facts (`together`, in groups) absent, then with one group at a time
    present, its facts crossed (at least one not absent), the other groups absent."""
    absent = {a: _absent(classes, a) for group in together for a in group if a in attributes}

    def ranges(present):
        return [range(len(classes[a])) if a not in absent or a in present else (absent[a],) for a in attributes]
    yield from itertools.product(*ranges(()))
    for group in together:
        places = [i for i, a in enumerate(attributes) if a in group]
        for combination in itertools.product(*ranges(group)):
            if any(combination[i] != absent[attributes[i]] for i in places):
                yield combination


def _staged(rulesets) -> set:
    """The attributes a merge or a ranking reads outside any table."""
    return {a for ruleset in rulesets for stage in ruleset.stages
            for a in ((stage.field, stage.minus_field) if isinstance(stage, CheckedMerge)
                      else (stage.selector,) if isinstance(stage, CheckedInitial) else ())}


def _kinds(classes: dict, attributes: tuple, rulesets, vocabularies, together: list[tuple]) -> list[tuple]:
    """Combinations of attribute classes (`_combinations`) grouped by the rows they can match:
    (representative, members).

    A combination is a tuple of class indexes, one per attribute. Attributes that a merge or
    a ranking reads outside any table keep their classes apart.
    """
    staged = _staged(rulesets)
    groups: dict = {}
    for combination in _combinations(classes, attributes, together):
        values = {a: classes[a][i][0] for a, i in zip(attributes, combination)}
        apart = tuple(i for a, i in zip(attributes, combination) if a in staged)
        groups.setdefault((_row_signature(rulesets, vocabularies, values), apart), []).append(combination)
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
    none, for the events of pairs."""
    minutes = sorted({-(-b // 60) for b in bounds if b > 0})
    if len(minutes) < 2:
        return 2 * minutes[0] if minutes else 1
    middle = len(minutes) // 2
    return (minutes[middle - 1] + minutes[middle]) // 2


def _bounds(rulesets, attributes) -> set:
    return {bound for ruleset in rulesets for attribute in attributes for bound in boundaries(ruleset, attribute)}


def _materialise(template: dict, declared: CheckedInput, date: str, payer: str | None) -> dict:
    """The record `declared` describes for a template, on `date`, each time counted in minutes from 08:00."""
    day = datetime.datetime.fromisoformat(date).replace(hour=8)

    def at(minutes):
        return (day + datetime.timedelta(minutes=minutes)).isoformat(timespec="minutes")

    times = {kind.key: tuple(t for t in (kind.start, kind.stop) if t) for kind in declared.kinds}
    encounter = {declared.id_field: "diff", declared.date_field: date}
    for key, value in template.items():
        if key in times:
            value = [{k: at(v) if k in times[key] else v for k, v in item.items() if v is not None}
                     for item in value]
        if value is not None:
            encounter[key] = value
    if payer is not None and declared.payer_field:
        encounter[declared.payer_field] = payer
    return encounter


class _Generator:
    """Builds the encounters to code with both rulesets, and says in words what they stand for."""

    def __init__(self, old: CheckedRuleset, new: CheckedRuleset):
        rulesets = (old, new)
        self.declared = declared = new.input
        self.main = main = declared.main
        self.others = declared.kinds[1:]
        self.vocabularies = (_words(old), _words(new))
        self.setting_fields = _attributes(f for f in declared.fields if not f.unique)
        self.kind_fields = _attributes(main.fields)
        self.classes = {f.name: self._classes(rulesets, f) for f in (*self.setting_fields, *self.kind_fields)}
        self.setting_attributes = tuple(f.name for f in self.setting_fields)
        self.kind_attributes = tuple(f.name for f in self.kind_fields)
        self.optional = frozenset(f.name for f in (*self.setting_fields, *self.kind_fields)
                                  if f.type.kind == "enum" and not f.required)
        self.paired = self.optional - _staged(rulesets)  # optional facts pairs leave absent
        self.together = _together(rulesets, self.optional, (*self.setting_attributes, *self.kind_attributes))
        self.absent = {a: _absent(self.classes, a) for group in self.together for a in group}  # class of absence
        self.settings = _kinds(self.classes, self.setting_attributes, rulesets, self.vocabularies, self.together)
        self.kinds = _kinds(self.classes, self.kind_attributes, rulesets, self.vocabularies, self.together)
        durations = _bounds(rulesets, (main.duration,) if main.duration else ())
        self.durations = [*_minutes_around(durations), None]
        self.typical = _between_bounds(durations)
        gaps = [d.name for d in main.derived if d.builtin == TIME_SINCE]
        self.gaps = _minutes_around(_bounds(rulesets, gaps)) or [self.typical]
        grouped = {key for ruleset in rulesets for stage in ruleset.stages
                   if isinstance(stage, (CheckedMerge, CheckedInitial)) for key in stage.keys}
        self.keys = [f.name for f in main.fields
                     if f.name in grouped and f.name != main.alike and f.type.kind == "text" and not _is_form(f)]
        self.values = {kind.name: {f.name: self._tried(rulesets, kind, f) for f in _attributes(kind.fields)}
                       for kind in self.others}
        self.new = f"a new {main.alike}" if main.alike else f"another {main.name}"
        self.crossed = tuple(a for a in self.kind_attributes if a not in self.optional)
        self.dimensions = {"single": ("setting", *self.crossed, "facts", "duration"),
                           "pair": ("setting", "first", "relation", "second", "duration"),
                           **{kind.name: ("setting", *self.values[kind.name], "beside") for kind in self.others}}
        self.pair_kinds: list[str] = []  # the first events of the pairs, in words

    def _classes(self, rulesets, field: InputField) -> list[tuple]:
        """A setting or kind attribute's values grouped by how both rulesets read them.

        A word only one ruleset's vocabulary has stays apart: the other rejects it.
        """
        predicates = _predicates_on(rulesets, field.name)
        missing = () if field.required else (None,)
        if field.type.kind == "bool":
            return _classes((False, True), predicates)
        if field.type.kind == "enum":
            validity = [Predicate("in", frozenset(words.get(field.name, ()))) for words in self.vocabularies]
            return _classes((*self._words(field), *missing), predicates + validity)
        return _classes((*_named(rulesets, field, None), *missing), predicates)

    def _tried(self, rulesets, kind: EventKind, field: InputField) -> tuple:
        """The values tried of an attribute of an event of another kind, each its own probe."""
        if field.type.kind == "bool":
            return (True, False)
        if field.type.kind == "enum":
            return self._words(field)
        return tuple(_named(rulesets, field, kind.name))

    def _words(self, field: InputField) -> tuple:
        """The words of a vocabulary field in either ruleset, the old ruleset's first."""
        return tuple(dict.fromkeys(w for words in self.vocabularies for w in words.get(field.name, ())))

    def setting(self, index) -> dict:
        return {a: self.classes[a][i][0] for a, i in zip(self.setting_attributes, index)}

    def bare(self, kind: tuple) -> bool:
        """Whether a kind of event leaves absent every optional fact that pairs leave absent."""
        return all(i == _absent(self.classes, a) for a, i in zip(self.kind_attributes, kind) if a in self.paired)

    def kind(self, index) -> dict:
        return {a: self.classes[a][i][0] for a, i in zip(self.kind_attributes, index)}

    def _event(self, kind: EventKind, number: int, values: dict, start: int = 0, minutes=None, **texts) -> dict:
        """An event of `kind` with the attribute `values`, `texts` for the fields of a group; every
        other text field filled (but those that default to another event's), times in minutes."""
        event = {}
        for field in kind.fields:
            name = field.name
            if name in values:
                event[name] = values[name]
            elif field.unique:
                event[name] = f"{kind.name[0]}{number}"
            elif name == kind.start:
                event[name] = start
            elif name == kind.stop:
                event[name] = None if minutes is None else start + minutes
            elif name in texts:
                event[name] = texts[name]
            elif field.type.kind == "text" and not _is_form(field) and (
                    not field.first_in or (kind is self.main and name in self.keys)):
                event[name] = FILLER.format(name)
        return event

    def _main(self, number: int, kind: dict, start: int, minutes, same: str, **texts) -> dict:
        """An event of the main kind; `same` tells which events are alike (`drug-a`)."""
        alike = {self.main.alike: f"{self.main.alike}-{same}"} if self.main.alike else {}
        return self._event(self.main, number, {**kind, **alike}, start, minutes, **texts)

    def _encounter(self, setting: dict, events: dict, primary=None) -> dict:
        """A template: the required setting, every kind's events, the optional setting, the primary."""
        template = {f.name: setting[f.name] for f in self.setting_fields if f.required}
        template.update({kind.key: events.get(kind.name, []) for kind in self.declared.kinds})
        template.update({f.name: setting[f.name] for f in self.setting_fields if not f.required})
        template.update({f.name: FILLER.format(f.name) for f in self.declared.fields
                         if f.required and f.type.kind == "text" and not f.unique and f.name not in template})
        if self.declared.primary_field:
            template[self.declared.primary_field] = primary
        return template

    def alone(self, setting, kind, minutes=None) -> dict:
        minutes = self.typical if minutes is None else minutes
        event = self._main(1, self.kind(kind), 0, minutes, "a")
        return self._encounter(self.setting(setting), {self.main.name: [event]})

    def _point(self, kind: tuple) -> tuple:
        """A kind of event along the dimensions of singles: the crossed attributes' classes, then
        its optional facts as one: None when all are absent, else the (fact, class) pairs of
        the group present (`_together`)."""
        values = dict(zip(self.kind_attributes, kind))
        absent = self.absent
        present = next((group for group in self.together
                        if any(a in values and values[a] != absent[a] for a in group)), ())
        return (*(values[a] for a in self.crossed), tuple((a, values[a]) for a in present) or None)

    def singles(self) -> list[_Probe]:
        """Every setting and kind of event, at every duration tried."""
        found = []
        kinds = [(kind, [self._point(k) for k in kinds]) for kind, kinds in self.kinds]  # each worked out once
        for (setting, _), (kind, points) in itertools.product(self.settings, kinds):
            for minutes in self.durations:
                found.append(_Probe("single", self.alone(setting, kind, minutes),
                                    tuple((setting, *point, minutes) for point in points)))
        return found

    def partners(self, outcomes: Callable) -> tuple[list, list, set]:
        """What pairs are built from: settings where something is reported; one kind for each
        way the rules treat a single event (the same rules behind the same lines in both
        rulesets); and which of those kinds the duration changes.

        The kinds leave absent every optional fact no merge or ranking reads: such a fact acts
        on its event alone through the tables, which the singles try it in, and crossing its
        every value into pairs would make them several times as many.
        """
        settings = [s for s in self.settings if any(
            o.lines for k, _ in self.kinds for o in outcomes(self.alone(s[0], k)))]
        seen: dict = {}
        for kind, _ in (k for k in self.kinds if self.bare(k[0])):
            results = [outcomes(self.alone(s, kind)) for s, _ in settings]
            if any(o.lines for pair in results for o in pair):
                seen.setdefault(tuple(o.trail for pair in results for o in pair), kind)
        kinds = list(seen.values())
        timed = {kind for kind in kinds if settings and len({
            tuple(o.trail for o in outcomes(self.alone(settings[0][0], kind, m))) for m in self.durations}) > 1}
        return settings, kinds, timed

    def pairs(self, settings: list, kinds: list, timed: set) -> list[_Probe]:
        """A second event beside a first one of the typical duration."""
        found = []
        self.pair_kinds = [self.kind_text(k) for k in kinds]
        for (setting, _), first, second in itertools.product(settings, kinds, kinds):
            a = self._main(1, self.kind(first), 0, self.typical, "a")
            for relation, minutes, b, primary in self._seconds(self.kind(second), second in timed):
                template = self._encounter(self.setting(setting), {self.main.name: [a, b]}, primary)
                points = ((setting, self.kind_text(first), relation, self.kind_text(second), minutes),)
                found.append(_Probe("pair", template, points))
        return found

    def _seconds(self, kind: dict, timed: bool):
        """(relation, duration, second event, primary) for each relation tried."""
        end, typical, new, alike = self.typical, self.typical, self.new, self.main.alike
        for minutes in self.durations if timed else [typical]:
            yield f"then {new}", minutes, self._main(2, kind, end + AFTER, minutes, "b"), None
        for gap in self.gaps if alike else ():
            yield (f"then the same {alike} {gap} min after it ends", typical,
                   self._main(2, kind, end + gap, typical, "a"), None)
        yield f"with {new} overlapping it", typical, self._main(2, kind, end // 2, typical, "b"), None
        for key in self.keys:
            yield (f"then {new} at another {key}", typical,
                   self._main(2, kind, end + APART, typical, "b", **{key: OTHER_FILLER.format(key)}), None)
        if self.declared.primary_field:
            second = self._main(2, kind, end + AFTER, typical, "b")
            yield (f"then {new} documented as the {self.declared.primary_field} reason", typical, second,
                   second[self.main.id_field] if self.main.id_field else None)

    def others_alone_and_beside(self, kinds: list) -> list[_Probe]:
        """Each event of every other kind, by every value tried, alone and beside one of the main kind."""
        found = []
        beside = kinds[0] if kinds else self.kinds[0][0]
        for other in self.others:
            tried = self.values[other.name]
            for (setting, _), *values, with_main in itertools.product(
                    self.settings, *tried.values(), (False, True)):
                events = {other.name: [self._event(other, 1, dict(zip(tried, values)))]}
                if with_main:
                    events[self.main.name] = [self._main(1, self.kind(beside), 0, self.typical, "a")]
                template = self._encounter(self.setting(setting), events)
                found.append(_Probe(other.name, template, ((setting, *values, with_main),)))
        return found

    def kind_text(self, kind: tuple) -> str:
        """A kind of event by its representative: `therapeutic iv infusion`, flags by name, an
        optional fact by name when present (`hydration iv infusion purpose kvo`)."""
        values = self.kind(kind)
        words = [str(values[f.name]) for f in self.kind_fields if f.type.kind != "bool" and f.name not in self.optional]
        words += [_flag(f.name) for f in self.kind_fields if f.type.kind == "bool" and values[f.name]]
        words += [f"{name} {values[name]}" for name in self.kind_attributes
                  if name in self.optional and values[name] is not None]
        return " ".join(words)

    def event_text(self, picked: dict) -> str:
        """`therapeutic|prophylactic iv infusion hormonal purpose kvo|flush`: each attribute's
        chosen classes, flags as words, then the optional facts present, by name, unless the
        pattern holds with them all absent too."""
        words = [_alternatives([self.classes[f.name][i] for i in picked[f.name]], len(self.classes[f.name]))
                 for f in self.kind_fields if f.type.kind != "bool" and f.name not in self.optional]
        for flag in (f.name for f in self.kind_fields if f.type.kind == "bool"):
            chosen = {v for i in picked[flag] for v in self.classes[flag][i]}
            if chosen == {True}:
                words.append(_flag(flag))
            elif chosen == {False} and len(self.classes[flag]) > 1:
                words.append(f"not {_flag(flag)}")
        if None not in picked["facts"]:
            words.append(self._facts_text(picked["facts"]))
        return " ".join(w for w in words if w) or f"any {self.main.name}"

    def _facts_text(self, chosen: list) -> str:
        """`purpose kvo|flush|carrier or performer staff supervision general|none|missing`: the
        optional facts of each group present, the last fact's classes joined where the facts
        before it are the same; a fact only absent goes unsaid."""
        by_rest: dict = {}
        for facts in chosen:
            *rest, (name, index) = facts
            by_rest.setdefault((tuple(rest), name), []).append(index)
        return " or ".join(" ".join(w for w in [*(self._fact_text(n, [i]) for n, i in rest),
                                                 self._fact_text(name, indexes)] if w)
                           for (rest, name), indexes in by_rest.items())

    def _fact_text(self, name: str, indexes: list) -> str:
        """`supervision general|none|missing`; empty when the fact is only absent."""
        if indexes == [_absent(self.classes, name)]:
            return ""
        return f"{name} {_alternatives([self.classes[name][i] for i in indexes], 0, missing='missing')}"

    def setting_text(self, settings: list) -> str:
        """`facility claim or professional claim, pos 11|none`; `any claim` for every setting."""
        names = self.setting_attributes
        if len(settings) == len(self.settings) or not names:
            return f"any {names[0] if names else 'encounter'}"
        members = [m for setting, ms in self.settings if setting in settings for m in ms]
        by_first: dict = {}
        for first, *rest in members:
            by_first.setdefault(first, []).append(rest)
        parts = []
        for first, rests in by_first.items():
            text = f"{_alternatives([self.classes[names[0]][first]], 0)} {names[0]}"
            for name, chosen in zip(names[1:], zip(*rests)):
                chosen = list(dict.fromkeys(chosen))
                if len(chosen) < len(self.classes[name]):
                    text += f", {name} {_alternatives([self.classes[name][i] for i in chosen], 0)}"
            parts.append(text)
        return " or ".join(parts)

    def describe(self, family: str, cube: list) -> str:
        """A pattern in words; a dimension that takes every value tried goes unsaid."""
        picked = dict(zip(self.dimensions[family], cube))
        where = self.setting_text(picked["setting"])
        if family == "single":
            return f"{where}: {self.event_text(picked)}, {_duration_runs(picked['duration'], self.durations)}"
        if family == "pair":
            second = " or ".join(picked["second"])
            if picked["relation"] == [f"then {self.new}"] and len(picked["duration"]) < len(self.durations):
                second += f" for {_duration_runs(picked['duration'], self.durations)}"
            return f"{where}: {self._firsts(picked['first'])}, {' or '.join(picked['relation'])}: {second}"
        head, words = [family], []
        for name, values in self.values[family].items():
            chosen = picked[name]
            if values and isinstance(values[0], bool):
                if len(chosen) == 1:
                    words.append(_flag(name) if chosen[0] else f"not {_flag(name)}")
            else:  # the first bare, after the kind of event it names (`em 99211`), the others by name
                head.append("|".join(map(str, chosen)) if len(head) == 1 else f"{name} {'|'.join(map(str, chosen))}")
        words.insert(0, " ".join(head))
        if len(picked["beside"]) == 1:
            words.append(f"beside {_article(self.main.name)} {self.main.name}" if picked["beside"][0] else "alone")
        return f"{where}: {', '.join(words)}"

    def _firsts(self, chosen: list) -> str:
        """The first events of a pair pattern; most of them are named by those left out."""
        every = list(dict.fromkeys(self.pair_kinds))
        anything = f"any {self.main.name}"
        if len(chosen) == len(every):
            return anything
        if len(chosen) > len(every) / 2:
            return f"{anything} but {' or '.join(k for k in every if k not in chosen)}"
        return " or ".join(chosen)


def _article(noun: str) -> str:
    return "an" if noun[:1] in "aeiou" else "a"


def _flag(name: str) -> str:
    """A flag field in words: `separately identifiable`."""
    return name.replace("_", " ")


def _alternatives(groups, total: int, limit: int = 4, missing: str = "none") -> str:
    """Classes of values joined by `|` (cut after `limit`), None as `missing`; empty when they
    are all `total` classes."""
    if total and len(groups) == total:
        return ""
    values = [missing if v is None else value_text(v) for group in groups for v in group]
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
