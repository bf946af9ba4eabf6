"""Path and query parameters shared by every domain's routes.

Row ids and version numbers are 64-bit integers in both databases: a number beyond them is
refused here, naming the parameter, instead of reaching the database driver (which failed
with a 500 when a probe sent 2⁶³)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

MAX_ID = 2**63 - 1

Id = Annotated[int, Path(ge=1, le=MAX_ID, description="A positive 64-bit id")]
VersionNumber = Annotated[int, Path(ge=1, le=MAX_ID, description="A version number (1, 2, …)")]
OptionalVersion = Annotated[int | None, Query(ge=1, le=MAX_ID, description="A version number; "
                                              "the current version when absent")]
OptionalId = Annotated[int | None, Query(ge=1, le=MAX_ID, description="A positive 64-bit id")]
