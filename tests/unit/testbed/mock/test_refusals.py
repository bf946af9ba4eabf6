"""How the mock refuses a request: data.go.kr's own envelope for a data.go.kr document (the
portal's clients parse it), RFC 9457 problem+json for any other."""

from __future__ import annotations

import json
from typing import Any
from xml.etree.ElementTree import fromstring

import pytest

from dpghub.testbed.mock import MockSpec, Prefer, Violation, is_datagokr, render_violations
from dpghub.testbed.mock.model import phrase

TWO = [Violation.of("query", "pageNo", "type", "type", expected="integer",
                    subject=phrase("parameter", location="query", name="pageNo")),
       Violation.of("query", "numOfRows", "maximum", "maximum", expected=100,
                    subject=phrase("parameter", location="query", name="numOfRows"))]


def portal_document(server: str = "https://apis.data.go.kr/1360000/VilageFcstInfoService_2.0"
                    ) -> dict[str, Any]:
    """A data.go.kr document as the portal writes them: serviceKey declared as a required
    query parameter, XML answers only, a response/header/body envelope."""
    item = {"type": "object", "xml": {"name": "item"}, "properties": {
        "baseDate": {"type": "string", "description": "발표일자"},
        "category": {"type": "string", "enum": ["TMP", "POP"]},
        "fcstValue": {"type": "string"}}}
    envelope = {"type": "object", "xml": {"name": "response"}, "properties": {
        "header": {"type": "object", "properties": {"resultCode": {"type": "string"},
                                                    "resultMsg": {"type": "string"}}},
        "body": {"type": "object", "properties": {
            "items": {"type": "object", "properties": {
                "item": {"type": "array", "items": item}}},
            "totalCount": {"type": "integer", "minimum": 0}}}}}
    return {"openapi": "3.0.3", "info": {"title": "단기예보 조회서비스", "version": "2.0"},
            "servers": [{"url": server}],
            "paths": {"/getVilageFcst": {"get": {
                "parameters": [
                    {"name": "serviceKey", "in": "query", "required": True,
                     "schema": {"type": "string"}},
                    {"name": "pageNo", "in": "query", "schema": {"type": "integer"}},
                    {"name": "numOfRows", "in": "query",
                     "schema": {"type": "integer", "maximum": 100}},
                    {"name": "base_date", "in": "query", "required": True,
                     "schema": {"type": "string", "pattern": "^\\d{8}$"}}],
                "responses": {"200": {"description": "ok", "content": {
                    "application/xml": {"schema": envelope}}}}}}}}


@pytest.mark.parametrize(("document", "expected"), [
    (portal_document(), True),
    (portal_document("https://api.odcloud.kr/api/15077586/v1"), True),
    ({"servers": [{"url": "https://api.example.com"}],
      "components": {"securitySchemes": {"k": {"type": "apiKey", "in": "query",
                                               "name": "ServiceKey"}}}}, True),
    ({"servers": [{"url": "https://api.example.com/v1"}], "paths": {}}, False),
    ({"servers": [{"url": "https://data.go.kr.example.com"}]}, False),
])
def test_a_data_go_kr_document_is_recognised(document: dict[str, Any], expected: bool) -> None:
    assert is_datagokr(document) is expected


def test_a_portal_document_is_checked_without_its_service_key() -> None:
    spec = MockSpec.build(portal_document())
    match = spec.match("GET", "/getVilageFcst")
    assert spec.validate_request(match, [("base_date", "20250101")], {}, b"", None) == []
    found = spec.validate_request(match, [("pageNo", "first")], {}, b"", None)
    assert sorted((v.field, v.rule) for v in found) == [("base_date", "required"),
                                                         ("pageNo", "type")]


def test_a_portal_document_refuses_in_xml_unless_json_is_asked() -> None:
    spec = MockSpec.build(portal_document())
    assert spec.fault_style([("serviceKey", "k")]) == "datagokr-xml"
    assert spec.fault_style([("serviceKey", "k"), ("_type", "json")]) == "datagokr-json"
    status, media, body = render_violations(TWO, spec.fault_style([]))
    root = fromstring(body)
    assert (status, media) == (400, "application/xml;charset=UTF-8")
    assert root.findtext("./header/resultCode") == "10"
    assert root.findtext("./header/resultMsg") == "INVALID_REQUEST_PARAMETER_ERROR"
    assert [e.findtext("field") for e in root.findall("./errors/error")] == ["pageNo",
                                                                              "numOfRows"]


def test_a_portal_answer_follows_the_portals_envelope() -> None:
    spec = MockSpec.build(portal_document())
    answer = spec.respond(spec.match("GET", "/getVilageFcst"), Prefer(), b"s")
    root = fromstring(answer.body)
    assert answer.media_type == "application/xml;charset=UTF-8"
    assert root.findtext("./header/resultCode") == "00"
    assert root.findtext("./header/resultMsg") == "NORMAL SERVICE."
    items = root.findall("./body/items/item")
    assert items and all(len(i.findtext("baseDate") or "") == 8 for i in items)


def test_any_other_document_refuses_in_problem_json_naming_the_first_fault() -> None:
    status, media, body = render_violations(TWO, "problem")
    problem = json.loads(body)
    assert (status, media) == (400, "application/problem+json")
    assert problem["code"] == "request_invalid" and problem["status"] == 400
    assert "pageNo" in problem["title"] and "type" in problem["title"]
    assert problem["detail"] == "query parameter 'pageNo' must be of type integer (type) " \
                                "(1 more)"
    assert problem["errors"] == [v.as_dict() for v in TWO]


def test_a_refusal_is_written_in_korean_when_asked() -> None:
    _, _, body = render_violations(TWO, "problem", lang="ko")
    problem = json.loads(body)
    assert problem["title"] == "요청이 API 명세를 어깁니다: pageNo (type)"
    assert [e["message"] for e in problem["errors"]] == [
        "query 파라미터 'pageNo'의 형식은 integer이어야 합니다 (type)",
        "query 파라미터 'numOfRows'은(는) 100 이하여야 합니다 (maximum)"]
    assert problem["detail"].endswith("(외 1건)")
