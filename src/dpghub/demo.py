"""Sample content for a first look: real Korean public bodies and their real public data.

`dpghub init --demo` (the README's first command) loads it. Organizations first; then data:
the real files in `../shared/data/kr` when that folder is present (a clone of the project next
to its shared data), otherwise the legal- and administrative-district code tables that the
MIT-licensed PyPI package PublicDataReader ships (installed without its dependencies by
`make run`; only its data files are read). Idempotent: what exists is kept.
"""

from __future__ import annotations

import csv
import json
import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from .config import Settings
from .core import jobs, reference_data
from .core.netcheck import NetworkPolicy
from .identity import schemas, service
from .identity.models import Organization
from .identity.policy import Actor
from .job_kinds import register_jobs

ORGANIZATIONS = [
    ("mois", "행정안전부", "Ministry of the Interior and Safety", "public", True,
     "주민등록 인구통계, 행정표준코드를 제공합니다."),
    ("molit", "국토교통부", "Ministry of Land, Infrastructure and Transport", "public", True,
     "법정동코드 등 국토·교통 데이터를 제공합니다."),
    ("mcst", "문화체육관광부", "Ministry of Culture, Sports and Tourism", "public", True,
     "전국도서관표준데이터 등 문화 데이터를 제공합니다."),
    ("me", "환경부", "Ministry of Environment", "public", True,
     "전기차 충전소 등 환경 데이터를 제공합니다."),
    ("seoul", "서울특별시", "Seoul Metropolitan Government", "public", False,
     "서울시 공공데이터를 제공합니다."),
    ("kasi", "한국천문연구원", "Korea Astronomy and Space Science Institute", "research", True,
     "특일 정보(공휴일) Open API를 제공합니다."),
    ("nts", "국세청", "National Tax Service", "public", True,
     "사업자등록정보 진위확인 및 상태조회 Open API를 제공합니다."),
    ("hanbit-data", "한빛데이터", "Hanbit Data Co.", "company", False,
     "공공데이터를 융합해 생활 서비스를 만드는 스타트업(데모)."),
]


@dataclass(frozen=True)
class DemoDataset:
    org: str
    slug: str
    title_ko: str
    title_en: str
    path: str
    keywords: tuple[str, ...]
    theme: str = "administration"
    frequency: str = "irregular"
    sheet: str | None = None


SHARED = [
    DemoDataset("molit", "bjd-codes", "법정동코드 전체자료", "Legal district codes",
                "bjd_code_molit/국토교통부_법정동코드_20240805.csv", ("법정동", "행정구역", "코드"),
                "land", "irregular"),
    DemoDataset("mois", "population", "주민등록 인구 및 세대현황 (2025년 9월)",
                "Resident population and households (September 2025)",
                "population_mois/202509_202509_주민등록인구및세대현황_월간.csv",
                ("인구", "세대", "시군구"), "administration", "monthly"),
    DemoDataset("mcst", "libraries", "전국도서관표준데이터", "Public libraries (standard data)",
                "library_std/전국도서관표준데이터.csv", ("도서관", "문화", "표준데이터"), "culture",
                "annual"),
    DemoDataset("me", "ev-chargers", "전국전기차충전소표준데이터",
                "EV charging stations (standard data)",
                "ev_charger_std/전국전기차충전소표준데이터.csv", ("전기차", "충전소", "표준데이터"),
                "transport", "quarterly"),
    DemoDataset("mois", "admin-codes", "행정표준코드 법정동 (2023-05-01, 말소코드 포함)",
                "Standard legal district code table (2023-05-01)",
                "admin_codes_mois/KIKcd_B.20230501(말소코드포함).xlsx", ("법정동", "행정표준코드")),
]
PACKAGED = [
    DemoDataset("mois", "bjd-codes", "법정동코드 (행정표준코드, 말소코드 포함)",
                "Legal district codes (standard code table)", "code_bdong.json",
                ("법정동", "행정구역", "코드")),
    DemoDataset("mois", "hdong-codes", "행정동코드 (행정표준코드)",
                "Administrative district codes", "code_hdong.json", ("행정동", "행정구역", "코드")),
]


def load(session: Session, *, actor: Actor) -> list[str]:
    """Create the sample organizations that do not exist yet; return the slugs created."""
    created = []
    for slug, name_ko, name_en, kind, verified, description in ORGANIZATIONS:
        if session.scalar(select(Organization.id).where(Organization.slug == slug)):
            continue
        org = service.create_org(session, actor=actor, data=schemas.OrganizationCreate(
            slug=slug, name_ko=name_ko, name_en=name_en, kind=kind, description=description))
        if verified:
            service.verify_org(session, actor=actor, org=org)
        created.append(slug)
    return created


default_data_dir = reference_data.shared_data_dir
packaged_data_dir = reference_data.packaged_data_dir


def load_data(settings: Settings, factory: sessionmaker[Session], *, actor: Actor,
              source: Path | None, say: Callable[[str], None]) -> list[str]:
    """Ingest the demo datasets that have no data yet; return 'org/slug' of those loaded."""
    from .lake import schemas as lake_schemas
    from .lake import service as lake
    from .lake.storage import LakeStorage

    items = SHARED if source is not None else PACKAGED
    base = source or packaged_data_dir()
    if base is None:
        say("No sample data found (neither ../shared/data/kr nor PublicDataReader's tables).")
        return []
    storage = LakeStorage.from_settings(settings)
    register_jobs()
    runner = jobs.JobRunner(factory, extras={"settings": settings, "storage": storage})
    loaded = []
    with tempfile.TemporaryDirectory() as scratch:
        for item in items:
            path = base / item.path
            if not path.is_file():
                continue
            if item.path.endswith(".json"):
                path = _columns_json_to_csv(path, Path(scratch))
            with factory() as session:
                org = service.get_org_by_slug(session, item.org)
                try:
                    dataset = lake.get_dataset(session, item.org, item.slug)
                except Exception:
                    dataset = lake.create_dataset(session, actor=actor, org=org,
                                                  data=lake_schemas.DatasetCreate(
                                                      slug=item.slug, title_ko=item.title_ko,
                                                      title_en=item.title_en,
                                                      keywords=list(item.keywords),
                                                      license="KOGL-1", theme=item.theme,
                                                      update_frequency=item.frequency,
                                                      spatial="전국"))
                if dataset.current_version:
                    continue
                with path.open("rb") as handle:
                    received = lake.store_upload(session, actor=actor, storage=storage,
                                                 dataset=dataset, name=path.name, stream=handle,
                                                 max_bytes=settings.upload_max_mb << 20)
                job_id = lake.request_ingest(session, actor=actor, dataset=dataset,
                                             files=[received],
                                             options=lake_schemas.IngestOptions(
                                                 sheet=item.sheet)).id
                session.commit()
            runner.run_one()
            # a running hub's own job runner may have claimed the job first: wait for it
            job = jobs.wait(factory, job_id, timeout=600)
            if job.state == jobs.JobState.succeeded and job.result:
                say(f"  {item.org}/{item.slug}: {job.result['row_count']:,} rows "
                    f"({item.title_ko})")
                loaded.append(f"{item.org}/{item.slug}")
            else:
                say(f"  {item.org}/{item.slug}: not loaded ({job.message})")
    return loaded


SERVICE_SPEC = "openapi_specs/15081808_nts-businessman_v1_swagger2.json"
SERVICE_UPSTREAM = "https://api.odcloud.kr/api/nts-businessman/v1"


def load_services(session: Session, *, actor: Actor, source: Path | None,
                  networks: NetworkPolicy, say: Callable[[str], None]) -> list[str]:
    """Register the sample API (a real data.go.kr Swagger document) when it is there. Its
    upstream is the real, public odcloud.kr, checked against the operator's networks like any
    other: on a machine that cannot resolve it (offline) it is left out, and `say` tells why."""
    from .catalog import schemas as catalog_schemas
    from .catalog import service as catalog
    from .core.errors import HubError

    if source is None or not (source / SERVICE_SPEC).is_file():
        return []
    try:
        catalog.get_service(session, "nts", "nts-businessman")
        return []
    except Exception:  # noqa: BLE001 — not registered yet
        pass
    org = service.get_org_by_slug(session, "nts")
    document = json.loads((source / SERVICE_SPEC).read_text(encoding="utf-8"))
    try:
        catalog.register(session, actor=actor, org=org, networks=networks,
                         data=catalog_schemas.ServiceCreate(
            slug="nts-businessman", title_ko="국세청 사업자등록정보 진위확인 및 상태조회 서비스",
            title_en="NTS business registration status check",
            description="사업자등록번호로 휴업·폐업 상태를 조회하고 사업자등록정보의 진위를 "
                        "확인합니다.",
            upstream_url=SERVICE_UPSTREAM, openapi=document, theme="finance",
            keywords=["사업자", "국세청", "휴폐업"]))
    except HubError as error:
        say(f"  nts/nts-businessman: not registered ({error})")
        return []
    return ["nts/nts-businessman"]


def _columns_json_to_csv(path: Path, scratch: Path) -> Path:
    """PublicDataReader keeps its tables as column → {row: value} JSON; write them as CSV."""
    data = json.loads(path.read_text(encoding="utf-8"))
    columns = list(data)
    rows = sorted(data[columns[0]], key=int)
    target = scratch / (path.stem + ".csv")
    with target.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if _missing(data[c].get(row)) else data[c][row] for c in columns])
    return target


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))
