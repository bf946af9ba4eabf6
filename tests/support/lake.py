"""The lake driven as a provider would: real Korean files from ../shared/data/kr, uploads
through the API; the fixtures `kr` and `lake` the lake, analysis and catalogue tests use."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SHARED_DATA, Hub, unavailable

KR = SHARED_DATA / "kr"
BJD = KR / "bjd_code_molit" / "국토교통부_법정동코드_20240805.csv"
LIBRARY = KR / "library_std" / "전국도서관표준데이터.csv"
EV = KR / "ev_charger_std" / "전국전기차충전소표준데이터.csv"
POPULATION = KR / "population_mois" / "202509_202509_주민등록인구및세대현황_월간.csv"
POPULATION_YEARLY = KR / "population_mois" / "201712_202112_주민등록인구및세대현황_연간.csv"
AVG_AGE = KR / "population_mois" / "201701_202112_주민등록인구기타현황(평균연령)_avgAge.csv"
KIKCD = KR / "admin_codes_mois" / "KIKcd_B.20230501(말소코드포함).xlsx"


@pytest.fixture
def kr() -> Path:
    if not KR.exists():
        unavailable(f"the Korean sample data is not at {KR}")
    return KR


class Lake:
    """A provider (editor of `org`) driving the lake through the API."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.owner = hub.make_user()
        self.org = hub.make_org("molit", admin=self.owner)
        self.auth = hub.bearer(self.owner)

    def create(self, name: str, **fields: Any) -> dict[str, Any]:
        answer = self.hub.client.post(f"/api/v1/orgs/{self.org.slug}/datasets", headers=self.auth,
                                      json={"slug": name, "title_ko": fields.pop("title_ko", name),
                                            **fields})
        assert answer.status_code == 201, answer.text
        return answer.json()

    def upload(self, name: str, *files: Path | tuple[str, bytes], **form: Any) -> dict[str, Any]:
        parts = []
        for item in files:
            if isinstance(item, Path):
                parts.append(("files", (item.name, item.read_bytes())))
            else:
                parts.append(("files", item))
        data = {k: v for k, v in form.items() if v is not None}
        answer = self.hub.client.post(f"/api/v1/datasets/{self.org.slug}/{name}/ingest",
                                      headers=self.auth, files=parts, data=data)
        assert answer.status_code == 202, answer.text
        return self.wait(answer.json()["id"])

    def wait(self, job_id: int, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            job = self.hub.client.get(f"/api/v1/jobs/{job_id}", headers=self.auth).json()
            if job["state"] in ("succeeded", "failed", "cancelled"):
                return job
            assert time.monotonic() < deadline, job
            time.sleep(0.05)

    def ingest_ok(self, name: str, *files: Path | tuple[str, bytes], **form: Any) -> dict[str, Any]:
        job = self.upload(name, *files, **form)
        assert job["state"] == "succeeded", job["error"]
        return job

    def dataset(self, name: str) -> dict[str, Any]:
        return self.hub.client.get(f"/api/v1/datasets/{self.org.slug}/{name}").json()

    def rows(self, name: str, **params: Any) -> Any:
        return self.hub.client.get(f"/api/v1/datasets/{self.org.slug}/{name}/rows",
                                   params=params, headers=self.auth)

    def types(self, name: str) -> dict[str, str]:
        return {c["name"]: c["type"] for c in self.dataset(name)["schema"]}


@pytest.fixture
def lake(hub: Hub, kr: Path) -> Lake:
    return Lake(hub)


def big_cp949(target: Path, rows: int) -> None:
    """A large cp949 CSV: the EV chargers' header, then their rows repeated to `rows`."""
    header, *body = [line for line in EV.read_bytes().split(b"\n") if line.strip()]
    with target.open("wb") as out:
        out.write(header + b"\n")
        written = 0
        while written < rows:
            chunk = body[: rows - written]
            out.write(b"\n".join(chunk) + b"\n")
            written += len(chunk)
