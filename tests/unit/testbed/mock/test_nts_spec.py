"""The mock of a real data.go.kr document: 국세청_사업자등록정보 진위확인 및 상태조회 (Swagger
2.0, converted). Both operations are POSTs with JSON bodies; answers are declared as JSON and
XML; the key travels as `serviceKey`, which is the hub's business, not the mock's."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import fromstring

import pytest
from faker import Faker

from dpghub.testbed.mock import MockSpec, Prefer, render_violations
from dpghub.testbed.mock.korean import is_business_number
from tests.support.testbed import NTS_BASE, NTS_HOST, contract_errors, judge, nts_document

QUERY = [("serviceKey", "a-sandbox-key")]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return nts_document()


@pytest.fixture(scope="module")
def spec(document: dict[str, Any]) -> MockSpec:
    return MockSpec.build(document)


@pytest.fixture(scope="module")
def requests() -> dict[str, bytes]:
    fake = Faker("ko_KR")
    fake.seed_instance(15081808)
    business = {"b_no": "2208162517", "start_dt": fake.date(pattern="%Y%m%d"),
                "p_nm": fake.name(), "b_nm": fake.company(), "b_adr": fake.address()}
    return {"/status": json.dumps({"b_no": ["2208162517", "1248100998"]}).encode(),
            "/validate": json.dumps({"businesses": [business]}, ensure_ascii=False).encode()}


def test_both_operations_are_served_and_the_document_is_recognised_as_data_go_kr(
        spec: MockSpec) -> None:
    assert spec.broken == {}
    assert sorted(op.label for op in spec.operations) == ["POST /status", "POST /validate"]
    assert spec.datagokr
    assert spec.match("GET", "/status").status == 405
    assert spec.match("GET", "/status").allowed == ("POST",)
    assert spec.match("POST", "/nothing").status == 404
    assert spec.match("POST", NTS_BASE + "/status").found   # the server's base path kept


@pytest.mark.parametrize("path", ["/status", "/validate"])
def test_fifty_answers_keep_the_contract_as_openapi_core_judges_it(
        spec: MockSpec, document: dict[str, Any], requests: dict[str, bytes], path: str) -> None:
    api = judge(document)
    match = spec.match("POST", path)
    bodies = set()
    for seed in range(50):
        answer = spec.respond(match, Prefer(), seed.to_bytes(2, "big"))
        assert (answer.status, answer.media_type) == (200, "application/json")
        assert contract_errors(api, NTS_HOST, NTS_BASE + path, "POST", answer,
                               query=dict(QUERY), body=requests[path]) == []
        bodies.add(answer.body)
    assert len(bodies) == 50      # each seed its own answer


@pytest.mark.parametrize("code", [200, 400, 411, 413, 500])
def test_each_declared_status_is_answered_within_the_contract(
        spec: MockSpec, document: dict[str, Any], requests: dict[str, bytes], code: int) -> None:
    answer = spec.respond(spec.match("POST", "/status"), Prefer(code=code), b"seed")
    assert answer.status == code
    assert contract_errors(judge(document), NTS_HOST, NTS_BASE + "/status", "POST", answer,
                           query=dict(QUERY), body=requests["/status"]) == []


def test_the_declared_404_has_no_body(spec: MockSpec) -> None:
    answer = spec.respond(spec.match("POST", "/status"), Prefer(code=404), b"seed")
    assert (answer.status, answer.media_type, answer.body) == (404, "", b"")


def test_fields_typed_only_as_string_look_korean(spec: MockSpec) -> None:
    answer = json.loads(spec.respond(spec.match("POST", "/validate"), Prefer(), b"k").body)
    for row in answer["data"]:
        asked = row["request_param"]
        assert is_business_number(row["b_no"]) and is_business_number(asked["b_no"])
        assert re.fullmatch(r"[가-힣]{3}", asked["p_nm"]), asked["p_nm"]
        datetime.strptime(asked["start_dt"], "%Y%m%d")          # 개업일자 (YYYYMMDD)
        assert re.match(r"\S+(시|도) ", asked["b_adr"]), asked["b_adr"]
        assert re.fullmatch(r"\d{13}", asked["corp_no"])
        assert row["status"]["b_stt"] == "계속사업자"            # the document's own example
        assert row["valid"] in ("01", "02")


def test_an_answer_in_xml_uses_the_documents_element_names(spec: MockSpec) -> None:
    answer = spec.respond(spec.match("POST", "/status"), Prefer(), b"x",
                          accept="application/xml")
    assert answer.media_type == "application/xml;charset=UTF-8"
    root = fromstring(answer.body)
    assert root.tag == "Response"
    items = root.findall("./Data/Item")
    assert items and all(is_business_number(i.findtext("BNo") or "") for i in items)
    assert root.findtext("StatusCode") == "OK"


def test_a_valid_request_passes_whatever_credentials_it_carries(
        spec: MockSpec, requests: dict[str, bytes]) -> None:
    for path, body in requests.items():
        assert spec.validate_request(spec.match("POST", path), QUERY,
                                     {"authorization": "Infuser x", "x-api-key": "k"}, body,
                                     "application/json; charset=utf-8") == []


@pytest.mark.parametrize(("path", "body", "expected"), [
    ("/status", b"{}", [("body", "body.b_no", "required")]),
    ("/status", b'{"b_no": "2208162517"}', [("body", "body.b_no", "type")]),
    ("/status", b'{"b_no": [2208162517]}', [("body", "body.b_no[0]", "type")]),
    ("/validate", b'{"businesses": [{"b_no": "2208162517"}]}',
     [("body", "body.businesses[0].p_nm", "required"),
      ("body", "body.businesses[0].start_dt", "required")]),
    ("/status", b"", [("body", "body", "required")]),
    ("/status", b"{b_no:", [("body", "body", "syntax")]),
])
def test_a_broken_request_is_told_which_field_breaks_which_rule(
        spec: MockSpec, path: str, body: bytes, expected: list[tuple[str, str, str]]) -> None:
    found = spec.validate_request(spec.match("POST", path), QUERY, {}, body, "application/json")
    assert sorted((v.location, v.field, v.rule) for v in found) == expected
    for violation in found:
        assert violation.field in violation.message or violation.field == "body"
        assert f"({violation.rule})" in violation.message


def test_a_body_in_an_undeclared_content_type_is_refused(spec: MockSpec) -> None:
    found = spec.validate_request(spec.match("POST", "/status"), QUERY, {}, b"b_no=1",
                                  "application/x-www-form-urlencoded")
    assert [(v.location, v.rule) for v in found] == [("content-type", "declared")]
    assert "application/json" in found[0].message


def test_refusals_use_data_go_kr_envelope_in_the_format_the_caller_asks(
        spec: MockSpec) -> None:
    found = spec.validate_request(spec.match("POST", "/status"), QUERY, {}, b"{}",
                                  "application/json")
    status, media, body = render_violations(found, spec.fault_style(QUERY))
    answer = json.loads(body)
    assert (status, media) == (400, "application/json;charset=UTF-8")
    assert answer["response"]["header"] == {"resultCode": "10",
                                            "resultMsg": "INVALID_REQUEST_PARAMETER_ERROR"}
    assert answer["response"]["errors"][0]["field"] == "body.b_no"
    status, media, body = render_violations(
        found, spec.fault_style([*QUERY, ("returnType", "XML")]))
    root = fromstring(body)
    assert (status, media) == (400, "application/xml;charset=UTF-8")
    assert root.findtext("./header/resultCode") == "10"
    assert root.findtext("./errors/error/rule") == "required"
