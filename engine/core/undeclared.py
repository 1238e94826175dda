"""Fields a record carries that its ruleset does not declare: a misspelt name (`rout`,
`suppervision`) would otherwise be read as a fact not documented and change the coding
unseen. Where a block of the declared input says `undeclared fields => finding NAME`, each
such field raises that finding, naming the field's path and the declared name it is close to.
"""
from __future__ import annotations

import attrs

from dsl.checked import CheckedInput
from dsl.diagnostics import did_you_mean


@attrs.frozen
class Undeclared:
    """One field a record carries that its block does not declare: `kind` None for the
    encounter's own, else the event's kind and its index in the record's array."""

    kind: str | None
    index: int | None
    name: str


@attrs.frozen
class Watch:
    """What a declaration watches for, worked out once per declaration: the names each
    watched block knows (the encounter's include its arrays of events)."""

    encounter: frozenset | None
    kinds: tuple  # (kind name, key, known names) of each watched kind

    @classmethod
    def of(cls, declared: CheckedInput) -> "Watch":
        encounter = None
        if declared.undeclared:
            encounter = frozenset({*(f.name for f in declared.fields), *(k.key for k in declared.kinds)})
        return cls(encounter, tuple((kind.name, kind.key, frozenset(f.name for f in kind.fields))
                                    for kind in declared.kinds if kind.undeclared))

    def found(self, record) -> tuple:
        """The undeclared fields of a record whose arrays of events are validated: the
        encounter's, then each kind's event by event, each in the order of the record."""
        found = []
        if self.encounter is not None:
            found += [Undeclared(None, None, name) for name in record if name not in self.encounter]
        for kind, key, known in self.kinds:
            for index, item in enumerate(record.get(key) or ()):
                if item.keys() - known:
                    found += [Undeclared(kind, index, name) for name in item if name not in known]
        return tuple(found)


def raise_undeclared(run, declared: CheckedInput) -> None:
    """Raise each watching block's finding for the record's undeclared fields, with their paths."""
    for field in run.encounter.undeclared:
        if field.kind is None:
            names = [*(f.name for f in declared.fields), *(k.key for k in declared.kinds)]
            finding, path, ids = declared.undeclared, field.name, ()
        else:
            kind = declared.kind(field.kind)
            documented = run.encounter.events[kind.name][field.index]
            names, finding = [f.name for f in kind.fields], kind.undeclared
            path, ids = f"{kind.key}[{field.index}].{field.name}", (documented.id,) if documented.id else ()
        hint = did_you_mean(field.name, names)
        rule = f"input/{field.kind or 'encounter'}"
        run.raise_finding(finding, rule, ids, detail=f"{path}: {hint}" if hint else path)
