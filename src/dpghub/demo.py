"""Sample content for a first look: real Korean public bodies and a demo company.

Loaded by `dpghub init --demo` (the README's first command). Idempotent: what exists is kept.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .identity import schemas, service
from .identity.models import Organization
from .identity.policy import Actor

ORGANIZATIONS = [
    ("mois", "행정안전부", "Ministry of the Interior and Safety", "public", True,
     "주민등록 인구통계, 행정표준코드를 제공합니다."),
    ("molit", "국토교통부", "Ministry of Land, Infrastructure and Transport", "public", True,
     "법정동코드 등 국토·교통 데이터를 제공합니다."),
    ("seoul", "서울특별시", "Seoul Metropolitan Government", "public", False,
     "서울시 공공데이터를 제공합니다."),
    ("kasi", "한국천문연구원", "Korea Astronomy and Space Science Institute", "research", True,
     "특일 정보(공휴일) Open API를 제공합니다."),
    ("hanbit-data", "한빛데이터", "Hanbit Data Co.", "company", False,
     "공공데이터를 융합해 생활 서비스를 만드는 스타트업(데모)."),
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
