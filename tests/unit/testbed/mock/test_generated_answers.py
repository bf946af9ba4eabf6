"""Answers built from schemas that use every construct the mock claims: all of them keep the
contract as openapi-core judges it, every required property is there (also under allOf and
oneOf, where Prism is most often reported to drop them), and every format is a real one."""

from __future__ import annotations

import ipaddress
import json
import re
import uuid
from base64 import b64decode
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit
from xml.etree.ElementTree import fromstring

import pytest

from dpghub.testbed.mock import MockSpec, Prefer
from dpghub.testbed.mock.korean import is_business_number
from tests.support.testbed import BASE, HOST, constructs_document, contract_errors, judge

TRACE = {"X-Trace-Id": "8d7f2c1e-3b4a-4c5d-9e6f-7a8b9c0d1e2f", "X-API-Key": "k"}
CALLS = {   # (method, path): (query, body, headers) of a request openapi-core accepts
    ("GET", "/citizens"): ({"page": "1"}, b"", TRACE),
    ("GET", "/citizens/7"): ({}, b"", {}),
    ("DELETE", "/citizens/7"): ({}, b"", {}),
    ("POST", "/payments"): ({}, json.dumps({"kind": "transfer", "bank": "KB",
                                            "account": "123-456789-01"}).encode(), {}),
    ("GET", "/greeting"): ({}, b"", {}),
    ("GET", "/stale"): ({}, b"", {}),
}
FORMATS = {
    "email": lambda v: re.fullmatch(r"[\w.+-]+@[\w-]+(\.[\w-]+)+", v),
    "uuid": uuid.UUID,
    "date-time": datetime.fromisoformat,
    "date": date.fromisoformat,
    "time": lambda v: datetime.strptime(v, "%H:%M:%S"),
    "uri": lambda v: urlsplit(v).scheme in ("http", "https") and urlsplit(v).netloc,
    "hostname": lambda v: re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", v),
    "ipv4": ipaddress.IPv4Address,
    "ipv6": ipaddress.IPv6Address,
    "byte": lambda v: b64decode(v, validate=True),
}
FIELDS = {"email": "email", "id": "uuid", "created": "date-time", "birth": "date",
          "wake": "time", "homepage": "uri", "server": "hostname", "ip4": "ipv4",
          "ip6": "ipv6", "photo": "byte"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return constructs_document()


@pytest.fixture(scope="module")
def spec(document: dict[str, Any]) -> MockSpec:
    return MockSpec.build(document)


def citizens(spec: MockSpec, seeds: range) -> list[dict[str, Any]]:
    match = spec.match("GET", "/citizens")
    return [c for s in seeds
            for c in json.loads(spec.respond(match, Prefer(), s.to_bytes(2, "big")).body)["items"]]


def test_every_operation_is_served(spec: MockSpec) -> None:
    assert spec.broken == {}


@pytest.mark.parametrize(("method", "path"), list(CALLS))
def test_fifty_answers_of_each_operation_keep_the_contract(
        spec: MockSpec, document: dict[str, Any], method: str, path: str) -> None:
    api = judge(document)
    query, body, headers = CALLS[(method, path)]
    match = spec.match(method, path)
    for seed in range(50):
        answer = spec.respond(match, Prefer(), seed.to_bytes(2, "big"))
        assert contract_errors(api, HOST, BASE + path, method, answer, query=query, body=body,
                               headers=headers) == [], answer.body


def test_required_properties_of_every_allof_part_are_always_present(spec: MockSpec) -> None:
    found = citizens(spec, range(50))
    assert found
    for citizen in found:
        assert {"id", "created", "name", "email", "phone", "status", "code",
                "resident"} <= set(citizen)          # `resident`: required, never described


def test_every_format_is_a_valid_one(spec: MockSpec) -> None:
    for citizen in citizens(spec, range(30)):
        for field, fmt in FIELDS.items():
            assert FORMATS[fmt](citizen[field]), (field, citizen[field])


def test_patterns_enums_bounds_and_lengths_hold(spec: MockSpec) -> None:
    for citizen in citizens(spec, range(30)):
        assert re.fullmatch(r"010-\d{4}-\d{4}", citizen["phone"])
        assert re.fullmatch(r"[A-Z]{3}-[0-9]{2,4}", citizen["code"])
        assert len(citizen["code"]) >= 7
        assert citizen["status"] in ("active", "dormant", "closed")
        assert 19 <= citizen["age"] <= 99 and 0 <= citizen["score"] < 5
        assert citizen["visits"] % 5 == 0
        assert 0 < citizen["balance"] <= 1000000
        assert round(citizen["balance"] * 100) == pytest.approx(citizen["balance"] * 100)
        assert 2 <= len(citizen["tags"]) <= 3 and len(set(citizen["tags"])) == len(
            citizen["tags"])
        assert 2 <= len(citizen["nickname"]) <= 8 and len(citizen["name"]) <= 10
        assert set(citizen["address"]) == {"road", "zip"}        # additionalProperties: false
        assert "password" not in citizen                          # writeOnly: never answered


def test_string_fields_named_in_korean_get_korean_looking_values(spec: MockSpec) -> None:
    for citizen in citizens(spec, range(10)):
        assert re.fullmatch(r"[가-힣]{3}", citizen["name"])                   # 성명
        assert is_business_number(citizen["biz_no"])                         # 사업자등록번호
        datetime.strptime(citizen["start_dt"], "%Y%m%d")                     # 개업일자
        assert re.fullmatch(r"010-\d{4}-\d{4}", citizen["tel_no"])
        assert re.search(r"(시|도) ", citizen["adr"])


def test_a_oneof_value_is_valid_against_exactly_one_branch(spec: MockSpec) -> None:
    match = spec.match("POST", "/payments")
    kinds = set()
    for seed in range(40):
        receipt = json.loads(spec.respond(match, Prefer(), seed.to_bytes(2, "big")).body)
        payment, contact = receipt["payment"], receipt["contact"]
        kinds.add(payment["kind"])
        required = {"card": {"kind", "card_no", "holder"},
                    "transfer": {"kind", "bank", "account"}}[payment["kind"]]
        assert set(payment) == required                  # the discriminator names its branch
        assert len(set(contact) & {"email", "phone"}) == 1   # branches differ by `required`
        assert receipt["amount"] >= 1 if isinstance(receipt["amount"], int) else \
            re.fullmatch(r"\d{1,6}원", receipt["amount"])
        assert receipt["meta"] and all(v >= 1 for v in receipt["meta"].values())
    assert kinds == {"card", "transfer"}


def test_a_schema_that_contains_itself_optionally_is_cut_short(spec: MockSpec) -> None:
    receipt = json.loads(spec.respond(spec.match("POST", "/payments"), Prefer(), b"t").body)

    def depth(node: dict[str, Any]) -> int:
        return 1 + max((depth(c) for c in node.get("children", [])), default=0)
    assert 1 <= depth(receipt["tree"]) <= 3


def test_an_xml_only_answer_is_well_formed_and_named_by_the_schema(spec: MockSpec) -> None:
    answer = spec.respond(spec.match("GET", "/notices"), Prefer(), b"n")
    assert answer.media_type == "application/xml;charset=UTF-8"
    root = fromstring(answer.body)
    assert root.tag == "response" and root.findtext("resultCode") == "00"
    items = root.findall("./items/item")
    assert items and all(int(i.get("seq", "x")) >= 1 for i in items)   # an attribute
    assert all(re.fullmatch(r"\d{8}", i.findtext("reg_dt") or "") for i in items)


def test_an_openapi_3_1_document_is_served_within_its_contract() -> None:
    """3.1 writes null as a type, exclusive bounds as numbers, examples as a list, and
    allows const and prefixItems."""
    schema = {"type": "object", "required": ["version", "note", "score", "pair"], "properties": {
        "version": {"const": "v1"}, "note": {"type": ["string", "null"], "examples": ["메모"]},
        "score": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
        "pair": {"type": "array", "minItems": 2, "maxItems": 2, "prefixItems": [
            {"type": "integer"}, {"type": "string", "format": "date"}]}}}
    document = {"openapi": "3.1.0", "info": {"title": "3.1", "version": "1"},
                "servers": [{"url": HOST}],
                "paths": {"/v": {"get": {"responses": {"200": {
                    "description": "ok", "content": {"application/json": {"schema": schema}}}}}}}}
    spec, api = MockSpec.build(document), judge(document)
    for seed in range(20):
        answer = spec.respond(spec.match("GET", "/v"), Prefer(), bytes([seed]))
        assert contract_errors(api, HOST, "/v", "GET", answer) == []
        value = json.loads(answer.body)
        assert value["version"] == "v1" and value["note"] == "메모" and 0 < value["score"] < 1
        assert isinstance(value["pair"][0], int) and date.fromisoformat(value["pair"][1])
