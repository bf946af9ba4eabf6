"""Form helpers for pages: parse into the same pydantic schemas the API uses, and attempt a
form's changes so that a refusal re-renders the form."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from ..core.db import write_kept
from ..core.errors import HubError, Invalid

M = TypeVar("M", bound=BaseModel)


async def form_data(request: Request) -> dict[str, Any]:
    form = await request.form()
    data: dict[str, Any] = {}
    for key in form.keys():
        values = [v for v in form.getlist(key) if isinstance(v, str)]
        if key != "csrf_token" and values:
            data[key] = values if len(values) > 1 else values[0]
    return data


def parse(model: type[M], data: dict[str, Any]) -> M:
    """Validate form fields; the first fault becomes an `Invalid` naming its field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ())) or None
        raise Invalid("{field}: {message}", code="invalid", field=field, message=first["msg"]
                      ) from exc


def local_path(target: str | None, default: str = "/") -> str:
    """Only same-site paths are followed after sign-in (no open redirects)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


@dataclass
class Attempt:
    """What a form's attempt came to: `error` is set when a rule refused it."""

    error: HubError | None = None


@contextmanager
def attempt(session: Session) -> Iterator[Attempt]:
    """Run a form's changes; when a rule refuses them (a `HubError`), nothing of the attempt
    is kept — but what the work asked to keep after a failure — and the page re-renders the
    form with `attempt.error` instead of failing:

        with attempt(session) as tried:
            service.create_app(...)
        if tried.error:
            return the_form(error=tried.error)
    """
    outcome = Attempt()
    try:
        yield outcome
    except HubError as error:
        session.rollback()
        write_kept(session)
        outcome.error = error
