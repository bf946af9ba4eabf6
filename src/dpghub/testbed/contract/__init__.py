"""Contract validation: call a developer's service as its OpenAPI document says it may be
called, and report every answer the document does not allow — with a curl that shows it again.

    result = run(document, "http://127.0.0.1:8000", headers={"X-API-Key": key})
    result.passed, result.failures, junit_xml(result, "kasi/spcde"), sign(result.to_dict(), …)

Schemathesis (MIT) does the generating and checking; this package bounds it (cases per
operation, wall time), keeps secrets out of what it reports, and shapes what the hub stores.
"""

from __future__ import annotations

from pathlib import Path

from .budget import MAX_CASES
from .junit import junit_xml
from .result import CHECKS, Failure, OperationSummary, RequestError, ValidationResult
from .runner import run
from .signing import sign, verify


def use_storage(directory: Path) -> None:
    """Where Hypothesis keeps its small caches (else `.hypothesis/` in the working directory).

    Process-wide: call once when the hub starts, before the first run.
    """
    from hypothesis.configuration import set_hypothesis_home_dir

    directory.mkdir(parents=True, exist_ok=True)
    set_hypothesis_home_dir(directory)


__all__ = ["CHECKS", "MAX_CASES", "Failure", "OperationSummary", "RequestError",
           "ValidationResult", "junit_xml", "run", "sign", "use_storage", "verify"]
