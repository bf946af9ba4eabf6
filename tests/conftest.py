"""Shared fixtures: one hub per test on SQLite and on the machine's PostgreSQL.

`hub` builds a whole hub (settings, app, test client) on a migrated database that is emptied
after each test. Tests that need a service the machine lacks skip with the reason; under
CI=true every skip fails instead, however it was made (`pytest.skip`, `importorskip`, a skip
mark, a module-level skip): CI has every service, so a skip there hides a test that never ran.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from dpghub.analysis.workers import QueryPool
from dpghub.app import create_app
from dpghub.config import Settings
from dpghub.core import security
from dpghub.core.audit import SIGNING_KEY_INFO
from dpghub.core.db import make_engine, make_session_factory, migrate, transaction
from dpghub.core.netcheck import Resolver, system_resolver
from dpghub.core.security import load_signing_key
from dpghub.identity import schemas, service
from dpghub.identity.models import Organization, Role, User
from dpghub.identity.policy import CLI, Actor
from dpghub.models import metadata
from tests.ci_skips import in_ci, pytest_make_collect_report, pytest_runtest_makereport  # noqa: F401

PG_ADMIN_URL = os.environ.get("DPGHUB_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("DPGHUB_TEST_REDIS", "redis://127.0.0.1:6379/15")
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
PASSWORD = "correct-horse-battery"


def unavailable(reason: str) -> None:
    """Skip with a reason, or fail under CI=true where every service must be present."""
    if in_ci():
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


# --- passwords ----------------------------------------------------------------------------

# The hub's own argon2 hasher (its production cost: 64 MiB, 3 passes, 4 lanes; about 0.2 s a
# hash or a check on this 2-core machine). tests/unit/core/test_security.py checks passwords
# with it; everywhere else the tests' hubs hash and check with argon2id at its cheapest cost,
# the same algorithm, salt and hash lengths: a suite that makes a few thousand users and
# sign-ins spent minutes in the hash alone. Hashes verify across costs (the cost is in the
# hash), so the tests' hubs and the `dpghub` processes they start read each other's hashes.
PRODUCTION_HASHER = security._hasher
TEST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashing() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(security, "_hasher", TEST_HASHER)
        patch.setattr(security, "_DUMMY_HASH", TEST_HASHER.hash("not-a-real-password"))
        yield


# --- databases ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("db") / "hub.db"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str | None]:
    """A fresh, migrated database on the machine's PostgreSQL; None when unreachable."""
    import psycopg

    admin = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    name = f"dpghub_test_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError:
        yield None
        return
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    yield url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    if request.param == "sqlite":
        return sqlite_url
    url = request.getfixturevalue("postgres_url")
    if url is None:
        unavailable(f"PostgreSQL is not reachable at {PG_ADMIN_URL}")
    return url


# The sequences of the tables' id columns that have handed out a value since they last
# (re)started, with the table that owns each
USED_SEQUENCES = text("""
    SELECT format('%I.%I', q.schemaname, q.sequencename), t.relname
    FROM pg_sequences q
    JOIN pg_namespace n ON n.nspname = q.schemaname
    JOIN pg_class s ON s.relnamespace = n.oid AND s.relname = q.sequencename
    JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid
                    AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
    JOIN pg_class t ON t.oid = d.refobjid
    WHERE q.last_value IS NOT NULL""")


def empty_database(engine: Engine) -> None:
    """Every table emptied (children first) and, on PostgreSQL, the id sequences of the
    tables restarted: the state `TRUNCATE … RESTART IDENTITY CASCADE` of every table leaves,
    which took over a second after each test here (a TRUNCATE makes new files for each of
    the 76 tables); deleting the few rows a test made takes milliseconds."""
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    with engine.begin() as conn:
        for table in tables:
            conn.execute(text(f"DELETE FROM {table}"))
        if engine.dialect.name == "postgresql":
            for sequence, table in conn.execute(USED_SEQUENCES).all():
                if table in tables:
                    conn.execute(text(f"ALTER SEQUENCE {sequence} RESTART"))


# --- the hub ------------------------------------------------------------------------------


@dataclass
class Hub:
    """A hub under test, with factories that make rows through the real services."""

    settings: Settings
    engine: Engine
    factory: sessionmaker[Session]
    app: Any
    client: TestClient
    counter: list[int] = field(default_factory=lambda: [0])

    def session(self):  # type: ignore[no-untyped-def]
        return transaction(self.factory)

    def _next(self) -> int:
        self.counter[0] += 1
        return self.counter[0]

    def make_user(self, email: str | None = None, *, password: str = PASSWORD,
                  operator: bool = False, name: str = "테스트 사용자", language: str = "ko") -> User:
        email = email or f"user{self._next()}@example.com"
        with self.session() as s:
            return service.create_user(s, actor=CLI, data=schemas.SignUp(
                email=email, display_name=name, password=password, language=language),
                is_operator=operator)

    def make_org(self, slug: str | None = None, *, admin: User | None = None,
                 kind: str = "public", members: dict[User, Role] | None = None) -> Organization:
        slug = slug or f"org{self._next()}"
        with self.session() as s:
            actor = self.actor(admin) if admin else CLI
            org = service.create_org(s, actor=actor, data=schemas.OrganizationCreate(
                slug=slug, name_ko=f"기관 {slug}", name_en=f"Org {slug}", kind=kind))
            for user, role in (members or {}).items():
                service.add_member(s, actor=CLI, org=org,
                                   data=schemas.MembershipCreate(email=user.email, role=role))
            return org

    def actor(self, user: User) -> Actor:
        with self.factory() as s:
            fresh = s.get(User, user.id)
            assert fresh is not None
            s.refresh(fresh, ["memberships"])
            return Actor.for_user(fresh, via="session")

    def make_token(self, user: User, scopes: tuple[str, ...] = ("read", "write"),
                   days: int | None = 30) -> str:
        with self.session() as s:
            fresh = s.get(User, user.id)
            _, secret = service.create_token(s, actor=CLI, user=fresh, data=schemas.TokenCreate(
                name=f"t{self._next()}", scopes=list(scopes), expires_in_days=days))
            return secret

    def bearer(self, user: User, scopes: tuple[str, ...] = ("read", "write")) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.make_token(user, scopes)}"}

    def browser(self) -> TestClient:
        """A second, independent client (its own cookies)."""
        return TestClient(self.app, headers={"accept": "text/html"})


# The networks every test hub's gateway may reach, set explicitly (the hub's default is
# `public` alone): the tests' upstreams run on loopback, and the public APIs the catalogue
# tests register (and never call) resolve, by the tests' own resolver, to TEST-NET-1
# (192.0.2.0/24, RFC 5737: documentation only, routed nowhere), so no test needs DNS
TEST_NETWORKS = "127.0.0.0/8,::1/128,192.0.2.0/24"
TEST_HOSTS = {"api.odcloud.kr": "192.0.2.10", "x.test": "192.0.2.20"}


def resolve_for_tests(host: str, port: int) -> list[str]:
    if host in TEST_HOSTS:
        return [TEST_HOSTS[host]]
    return system_resolver(host, port)


def no_query_worker_at_start(pool: QueryPool) -> None:
    """The hub's query pool starts no worker with the app; its first query starts one, as
    the pool does whenever it has none (the pool's own path after a worker died).

    A hub starts a worker process with the app so that its first query need not wait; the
    process imports the hub and DuckDB first, about 0.3 s of a core, and most test hubs make
    no query. `dpghub serve` (the browser and acceptance tests, tests/support/server.py)
    still starts one with the app, and so does a hub built with `worker_at_start=True`
    (tests/integration/analysis/test_query_workers.py checks it)."""
    start = pool.start

    def start_without_a_worker() -> QueryPool:
        with pool.changed:
            pool.starting += 1      # start() spawns a worker only when none is starting
            try:
                return start()
            finally:
                pool.starting -= 1

    pool.start = start_without_a_worker  # type: ignore[method-assign]


def build_hub(tmp_path: Path, db_url: str, *, resolver: Resolver = resolve_for_tests,
              worker_at_start: bool = False, **overrides: Any) -> Iterator[Hub]:
    settings = Settings(home=tmp_path / "home", database_url=db_url,
                        **{"gateway_allowed_networks": TEST_NETWORKS, **overrides})
    app = create_app(settings, resolver=resolver)
    if not worker_at_start:
        no_query_worker_at_start(app.state.queries)
    engine = make_engine(db_url)
    factory = make_session_factory(engine)
    factory.configure(info={SIGNING_KEY_INFO: load_signing_key(settings.home)})
    with TestClient(app) as client:
        yield Hub(settings, engine, factory, app, client)
    empty_database(engine)
    engine.dispose()


@pytest.fixture
def hub(tmp_path: Path, db_url: str) -> Iterator[Hub]:
    yield from build_hub(tmp_path, db_url)


@pytest.fixture
def sqlite_hub(tmp_path: Path, sqlite_url: str) -> Iterator[Hub]:
    """For tests about the web surface itself, where the backend does not matter."""
    yield from build_hub(tmp_path, sqlite_url)
