"""Liveness and readiness, for load balancers and orchestrators."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from ..core.db import ping

router = APIRouter(prefix="/api/v1", tags=["health"])


class Health(BaseModel):
    status: str = Field(examples=["ok"])
    version: str = Field(examples=["0.1.0"])


class Ready(BaseModel):
    status: str = Field(examples=["ready"])
    checks: dict[str, str] = Field(examples=[{"database": "ok", "redis": "not configured"}])


@router.get("/health", response_model=Health)
def health() -> Health:
    """Liveness: the process answers. Touches nothing else."""
    from .. import __version__

    return Health(status="ok", version=__version__)


@router.get("/ready", response_model=Ready, responses={503: {"model": Ready}})
def ready(request: Request) -> JSONResponse:
    """Readiness: the database answers, and Redis when it is configured."""
    checks: dict[str, str] = {}
    try:
        ping(request.app.state.engine)
        checks["database"] = "ok"
    except Exception as exc:  # any driver error means not ready
        checks["database"] = f"error: {type(exc).__name__}"
    redis = request.app.state.redis
    if redis is None:
        checks["redis"] = "not configured"
    else:
        try:
            redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
    ok = all(v in ("ok", "not configured") for v in checks.values())
    body = Ready(status="ready" if ok else "not ready", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)
