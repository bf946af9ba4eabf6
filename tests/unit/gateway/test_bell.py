"""The gateway's doorbell: a ring in one mapping is seen by every other mapping of the file."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine

from dpghub.gateway.bell import Bell, bell_for, bell_path


def test_a_ring_is_seen_through_another_mapping_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "hub.db-gateway"
    hub, cli = Bell(path), Bell(path)     # as two processes would each map it
    before = hub.read()
    cli.ring()
    after = hub.read()
    assert after != before and after == cli.read()
    hub.ring()
    assert cli.read() not in (before, after)
    hub.close()
    cli.close()


def test_only_sqlite_files_have_a_bell(tmp_path: Path) -> None:
    database = tmp_path / "hub.db"
    assert bell_path(create_engine(f"sqlite:///{database}")) == Path(f"{database}-gateway")
    assert bell_path(create_engine("sqlite://")) is None
    assert bell_path(create_engine("postgresql+psycopg://hub@127.0.0.1/test")) is None


def test_no_bell_where_the_file_cannot_be_made(tmp_path: Path) -> None:
    # the gateway then reads its state row on every call, as with PostgreSQL
    engine = create_engine(f"sqlite:///{tmp_path / 'no-such-folder' / 'hub.db'}")
    assert bell_for(engine) is None
