"""An encounter is coded by the rules in force when its timed events (administrations) happened.

The encounter's `date` picks the ruleset; an administration documented in another period
(a typing error in the year, a record that merges two visits) would otherwise be coded by
rules that were not in force for it, with lines dated outside the ruleset's period. So each
administration must start within the effective dates of the ruleset the date picked. Its
later units may fall after the end (an infusion running past midnight on 31 December): an
administration is coded by the rules in force when it started.
"""
from __future__ import annotations

from dsl.checked import CheckedRuleset
from engine.core.day_text import day_text
from engine.core.encounter import Encounter, EncounterError


def check_period(encounter: Encounter, ruleset: CheckedRuleset) -> None:
    """Raise EncounterError at the first timed event (kinds as declared, then input order)
    that starts outside `ruleset`'s effective dates."""
    first, last = ruleset.effective
    for kind in ruleset.input.kinds:
        if kind.start is None:
            continue
        for event in encounter.events[kind.name]:
            day = day_text(event.start.date())
            if not first <= day <= last:
                raise EncounterError(
                    f"{kind.key}[{event.index}].{kind.start}",
                    f"expected a time within {first} .. {last}, when ruleset {ruleset.name} {ruleset.version} "
                    f"(picked by the encounter's date {encounter.date.isoformat()}) is in force; "
                    f"got {event.start.isoformat(timespec='minutes')}")
