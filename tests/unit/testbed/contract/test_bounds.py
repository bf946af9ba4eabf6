"""A run is a job with a bounded cost: at most max_cases cases per operation, a time limit,
progress as it goes, and a cancel that ends it early."""

from __future__ import annotations

import threading

import pytest

from dpghub.core.errors import Invalid
from dpghub.testbed.contract import MAX_CASES, run
from tests.support.devserver import KEY, devserver, garbage_server

AUTH_PROBES = 2      # ignored_auth sends the request once without, once with a wrong key


@pytest.mark.parametrize("max_cases", [2, 7])
def test_no_operation_gets_more_cases_than_max_cases(max_cases: int) -> None:
    with devserver(set()) as service:
        result = run(service.spec, service.base_url, headers={"X-API-Key": KEY},
                     max_cases=max_cases)
        received = service.requests_per_operation()
    assert result.passed
    assert {op.operation: op.cases for op in result.operations} == {
        op: max_cases for op in ("GET /businesses/{b_no}", "GET /businesses", "POST /status")}
    assert all(count <= max_cases + AUTH_PROBES for count in received.values()), received


def test_a_run_with_errors_on_every_request_still_keeps_to_max_cases() -> None:
    with garbage_server() as base:
        result = run({"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {
            "/items": {"get": {"parameters": [
                {"name": "q", "in": "query", "schema": {"type": "string"}}],
                "responses": {"200": {"description": "ok"}}}}}}, base, max_cases=4)
    cases = result.operations[0].cases
    assert 1 <= cases <= 4                # Hypothesis does not shrink a failing case further
    assert [e.kind for e in result.errors] == ["not_http"]


@pytest.mark.parametrize("max_cases", [0, MAX_CASES + 1])
def test_max_cases_out_of_range_is_refused(max_cases: int) -> None:
    with pytest.raises(Invalid) as caught:
        run({"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {}},
            "http://127.0.0.1:9", max_cases=max_cases)
    assert caught.value.code == "invalid_max_cases"


def test_a_url_that_is_not_http_is_refused() -> None:
    with pytest.raises(Invalid) as caught:
        run({"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {}},
            "ftp://127.0.0.1/")
    assert caught.value.code == "invalid_base_url"


def test_progress_counts_each_operation_in_each_phase_up_to_the_total() -> None:
    seen: list[tuple[int, int]] = []
    with devserver(set()) as service:
        run(service.spec, service.base_url, headers={"X-API-Key": KEY}, max_cases=3,
            progress=lambda done, total: seen.append((done, total)))
    assert {total for _, total in seen} == {9}          # 3 operations × 3 phases
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert seen[-1] == (9, 9)
    assert len({done for done, _ in seen}) == 10        # 0, 1, … 9: one step per unit


def test_a_cancel_stops_the_run_early_and_it_does_not_pass() -> None:
    asked = []

    def should_stop() -> bool:
        asked.append(True)
        return True

    with devserver(set()) as service:
        full = run(service.spec, service.base_url, headers={"X-API-Key": KEY}, max_cases=10)
        cancelled = run(service.spec, service.base_url, headers={"X-API-Key": KEY},
                        max_cases=10, should_stop=should_stop)
    assert full.passed and full.stopped is None
    assert asked
    assert cancelled.stopped == "cancelled"
    assert not cancelled.passed
    assert cancelled.cases < full.cases


def test_the_time_limit_stops_the_run() -> None:
    with devserver(set()) as service:
        result = run(service.spec, service.base_url, headers={"X-API-Key": KEY},
                     max_time_s=0.001)
    assert result.stopped == "time_limit"
    assert not result.passed


def test_the_same_seed_sends_the_same_cases() -> None:
    with devserver(set()) as service:
        first = run(service.spec, service.base_url, headers={"X-API-Key": KEY}, max_cases=6)
        sent_first = list(service.seen)
        service.seen.clear()
        run(service.spec, service.base_url, headers={"X-API-Key": KEY}, max_cases=6)
        sent_again = list(service.seen)
    assert first.passed
    assert [(m, p) for m, p, _ in sent_again] == [(m, p) for m, p, _ in sent_first]


def test_a_failing_progress_callback_stops_the_engine_before_the_error_goes_up() -> None:
    def progress(done: int, total: int) -> None:
        if done == 2:
            raise RuntimeError("the job's row is gone")

    with devserver(set()) as service:
        with pytest.raises(RuntimeError, match="row is gone"):
            run(service.spec, service.base_url, headers={"X-API-Key": KEY}, progress=progress)
        assert not [t for t in threading.enumerate() if t.name == "contract-validation"]
