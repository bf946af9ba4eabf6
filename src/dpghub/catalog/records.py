"""What the search index is made of: each dataset and service of the registry as a record
with its text, read through the lake's and identity's services, and its stored embedding."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload

from ..identity import service as identity
from ..lake import service as lake
from . import embedding, openapi, text
from .models import Service, TextVector

# how much each part of a record counts in keyword ranking
WEIGHTS = {"title": 3.0, "keywords": 2.0, "org": 1.0, "description": 1.0, "columns": 1.0}


@dataclass
class Record:
    kind: str                      # dataset | service | a higher domain's kind (faq)
    ref_id: int
    org: str
    org_name_ko: str
    org_name_en: str
    slug: str
    title_ko: str
    title_en: str
    description: str
    keywords: list[str]
    theme: str
    access: str
    formats: list[str]
    columns: list[str]             # column names, or operation summaries of a service
    created_at: datetime
    modified_at: datetime
    stamp: str = ""
    url: str = ""                  # where a hit leads, when not /datasets/… or /services/…
    counts: Counter[str] = field(default_factory=Counter)
    length: float = 0.0

    @property
    def key(self) -> tuple[str, int]:
        return (self.kind, self.ref_id)

    def analyse(self) -> None:
        self.counts, self.length = text.term_counts([
            (f"{self.title_ko} {self.title_en}", WEIGHTS["title"]),
            (" ".join(self.keywords), WEIGHTS["keywords"]),
            (f"{self.org_name_ko} {self.org_name_en}", WEIGHTS["org"]),
            (self.description, WEIGHTS["description"]),
            (" ".join(self.columns), WEIGHTS["columns"]),
        ])

    def embedding_text(self) -> str:
        """Title and keywords only: measured on real titles, adding the description or the
        column names dilutes the vector (the right record's similarity falls by about 0.1)."""
        parts = [self.title_ko, self.title_en, " ".join(self.keywords)]
        return " · ".join(p for p in parts if p)



@dataclass(frozen=True)
class Source:
    """Records a higher domain adds to the search (the testbed's published FAQ, say): its
    records, and scalar subqueries that change when they do. Registered at start-up in
    `app.register_hooks`, so the catalogue never imports the domains above it."""

    kind: str
    records: Callable[[Session], list[Record]]
    fingerprint: Callable[[], tuple[Any, ...]]


SOURCES: dict[str, Source] = {}


def add_source(source: Source) -> None:
    SOURCES[source.kind] = source           # registering again replaces it


def fingerprint() -> tuple[Any, ...]:
    """Scalar subqueries that change when the registry changes: its datasets (the lake's),
    services and organizations (identity's), and what registered sources add."""
    return (*lake.fingerprint(),
            select(func.count(Service.id)).scalar_subquery(),
            select(func.max(Service.updated_at)).scalar_subquery(),
            *identity.fingerprint(),
            *(part for source in SOURCES.values() for part in source.fingerprint()))


def extra_records(session: Session) -> list[Record]:
    return [record for source in SOURCES.values() for record in source.records(session)]


def dataset_records(session: Session) -> list[Record]:
    rows = [(d, d.organization, formats) for d, formats in lake.catalogue_entries(session)]
    return [Record(
        kind="dataset", ref_id=d.id, org=o.slug, org_name_ko=o.name_ko, org_name_en=o.name_en,
        slug=d.slug, title_ko=d.title_ko, title_en=d.title_en,
        description=" ".join(p for p in (d.description_ko, d.description_en) if p),
        keywords=list(d.keywords or []), theme=d.theme or "", access=d.access,
        formats=formats, columns=[c["name"] for c in d.columns or []],
        created_at=d.created_at, modified_at=d.updated_at,
        stamp=f"{d.updated_at.isoformat()}|{o.name_ko}|{o.name_en}") for d, o, formats in rows]


def service_records(session: Session) -> list[Record]:
    rows = [(s, s.organization) for s in
            session.scalars(select(Service).options(selectinload(Service.organization)))]
    return [Record(
        kind="service", ref_id=s.id, org=o.slug, org_name_ko=o.name_ko, org_name_en=o.name_en,
        slug=s.slug, title_ko=s.title_ko, title_en=s.title_en, description=s.description,
        keywords=list(s.keywords or []), theme=s.theme or "", access=s.access,
        formats=["OpenAPI"],
        columns=[op["summary"] or f"{op['method']} {op['path']}"
                 for op in openapi.operations(s.openapi)],
        created_at=s.created_at, modified_at=s.updated_at,
        stamp=f"{s.updated_at.isoformat()}|{o.name_ko}|{o.name_en}") for s, o in rows]


def vectors(session: Session, records: list[Record]) -> np.ndarray:
    """One unit vector per record: stored ones are reused, missing ones computed and stored."""
    digests = [hashlib.sha256(f"{embedding.MODEL_NAME}\n{r.embedding_text()}".encode())
               .hexdigest() for r in records]
    known: dict[str, bytes] = {}
    unique = list(dict.fromkeys(digests))
    for start in range(0, len(unique), 500):
        chunk = unique[start:start + 500]
        known.update((d, v) for d, v in session.execute(
            select(TextVector.digest, TextVector.vector).where(TextVector.digest.in_(chunk))))
    missing = [i for i, d in enumerate(digests) if d not in known]
    if missing:
        computed = embedding.encode([records[i].embedding_text() for i in missing])
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        rows = {}
        for i, vector in zip(missing, computed, strict=True):
            known[digests[i]] = rows[digests[i]] = vector.astype(np.float16).tobytes()
        for start in range(0, len(rows), 500):
            batch = [{"digest": d, "vector": v} for d, v in list(rows.items())[start:start + 500]]
            session.execute(insert(TextVector).values(batch).on_conflict_do_nothing())
    matrix = np.zeros((len(records), embedding.DIMENSIONS), dtype=np.float32)
    for i, digest in enumerate(digests):
        matrix[i] = np.frombuffer(known[digest], dtype=np.float16)
    return matrix
