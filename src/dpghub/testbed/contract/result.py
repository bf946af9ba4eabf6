"""What a contract validation found, as plain data the hub stores as JSON, signs and renders.

A failure is the service breaking its contract (an answer the OpenAPI document does not
allow); an error is a request that got no usable answer at all (refused, timed out, not HTTP,
broken JSON). Either one means the run did not pass.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# The checks a run applies, by the stable names reports and CI systems show.
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "missing_required_header",
    "ignored_auth",
    "max_response_time",
)

# Kinds of error: a request that got no answer the checks could judge.
ERROR_KINDS = ("connection_refused", "timeout", "not_http", "invalid_json", "connection",
               "invalid_operation", "other")


@dataclass
class Failure:
    """One way an operation broke its contract, with a request that shows it again."""

    operation: str            # "POST /status"
    check: str                # one of CHECKS
    message: str              # English, what was expected and what came
    curl: str                 # reproduces it against the base URL; credentials as $VARIABLES
    status: int | None = None
    response_excerpt: str = ""
    elapsed_ms: float | None = None
    phase: str = ""           # examples | coverage | fuzzing: which kind of case found it
    occurrences: int = 1      # cases that failed the same way


@dataclass
class RequestError:
    """Requests to one operation that got no answer the checks could judge."""

    operation: str            # "GET /businesses", or "" for the whole run
    kind: str                 # one of ERROR_KINDS
    message: str
    curl: str = ""
    occurrences: int = 1


@dataclass
class OperationSummary:
    operation: str
    cases: int = 0            # generated cases sent (auth probes not counted)
    failures: int = 0         # distinct failures
    errors: int = 0           # requests without a usable answer


@dataclass
class ValidationResult:
    base_url: str
    started_at: str           # ISO 8601, UTC
    finished_at: str
    checks: list[str]         # the checks this run applied
    max_cases: int
    operations: list[OperationSummary] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    errors: list[RequestError] = field(default_factory=list)
    stopped: str | None = None   # "cancelled", "time_limit", "unreachable": the run ended early
    duration_s: float = 0.0

    @property
    def passed(self) -> bool:
        """Every operation was called and answered within its contract."""
        return (not self.failures and not self.errors and self.stopped is None
                and self.cases > 0)

    @property
    def cases(self) -> int:
        return sum(op.cases for op in self.operations)

    @property
    def counts(self) -> dict[str, int]:
        return {"operations": len(self.operations), "cases": self.cases,
                "failures": len(self.failures), "errors": len(self.errors)}

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["passed"] = self.passed
        data["counts"] = self.counts
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ValidationResult:
        return cls(
            base_url=data["base_url"], started_at=data["started_at"],
            finished_at=data["finished_at"], checks=list(data["checks"]),
            max_cases=data["max_cases"], stopped=data.get("stopped"),
            duration_s=data.get("duration_s", 0.0),
            operations=[OperationSummary(**op) for op in data.get("operations", [])],
            failures=[Failure(**f) for f in data.get("failures", [])],
            errors=[RequestError(**e) for e in data.get("errors", [])],
        )
