"""Faults of a plan, gathered so that one refusal names every one of them.

A plan is written by hand (or by a form) column by column; refusing at the first fault would
make the owner fix one column per round trip.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...core.errors import Invalid


@dataclass(frozen=True)
class Fault:
    code: str
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "field": self.field, "message": self.message}


@dataclass
class Faults:
    found: list[Fault] = field(default_factory=list)

    def add(self, code: str, field: str, message: str) -> None:
        self.found.append(Fault(code, field, message))

    def raise_any(self) -> None:
        """One `Invalid` listing every fault (param `faults`); with a single fault the error
        carries that fault's code and field, with several the code `invalid_plan`."""
        if not self.found:
            return
        only = self.found[0] if len(self.found) == 1 else None
        summary = "; ".join(f.message for f in self.found)
        raise Invalid("The pseudonymisation plan cannot be applied: {summary}",
                      code=only.code if only else "invalid_plan",
                      field=only.field if only else "plan",
                      summary=summary, faults=[f.as_dict() for f in self.found])
