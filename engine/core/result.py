"""The result of coding one encounter, as the contract shapes it."""
from __future__ import annotations

import attrs


@attrs.frozen
class Line:
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


@attrs.frozen
class Finding:
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


@attrs.frozen
class Result:
    encounter: str
    ruleset: dict
    lines: tuple[Line, ...]
    findings: tuple[Finding, ...]

    def as_dict(self) -> dict:
        return {"encounter": self.encounter, "ruleset": dict(self.ruleset),
                "lines": [line.as_dict() for line in self.lines],
                "findings": [finding.as_dict() for finding in self.findings]}
