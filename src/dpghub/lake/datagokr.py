"""A data.go.kr-compatible front for every dataset: `GET /openapi/{org}/{name}`.

Clients written for the national portal work unchanged: `serviceKey` (a hub API token),
`pageNo`, `numOfRows` (≤ 1000), `type`/`_type`/`dataType` = xml | json (XML when absent), the
`response/header/body/items/item` envelope, and the portal's result codes. Like the portal, an
error is answered with HTTP 200 and the code in `resultCode`. Column filters of the rows API
(`시도명=서울특별시`, `열람좌석수__gte=100`) work here too.
"""

from __future__ import annotations

from typing import Annotated, Any
from xml.sax.saxutils import escape

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ..core.errors import Forbidden, HubError, Invalid, NotFound, Unauthenticated
from ..identity.dependencies import actor_for_credential
from ..web import datagokr
from ..web.context import DbSession
from . import rows as row_reader
from . import service
from .tables import version_data

router = APIRouter(tags=["data.go.kr compatible"])

CODES = {
    "invalid": datagokr.INVALID_PARAMETER,
    "no_service": datagokr.NO_SERVICE,
    "denied": datagokr.ACCESS_DENIED,
    "unregistered": datagokr.KEY_NOT_REGISTERED,
    "expired": datagokr.DEADLINE_EXPIRED,
    "no_data": datagokr.NO_DATA,
    "unknown": datagokr.UNKNOWN,
}


@router.get("/openapi/{org}/{name}", responses={200: {"content": {
    "application/xml": {}, "application/json": {}},
    "description": "data.go.kr envelope; errors too (resultCode ≠ 00)"}})
def openapi(
    org: str, name: str, request: Request, session: DbSession,
    serviceKey: Annotated[str | None, Query(description="A hub API token")] = None,  # noqa: N803
    pageNo: Annotated[str, Query()] = "1",  # noqa: N803
    numOfRows: Annotated[str, Query()] = "10",  # noqa: N803
) -> Response:
    """Rows of a dataset in the national portal's Open API envelope."""
    as_json = _wants_json(request)
    try:
        page_no, per_page = _positive(pageNo, "pageNo"), _positive(numOfRows, "numOfRows")
        if per_page > 1000:
            raise Invalid("numOfRows must be at most 1000", code="invalid", field="numOfRows")
        actor = _actor(session, serviceKey, request)
        try:
            dataset = service.get_dataset(session, org, name)
        except NotFound:
            return _error(CODES["no_service"], as_json)
        found, sample = service.sampled_version(session, actor=actor, dataset=dataset)
        storage = request.app.state.storage
        data = version_data(storage.table_uri(dataset.id), storage.storage_options,
                            found.delta_version)
        query = row_reader.parse_query(storage, data, found.columns, dict(request.query_params),
                                       sort=None, columns=None, sample=sample)
        offset = (page_no - 1) * per_page
        cursor = None
        if offset:
            from ..core.pagination import encode_cursor

            cursor = encode_cursor([found.version, offset])
        items, total, _ = row_reader.page(query, version=found.version, limit=per_page,
                                          cursor=cursor)
    except Unauthenticated as exc:
        return _error(CODES["expired" if exc.code == "token_expired" else "unregistered"],
                      as_json)
    except Forbidden:
        return _error(CODES["denied"], as_json)
    except NotFound:
        return _error(CODES["no_data"], as_json)
    except HubError:
        return _error(CODES["invalid"], as_json)
    return _answer(datagokr.NORMAL, datagokr.Page(items, per_page, page_no, total), as_json)


def _wants_json(request: Request) -> bool:
    for key in ("type", "_type", "dataType", "resultType"):
        value = request.query_params.get(key)
        if value:
            return value.lower() == "json"
    return False


def _positive(value: str, field: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise Invalid("{field} must be a positive integer", code="invalid", field=field)
    return int(value)


def _actor(session: Any, key: str | None, request: Request):  # type: ignore[no-untyped-def]
    """A personal API token, or an app's key or token (its dataset subscriptions count)."""
    if not key:
        raise Unauthenticated("A serviceKey is required", code="token_invalid")
    return actor_for_credential(session, datagokr.service_key(key), request)


def _error(code: datagokr.Result, as_json: bool) -> Response:
    return _answer(code, None, as_json)


def _answer(code: datagokr.Result, page: datagokr.Page | None, as_json: bool) -> Response:
    if as_json:
        return Response(datagokr.json_answer(code, page), media_type=datagokr.JSON_MEDIA)
    tags: dict[str, str] = {}

    def item_xml(item: dict[str, Any]) -> str:
        if not tags:                   # the columns' element names, from the first row
            tags.update({k: row_reader._xml_name(k) for k in item})
        return "".join(f"<{tags[k]}>{escape(row_reader._text(v))}</{tags[k]}>"
                       for k, v in item.items() if v is not None)

    return Response(datagokr.xml_answer(code, page, item_xml=item_xml),
                    media_type=datagokr.XML_MEDIA)
