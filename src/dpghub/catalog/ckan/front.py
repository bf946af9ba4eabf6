"""A CKAN-compatible Action API at /api/3/action/{name} and /api/action/{name}.

Existing clients and harvesters (ckanapi, CKAN harvesters) read the hub as a CKAN portal: the
`{help, success, result}` envelope, CKAN's error `__type` strings and status codes, GET with
query parameters or POST with a JSON body, the token in `Authorization` or `X-CKAN-API-Key`.
A dataset is a CKAN package named `{org}__{dataset}`; its table is the datastore resource of
the same id.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ...core.errors import Forbidden, HubError, NotFound, Unauthenticated
from ...identity import service as identity
from ...identity.policy import ANONYMOUS, Actor
from .datastore import (
    datastore_search,
    datastore_search_sql,
    organization_list,
    organization_show,
    resource_show,
    status_show,
)
from .errors import CkanError
from .packages import package_list, package_search, package_show

router = APIRouter(include_in_schema=False)


@router.api_route("/api/3/action/{name}", methods=["GET", "POST"])
@router.api_route("/api/action/{name}", methods=["GET", "POST"])
async def action(name: str, request: Request) -> JSONResponse:
    base = str(request.base_url).rstrip("/")
    help_url = f"{base}/api/3/action/help_show?name={name}"
    params: dict[str, Any] = dict(request.query_params)
    if request.method == "POST":
        try:
            body = await request.json()
        except ValueError:
            body = {}
        if isinstance(body, dict):
            params.update(body)
    handler = ACTIONS.get(name)
    try:
        if handler is None:
            raise CkanError(400, "Bad request", f"Action name not known: {name}")
        # the database and the query pool block: off the event loop, like any sync route
        result = await run_in_threadpool(_run, handler, params, request)
    except CkanError as error:
        detail: dict[str, Any] = {"__type": error.kind, "message": error.message}
        detail.update(error.fields)
        return JSONResponse({"help": help_url, "success": False, "error": detail},
                            status_code=error.status)
    except HubError as error:
        return JSONResponse({"help": help_url, "success": False,
                             "error": _translate(error)}, status_code=_status(error))
    return JSONResponse({"help": help_url, "success": True, "result": result})


def _run(handler: Any, params: dict[str, Any], request: Request) -> Any:
    with request.app.state.session_factory() as session:
        result = handler(session, _actor(session, request), params, request)
        session.commit()
        return result


def _translate(error: HubError) -> dict[str, Any]:
    if isinstance(error, NotFound):
        return {"__type": "Not Found Error", "message": str(error)}
    if isinstance(error, (Forbidden, Unauthenticated)):
        return {"__type": "Authorization Error", "message": str(error)}
    return {"__type": "Validation Error", error.field or "message": [str(error)]}


def _status(error: HubError) -> int:
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, (Forbidden, Unauthenticated)):
        return 403
    return 409


def _actor(session: Session, request: Request) -> Actor:
    raw = request.headers.get("x-ckan-api-key") or request.headers.get("authorization") or ""
    raw = raw.removeprefix("Bearer ").strip()
    if not raw:
        return ANONYMOUS
    return identity.actor_from_token(session, raw)


ACTIONS = {f.__name__: f for f in (
    status_show, package_list, package_show, package_search, organization_list,
    organization_show, resource_show, datastore_search, datastore_search_sql)}
