"""What the hub stores and hands to CI: the result as JSON and back, and as JUnit XML that a
CI system reads — one test case per operation × check, the failure's curl in its body."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from dpghub.testbed.contract import Failure, OperationSummary, RequestError, ValidationResult
from dpghub.testbed.contract.junit import junit_xml

CHECKS = ["not_a_server_error", "status_code_conformance", "response_schema_conformance"]


def result() -> ValidationResult:
    return ValidationResult(
        base_url="http://127.0.0.1:8000", started_at="2025-01-02T03:04:05+00:00",
        finished_at="2025-01-02T03:04:09+00:00", checks=CHECKS, max_cases=20, duration_s=4.2,
        operations=[OperationSummary("GET /businesses/{b_no}", cases=20, failures=3),
                    OperationSummary("POST /status", cases=18, failures=0, errors=2)],
        failures=[
            Failure("GET /businesses/{b_no}", "not_a_server_error", "Server error: 500",
                    "curl -X GET http://127.0.0.1:8000/businesses/1", status=500,
                    response_excerpt="Internal \x00 Server Error"),
            Failure("GET /businesses/{b_no}", "status_code_conformance",
                    "Undocumented status code: Received: 500", "curl -X GET …/1", status=500),
            Failure("GET /businesses/{b_no}", "response_schema_conformance",
                    "Response violates schema: 1 is not of type \"string\"",
                    'curl -X GET -H "X-API-Key: $SANDBOX_KEY" http://127.0.0.1:8000/businesses/2',
                    status=200, response_excerpt='{"b_stt_cd": 1, "b_nm": "(주)한빛"}'),
        ],
        errors=[RequestError("POST /status", "timeout", "No answer within 5 s", occurrences=2)])


def test_a_result_survives_json_storage_unchanged() -> None:
    stored = json.loads(json.dumps(result().to_dict(), ensure_ascii=False))
    again = ValidationResult.from_dict(stored)
    assert again == result()
    assert stored["passed"] is False
    assert stored["counts"] == {"operations": 2, "cases": 38, "failures": 3, "errors": 1}


def test_passed_needs_cases_and_nothing_wrong() -> None:
    clean = ValidationResult.from_dict({**result().to_dict(), "failures": [], "errors": []})
    assert clean.passed
    assert not ValidationResult.from_dict({**clean.to_dict(), "stopped": "cancelled"}).passed
    assert not ValidationResult.from_dict({**clean.to_dict(), "operations": []}).passed


def test_junit_has_one_suite_and_one_case_per_operation_and_check() -> None:
    root = ET.fromstring(junit_xml(result(), "nts/business-status"))
    suites = root.findall("testsuite")
    assert len(suites) == 1
    suite = suites[0]
    assert suite.get("name") == "nts/business-status"
    cases = suite.findall("testcase")
    assert len(cases) == 2 * 3 + 1                    # operations × checks, and one for errors
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("7", "3", "1")
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("7", "3", "1")
    failed = {(c.get("classname"), c.get("name")) for c in cases if c.find("failure") is not None}
    assert failed == {("GET /businesses/{b_no}", check) for check in CHECKS}
    schema = next(c for c in cases if c.get("name") == "response_schema_conformance"
                  and c.get("classname") == "GET /businesses/{b_no}").find("failure")
    assert schema.get("message") == 'Response violates schema: 1 is not of type "string"'
    assert schema.get("type") == "response_schema_conformance"
    assert 'curl -X GET -H "X-API-Key: $SANDBOX_KEY"' in schema.text
    assert "(주)한빛" in schema.text
    error = next(c for c in cases if c.find("error") is not None)
    assert error.get("classname") == "POST /status"
    assert "timeout (2×): No answer within 5 s" in error.find("error").text


def test_junit_of_a_passing_run_has_no_failures() -> None:
    clean = ValidationResult.from_dict({**result().to_dict(), "failures": [], "errors": []})
    suite = ET.fromstring(junit_xml(clean, "x")).find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("6", "0", "0")


def test_junit_of_a_cancelled_run_says_it_stopped() -> None:
    stopped = ValidationResult.from_dict({**result().to_dict(), "errors": [],
                                          "stopped": "cancelled"})
    suite = ET.fromstring(junit_xml(stopped, "x")).find("testsuite")
    error = next(c for c in suite.findall("testcase") if c.find("error") is not None)
    assert error.get("classname") == "run"
    assert "stopped early: cancelled" in error.find("error").text
