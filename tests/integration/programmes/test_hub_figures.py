"""The programme dashboard's monthly figures: each counted in its Seoul month (a call at
00:30 on 1 June in Seoul is June's, though it is still May in UTC), stocks at each month's
end, the hub's refusals left out; public figures for everyone, the rest for operators;
a CSV for spreadsheets; bad months named."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from sqlalchemy import select, update

from dpghub.catalog.models import Service
from dpghub.gateway.models import CallRecord
from dpghub.lake.models import Dataset, DatasetVersion
from tests.conftest import Hub
from tests.support.lake import Lake

DOCUMENT = {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {}}
MAY_14 = datetime(2026, 5, 14, 3, 0, tzinfo=UTC)
JUNE_1_SEOUL = datetime(2026, 5, 31, 15, 30, tzinfo=UTC)      # 00:30 on 1 June in Seoul
MAY_31_SEOUL = datetime(2026, 5, 31, 14, 30, tzinfo=UTC)      # 23:30 on 31 May in Seoul


def _world(hub: Hub) -> tuple[Lake, Hub]:
    lake = Lake(hub)
    lake.create("open-one", access="open")
    lake.upload("open-one", ("a.csv", "이름,값\n가,1\n나,2\n다,3\n".encode()))
    lake.create("closed-one", access="restricted")
    lake.upload("closed-one", ("b.csv", "이름,값\n라,4\n마,5\n".encode()))
    made = hub.client.post(f"/api/v1/orgs/{lake.org.slug}/services", headers=lake.auth, json={
        "slug": "api", "title_ko": "API", "upstream_url": "https://x.test/api",
        "openapi": DOCUMENT})
    assert made.status_code == 201, made.text
    with hub.session() as s, s.begin():
        # the open dataset and its version in May, the restricted one in June (Seoul)
        for slug, when in (("open-one", MAY_14), ("closed-one", JUNE_1_SEOUL)):
            s.execute(update(Dataset).where(Dataset.slug == slug).values(created_at=when))
            ids = s.scalars(select(Dataset.id).where(Dataset.slug == slug)).all()
            s.execute(update(DatasetVersion).where(DatasetVersion.dataset_id.in_(ids))
                      .values(created_at=when))
        s.execute(update(Service).values(created_at=MAY_31_SEOUL))
        for i, (when, outcome) in enumerate([(MAY_14, "ok"), (MAY_31_SEOUL, "upstream_error"),
                                             (JUNE_1_SEOUL, "ok"), (JUNE_1_SEOUL, "refused")]):
            s.add(CallRecord(at=when, request_id=f"r{i}", method="GET", path="/gw/x",
                             status=200, outcome=outcome))
    return lake, hub


def _series(answer: dict) -> dict[str, list[float]]:   # type: ignore[type-arg]
    return {s["key"]: s["values"] for s in answer["hub"]["series"]}


def test_each_figure_in_its_seoul_month_public_and_for_operators(hub: Hub) -> None:
    _world(hub)
    hub.app.state.clock = lambda: datetime(2026, 7, 2, tzinfo=UTC)
    public = hub.client.get("/api/v1/programmes/dashboard",
                            params={"from": "2026-04", "to": "2026-07"})
    assert public.status_code == 200, public.text
    assert public.json()["hub"]["months"] == ["2026-04", "2026-05", "2026-06", "2026-07"]
    seen = _series(public.json())
    assert seen["datasets_open"] == [0, 1, 1, 1]         # stocks at each month's end
    assert seen["rows_open"] == [0, 3, 3, 3]
    assert seen["services"] == [0, 1, 1, 1]
    assert seen["gateway_calls"] == [0, 2, 1, 0]         # the refusal is no call
    assert seen["agile_releases"] == [0, 0, 0, 0]
    assert set(seen) == {"datasets_open", "rows_open", "services", "gateway_calls",
                         "agile_releases", "feedback_answered"}
    labels = {s["key"]: s["label"] for s in public.json()["hub"]["series"]}
    assert labels["gateway_calls"] != "Calls through the gateway"       # Korean by default

    operator = hub.make_user(operator=True)
    everything = hub.client.get("/api/v1/programmes/dashboard", headers=hub.bearer(operator),
                                params={"from": "2026-04", "to": "2026-07"}).json()
    seen = _series(everything)
    assert seen["datasets"] == [0, 1, 2, 2] and seen["rows"] == [0, 3, 5, 5]
    assert seen["sandbox_projects"] == [0, 0, 0, 0]
    ai = next(s for s in everything["hub"]["series"] if s["key"] == "ai_tokens")
    assert ai["available"] is True and ai["values"] == [0, 0, 0, 0]   # the AI ledger's sums


def test_the_figures_as_csv_and_the_page(hub: Hub) -> None:
    _world(hub)
    hub.app.state.clock = lambda: datetime(2026, 6, 15, tzinfo=UTC)
    answer = hub.client.get("/api/v1/programmes/dashboard.csv",
                            params={"from": "2026-05", "to": "2026-06"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert 'filename="dpghub-figures-2026-05-2026-06.csv"' in answer.headers[
        "content-disposition"]
    text = answer.content.decode("utf-8")
    assert text.startswith("\ufeff")                     # Excel reads the Korean as UTF-8
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [(r["month"], r["datasets_open"], r["gateway_calls"]) for r in rows] == [
        ("2026-05", "1", "2"), ("2026-06", "1", "1")]
    assert "datasets" not in rows[0]                     # operators' figures stay out
    page = hub.client.get("/programmes/dashboard?from=2026-05&to=2026-06")
    assert page.status_code == 200
    assert "2026-05" in page.text and "<svg" in page.text
    assert "/api/v1/programmes/dashboard.csv?from=2026-05&amp;to=2026-06" in page.text


def test_months_mistyped_are_named_and_the_page_still_answers(hub: Hub) -> None:
    hub.app.state.clock = lambda: datetime(2026, 6, 15, tzinfo=UTC)
    for params, field, code in (({"from": "2026-13"}, "from", "bad_month"),
                                ({"from": "May"}, "from", "bad_month"),
                                ({"from": "2026-06", "to": "2026-01"}, "to", "bad_period"),
                                ({"from": "2000-01"}, "from", "too_many_months")):
        answer = hub.client.get("/api/v1/programmes/dashboard", params=params)
        assert answer.status_code == 422, params
        assert (answer.json()["code"], answer.json()["field"]) == (code, field), params
    page = hub.client.get("/programmes/dashboard?from=2026-13")
    assert page.status_code == 422 and 'role="alert"' in page.text
    default = hub.client.get("/api/v1/programmes/dashboard").json()["hub"]["months"]
    assert (default[0], default[-1], len(default)) == ("2025-07", "2026-06", 12)
