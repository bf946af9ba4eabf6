"""The CKAN front's own refusal: CKAN's status code, error `__type` and per-field messages."""

from __future__ import annotations


class CkanError(Exception):
    def __init__(self, status: int, kind: str, message: str,
                 fields: dict[str, list[str]] | None = None) -> None:
        self.status, self.kind, self.message, self.fields = status, kind, message, fields or {}
