"""OpenAPI documents as portals publish them: 3.x kept, Swagger 2.0 converted, validated with
the JSON path of the first fault, and read into a list of operations.

Real portal quirks are handled: a `host` that carries a path ("api.example.kr/openapi/v1"), an
empty or missing `basePath`, response keys that are not HTTP codes ("-5"), definitions nobody
uses, and security schemes for `serviceKey` in the query or a header.
"""

from __future__ import annotations

import copy
from typing import Any

from ..core.errors import Invalid

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def normalize(document: Any, upstream_url: str | None = None) -> dict[str, Any]:
    """The document as OpenAPI 3.0 (converted from Swagger 2.0), checked."""
    if not isinstance(document, dict):
        raise Invalid("The OpenAPI document must be a JSON object", code="invalid_openapi",
                      field="openapi")
    if str(document.get("swagger", "")).startswith("2"):
        _check_swagger2(document)
        document = convert_swagger2(document)
    version = str(document.get("openapi", ""))
    if not version.startswith("3."):
        raise Invalid("Not an OpenAPI 3.x or Swagger 2.0 document: no 'openapi' or 'swagger' "
                      "version at $", code="invalid_openapi", field="openapi")
    validate(document)
    if upstream_url and not document.get("servers"):
        document["servers"] = [{"url": upstream_url}]
    return document


def _check_swagger2(document: dict[str, Any]) -> None:
    """What a Swagger 2.0 document must have; portal quirks (odd response keys) pass."""
    def fault(path: str, reason: str) -> Invalid:
        return Invalid("The OpenAPI document is not valid at {path}: {reason}",
                       code="invalid_openapi", field="openapi", path=path, reason=reason)

    info = document.get("info")
    if not isinstance(info, dict):
        raise fault("$", "'info' is a required object")
    for key in ("title", "version"):
        if not isinstance(info.get(key), str) or not info.get(key):
            raise fault("$.info", f"'{key}' is a required property")
    paths = document.get("paths")
    if not isinstance(paths, dict):
        raise fault("$", "'paths' is a required object")
    for path, item in paths.items():
        if not path.startswith("/"):
            raise fault(f"$.paths['{path}']", "a path must start with '/'")
        if not isinstance(item, dict):
            raise fault(f"$.paths['{path}']", "must be an object")
        for method, op in item.items():
            if method in METHODS and not isinstance((op or {}).get("responses"), dict):
                raise fault(f"$.paths['{path}'].{method}", "'responses' is a required object")


def validate(document: dict[str, Any]) -> None:
    from openapi_spec_validator import validate as check
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
    from referencing.exceptions import Unresolvable

    try:
        check(document)
    except Unresolvable as exc:      # a $ref to nothing: the validator follows it and fails
        raise Invalid("The OpenAPI document is not valid at {path}: {reason}",
                      code="invalid_openapi", field="openapi", path="$ref",
                      reason=f"the reference {getattr(exc, 'ref', exc)} points to nothing"
                      ) from None
    except OpenAPIValidationError as exc:
        path = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}"
                             for p in getattr(exc, "absolute_path", []) or [])
        raise Invalid("The OpenAPI document is not valid at {path}: {reason}",
                      code="invalid_openapi", field="openapi", path=path,
                      reason=str(getattr(exc, "message", exc)).splitlines()[0][:300]) from None


def convert_swagger2(source: dict[str, Any]) -> dict[str, Any]:
    """Swagger 2.0 → OpenAPI 3.0.3: servers, parameters, bodies, responses, schemas, security."""
    doc = copy.deepcopy(source)
    result: dict[str, Any] = {"openapi": "3.0.3", "info": doc.get("info") or {}, "paths": {}}
    result["servers"] = _servers(doc)
    components: dict[str, Any] = {}
    if doc.get("definitions"):
        components["schemas"] = _refs(doc["definitions"])
    if doc.get("securityDefinitions"):
        components["securitySchemes"] = {k: _security(v) for k, v in
                                         doc["securityDefinitions"].items()}
    if components:
        result["components"] = components
    if doc.get("security"):
        result["security"] = doc["security"]
    consumes = doc.get("consumes") or ["application/json"]
    produces = doc.get("produces") or ["application/json"]
    for path, item in (doc.get("paths") or {}).items():
        converted: dict[str, Any] = {}
        shared = item.get("parameters", [])
        for method, operation in item.items():
            if method not in METHODS or not isinstance(operation, dict):
                continue
            converted[method] = _operation(operation, shared, consumes, produces)
        result["paths"][path] = converted
    return result


def _servers(doc: dict[str, Any]) -> list[dict[str, str]]:
    host = str(doc.get("host") or "").strip().rstrip("/")
    base = str(doc.get("basePath") or "").strip()
    if not host:
        return [{"url": base or "/"}]
    if "/" in host:  # a path inside host: "api.example.kr/openapi/v1"
        host, _, extra = host.partition("/")
        base = "/" + extra.strip("/") + ("/" + base.strip("/") if base.strip("/") else "")
    base = "/" + base.strip("/") if base.strip("/") else ""
    schemes = doc.get("schemes") or ["https"]
    return [{"url": f"{scheme}://{host}{base}"} for scheme in schemes]


def _refs(value: Any) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "$ref" and isinstance(item, str):
                out[key] = item.replace("#/definitions/", "#/components/schemas/")
            else:
                out[key] = _refs(item)
        return out
    if isinstance(value, list):
        return [_refs(v) for v in value]
    return value


def _security(scheme: dict[str, Any]) -> dict[str, Any]:
    if scheme.get("type") == "apiKey":
        return {"type": "apiKey", "name": scheme.get("name", "serviceKey"),
                "in": scheme.get("in", "query")}
    if scheme.get("type") == "basic":
        return {"type": "http", "scheme": "basic"}
    return {"type": "oauth2", "flows": {}} if scheme.get("type") == "oauth2" else scheme


def _operation(op: dict[str, Any], shared: list[dict[str, Any]], consumes: list[str],
               produces: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {k: op[k] for k in ("summary", "description", "operationId", "tags",
                                              "deprecated", "security") if k in op}
    parameters = []
    form: dict[str, Any] = {}
    media_in = op.get("consumes") or consumes
    for param in [*shared, *op.get("parameters", [])]:
        param = _refs(param)
        where = param.get("in")
        if where == "body":
            schema = param.get("schema") or {}
            out["requestBody"] = {"required": bool(param.get("required")),
                                  "content": {m: {"schema": schema} for m in media_in}}
        elif where == "formData":
            form[param["name"]] = {k: param[k] for k in ("type", "format", "description")
                                   if k in param}
        elif where in ("query", "header", "path", "cookie"):
            schema = {k: param[k] for k in ("type", "format", "enum", "default", "items",
                                            "minimum", "maximum") if k in param}
            parameters.append({"name": param["name"], "in": where,
                               "required": bool(param.get("required")) or where == "path",
                               "description": param.get("description", ""),
                               "schema": schema or {"type": "string"}})
    if form:
        out["requestBody"] = {"content": {"application/x-www-form-urlencoded": {
            "schema": {"type": "object", "properties": form}}}}
    if parameters:
        out["parameters"] = parameters
    media_out = op.get("produces") or produces
    responses = {}
    for code, response in (op.get("responses") or {}).items():
        key = str(code)
        if not (key == "default" or (key.isdigit() and len(key) == 3) or
                (len(key) == 3 and key[0] in "12345" and key[1:].upper() == "XX")):
            continue  # portal quirks such as "-5" are not HTTP responses
        response = _refs(response or {})
        converted = {"description": response.get("description") or key}
        if response.get("schema"):
            converted["content"] = {m: {"schema": response["schema"]} for m in media_out}
        responses[key] = converted
    out["responses"] = responses or {"default": {"description": "response"}}
    return out


def operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Each operation with its parameters and response schemas, for the registry and search."""
    found = []
    for path, item in (document.get("paths") or {}).items():
        for method, op in item.items():
            if method not in METHODS or not isinstance(op, dict):
                continue
            body = (op.get("requestBody") or {}).get("content") or {}
            found.append({
                "method": method.upper(), "path": path,
                "operation_id": op.get("operationId"),
                "summary": op.get("summary") or (op.get("description") or "").split("\n")[0],
                "parameters": [{"name": p.get("name"), "in": p.get("in"),
                                "required": bool(p.get("required")),
                                "description": p.get("description", "")}
                               for p in op.get("parameters", []) if isinstance(p, dict)],
                "request_body": {m: c.get("schema") for m, c in body.items()} or None,
                "responses": {code: {"description": r.get("description", ""),
                                     "schema": next(iter((r.get("content") or {}).values()),
                                                    {}).get("schema")}
                              for code, r in (op.get("responses") or {}).items()},
            })
    return found
