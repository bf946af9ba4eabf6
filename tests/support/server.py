"""A real `dpghub serve` process on loopback, and a gateway provisioned in its database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from tests.support.loopback import LOOPBACK, free_port

DPGHUB = str(Path(sys.executable).parent / "dpghub")


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def start(home: Path, *args: str, wait: float = 30, **env: str) -> Iterator[str]:
    environment = {**os.environ, "DPGHUB_HOME": str(home),
                   "DPGHUB_GATEWAY_ALLOWED_NETWORKS": LOOPBACK, **env}
    subprocess.run([DPGHUB, "init", "--admin-password", "operator-pass-1"], env=environment,
                   check=True, capture_output=True)
    port = free_port()
    process = subprocess.Popen([DPGHUB, "serve", "--port", str(port), *args], env=environment,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                get(base + "/api/v1/health")
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    output = process.stdout.read().decode() if process.stdout else ""
                    raise RuntimeError(f"the hub did not start: {output}") from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def provision_gateway(home: Path, upstream_url: str) -> str:
    """A provider's service and a developer's approved app in the hub at `home`: the key."""
    from dpghub.catalog import schemas as catalog_schemas
    from dpghub.catalog import service as catalog
    from dpghub.config import Settings
    from dpghub.core.db import make_engine, make_session_factory, transaction
    from dpghub.core.netcheck import NetworkPolicy
    from dpghub.gateway import schemas as gateway_schemas
    from dpghub.gateway import service as gateway
    from dpghub.identity import schemas, service
    from dpghub.identity.policy import CLI

    engine = make_engine(Settings(home=home).prepare().database_url or "")
    with transaction(make_session_factory(engine)) as session:
        kasi = service.create_org(session, actor=CLI, data=schemas.OrganizationCreate(
            slug="kasi", name_ko="한국천문연구원", name_en="KASI", kind="research"))
        catalog.register(session, actor=CLI, org=kasi, networks=NetworkPolicy(LOOPBACK),
                         data=catalog_schemas.ServiceCreate(
            slug="spcde", title_ko="특일 정보", upstream_url=upstream_url, openapi={
                "openapi": "3.0.3", "info": {"title": "특일 정보", "version": "1"},
                "paths": {"/getRestDeInfo": {"get": {"responses": {"200": {
                    "description": "ok"}}}}}}))
        hanbit = service.create_org(session, actor=CLI, data=schemas.OrganizationCreate(
            slug="hanbit", name_ko="한빛", name_en="Hanbit", kind="company"))
        app, key = gateway.create_app(session, actor=CLI, org=hanbit,
                                      data=gateway_schemas.AppCreate(name="알리미"))
        gateway.request_subscription(session, actor=CLI, app=app, data=gateway_schemas.
                                     SubscriptionCreate(service="kasi/spcde",
                                                        plan="development", purpose="test"))
    engine.dispose()
    return key
