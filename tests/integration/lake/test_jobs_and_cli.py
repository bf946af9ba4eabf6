"""Cancelling an ingestion, and the `dpghub ingest` / `datasets` / `dataset show` commands."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dpghub.cli import app
from tests.support.lake import BJD, LIBRARY, Lake, big_cp949


def test_cancel_a_running_ingestion(lake: Lake, tmp_path: Path) -> None:
    lake.create("cancel-me")
    big = tmp_path / "ev.csv"
    big_cp949(big, 300_000)
    started = lake.hub.client.post("/api/v1/datasets/molit/cancel-me/ingest", headers=lake.auth,
                                   files=[("files", (big.name, big.read_bytes()))])
    job_id = started.json()["id"]
    deadline = time.monotonic() + 30
    while lake.hub.client.get(f"/api/v1/jobs/{job_id}", headers=lake.auth).json()["state"] \
            == "queued":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    cancelled = lake.hub.client.post(f"/api/v1/jobs/{job_id}/cancel", headers=lake.auth)
    assert cancelled.status_code == 200
    job = lake.wait(job_id)
    assert job["state"] == "cancelled"
    assert lake.dataset("cancel-me")["current_version"] is None
    other = lake.hub.client.get(f"/api/v1/jobs/{job_id}",
                                headers=lake.hub.bearer(lake.hub.make_user()))
    assert other.status_code == 403


@pytest.fixture
def cli_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kr: Path) -> Path:
    monkeypatch.setenv("DPGHUB_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DPGHUB_DATABASE_URL", raising=False)
    runner = CliRunner()
    assert runner.invoke(app, ["init", "--demo"]).exit_code == 0
    return tmp_path


def test_cli_ingest_show_and_list(cli_home: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["ingest", str(BJD), "--org", "molit", "--dataset", "bjd",
                                 "--title", "법정동코드"])
    assert result.exit_code == 0, result.output
    assert "Created dataset molit/bjd" in result.output
    assert "molit/bjd: version 1, 49,859 rows" in result.output
    again = runner.invoke(app, ["ingest", str(LIBRARY), "--org", "molit", "--dataset", "bjd",
                                "--mode", "replace"])
    assert again.exit_code == 0 and "version 2, 3,517 rows" in again.output
    shown = runner.invoke(app, ["dataset", "show", "molit/bjd"])
    assert shown.exit_code == 0 and "열람좌석수" in shown.output and "replace" in shown.output
    listed = runner.invoke(app, ["datasets", "list"])
    assert "molit/bjd" in listed.output and "3,517" in listed.output


def test_cli_ingest_failure_exits_non_zero_with_the_position(cli_home: Path) -> None:
    bad = cli_home / "bad.csv"
    bad.write_bytes(b"a,b\n1,2\n3\n")
    result = CliRunner().invoke(app, ["ingest", str(bad), "--org", "molit", "--dataset", "bad"])
    assert result.exit_code == 1
    assert "bad.csv line 3" in result.output


def test_demo_loads_real_korean_data(cli_home: Path) -> None:
    listed = CliRunner().invoke(app, ["datasets", "list"])
    for ref in ("molit/bjd-codes", "mois/population", "mcst/libraries", "me/ev-chargers",
                "mois/admin-codes"):
        assert ref in listed.output
    assert "49,859" in listed.output and "46,345" in listed.output


def test_demo_without_shared_data_uses_the_packaged_code_tables(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch
                                                                 ) -> None:
    from dpghub import demo

    if demo.packaged_data_dir() is None:
        from tests.conftest import unavailable

        unavailable("PublicDataReader's data files are not installed (make install does it)")
    monkeypatch.setenv("DPGHUB_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DPGHUB_DATABASE_URL", raising=False)
    monkeypatch.setattr(demo, "default_data_dir", lambda: None)
    result = CliRunner().invoke(app, ["init", "--demo"])
    assert result.exit_code == 0, result.output
    assert "mois/bjd-codes: 46,345 rows" in result.output
    assert "mois/hdong-codes: 8,509 rows" in result.output
