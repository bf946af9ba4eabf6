"""Builders for the testbed's mock tests: the real 국세청 document, hand-written documents that
use every construct the mock claims to handle, and openapi-core as the independent judge of
the mock's answers (the hub's benchmark judges them the same way)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from dpghub.catalog.openapi import normalize
from dpghub.testbed.mock import MockAnswer
from tests.conftest import SHARED_DATA, unavailable

NTS = Path("kr") / "openapi_specs" / "15081808_nts-businessman_v1_swagger2.json"
NTS_HOST = "https://api.odcloud.kr"
NTS_BASE = "/api/nts-businessman/v1"
HOST = "https://api.example.com"
BASE = "/v1"


def shared_file(relative: Path) -> Path:
    """A file of the shared Korean data, from the main checkout or a worktree beside it."""
    for root in (SHARED_DATA, *(p / "shared" / "data" for p in Path(__file__).parents)):
        if (root / relative).exists():
            return root / relative
    unavailable(f"the shared data file {relative} is not on this machine")
    raise AssertionError("unreachable")


def nts_document() -> dict[str, Any]:
    """국세청_사업자등록정보 진위확인 및 상태조회: Swagger 2.0, two POST operations with JSON
    bodies, answers declared as JSON and XML."""
    return normalize(json.loads(shared_file(NTS).read_text(encoding="utf-8")))


def judge(document: dict[str, Any]) -> OpenAPI:
    return OpenAPI.from_dict(document)


def contract_errors(api: OpenAPI, host: str, path: str, method: str, answer: MockAnswer, *,
                    query: dict[str, str] | None = None, body: bytes = b"",
                    content_type: str = "application/json",
                    headers: dict[str, str] | None = None) -> list[str]:
    """openapi-core's complaints about `answer` to `method path` (empty: it keeps the
    contract)."""
    request = MockRequest(host, method.lower(), path, args=query or {}, data=body,
                          headers=headers or {}, content_type=content_type)
    response = MockResponse(answer.body, status_code=answer.status,
                            headers={k.decode(): v.decode() for k, v in answer.headers},
                            content_type=answer.media_type.split(";")[0])
    return [_explain(e) for e in api.iter_response_errors(request, response)]


def _explain(error: BaseException) -> str:
    parts = [str(error)]
    cause = error.__cause__
    while cause is not None:
        parts.append(str(cause))
        for inner in getattr(cause, "schema_errors", []) or []:
            parts.append(f"{list(inner.absolute_path)}: {inner.message}")
        cause = cause.__cause__
    return " / ".join(parts)


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def json_content(schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"application/json": {"schema": schema, **extra}}


def citizen_schemas() -> dict[str, Any]:
    """allOf with required fields in each part, every format, pattern, enum, nullable,
    bounds, uniqueItems, readOnly and writeOnly."""
    text = {"type": "string"}
    return {
        "Base": {"type": "object", "required": ["id", "created"], "properties": {
            "id": {"type": "string", "format": "uuid", "readOnly": True},
            "created": {"type": "string", "format": "date-time"}}},
        "Money": {"type": "number", "minimum": 0, "exclusiveMinimum": True,
                  "maximum": 1000000, "multipleOf": 0.01},
        "Citizen": {"allOf": [{"required": ["resident"]}, ref("Base"), {
            "type": "object",
            "required": ["name", "email", "phone", "status", "code"],
            "properties": {
                "name": {"type": "string", "maxLength": 10, "description": "성명"},
                "email": {"type": "string", "format": "email"},
                "phone": {"type": "string", "pattern": r"^010-\d{4}-\d{4}$"},
                "status": {"type": "string", "enum": ["active", "dormant", "closed"]},
                "code": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{2,4}$",
                         "minLength": 7},
                "nickname": {"type": "string", "nullable": True, "minLength": 2,
                             "maxLength": 8},
                "age": {"type": "integer", "format": "int32", "minimum": 19, "maximum": 99},
                "score": {"type": "number", "format": "double", "minimum": 0, "maximum": 5,
                          "exclusiveMaximum": True},
                "visits": {"type": "integer", "format": "int64", "minimum": 0,
                           "multipleOf": 5},
                "tags": {"type": "array", "items": {"type": "string",
                                                    "enum": ["a", "b", "c", "d"]},
                         "minItems": 2, "maxItems": 3, "uniqueItems": True},
                "password": {"type": "string", "format": "password", "writeOnly": True},
                "homepage": {"type": "string", "format": "uri"},
                "server": {"type": "string", "format": "hostname"},
                "ip4": {"type": "string", "format": "ipv4"},
                "ip6": {"type": "string", "format": "ipv6"},
                "birth": {"type": "string", "format": "date"},
                "wake": {"type": "string", "format": "time"},
                "photo": {"type": "string", "format": "byte"},
                "file": {"type": "string", "format": "binary"},
                "balance": ref("Money"),
                "address": ref("Address"),
                "biz_no": {**text, "description": "사업자등록번호"},
                "start_dt": {**text, "description": "개업일자"},
                "adr": text, "tel_no": text}}]},
        "Address": {"type": "object", "additionalProperties": False,
                    "required": ["road", "zip"],
                    "properties": {"road": text, "zip": {"type": "string",
                                                         "pattern": r"^\d{5}$"}}},
        "Problem": {"type": "object", "required": ["title"],
                    "properties": {"title": text, "status": {"type": "integer"}}},
    }


def payment_schemas() -> dict[str, Any]:
    """oneOf with a discriminator, oneOf whose branches differ only by required fields,
    anyOf, a map, and a tree that contains itself through an optional list."""
    return {
        "Card": {"type": "object", "required": ["kind", "card_no", "holder"],
                 "additionalProperties": False, "properties": {
                     "kind": {"type": "string", "enum": ["card"]},
                     "card_no": {"type": "string", "pattern": r"^\d{4}-\d{4}-\d{4}-\d{4}$"},
                     "holder": {"type": "string"}}},
        "Transfer": {"type": "object", "required": ["kind", "bank", "account"],
                     "additionalProperties": False, "properties": {
                         "kind": {"type": "string", "enum": ["transfer"]},
                         "bank": {"type": "string", "enum": ["KB", "신한", "우리"]},
                         "account": {"type": "string", "pattern": r"^\d{3}-\d{6}-\d{2}$"}}},
        "Payment": {"oneOf": [ref("Card"), ref("Transfer")],
                    "discriminator": {"propertyName": "kind", "mapping": {
                        "card": "#/components/schemas/Card",
                        "transfer": "#/components/schemas/Transfer"}}},
        "Contact": {"type": "object", "properties": {
            "email": {"type": "string", "format": "email"},
            "phone": {"type": "string", "pattern": r"^010-\d{4}-\d{4}$"}},
            "oneOf": [{"required": ["email"]}, {"required": ["phone"]}]},
        "Amount": {"anyOf": [{"type": "integer", "minimum": 1},
                             {"type": "string", "pattern": r"^\d{1,6}원$"}]},
        "Tree": {"type": "object", "required": ["label"], "properties": {
            "label": {"type": "string"},
            "children": {"type": "array", "items": ref("Tree")}}},
        "Receipt": {"type": "object",
                    "required": ["payment", "contact", "amount", "meta", "tree"],
                    "properties": {"payment": ref("Payment"), "contact": ref("Contact"),
                                   "amount": ref("Amount"),
                                   "meta": {"type": "object",
                                            "additionalProperties": {"type": "integer",
                                                                     "minimum": 1}},
                                   "tree": ref("Tree")}},
    }


def constructs_document() -> dict[str, Any]:
    """An OpenAPI 3.0 document whose operations use every construct listed above."""
    text = {"type": "string"}
    citizen_list = {"type": "object", "required": ["items", "total"], "properties": {
        "items": {"type": "array", "items": ref("Citizen"), "maxItems": 5},
        "total": {"type": "integer", "minimum": 0},
        "next": {"type": "string", "format": "uri", "nullable": True}}}
    problem = {"application/problem+json": {"schema": ref("Problem")}}
    kim = {"id": "8d7f2c1e-3b4a-4c5d-9e6f-7a8b9c0d1e2f", "created": "2024-05-01T09:00:00+09:00",
           "name": "김민서", "email": "kim@example.kr", "phone": "010-1234-5678",
           "status": "active", "code": "SEO-1234", "resident": "yes"}
    return {
        "openapi": "3.0.3",
        "info": {"title": "Constructs", "version": "1.0"},
        "servers": [{"url": HOST + BASE}],
        "paths": {
            "/citizens": {
                "get": {"operationId": "listCitizens", "parameters": [
                    {"name": "page", "in": "query", "required": True,
                     "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
                    {"name": "active", "in": "query", "schema": {"type": "boolean"}},
                    {"name": "sort", "in": "query",
                     "schema": {"type": "string", "enum": ["name", "age"]}},
                    {"name": "ids", "in": "query", "schema": {
                        "type": "array", "items": {"type": "integer"}, "maxItems": 3}},
                    {"name": "q", "in": "query", "schema": {
                        "type": "string", "maxLength": 5, "pattern": "^[가-힣]+$"}},
                    {"name": "X-Trace-Id", "in": "header", "required": True,
                     "schema": {"type": "string", "format": "uuid"}},
                    {"name": "X-API-Key", "in": "header", "required": True, "schema": text}],
                    "responses": {
                        "200": {"description": "ok", "content": json_content(citizen_list),
                                "headers": {"X-Rate-Limit": {
                                    "required": True,
                                    "schema": {"type": "integer", "minimum": 1}},
                                    "x-next": {"schema": {"type": "string",
                                                          "format": "uri"}}}},
                        "400": {"description": "bad", "content": problem}}},
                "post": {"operationId": "createCitizen", "requestBody": {
                    "required": True, "content": {
                        **json_content(ref("Citizen")),
                        "application/x-www-form-urlencoded": {"schema": {
                            "type": "object", "required": ["name"], "properties": {
                                "name": {"type": "string", "maxLength": 10},
                                "age": {"type": "integer", "minimum": 19}}}}}},
                    "responses": {
                        "201": {"description": "made", "content": json_content(
                            ref("Citizen"), examples={
                                "kim": {"value": kim},
                                "wrong": {"value": {"name": 3}}})},
                        "422": {"description": "invalid", "content": problem}}}},
            "/citizens/{id}": {
                "parameters": [{"name": "id", "in": "path", "required": True,
                                "schema": {"type": "integer", "minimum": 1}}],
                "get": {"operationId": "getCitizen", "responses": {
                    "200": {"description": "ok", "content": json_content(ref("Citizen"))},
                    "404": {"description": "none"},
                    "default": {"description": "error", "content": problem}}},
                "delete": {"operationId": "deleteCitizen",
                           "responses": {"204": {"description": "gone"}}}},
            "/payments": {"post": {
                "operationId": "pay",
                "requestBody": {"required": True, "content": json_content(ref("Payment"))},
                "responses": {"200": {"description": "ok",
                                      "content": json_content(ref("Receipt"))}}}},
            "/notices": {"get": {"operationId": "notices", "responses": {"200": {
                "description": "ok",
                "content": {"application/xml": {"schema": {
                    "type": "object", "xml": {"name": "response"}, "properties": {
                        "resultCode": text, "resultMsg": text,
                        "items": {"type": "array", "xml": {"name": "items", "wrapped": True},
                                  "items": {"type": "object", "xml": {"name": "item"},
                                            "properties": {
                                                "seq": {"type": "integer",
                                                        "xml": {"attribute": True}},
                                                "title": text, "reg_dt": text}}}}}}}}}}},
            "/greeting": {"get": {"operationId": "greeting", "responses": {"200": {
                "description": "ok",
                "content": json_content({"type": "object", "required": ["text"],
                                         "properties": {"text": text}},
                                        example={"text": "안녕하세요"})}}}},
            "/stale": {"get": {"operationId": "stale", "responses": {"200": {
                "description": "ok",
                "content": json_content({"type": "object", "required": ["count"],
                                         "properties": {"count": {"type": "integer"}}},
                                        example={"count": "many"})}}}},
        },
        "components": {"schemas": {**citizen_schemas(), **payment_schemas()}},
    }
