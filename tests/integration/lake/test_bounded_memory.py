"""A file several times larger than the job's memory limit ingests in bounded memory (batches,
spills): measured as the peak memory (max RSS) of the `dpghub ingest` process, against the same
command on a small file, so what the libraries take at start-up is not counted."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.lake import big_cp949

DPGHUB = str(Path(sys.executable).parent / "dpghub")
LIMIT_MB = 64


def _run(args: list[str], env: dict[str, str], log: Path) -> tuple[str, float]:
    """Runs `dpghub …` to its end; its output and its peak memory in MiB (its own, or a
    child's when larger: the kernel keeps both)."""
    with log.open("wb") as out:
        process = subprocess.Popen([DPGHUB, *args], env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    output = log.read_text(errors="replace")
    assert process.returncode == 0, output[-3000:]
    return output, usage.ru_maxrss / 1024            # KiB on Linux


def test_file_four_times_the_memory_limit(kr: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DPGHUB_")}
    env.update(DPGHUB_HOME=str(tmp_path / "home"), DPGHUB_JOB_MEMORY_MB=str(LIMIT_MB))
    log = tmp_path / "run.log"
    _run(["init", "--admin-password", "operator-pass-1"], env, log)
    _run(["org", "create", "me", "--name-ko", "환경부", "--name-en", "ME", "--kind", "public"],
         env, log)
    small, big = tmp_path / "ev_small.csv", tmp_path / "ev.csv"
    big_cp949(small, 5_000)
    big_cp949(big, 1_200_000)
    assert big.stat().st_size > 4 * (LIMIT_MB << 20)

    said, baseline = _run(["ingest", str(small), "--org", "me", "--dataset", "ev-small"], env,
                          log)
    assert "5,000 rows" in said
    said, peak = _run(["ingest", str(big), "--org", "me", "--dataset", "ev"], env, log)
    assert "me/ev: version 1, 1,200,000 rows" in said
    shown, _ = _run(["dataset", "show", "me/ev"], env, log)
    assert any("급속충전기대수" in line and "integer" in line for line in shown.splitlines())
    grown = peak - baseline
    print(f"peak memory: {baseline:.0f} MiB on 5,000 rows, {peak:.0f} MiB on 1,200,000 rows "
          f"({big.stat().st_size >> 20} MiB of CSV, job limit {LIMIT_MB} MiB)")
    # memory grows with the job's limit, not with the file: far less than the file's size
    assert grown < 3 * LIMIT_MB, (baseline, peak)
