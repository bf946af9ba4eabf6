"""The Schemathesis configuration of one run, built in code: never discovered from a
schemathesis.toml in the hub's working directory, no cache on disk, no Hypothesis database,
one worker (the hub runs the job in its own thread), and only the checks this package names."""

from __future__ import annotations

import copy
from typing import Any

from ...core.errors import Invalid
from .result import CHECKS

# Schemathesis' other built-in checks: they need state (use_after_free), several identities
# (object_level_authorization), or judge what the contract does not say (negative data).
OFF = ("positive_data_acceptance", "negative_data_rejection", "use_after_free",
       "ensure_resource_availability", "object_level_authorization", "unsupported_method",
       "allow_header_conformance")


def declares_security(document: dict[str, Any]) -> bool:
    """Whether any operation of the document requires credentials."""
    top = document.get("security") or []
    for item in (document.get("paths") or {}).values():
        for method, op in (item or {}).items():
            if isinstance(op, dict) and method != "parameters":
                if op.get("security", top):
                    return True
    return False


def active_checks(document: dict[str, Any], headers: dict[str, str] | None) -> list[str]:
    """Ignored auth is judged only when the contract asks for credentials and we hold some."""
    with_auth = bool(headers) and declares_security(document)
    return [c for c in CHECKS if c != "ignored_auth" or with_auth]


def build(*, base_url: str, headers: dict[str, str] | None, checks: list[str],
          random_cases: int, response_time_limit_ms: int, request_timeout_s: float,
          seed: int | None) -> Any:
    from schemathesis.config import ConfigError, SchemathesisConfig

    data: dict[str, Any] = {
        "cache": {"enabled": False},
        "base-url": base_url,
        "request-timeout": request_timeout_s,
        "continue-on-failure": True,
        "workers": 1,
        "generation": {"max-examples": random_cases, "database": "none", "no-shrink": True,
                       "deterministic": seed is not None},
        "checks": {**{name: {"enabled": False} for name in OFF},
                   **{name: {"enabled": name in checks} for name in CHECKS
                      if name != "max_response_time"}},
        "phases": {"stateful": {"enabled": False},
                   "coverage": {"unexpected-methods": []}},
    }
    if "max_response_time" in checks:
        data["checks"]["max_response_time"] = response_time_limit_ms / 1000
    if headers:
        data["headers"] = dict(headers)
    if seed is not None:
        data["seed"] = seed
    try:
        return SchemathesisConfig.from_dict(data)
    except (ConfigError, ValueError) as exc:
        raise Invalid("The validation settings are not valid: {reason}",
                      code="invalid_validation_settings", reason=str(exc)[:300]) from None


def load(document: dict[str, Any], config: Any) -> Any:
    """The document as a Schemathesis schema; a copy, because loading rewrites keys in place."""
    import schemathesis
    from schemathesis.errors import LoaderError, SchemathesisError

    if not isinstance(document, dict) or not str(document.get("openapi", "")).startswith("3."):
        raise Invalid("Contract validation needs an OpenAPI 3.x document (convert Swagger 2.0 "
                      "first)", code="invalid_openapi", field="openapi")
    try:
        return schemathesis.openapi.from_dict(copy.deepcopy(document), config=config)
    except (LoaderError, SchemathesisError) as exc:
        raise _untestable(exc) from None


def _untestable(exc: Exception) -> Invalid:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    detail = lines[lines.index("Error details:") + 1] if "Error details:" in lines[:-1] \
        else (lines or ["unknown"])[0]
    return Invalid("The OpenAPI document cannot be tested: {reason}", code="invalid_openapi",
                   field="openapi", reason=detail[:300])


def operations(schema: Any) -> list[str]:
    """Every operation's label ("GET /path"), those the engine cannot test included (they are
    reported as errors); a document broken as a whole is refused here, before any request."""
    from schemathesis.errors import SchemathesisError

    labels = []
    try:
        for result in schema.get_all_operations():
            if hasattr(result, "ok"):
                labels.append(result.ok().label)
                continue
            error = result.err()
            if getattr(error, "method", None) and getattr(error, "path", None):
                labels.append(f"{error.method.upper()} {error.path}")
    except SchemathesisError as exc:
        raise _untestable(exc) from None
    return labels
