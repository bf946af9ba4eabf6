"""Schemathesis' engine events → the run's operations, failures and errors, deduplicated.

The same failure (operation, check, and Schemathesis' own notion of "the same kind", e.g. the
same undocumented status code) found by many cases is reported once with its count, showing
the first case that found it.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from .curl import curl, redact
from .result import Failure, OperationSummary, RequestError
from .transport import classify

EXCERPT_BYTES = 2048
MESSAGE_CHARS = 2000


def _excerpt(content: bytes | None, secrets: dict[str, str]) -> str:
    text = (content or b"")[:EXCERPT_BYTES].decode("utf-8", "replace")
    return redact(text, secrets)


def _request_curl(request: Any, secrets: dict[str, str]) -> str:
    """curl for Schemathesis' recorded request (headers as name → [values])."""
    headers = [(name, value) for name, values in request.headers.items()
               for value in (values if isinstance(values, list) else [values])]
    return curl(request.method, request.uri, headers, request.body, secrets)


def _prepared_curl(request: Any, secrets: dict[str, str]) -> str:
    """curl for the `requests` request a transport error carries, if it carries one."""
    if request is None or not getattr(request, "url", None):
        return ""
    body = request.body.encode() if isinstance(request.body, str) else request.body
    return curl(request.method or "GET", request.url, list(request.headers.items()), body,
                secrets)


def _message(failure: Any, status: int | None) -> str:
    title = (failure.title or "").strip()
    body = (failure.message or "").strip()
    if not body and status is not None:
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = ""
        body = f"The service answered {status} {reason}".rstrip()
    return (f"{title}: {body}" if body else title)[:MESSAGE_CHARS]


class Collector:
    def __init__(self, secrets: dict[str, str], timeout_s: float) -> None:
        self.secrets = secrets
        self.timeout_s = timeout_s
        self.operations: dict[str, OperationSummary] = {}
        self._failures: dict[tuple[str, str, Any], Failure] = {}
        self._errors: dict[tuple[str, str], RequestError] = {}
        self.answered = 0          # requests that got an HTTP answer
        self.refused = 0           # requests refused at connect
        self.scenarios = 0         # (operation, phase) units finished

    def operation(self, label: str) -> OperationSummary:
        return self.operations.setdefault(label, OperationSummary(operation=label))

    def scenario(self, event: Any) -> None:
        """One operation done in one phase: its cases, and what its checks found."""
        from schemathesis.core.failures import MalformedJson

        recorder = event.recorder
        label = event.label or recorder.label     # an untestable operation's recorder: "Error"
        self.scenarios += 1
        summary = self.operation(label)
        summary.cases += sum(1 for node in recorder.cases.values() if node.parent_id is None)
        self.answered += sum(1 for i in recorder.interactions.values() if i.response is not None)
        for case_id, nodes in recorder.checks.items():
            for node in nodes:
                if node.failure_info is None:
                    continue
                failure = node.failure_info.failure
                target = failure.case_id or case_id
                interaction = recorder.interactions.get(target)
                if isinstance(failure, MalformedJson):
                    self._error(label, "invalid_json",
                                "The answer says JSON but is not valid JSON: "
                                + (failure.message or "").strip().splitlines()[-1].strip(),
                                _request_curl(interaction.request, self.secrets)
                                if interaction else "")
                    continue
                self._failure(label, node.name, failure, interaction,
                              getattr(event.phase, "value", str(event.phase)))

    def _failure(self, label: str, check: str, failure: Any, interaction: Any,
                 phase: str) -> None:
        key = (label, check, failure)
        if key in self._failures:
            self._failures[key].occurrences += 1
            return
        response = interaction.response if interaction is not None else None
        status = response.status_code if response is not None else None
        self._failures[key] = Failure(
            operation=label, check=check, message=redact(_message(failure, status),
                                                         self.secrets),
            curl=_request_curl(interaction.request, self.secrets) if interaction else "",
            status=status,
            response_excerpt=_excerpt(response.content, self.secrets) if response else "",
            elapsed_ms=round(response.elapsed * 1000, 1) if response is not None else None,
            phase=phase)

    def error(self, event: Any) -> None:
        """A request without a usable answer, or an operation the engine could not test."""
        import requests

        exc = event.value
        label = event.label if event.related_to_operation else ""
        if isinstance(exc, requests.RequestException):
            kind, message = classify(exc, self.timeout_s)
            if kind == "connection_refused":
                self.refused += 1
            self._error(label, kind, message, _prepared_curl(exc.request, self.secrets))
        else:
            info = event.info
            text = f"{info.title}: {info.message}".strip(": ")
            self._error(label, "invalid_operation" if label else "other",
                        redact(text, self.secrets)[:MESSAGE_CHARS])

    def _error(self, label: str, kind: str, message: str, curl_text: str = "") -> None:
        if label:
            self.operation(label).errors += 1
        key = (label, kind)
        if key in self._errors:
            self._errors[key].occurrences += 1
        else:
            self._errors[key] = RequestError(operation=label, kind=kind, message=message,
                                             curl=curl_text)

    def stop_error(self, kind: str, message: str) -> None:
        self._error("", kind, message)

    def failures(self) -> list[Failure]:
        found = list(self._failures.values())
        for summary in self.operations.values():
            summary.failures = sum(1 for f in found if f.operation == summary.operation)
        return found

    def errors(self) -> list[RequestError]:
        return list(self._errors.values())
