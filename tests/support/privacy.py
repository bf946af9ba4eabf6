"""The people and data of the privacy journey: a hospital-like company and a welfare agency,
each with a file of people identified by 주민등록번호 (generated, valid check digits), a
research institute that asks for their combination, a key manager and three reviewers.

Some people are in both files; the small district 울릉군 has three of them, so a safe-zone
answer per district must hide it (and one more district, so the total does not give it away).
"""

from __future__ import annotations

import csv
import io
import random
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from faker import Faker

from dpghub.identity import service as identity
from dpghub.identity.models import User
from dpghub.identity.policy import CLI
from tests.conftest import Hub

DISTRICTS = ["경상북도 포항시 북구", "경상북도 경주시", "대구광역시 수성구", "대구광역시 중구"]
SMALL = "경상북도 울릉군"
WEIGHTS = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)


def rrn(birth: date, male: bool, rng: random.Random) -> str:
    """A well-formed 주민등록번호 for a birth before October 2020 (with its check digit)."""
    century = 1 if birth.year < 2000 else 3
    head = birth.strftime("%y%m%d") + str(century + (0 if male else 1))
    body = head + "".join(str(rng.randrange(10)) for _ in range(5))
    check = (11 - sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True)) % 11) % 10
    return f"{body[:6]}-{body[6:]}{check}"


@dataclass
class Person:
    rrn: str
    name: str
    phone: str
    district: str
    birth: date


def people(count: int = 240, seed: int = 7) -> list[Person]:
    fake = Faker("ko_KR")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    found = []
    for i in range(count):
        birth = date(1940, 1, 1) + timedelta(days=rng.randrange(365 * 60))
        district = SMALL if i < 3 else DISTRICTS[i % len(DISTRICTS)]
        found.append(Person(rrn(birth, rng.random() < 0.5, rng), fake.name(),
                            f"010-{rng.randrange(1000, 10000)}-{rng.randrange(1000, 10000)}",
                            district, birth))
    return found


def hospital_csv(persons: list[Person]) -> bytes:
    """Patients: everyone but the last 40 (the first three, of 울릉군, are patients)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["주민등록번호", "성명", "연락처", "주소", "진단코드", "진료비"])
    for i, p in enumerate(persons[:-40]):
        writer.writerow([p.rrn, p.name, p.phone, f"{p.district} 중앙로 {i % 90 + 1}",
                         ["E11", "I10", "J45"][i % 3], 10_000 + (i * 7919) % 90_000])
    return out.getvalue().encode("cp949")


def welfare_csv(persons: list[Person]) -> bytes:
    """Benefit recipients: everyone but the 40 after the first three (so 울릉군's three are in
    both files), with the RRN written without its hyphen."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["주민번호", "수급자명", "급여종류", "월급여액"])
    for i, p in enumerate(persons[:3] + persons[43:]):
        writer.writerow([p.rrn.replace("-", ""), p.name, ["생계", "의료", "주거"][i % 3],
                         300_000 + (i * 3571) % 500_000])
    return out.getvalue().encode("utf-8")


@dataclass
class World:
    hub: Hub
    hospital_admin: User
    agency_admin: User
    researcher: User
    key_manager: User
    reviewers: list[User]
    persons: list[Person] = field(default_factory=list)
    tokens: dict[int, dict[str, str]] = field(default_factory=dict)

    def auth(self, user: User) -> dict[str, str]:
        if user.id not in self.tokens:
            self.tokens[user.id] = self.hub.bearer(user)
        return self.tokens[user.id]

    def call(self, user: User | None, method: str, path: str, **kwargs: Any) -> Any:
        headers = self.auth(user) if user is not None else {}
        return self.hub.client.request(method, "/api/v1" + path, headers=headers, **kwargs)

    def ok(self, user: User | None, method: str, path: str, status: int = 200,
           **kwargs: Any) -> Any:
        answer = self.call(user, method, path, **kwargs)
        assert answer.status_code == status, answer.text
        return answer.json() if answer.content else None

    def ingest(self, user: User, org: str, name: str, filename: str, content: bytes,
               access: str = "open") -> dict[str, Any]:
        self.ok(user, "POST", f"/orgs/{org}/datasets", 201,
                json={"slug": name, "title_ko": name, "access": access})
        job = self.ok(user, "POST", f"/datasets/{org}/{name}/ingest", 202,
                      files=[("files", (filename, content))])
        return self.wait(user, job["id"])

    def wait(self, user: User, job_id: int, timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            job = self.ok(user, "GET", f"/jobs/{job_id}")
            if job["state"] in ("succeeded", "failed", "cancelled"):
                assert job["state"] == "succeeded", job["error"]
                return job
            assert time.monotonic() < deadline, job
            time.sleep(0.05)


def make_world(hub: Hub, language: str = "ko") -> World:
    """Three organizations and their people (who read the portal in `language`); the
    platform roles granted by an operator."""
    hospital_admin = hub.make_user("privacy@hospital.example", name="병원 개인정보 담당",
                                   language=language)
    agency_admin = hub.make_user("data@welfare.go.kr", name="복지부 데이터 담당",
                                 language=language)
    researcher = hub.make_user("analyst@institute.re.kr", name="연구원", language=language)
    key_manager = hub.make_user("keys@kisa.or.kr", name="결합키 관리", language=language)
    reviewers = [hub.make_user(f"reviewer{i}@committee.kr", name=f"심사위원 {i}",
                               language=language) for i in range(1, 4)]
    hub.make_org("hospital", admin=hospital_admin, kind="company")
    hub.make_org("welfare", admin=agency_admin, kind="public")
    hub.make_org("institute", admin=researcher, kind="research")
    with hub.session() as s:
        identity.set_platform_role(s, actor=CLI, user=identity.get_user(s, key_manager.id),
                                   role="key_manager")
        for reviewer in reviewers:
            identity.set_platform_role(s, actor=CLI, user=identity.get_user(s, reviewer.id),
                                       role="reviewer")
    return World(hub, hospital_admin, agency_admin, researcher, key_manager, reviewers,
                 persons=people())

