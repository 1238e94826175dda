"""What changed between two rulesets, in their text and in their behaviour (`infuse diff`).

The text side (`rules`) compares the checked rulesets section by section, tables row by
row. The behaviour side generates encounters where two rulesets can differ (`probes`),
codes each with both, and groups those coded differently into patterns that name the
values they stand for (`patterns`). This module loads the two sides and puts it together.
"""
from __future__ import annotations

from pathlib import Path

import attrs

from dsl.checked import CheckedRuleset
from dsl.loader import BASE_FILE
from engine.analyst.diff.patterns import CodingChange, NewWord, Outcome, Pattern, _cover, group, new_words
from engine.analyst.diff.probes import _Generator, _materialise
from engine.analyst.diff.rules import RuleChange, text_changes
from engine.core.coder import Coder, load
from engine.core.encounter import EncounterError

__all__ = ["CodingChange", "Diff", "NewWord", "Outcome", "Pattern", "RuleChange", "Side", "_cover", "behaviour",
           "compare", "load_side", "text_changes"]


@attrs.frozen
class Diff:
    old: str
    new: str
    changes: tuple[RuleChange, ...]
    generated: int  # encounters coded with both
    differing: int  # of which coded differently
    patterns: tuple[Pattern, ...]
    new_words: tuple[NewWord, ...] = ()  # words only the new vocabulary has, told apart from the patterns

    @property
    def differs(self) -> bool:
        return bool(self.changes or self.patterns or self.new_words)

    def as_dict(self) -> dict:
        return {"old": self.old, "new": self.new, "changes": [c.as_dict() for c in self.changes],
                "behaviour": {"generated": self.generated, "differing": self.differing,
                              "new_words": [w.as_dict() for w in self.new_words],
                              "patterns": [p.as_dict() for p in self.patterns]}}


@attrs.frozen
class Side:
    """One ruleset of the comparison: the checked ruleset and a coder that applies it."""

    label: str
    ruleset: CheckedRuleset
    coder: Coder
    payer: str | None = None

    def code(self, template: dict) -> Outcome:
        encounter = _materialise(template, self.ruleset.input, self.ruleset.effective[0], self.payer)
        try:
            return Outcome.of(self.coder.code(encounter))
        except EncounterError as error:
            return Outcome((), (), str(error))


def compare(old: Side, new: Side) -> Diff:
    """The text changes and the behavioural difference between two rulesets."""
    changes = text_changes(old.ruleset, new.ruleset)
    generated, differing, words, patterns = behaviour(old, new)
    return Diff(old.label, new.label, tuple(changes), generated, differing, tuple(patterns), tuple(words))


def behaviour(old: Side, new: Side) -> tuple[int, int, list[NewWord], list[Pattern]]:
    """How many encounters were generated and coded differently, one entry per word only the new
    vocabulary has (for the encounters using it that the old ruleset rejected), and the patterns
    of the other encounters coded differently."""
    cache: dict = {}

    def outcomes(template: dict) -> tuple[Outcome, Outcome]:
        key = repr(template)
        if key not in cache:
            cache[key] = (old.code(template), new.code(template))
        return cache[key]

    generator = _Generator(old.ruleset, new.ruleset)
    settings, kinds, timed = generator.partners(outcomes)
    generated = [*generator.singles(), *generator.pairs(settings, kinds, timed), *generator.others_alone_and_beside(kinds)]
    words, rest = new_words(generated, outcomes, generator.vocabularies)
    differing, patterns = group(rest, outcomes, generator, new.ruleset.effective[0], new.payer)
    return len(generated), differing + sum(w.cases for w in words), words, patterns


def load_side(folder, payer: str | None = None) -> Side:
    """One side of a comparison: the ruleset folder's base, or its variant for `payer`.

    Raises ValueError when the folder holds no single ruleset or no such payer, and
    RulesetError when the ruleset does not check.
    """
    folder = Path(folder)
    if not (folder / BASE_FILE).is_file():
        raise ValueError(f"{folder} is not a ruleset folder (no {BASE_FILE} in it)")
    coder = load(folder, payer=payer)
    family = coder.registry.families[0]
    if payer is not None and payer not in family.variants:
        known = ", ".join(sorted(family.variants)) or "none"
        raise ValueError(f"{folder} has no variant for payer '{payer}' (payers: {known})")
    ruleset = family.for_payer(payer)
    label = f"{folder} ({ruleset.name} {ruleset.version}{f', payer {payer}' if payer else ''})"
    return Side(label, ruleset, coder, payer)
