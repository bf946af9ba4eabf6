"""Revision 0016 moves the portal notices of testbed, programmes and agile into identity's one
`notice` table, each row with its domain, and downgrading moves them back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import create_engine

from dpghub.core.db import alembic_config
from tests.conftest import PG_ADMIN_URL, unavailable

T = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
USERS = [{"id": 1, "email": "a@example.com", "display_name": "가", "password_hash": "x",
          "language": "ko", "is_operator": False, "is_active": True, "failed_logins": 0},
         {"id": 2, "email": "b@example.com", "display_name": "나", "password_hash": "x",
          "language": "en", "is_operator": False, "is_active": True, "failed_logins": 0}]
# (table, user, text, params, link, read, minutes after T)
OLD = [
    ("testbed_notice", 1, "You are invited to the sandbox project {name}", {"name": "실험"},
     "/testbed/projects/3", False, 30),
    ("programmes_notice", 1, "Your application {title} to {call} was selected: {reason}",
     {"title": "지원", "call": "공모", "reason": "평가 1위"}, "/programmes/applications/4",
     True, 10),
    ("programmes_notice", 2, "Your application {title} to {call} was not selected: {reason}",
     {"title": "단독", "call": "공모", "reason": "점수 미달"}, "", False, 20),
    ("agile_notice", 2, "Your feedback #{number} on {service} is now {status}",
     {"number": 7, "service": "민원", "status": "planned"}, "/services/mois/minwon#feedback-7",
     False, 0),
]


def _fill(conn: sa.Connection, table: str, values: dict[str, object]) -> None:
    """A row with the given values, and plain fillers in the other required columns."""
    reflected = sa.Table(table, sa.MetaData(), autoload_with=conn)
    row = dict(values)
    for column in reflected.columns:
        if column.name not in row and not column.nullable and not column.primary_key:
            row[column.name] = T if isinstance(column.type, sa.DateTime) else ""
    conn.execute(reflected.insert().values(**row))


def _rows(conn: sa.Connection, table: str, *extra: str) -> list[tuple[object, ...]]:
    reflected = sa.Table(table, sa.MetaData(), autoload_with=conn)
    return [tuple(row) for row in conn.execute(sa.select(
        *(reflected.c[c] for c in (*extra, "user_id", "text", "params", "link", "read_at",
                                   "created_at"))).order_by(reflected.c.id))]


def _as_stored(read: bool, minutes: int) -> tuple[datetime | None, datetime]:
    at = T.replace(minute=minutes)
    return (at if read else None), at


def _expected(domain: bool) -> list[tuple[object, ...]]:
    rows = []
    for table, user, text, params, link, read, minutes in sorted(OLD, key=lambda r: r[-1]):
        head = (table.removesuffix("_notice"),) if domain else ()
        rows.append((*head, user, text, params, link, *_as_stored(read, minutes)))
    return rows


def _naive(rows: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    """Times as UTC without their zone (SQLite gives them back naive)."""
    return [tuple(v.astimezone(UTC).replace(tzinfo=None) if isinstance(v, datetime) else v
                  for v in row) for row in rows]


def migrate_there_and_back(url: str) -> None:
    config = alembic_config(url)
    command.upgrade(config, "0015")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            for user in USERS:
                _fill(conn, "hub_user", user)
            for table, user, text, params, link, read, minutes in OLD:
                read_at, created_at = _as_stored(read, minutes)
                _fill(conn, table, {"user_id": user, "text": text, "params": params,
                                    "link": link, "read_at": read_at,
                                    "created_at": created_at})

        command.upgrade(config, "0016")
        with engine.connect() as conn:
            names = set(sa.inspect(conn).get_table_names())
            assert not names & {"testbed_notice", "programmes_notice", "agile_notice"}
            # every row, with its domain, oldest first
            assert _naive(_rows(conn, "notice", "domain")) == _naive(_expected(domain=True))

        command.downgrade(config, "0015")
        with engine.connect() as conn:
            assert "notice" not in sa.inspect(conn).get_table_names()
            for table in ("testbed_notice", "programmes_notice", "agile_notice"):
                kept = [row[1:] for row in _expected(domain=True)
                        if row[0] == table.removesuffix("_notice")]
                assert _naive(_rows(conn, table)) == _naive(kept)
        command.upgrade(config, "head")
    finally:
        engine.dispose()


def test_on_sqlite(tmp_path: Path) -> None:
    migrate_there_and_back(f"sqlite:///{tmp_path / 'hub.db'}")


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
        migrate_there_and_back(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
