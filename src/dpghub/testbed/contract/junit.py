"""A validation result as JUnit XML, the report format CI systems (GitHub Actions, GitLab,
Jenkins) read: one test suite, one test case per operation × check, so a CI page lists
"GET /businesses — response_schema_conformance" as a failed test with its curl."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from .result import ValidationResult

# Characters XML 1.0 forbids; a service's answer may carry any of them.
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: object) -> str:
    return NOT_XML.sub("\ufffd", str(value))


def _case(suite: ET.Element, classname: str, name: str) -> ET.Element:
    return ET.SubElement(suite, "testcase", classname=_text(classname), name=name, time="0")


def junit_xml(result: ValidationResult, name: str) -> str:
    """The JUnit XML document for `result`, the suite named `name` (e.g. "kasi/spcde")."""
    suite = ET.Element("testsuite", name=_text(name), timestamp=result.started_at,
                       time=f"{result.duration_s:.3f}")
    props = ET.SubElement(suite, "properties")
    for key, value in (("base_url", result.base_url), ("max_cases", result.max_cases),
                       ("cases", result.cases)):
        ET.SubElement(props, "property", name=key, value=_text(value))
    tests = failed = errored = 0
    for op in result.operations:
        for check in result.checks:
            tests += 1
            element = _case(suite, op.operation, check)
            found = [f for f in result.failures
                     if f.operation == op.operation and f.check == check]
            if not found:
                continue
            failed += 1
            body = "\n\n".join(
                f"{f.message}\n\nReproduce with:\n{f.curl}\n\nStatus: {f.status}"
                f"\nResponse (first bytes):\n{f.response_excerpt}" for f in found)
            ET.SubElement(element, "failure", message=_text(found[0].message.splitlines()[0]),
                          type=check).text = _text(body)
    by_operation: dict[str, list] = {}
    for error in result.errors:
        by_operation.setdefault(error.operation or "run", []).append(error)
    if result.stopped is not None:
        by_operation.setdefault("run", [])
    for operation, errors in by_operation.items():
        tests += 1
        errored += 1
        element = _case(suite, operation, "requests")
        lines = [f"{e.kind} ({e.occurrences}×): {e.message}" + (f"\n{e.curl}" if e.curl else "")
                 for e in errors]
        if operation == "run" and result.stopped is not None:
            lines.insert(0, f"The run was stopped early: {result.stopped}")
        ET.SubElement(element, "error", message=_text(lines[0].splitlines()[0]),
                      type=errors[0].kind if errors else "stopped").text = _text("\n\n".join(lines))
    suite.set("tests", str(tests))
    suite.set("failures", str(failed))
    suite.set("errors", str(errored))
    suite.set("skipped", "0")
    root = ET.Element("testsuites", name=_text(name), tests=str(tests), failures=str(failed),
                      errors=str(errored), time=f"{result.duration_s:.3f}")
    root.append(suite)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)
