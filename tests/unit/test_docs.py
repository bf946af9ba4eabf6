"""The README and docs/ say what the code does.

The reference tables are generated from their one declaration (tools/docs_tables.py) and must
be current; every setting, command, endpoint, address and link the pages name must exist.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from starlette.routing import Match

from dpghub.app import create_app
from dpghub.config import Settings
from tests.support.commands import TABLES, command_names

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
TEST_VARIABLES = {"DPGHUB_TEST_PG", "DPGHUB_TEST_REDIS",   # read by tests/conftest.py only
                  "DPGHUB_AI_BENCH_MODEL",                 # and by bench/nl2sql.py
                  "DPGHUB_AI_BENCH_PROVIDER"}
# SHA-256 of the Apache License 2.0 as apache.org publishes it (LICENSE-2.0.txt)
APACHE_2_SHA256 = "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"


def _text(page: Path) -> str:
    return page.read_text(encoding="utf-8")




@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    home = tmp_path_factory.mktemp("docs-hub")
    yield create_app(Settings(home=home, database_url=f"sqlite:///{home / 'hub.db'}",
                              lake_uri=str(home / "lake"), search_semantic=False,
                              gateway_evidence_process=False))


def test_readme_opens_with_the_two_commands() -> None:
    block = _text(README).split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["make run", "make test"]


@pytest.mark.parametrize("name", sorted(TABLES.TABLES))
def test_generated_table_is_current(name: str) -> None:
    page = TABLES.TABLES[name][0]
    held = TABLES.current(name)
    assert held is not None, f"{page} has lost the marks of its {name} table"
    assert held == TABLES.expected(name), (
        f"the {name} table in {page} is out of date: run `.venv/bin/python tools/docs_tables.py`")


def test_every_setting_is_in_the_readme() -> None:
    readme = _text(README)
    for name in Settings.model_fields:
        assert f"`DPGHUB_{name.upper()}`" in readme, f"DPGHUB_{name.upper()} is not in the README"


def test_every_cli_command_is_in_the_readme() -> None:
    from dpghub.cli import app as cli

    commands = command_names(cli)
    assert "dpghub audit verify" in commands
    readme = _text(README)
    for command in commands:
        assert f"`{command}" in readme, f"{command} is not in the README"


def test_every_variable_the_docs_name_is_a_setting() -> None:
    settings = {f"DPGHUB_{name.upper()}" for name in Settings.model_fields}
    for page in PAGES:
        for name in set(re.findall(r"DPGHUB_[A-Z][A-Z0-9_]*", _text(page))):
            assert name in settings | TEST_VARIABLES, f"{page.name} names {name}: no such setting"


def _endpoints(app: FastAPI) -> list[str]:
    found = [f"{method.upper()} {path}" for path, operations in app.openapi()["paths"].items()
             for method in operations]
    # outside the OpenAPI document: CKAN's Action API and the gateway itself
    return [*found, "GET /api/3/action/{name}", "POST /api/3/action/{name}",
            "GET /gw/{org}/{service}/{path}"]


def test_every_endpoint_is_documented(app: FastAPI) -> None:
    docs = "\n".join(_text(page) for page in PAGES[1:])
    missing = [endpoint for endpoint in _endpoints(app) if f"`{endpoint}`" not in docs]
    assert not missing, f"endpoints no page of docs/ describes: {missing}"


def _route_exists(app: FastAPI, path: str) -> bool:
    if path.startswith(("/gw/", "/sandbox/")):
        return True             # taken by the gateway and the sandbox before routing (app.py)
    scope = {"type": "http", "path": path, "method": "GET", "root_path": "", "headers": []}
    return any(route.matches(scope)[0] is not Match.NONE for route in app.routes)


def test_every_address_in_the_docs_is_a_route(app: FastAPI) -> None:
    for page in PAGES:
        text = _text(page)
        paths = re.findall(r"http://127\.0\.0\.1:8000(/[^\s?`<>)\"']*)", text)
        paths += re.findall(r"\$HUB(/[^\s?`<>)\"']*)", text)
        assert paths or page.name not in ("README.md",), "the README shows no local address"
        for path in paths:
            assert _route_exists(app, path), f"{page.name} shows {path}: no such route"


def _anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    return {_anchor(h) for h in re.findall(r"^#+ (.+)$", _text(page), re.M)}


def test_every_relative_link_leads_somewhere() -> None:
    for page in PAGES:
        for target in re.findall(r"\]\(([^)\s]+)\)", _text(page)):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            assert linked.is_file(), f"{page.name} links to {target}: no such file"
            if anchor and linked.suffix == ".md":
                assert anchor in _anchors(linked), f"{page.name} links to {target}: no such heading"


def test_the_readme_draws_the_processes_and_the_stores() -> None:
    readme = _text(README)
    picture = readme.split("```mermaid", 1)[1].split("```", 1)[0]
    for part in ("dpghub serve", "Evidence writer", "dpghub worker", "PostgreSQL", "S3",
                 "Redis", "Spark"):
        assert part in picture, f"the architecture picture lacks {part}"


def test_the_scale_out_section_covers_what_a_platform_team_sets_up() -> None:
    section = _text(README).split("## Scale-out", 1)[1]
    for needed in ("DPGHUB_DATABASE_URL=postgresql", "DPGHUB_LAKE_URI=s3://",
                   "DPGHUB_S3_ENDPOINT_URL", "DPGHUB_REDIS_URL", "load balancer",
                   "DPGHUB_JOB_WORKERS=0", "dpghub worker", "hub_ed25519.pem",
                   "does not apply to\nPostgreSQL", "TLS", "pg_dump", "pg_restore"):
        assert needed in section, f"the scale-out section does not cover {needed!r}"


def test_the_licence_is_the_apache_license_2() -> None:
    licence = (ROOT / "LICENSE").read_bytes()
    assert hashlib.sha256(licence).hexdigest() == APACHE_2_SHA256
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "Apache-2.0"
