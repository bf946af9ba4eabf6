"""The two mock servers the mock benchmark compares, on loopback, each one process:
Stoplight Prism (installed by the bench into its own folder under /tmp, never into the
project) and the hub's `dpghub serve` with a sandbox project on the 국세청 document.

Prism ignores a Swagger 2.0 `basePath`: it serves `/status` and `/validate` at its root (and
answers 404 under `/api/nts-businessman/v1/…`), and it enforces the document's security, so
its calls carry an `Authorization` header (the document's `header_key`)."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from served import DPGHUB, free_port

ROOT = Path(__file__).resolve().parents[1]
NTS_SPEC = Path("openapi_specs") / "15081808_nts-businessman_v1_swagger2.json"
PRISM_PACKAGE = "@stoplight/prism-cli@5"
PRISM_DIR = Path("/tmp/dpghub-bench-prism")   # npm's --prefix: the bench's own, thrown away
LOOPBACK = "127.0.0.0/8"


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    base: str                   # what a path of the document is appended to
    headers: dict[str, str]     # the credential each call carries
    version: str


def nts_spec_path() -> Path:
    """The real data.go.kr document: ../shared/data/kr beside the repository, or
    DPGHUB_SHARED_DATA (the `kr` folder)."""
    kr = Path(os.environ.get("DPGHUB_SHARED_DATA") or ROOT.parent / "shared" / "data" / "kr")
    path = kr / NTS_SPEC
    if not path.exists():
        raise SystemExit(f"the 국세청 document is not at {path}: set DPGHUB_SHARED_DATA")
    return path


def install_prism(folder: Path = PRISM_DIR) -> tuple[Path, str]:
    """Prism's command and version, installed with npm into `folder` if it is not there."""
    command = folder / "node_modules" / ".bin" / "prism"
    if not command.exists():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(folder),
                        PRISM_PACKAGE], check=True, capture_output=True)
    manifest = folder / "node_modules" / "@stoplight" / "prism-cli" / "package.json"
    return command, json.loads(manifest.read_text())["version"]


def start_prism(spec: Path, folder: Path = PRISM_DIR, *, dynamic: bool = False,
                silent: bool = False) -> Server:
    """`prism mock` as it runs out of the box (static examples, request validation, one
    process, each call logged at `info` — its counterpart of the hub's inspector), with
    `--dynamic` (an answer generated from the schema for each call, as the hub makes one for
    each distinct request), or with its log silenced (`-v silent`)."""
    command, version = install_prism(folder)
    port = free_port()
    options = [*(["--dynamic"] if dynamic else []), *(["-v", "silent"] if silent else [])]
    process = subprocess.Popen([str(command), "mock", str(spec), "-p", str(port),
                                "-h", "127.0.0.1", *options],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    name = "Prism" + (" -d" if dynamic else "") + (" silent" if silent else "")
    return Server(name, process, f"http://127.0.0.1:{port}",
                  {"Authorization": "bench-prism-key"}, version)


def provision_hub(home: Path, spec: Path) -> str:
    """국세청 registers the document; a company's sandbox project on it, with limits that never
    trigger (set in the database: the API caps them far lower), and its key."""
    from sqlalchemy import update

    from dpghub.catalog import schemas as catalog_schemas
    from dpghub.catalog import service as catalog
    from dpghub.config import Settings
    from dpghub.core.db import make_engine, make_session_factory, transaction
    from dpghub.core.netcheck import NetworkPolicy
    from dpghub.identity import schemas, service
    from dpghub.identity.policy import CLI
    from dpghub.testbed import schemas as testbed_schemas
    from dpghub.testbed.models import Project
    from dpghub.testbed.service import projects

    environment = {**os.environ, "DPGHUB_HOME": str(home)}
    environment.pop("DPGHUB_DATABASE_URL", None)
    subprocess.run([DPGHUB, "init", "--admin-password", "bench-password-1"], check=True,
                   capture_output=True, env=environment)
    engine = make_engine(Settings(home=home).prepare().database_url or "")
    with transaction(make_session_factory(engine)) as session:
        nts = service.create_org(session, actor=CLI, data=schemas.OrganizationCreate(
            slug="nts", name_ko="국세청", name_en="National Tax Service", kind="public"))
        # the sandbox never calls the upstream; a loopback one spares a DNS look-up
        catalog.register(session, actor=CLI, org=nts, networks=NetworkPolicy(LOOPBACK),
                         data=catalog_schemas.ServiceCreate(
            slug="nts-businessman", title_ko="국세청 사업자등록정보 진위확인 및 상태조회",
            upstream_url="http://127.0.0.1:9/api/nts-businessman/v1",
            openapi=json.loads(spec.read_text(encoding="utf-8"))))
        company = service.create_org(session, actor=CLI, data=schemas.OrganizationCreate(
            slug="startup", name_ko="스타트업", name_en="Startup", kind="company"))
        project = projects.create(session, actor=CLI, org=company,
                                  data=testbed_schemas.ProjectCreate(
            name="벤치마크", purpose="mock benchmark", services=["nts/nts-businessman"]))
        session.execute(update(Project).where(Project.id == project.id)
                        .values(rate_per_second=1e6, daily_quota=1_000_000_000))
        _, key = projects.create_key(session, actor=CLI, project=project)
    engine.dispose()
    return key


def start_hub(workdir: Path, spec: Path) -> Server:
    """One `dpghub serve` process (as bench/gateway.py) on a fresh home; the request
    inspector records every sandbox call, in batches, as it does in production."""
    from dpghub import __version__

    home = workdir / "home"
    key = provision_hub(home, spec)
    environment = {**os.environ, "DPGHUB_HOME": str(home)}
    environment.pop("DPGHUB_DATABASE_URL", None)
    port = free_port()
    process = subprocess.Popen([DPGHUB, "serve", "--port", str(port)], env=environment,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return Server("hub", process, f"http://127.0.0.1:{port}/sandbox/nts/nts-businessman",
                  {"X-API-Key": key}, __version__)
