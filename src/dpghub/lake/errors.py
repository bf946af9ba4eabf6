"""Ingestion errors: each names the file and, where it can, the line, the column and the value.

A job that raises one of these ends `failed` with the position in `job.error`, and the table
is left exactly as it was (nothing is committed to the Delta log before the last step).
"""

from __future__ import annotations

from typing import Any

from ..core.errors import HubError, Invalid, TooLarge
from ..core.jobs import JobFailed


class IngestError(JobFailed):
    code = "ingest_failed"
    title = "The file could not be ingested"


def too_large(max_bytes: int) -> HubError:
    return TooLarge("The upload is larger than the limit of {limit_mb} MiB",
                    code="upload_too_large", field="files", limit_mb=max_bytes // (1 << 20))


def bad_file(message: str, *, file: str, code: str = "ingest_failed", **params: Any) -> IngestError:
    return IngestError(message, code=code, file=file, **params)


def invalid_option(message: str, *, field: str, **params: Any) -> Invalid:
    return Invalid(message, code="invalid_option", field=field, **params)
