"""The result of coding one encounter, as the contract shapes it.

Frozen msgspec Structs, like the encounter they are coded from (engine.core.encounter): an
embedder's `Coder.code` makes one Result, a few Lines and Findings an encounter, and a Struct
is made in C, a third of the time of a frozen attrs class's `__init__` (0.75 against 2.2 µs a
Line, bench/RESULTS.md). They compare, hash and print as the attrs classes did.
"""
from __future__ import annotations

import msgspec


class Line(msgspec.Struct, frozen=True):
    code: str
    units: int
    modifiers: tuple[str, ...]
    date: str
    administrations: tuple[str, ...]
    rules: tuple[str, ...]

    def as_dict(self) -> dict:
        return {"code": self.code, "units": self.units, "modifiers": list(self.modifiers), "date": self.date,
                "administrations": list(self.administrations), "rules": list(self.rules)}

    @classmethod
    def of(cls, line: dict) -> "Line":
        """The Line of the contract's dict (`as_dict`'s inverse)."""
        return cls(line["code"], line["units"], tuple(line["modifiers"]), line["date"],
                   tuple(line["administrations"]), tuple(line["rules"]))


class Finding(msgspec.Struct, frozen=True):
    id: str
    severity: str
    message: str
    administrations: tuple[str, ...]
    rule: str
    reference: str

    def as_dict(self) -> dict:
        return {"id": self.id, "severity": self.severity, "administrations": list(self.administrations),
                "message": self.message, "rule": self.rule, "reference": self.reference}

    @classmethod
    def of(cls, finding: dict) -> "Finding":
        """The Finding of the contract's dict (`as_dict`'s inverse)."""
        return cls(finding["id"], finding["severity"], finding["message"], tuple(finding["administrations"]),
                   finding["rule"], finding["reference"])


class Result(msgspec.Struct, frozen=True):
    encounter: str
    ruleset: dict
    lines: tuple[Line, ...]
    findings: tuple[Finding, ...]

    def as_dict(self) -> dict:
        return {"encounter": self.encounter, "ruleset": dict(self.ruleset),
                "lines": [line.as_dict() for line in self.lines],
                "findings": [finding.as_dict() for finding in self.findings]}
