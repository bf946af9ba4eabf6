"""Synthetic data benchmark: our synthesizer against the anchor, copulas' GaussianMultivariate.

On the real library and EV-charger standard datasets (CP949 CSVs under
../shared/data/kr from the repository root, or DPGHUB_SHARED_DATA), typed sensibly:

- both fit on the same 80% training rows and sample 100,000 rows; fit+sample is timed;
- the anchor (BUSL, so never in the project) runs in a throw-away venv under /tmp that this
  bench makes (`python -m venv` + `pip install copulas sdmetrics pyarrow`), through a
  subprocess. It only takes numbers, so columns are encoded the way SDV's GaussianCopula
  does: categories with the uniform (frequency-interval) encoder, dates as day counts,
  missing numbers filled with the mean and put back at random at the learnt rate, values
  clipped to the real range and rounded like the real ones; identifiers get our fakes;
- both are scored by OUR quality and privacy code (privacy with the 20% holdout, which
  neither saw); our quality figures are checked against the `sdmetrics` package's
  QualityReport run in the same venv on the same tables.

Usage: DPGHUB_SHARED_DATA=/work/shared/data/kr .venv/bin/python bench/synth.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from dpghub.testbed.synth import fit, privacy_report, quality_report  # noqa: E402
from dpghub.testbed.synth.columns import codes, decimals_of, from_float, to_float  # noqa: E402
from dpghub.testbed.synth.fakes import fake_values  # noqa: E402
from dpghub.testbed.synth.kinds import plan_columns  # noqa: E402

VENV = Path("/tmp/synth-anchor")
DATASETS = {
    "library": ("library_std/전국도서관표준데이터.csv", {
        "BIGINT": ["열람좌석수", "자료수(도서)", "자료수(연속간행물)", "자료수(비도서)",
                   "대출가능권수", "대출가능일수"],
        "DOUBLE": ["부지면적", "건물면적", "위도", "경도"], "DATE": ["데이터기준일자"]}),
    "ev_charger": ("ev_charger_std/전국전기차충전소표준데이터.csv", {
        "BIGINT": ["완속충전기대수", "급속충전기대수"], "DOUBLE": ["위도", "경도"],
        "DATE": ["데이터기준일자"]}),
}
ANCHOR = r"""
import json, sys, time
import pandas as pd
from copulas.multivariate import GaussianMultivariate
from copulas.univariate import BetaUnivariate, Univariate
data = pd.read_parquet(sys.argv[1])
start = time.perf_counter()
distribution = {"beta": BetaUnivariate, "select": Univariate}[sys.argv[4]]
model = GaussianMultivariate(distribution=distribution, random_state=0)
model.fit(data)
fitted = time.perf_counter()
out = model.sample(int(sys.argv[3]))
done = time.perf_counter()
out.to_parquet(sys.argv[2])
print(json.dumps({"fit": fitted - start, "sample": done - fitted}))
"""
SDMETRICS = r"""
import json, sys, warnings
import pandas as pd
warnings.filterwarnings("ignore")
from sdmetrics.reports.single_table import QualityReport
meta = json.loads(open(sys.argv[3]).read())
frames = [pd.read_parquet(p) for p in sys.argv[1:3]]
for f in frames:
    for name, col in meta["columns"].items():
        if col["sdtype"] == "datetime":
            f[name] = pd.to_datetime(f[name])
report = QualityReport()
report.generate(frames[0], frames[1], meta, verbose=False)
props = report.get_properties()
print(json.dumps({"score": report.get_score(),
                  **{r["Property"]: r["Score"] for _, r in props.iterrows()}}))
"""


def data_dir() -> Path:
    return Path(os.environ.get("DPGHUB_SHARED_DATA") or ROOT.parent / "shared" / "data" / "kr")


def load(name: str) -> pa.Table:
    """The CSV transcoded from CP949, its columns typed: counts, areas and coordinates as
    numbers, the reference date as a date, the rest (codes, times "09:00") as text."""
    path, types = DATASETS[name]
    text = (data_dir() / path).read_bytes().decode("cp949")
    with tempfile.NamedTemporaryFile("w", suffix=".csv", encoding="utf-8") as tmp:
        tmp.write(text)
        tmp.flush()
        con = duckdb.connect()
        con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{tmp.name}', all_varchar=true)")
        columns = [r[0] for r in con.execute("DESCRIBE t").fetchall()]
        wanted = {c: t for t, names in types.items() for c in names}
        select = ", ".join(
            f"TRY_CAST(replace(trim(\"{c}\"), ',', '') AS {wanted[c]}) AS \"{c}\"" if c in wanted
            else f"NULLIF(trim(\"{c}\"), '') AS \"{c}\"" for c in columns)
        table = con.execute(f"SELECT {select} FROM t").to_arrow_table()
    return table


def split(table: pa.Table, share: float = 0.2, seed: int = 0) -> tuple[pa.Table, pa.Table]:
    order = np.random.default_rng(seed).permutation(table.num_rows)
    cut = int(round(table.num_rows * share))
    return table.take(pa.array(order[cut:])), table.take(pa.array(order[:cut]))


def ensure_venv() -> Path:
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    ok = subprocess.run([str(python), "-c", "import copulas, sdmetrics, pyarrow"],
                        capture_output=True)
    if ok.returncode:
        subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", "copulas", "sdmetrics",
                        "pyarrow"], check=True)
    return python


class SdvLikeEncoding:
    """What SDV's GaussianCopula does before copulas sees the data (see module docstring)."""

    def __init__(self, table: pa.Table) -> None:
        self.table, self.plans = table, plan_columns(table)
        self.columns: dict[str, Any] = {}
        for plan in self.plans:
            column = table.column(plan.name)
            if plan.kind == "number":
                values, valid = to_float(column)
                present = values[valid]
                places = decimals_of(present) if pa.types.is_floating(column.type) else 0
                self.columns[plan.name] = ("number", present.mean() if len(present) else 0.0,
                                           1 - valid.mean(), present.min(initial=0),
                                           present.max(initial=0), places)
            elif plan.kind == "category":
                c, _, labels = codes(column)
                counts = np.bincount(np.where(c < 0, len(labels), c), minlength=len(labels) + 1)
                cumulative = np.concatenate([[0.0], np.cumsum(counts / counts.sum())])
                self.columns[plan.name] = ("category", cumulative, labels)

    def encode(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        out = {}
        for name, spec in self.columns.items():
            column = self.table.column(name)
            if spec[0] == "number":
                values, valid = to_float(column)
                out[name] = np.where(valid, values, spec[1])
            else:
                c, _, labels = codes(column)
                slot = np.where(c < 0, len(labels), c)
                cum = spec[1]
                out[name] = cum[slot] + rng.random(len(slot)) * (cum[slot + 1] - cum[slot])
        return out

    def decode(self, sampled: pa.Table, n: int, seed: int) -> pa.Table:
        rng = np.random.default_rng(seed)
        arrays = []
        for i, plan in enumerate(self.plans):
            type_ = self.table.schema.field(i).type
            spec = self.columns.get(plan.name)
            if spec and spec[0] == "number":
                values = np.clip(sampled.column(plan.name).to_numpy(), spec[3], spec[4])
                values = np.round(values, spec[5])
                arrays.append(from_float(values, rng.random(n) >= spec[2], type_))
            elif spec:
                u = np.clip(sampled.column(plan.name).to_numpy(), 0, 1 - 1e-12)
                slot = np.searchsorted(spec[1], u, side="right") - 1
                picked = np.where(slot >= len(spec[2]), -1, slot)
                arrays.append(spec[2].take(pa.array(np.maximum(picked, 0), mask=picked < 0)))
            elif plan.kind == "fake":
                real = [str(v) for v in self.table.column(plan.name).drop_null().to_pylist()]
                values = fake_values(plan.fake or "text", n, real[::10], set(real), seed + i)
                null = rng.random(n) < self.table.column(plan.name).null_count / len(self.table)
                arrays.append(pa.array(values, mask=null, type=pa.string()).cast(type_))
            else:
                arrays.append(pa.nulls(n, type_))
        return pa.Table.from_arrays(arrays, schema=self.table.schema)


def run_anchor(python: Path, train: pa.Table, rows: int, work: Path, distribution: str = "beta",
               timeout: float | None = None) -> tuple[pa.Table, dict]:
    start = time.perf_counter()
    encoding = SdvLikeEncoding(train)
    pq.write_table(pa.table(encoding.encode(np.random.default_rng(0))), work / "in.parquet")
    encoded = time.perf_counter() - start
    script = work / "anchor.py"
    script.write_text(ANCHOR)
    done = subprocess.run([str(python), str(script), str(work / "in.parquet"),
                           str(work / "out.parquet"), str(rows), distribution],
                          capture_output=True, text=True, check=True, timeout=timeout)
    inner = json.loads(done.stdout.strip().splitlines()[-1])
    start = time.perf_counter()
    table = encoding.decode(pq.read_table(work / "out.parquet"), rows, 1)
    decoded = time.perf_counter() - start
    return table, {"fit": inner["fit"] + encoded, "sample": inner["sample"] + decoded}


def sdmetrics_check(python: Path, real: pa.Table, synthetic: pa.Table, work: Path) -> dict:
    sdtype = {"number": "numerical", "category": "categorical", "fake": "id", "empty": "id"}
    meta = {"columns": {p.name: {"sdtype": "datetime" if p.kind == "number" and
                                 pa.types.is_temporal(real.column(p.name).type)
                                 else sdtype[p.kind]} for p in plan_columns(real)}}
    (work / "meta.json").write_text(json.dumps(meta))
    script = work / "sdm.py"
    script.write_text(SDMETRICS)
    pq.write_table(real, work / "real.parquet")
    pq.write_table(synthetic, work / "syn.parquet")
    done = subprocess.run([str(python), str(script), str(work / "real.parquet"),
                           str(work / "syn.parquet"), str(work / "meta.json")],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def scores(train: pa.Table, holdout: pa.Table, synthetic: pa.Table) -> dict[str, Any]:
    quality = quality_report(train, synthetic)
    privacy = privacy_report(train, synthetic, holdout=holdout)
    return {"overall": quality["score"], **quality["properties"],
            "exact_copies": privacy["exact_copies"], "dcr": privacy["dcr"]}


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}×" if a is not None and b else "–"


def ours(train: pa.Table, rows: int) -> tuple[pa.Table, dict[str, float]]:
    start = time.perf_counter()
    model = fit(train, seed=0)
    fitted = time.perf_counter()
    synthetic = model.sample(rows, seed=0)
    return synthetic, {"fit": fitted - start, "sample": time.perf_counter() - fitted}


def report(name: str, rows: int, python: Path, check: bool) -> dict[str, Any]:
    real = load(name)
    train, holdout = split(real)
    ours_table, ours_time = ours(train, rows)
    with tempfile.TemporaryDirectory(prefix="synth-bench-") as tmp:
        anchor_table, anchor_time = run_anchor(python, train, rows, Path(tmp))
        result = {"dataset": name, "rows": real.num_rows, "columns": real.num_columns,
                  "ours": {**scores(train, holdout, ours_table), "time": ours_time},
                  "anchor": {**scores(train, holdout, anchor_table), "time": anchor_time}}
        if check:
            result["ours"]["sdmetrics"] = sdmetrics_check(python, train, ours_table, Path(tmp))
            result["anchor"]["sdmetrics"] = sdmetrics_check(python, train, anchor_table,
                                                            Path(tmp))
    return result


def show(result: dict[str, Any]) -> None:
    o, a = result["ours"], result["anchor"]
    print(f"\n== {result['dataset']}: {result['rows']:,} real rows × {result['columns']} columns;"
          f" fit on 80% ({result['rows'] - round(result['rows'] * 0.2):,}), 100,000 sampled ==")
    print(f"{'':30}{'ours':>12}{'anchor':>12}{'ours/anchor':>13}")
    for key, label in (("overall", "overall quality"), ("column_shapes", "column shapes"),
                       ("column_pair_trends", "column pair trends")):
        print(f"{label:30}{o[key]:12.4f}{a[key]:12.4f}{ratio(o[key], a[key]):>13}")
    print(f"{'exact copies':30}{o['exact_copies']:12d}{a['exact_copies']:12d}")
    for key, label in (("synthetic_to_train_median", "DCR median synthetic→train"),
                       ("holdout_to_train_median", "DCR median holdout→train"),
                       ("dcr_ratio", "DCR ratio (syn/holdout)"),
                       ("closer_to_train_share", "closer to train (share)"),
                       ("closer_to_train_expected", "  … expected if not memorised")):
        print(f"{label:30}{o['dcr'][key]:12.4f}{a['dcr'][key]:12.4f}")
    for key in ("fit", "sample"):
        print(f"{key + ' time (s)':30}{o['time'][key]:12.2f}{a['time'][key]:12.2f}"
              f"{ratio(o['time'][key], a['time'][key]):>13}")
    total_o, total_a = sum(o["time"].values()), sum(a["time"].values())
    print(f"{'fit+sample time (s)':30}{total_o:12.2f}{total_a:12.2f}{ratio(total_o, total_a):>13}")
    if "sdmetrics" in o:
        print("agreement with the sdmetrics package (its QualityReport on the same tables):")
        for who, side in (("ours", o), ("anchor", a)):
            sdm = side["sdmetrics"]
            print(f"  {who:7} overall {side['overall']:.4f} vs {sdm['score']:.4f} (Δ "
                  f"{side['overall'] - sdm['score']:+.4f}); shapes {side['column_shapes']:.4f} vs "
                  f"{sdm['Column Shapes']:.4f}; pairs {side['column_pair_trends']:.4f} vs "
                  f"{sdm['Column Pair Trends']:.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--datasets", nargs="*", default=list(DATASETS))
    parser.add_argument("--no-sdmetrics", action="store_true")
    args = parser.parse_args()
    python = ensure_venv()
    print("anchor: copulas.multivariate.GaussianMultivariate with BetaUnivariate margins (SDV's "
          "GaussianCopulaSynthesizer default; copulas' own default, a selection that includes a "
          "Gaussian KDE, ran over 15 minutes on the library table without finishing), in "
          f"{VENV}; categories uniform-encoded (each category a uniform draw inside its "
          "cumulative-frequency interval, SDV's UniformEncoder), dates as day counts, missing "
          "numbers mean-filled then re-blanked at random at the learnt rate, outputs clipped to "
          "the real range and rounded like it; identifier columns get our fakes for both.")
    results = [report(name, args.rows, python, not args.no_sdmetrics) for name in args.datasets]
    for result in results:
        show(result)
    out = ROOT / "bench" / "results"
    if out.is_dir():
        (out / "synth.json").write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
