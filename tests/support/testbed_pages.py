"""The testbed's pages driven as people use them: a browser (its own cookies) signed in with
the session cookie, each form posted with the CSRF token of the page it is on; 국세청's real
business-status API registered, a startup whose developer starts a project on the form."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import Any

from faker import Faker
from fastapi.testclient import TestClient

from dpghub.core import jobs
from dpghub.identity import service as identity
from dpghub.identity.models import User
from dpghub.identity.policy import CLI
from tests.conftest import Hub
from tests.support.identity import csrf_of, sign_in
from tests.support.sandbox import register_nts

PROJECT = "거래처 확인"


@dataclass
class Visitor:
    """One person's browser on the portal."""

    hub: Hub
    client: TestClient
    user: User | None = None

    def get(self, path: str, **kwargs: Any):  # type: ignore[no-untyped-def]
        return self.client.get(path, **kwargs)

    def submit(self, page: str, action: str, data: dict[str, Any] | None = None,
               **kwargs: Any):  # type: ignore[no-untyped-def]
        """Post a form found on `page` (its CSRF token), following the redirect."""
        shown = self.client.get(page)
        assert shown.status_code == 200, shown.text
        assert f'action="{action}"' in shown.text, f"no form posting to {action} on {page}"
        return self.client.post(action, data={"csrf_token": csrf_of(shown.text),
                                              **(data or {})}, **kwargs)


def visitor(hub: Hub, user: User | None = None, **headers: str) -> Visitor:
    client = TestClient(hub.app, headers={"accept": "text/html", **headers})
    if user is not None:
        signed = sign_in(client, user.email)
        assert signed.status_code == 303, signed.text
    return Visitor(hub, client, user)


def supporter(hub: Hub, email: str = "help@nia.or.kr") -> User:
    """Someone the operator made support staff (`dpghub user role EMAIL supporter`)."""
    helper = hub.make_user(email, name="지원 담당")
    with hub.session() as s:
        identity.set_platform_role(s, actor=CLI, user=identity.get_user(s, helper.id),
                                   role="supporter")
    return helper


@dataclass
class Startup:
    """The startup's developer, signed in, and the project they started on the form."""

    hub: Hub
    dev: User
    browser: Visitor
    project_id: int

    @property
    def page(self) -> str:
        return f"/testbed/projects/{self.project_id}"

    def act(self, form: str, data: dict[str, Any] | None = None,
            **kwargs: Any):  # type: ignore[no-untyped-def]
        """Post one of the project page's forms (`form`: the path after the project's)."""
        return self.browser.submit(self.page, f"{self.page}{form}", data, **kwargs)

    def api(self, path: str) -> Any:
        """What the JSON API says (the same browser session reads it)."""
        answer = self.browser.client.get(f"/api/v1/testbed/projects/{self.project_id}{path}")
        assert answer.status_code == 200, answer.text
        return answer.json()

    def new_key(self) -> str:
        made = self.act("/keys")
        assert made.status_code == 200, made.text
        found = re.search(r'<code id="new-key">(dsk_[^<]+)</code>', made.text)
        assert found, "the new key is not on the page"
        return found.group(1)


def start_project(hub: Hub) -> Startup:
    register_nts(hub)
    dev = hub.make_user("dev@startup.kr", name="김개발")
    hub.make_org("startup", admin=dev, kind="company")
    browser = visitor(hub, dev)
    made = browser.submit("/testbed", "/testbed/projects", {
        "org": "startup", "name": PROJECT, "purpose": "사업자 상태로 거래처를 확인한다",
        "services": "nts/nts-businessman", "days": "30"}, follow_redirects=False)
    assert made.status_code == 303, made.text
    found = re.fullmatch(r"/testbed/projects/(\d+)", made.headers["location"])
    assert found, made.headers["location"]
    return Startup(hub, dev, browser, int(found.group(1)))


def finish(hub: Hub, job_id: int, timeout: float = 300) -> None:
    job = jobs.wait(hub.factory, job_id, timeout=timeout)
    assert job.state == "succeeded", job.error


def shops_csv(rows: int = 300) -> bytes:
    """Shops of three cities: a category, a city → district dependency, numbers, dates."""
    fake = Faker("ko_KR")
    fake.seed_instance(15)
    districts = {"서울특별시": ["종로구", "중구", "마포구"], "부산광역시": ["해운대구", "동래구"],
                 "대전광역시": ["유성구", "서구"]}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["상호명", "시도명", "시군구명", "업종", "종업원수", "매출액", "개업일"])
    for _ in range(rows):
        city = fake.random_element(list(districts))
        staff = fake.random_int(1, 40)
        writer.writerow([fake.company(), city, fake.random_element(districts[city]),
                         fake.random_element(["음식점", "편의점", "미용실", "서점"]), staff,
                         staff * 1_000_000 + fake.random_int(0, 999_999),
                         fake.date_between("-20y", "-1y").isoformat()])
    return out.getvalue().encode("utf-8")
