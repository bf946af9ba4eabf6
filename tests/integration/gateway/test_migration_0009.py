"""Revision 0009 takes back development subscriptions that opened restricted data at once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import create_engine, text

from dpghub.core.db import alembic_config
from tests.conftest import PG_ADMIN_URL, unavailable

ROWS = [
    ("organization", {"id": 1, "slug": "molit", "kind": "public"}),
    ("organization", {"id": 2, "slug": "nosy", "kind": "company"}),
    ("dataset", {"id": 1, "org_id": 1, "slug": "people", "access": "restricted"}),
    ("dataset", {"id": 2, "org_id": 1, "slug": "libraries", "access": "open"}),
    ("app", {"id": 1, "org_id": 2, "name": "수집기"}),
    # approved at once by the old rule: a restricted dataset and an open one
    ("subscription", {"id": 1, "app_id": 1, "dataset_id": 1, "provider_org_id": 1,
                      "plan": "development", "status": "approved"}),
    ("subscription", {"id": 2, "app_id": 1, "dataset_id": 2, "provider_org_id": 1,
                      "plan": "development", "status": "approved"}),
    # approved by the owner's admin (user 7)
    ("subscription", {"id": 3, "app_id": 1, "dataset_id": 1, "provider_org_id": 1,
                      "plan": "production", "status": "approved", "decided_by": 7}),
    ("gateway_state", {"id": 1, "generation": 4}),
]
FILLER = {sa.Integer: 0, sa.BigInteger: 0, sa.Float: 0.0, sa.Boolean: False,
          sa.DateTime: datetime(2026, 1, 1, tzinfo=UTC), sa.JSON: []}


def insert(conn: sa.Connection, table: str, values: dict[str, object]) -> None:
    """A row with the given values, and plain fillers in the other required columns of the
    schema as it was at 0008 (so the test does not repeat that schema)."""
    reflected = sa.Table(table, sa.MetaData(), autoload_with=conn)
    row = dict(values)
    for column in reflected.columns:
        if column.name in row or column.nullable or column.primary_key:
            continue
        row[column.name] = next((v for t, v in FILLER.items()
                                 if isinstance(column.type, t)), "")
    conn.execute(reflected.insert().values(**row))


def upgrade_from_0008(url: str) -> dict[int, tuple[str, str]]:
    config = alembic_config(url)
    command.upgrade(config, "0008")
    engine = create_engine(url)
    with engine.begin() as conn:
        for table, values in ROWS:
            insert(conn, table, values)
    command.upgrade(config, "0009")
    with engine.connect() as conn:
        subs = {row.id: (row.status, row.reason) for row in
                conn.execute(text("SELECT id, status, reason FROM subscription"))}
        assert conn.scalar(text("SELECT generation FROM gateway_state")) == 5
    engine.dispose()
    return subs


def check(subs: dict[int, tuple[str, str]]) -> None:
    assert subs[1][0] == "pending" and "owner's approval" in subs[1][1]   # restricted: back
    assert subs[2][0] == "approved"        # an open dataset: nothing to take back
    assert subs[3][0] == "approved"        # the owner approved it: the owner's decision stands


def test_on_sqlite(tmp_path: Path) -> None:
    check(upgrade_from_0008(f"sqlite:///{tmp_path / 'hub.db'}"))


@pytest.mark.postgres
def test_on_postgresql() -> None:
    admin = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    name = f"dpghub_mig_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError:
        unavailable(f"PostgreSQL is not reachable at {PG_ADMIN_URL}")
    try:
        check(upgrade_from_0008(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
