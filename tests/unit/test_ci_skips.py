"""Under CI=true every way of skipping a test fails the run, with the skip's reason; without
CI the same tests skip as before. Runs pytest on a small suite of its own, with our hooks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SUITE = '''
import pytest

def test_direct_skip():
    pytest.skip("the direct skip")

def test_importorskip():
    pytest.importorskip("no_such_module_for_ci_skips")

@pytest.mark.skip(reason="the skip mark")
def test_mark():
    pass

@pytest.mark.skipif(True, reason="the skipif mark")
def test_skipif():
    pass

@pytest.mark.xfail(reason="the known fault")
def test_xfail():
    assert False

@pytest.fixture
def service():
    pytest.skip("the fixture skip")

def test_fixture_skip(service):
    pass

def test_runs():
    pass
'''


def _pytest(folder: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider",
                           "--rootdir", str(folder), "-c", str(folder / "pytest.ini"),
                           str(folder)], capture_output=True, text=True, env=env, timeout=120)


def _suite(tmp_path: Path, *, module_skip: bool = False) -> Path:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "conftest.py").write_text(
        "from tests.ci_skips import pytest_make_collect_report, pytest_runtest_makereport\n")
    if module_skip:
        (tmp_path / "test_module.py").write_text(
            "import pytest\npytest.importorskip('no_such_module_at_collection')\n\n"
            "def test_never():\n    pass\n")
        (tmp_path / "test_other.py").write_text("def test_runs():\n    pass\n")
    else:
        (tmp_path / "test_suite.py").write_text(SUITE)
    return tmp_path


def test_every_kind_of_skip_fails_under_ci(tmp_path: Path) -> None:
    run = _pytest(_suite(tmp_path), "true")
    assert run.returncode == 1, run.stdout + run.stderr
    summary = run.stdout.splitlines()[-1]
    assert "1 passed" in summary and "skipped" not in summary and "xfail" not in summary
    for name, reason in [("test_direct_skip", "the direct skip"),
                         ("test_importorskip", "no_such_module_for_ci_skips"),
                         ("test_mark", "the skip mark"), ("test_skipif", "the skipif mark"),
                         ("test_xfail", "the known fault"),
                         ("test_fixture_skip", "the fixture skip")]:
        line = next((line for line in run.stdout.splitlines()
                     if line.startswith(("FAILED", "ERROR")) and f"::{name} " in line), None)
        assert line is not None and "under CI=true" in line and reason in line, run.stdout


def test_a_module_skipped_at_collection_fails_under_ci(tmp_path: Path) -> None:
    run = _pytest(_suite(tmp_path, module_skip=True), "TRUE")
    assert run.returncode != 0 and "no_such_module_at_collection" in run.stdout, run.stdout
    assert "under CI=true" in run.stdout
    assert _pytest(tmp_path, None).returncode == 0      # without CI: one skipped, one passed


def test_without_ci_the_skips_stay_skips(tmp_path: Path) -> None:
    run = _pytest(_suite(tmp_path), None)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed, 5 skipped, 1 xfailed" in run.stdout.splitlines()[-1]
