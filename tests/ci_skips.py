"""Under CI=true no skip passes: the hooks tests/conftest.py takes in.

CI has every service, so a skipped test there is a test that never ran, whatever made it skip:
`pytest.skip` in a test or a fixture, `pytest.importorskip`, a skip or skipif mark, a module
skipped while collected. An expected failure (xfail) is a known fault left in place, and fails
too. Each becomes a failure that gives the skip's reason.
"""

from __future__ import annotations

import os

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def _reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    if hasattr(report, "wasxfail"):
        return f"marked as expected to fail (xfail): {report.wasxfail}"
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        path, line, reason = longrepr
        return f"{str(reason).removeprefix('Skipped: ')} ({path}:{line})"
    return str(longrepr)


def _fail_if_skipped(report: pytest.TestReport | pytest.CollectReport) -> None:
    if report.skipped and in_ci():
        reason = _reason(report)
        report.outcome = "failed"
        report.longrepr = f"under CI=true every test must run, but this one was skipped: {reason}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    report = yield
    _fail_if_skipped(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):  # type: ignore[no-untyped-def]
    report = yield
    _fail_if_skipped(report)
    return report
