"""Odd tables get a correct synthetic copy or a clear refusal, never a crash."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pytest

from dpghub.core.errors import Invalid
from dpghub.testbed.synth import privacy_report, quality_report, synthesize


def test_an_empty_table_is_refused_with_its_code() -> None:
    with pytest.raises(Invalid) as caught:
        synthesize(pa.table({"a": pa.array([], pa.int64()), "b": pa.array([], pa.string())}))
    assert caught.value.code == "synthetic_empty"


def test_a_negative_row_count_is_refused() -> None:
    with pytest.raises(Invalid) as caught:
        synthesize(pa.table({"a": [1.5, 2.5]}), rows=-1)
    assert caught.value.code == "synthetic_rows"


def test_one_row_with_a_name_gives_rows_unlike_it() -> None:
    real = pa.table({"성명": ["홍길동"], "나이": [30], "지역": ["서울"]})
    out = synthesize(real, rows=5)
    assert out.schema == real.schema and out.num_rows == 5
    assert out.column("나이").to_pylist() == [30] * 5  # the only value there is
    assert "홍길동" not in out.column("성명").to_pylist()
    assert privacy_report(real, out)["exact_copies"] == 0


def test_all_null_and_constant_columns_stay_so() -> None:
    real = pa.table({"empty": pa.nulls(50, pa.float64()), "same": ["x"] * 50,
                     "one": pa.array([7] * 50, pa.int32()), "v": np.linspace(0, 1, 50)})
    out = synthesize(real, rows=80)
    assert out.schema == real.schema
    assert out.column("empty").null_count == 80
    assert set(out.column("same").to_pylist()) == {"x"}
    assert set(out.column("one").to_pylist()) == {7}
    report = quality_report(real, out)
    pair = next(p for p in report["pairs"] if set(p["columns"]) == {"one", "v"})
    assert pair["score"] is None  # a correlation with a constant is undefined, as in SDMetrics
    assert {"column": "empty", "reason": "no values"} in report["not_scored"]


def test_booleans_timestamps_decimals_and_zoned_times_keep_their_types() -> None:
    rng = np.random.default_rng(0)
    start = datetime(2023, 5, 1)
    real = pa.table({
        "flag": pa.array(rng.random(300) < 0.7),
        "at": pa.array([start + timedelta(seconds=int(s)) for s in rng.integers(0, 10**7, 300)],
                       pa.timestamp("ms", tz="Asia/Seoul")),
        "price": pa.array([Decimal(f"{v:.3f}") for v in rng.uniform(0, 1000, 300)],
                          pa.decimal128(9, 3)),
        "small": pa.array(rng.integers(-100, 120, 300), pa.int8()),
        "ratio": pa.array(rng.random(300), pa.float32()),
        "label": pa.array(rng.choice(["a", "b", "c"], 300)).dictionary_encode(),
    })
    out = synthesize(real, rows=500)
    assert out.schema == real.schema
    assert set(out.column("flag").to_pylist()) == {True, False}
    assert set(out.column("label").to_pylist()) <= {"a", "b", "c"}
    assert quality_report(real, out)["properties"]["column_shapes"] > 0.85


def test_very_long_text_is_replaced_by_text_of_like_length() -> None:
    rng = np.random.default_rng(1)
    words = ["가나다", "라마바", "사아자", "차카타", "파하"]
    real = pa.table({"본문": [" ".join(rng.choice(words, 2000)) + str(i) for i in range(60)],
                     "n": rng.integers(0, 5, 60)})
    out = synthesize(real, rows=60)
    lengths = [len(v) for v in out.column("본문").to_pylist()]
    assert min(lengths) > 1000
    assert not set(out.column("본문").to_pylist()) & set(real.column("본문").to_pylist())


def test_a_thousand_columns_over_few_rows_finish() -> None:
    rng = np.random.default_rng(2)
    columns = {f"n{i}": rng.normal(size=6) for i in range(600)}
    columns |= {f"c{i}": rng.choice(["가", "나", "다"], 6) for i in range(400)}
    real = pa.table(columns)
    out = synthesize(real, rows=6)
    assert out.schema == real.schema and out.num_rows == 6
    report = quality_report(real, out, max_pairs=500)
    assert report["pairs_sampled"] and report["pairs_scored"] == 500
    assert report["pairs_total"] == 1000 * 999 // 2
    assert "500 of 499500" in report["note"]


def test_zero_rows_asked_gives_an_empty_table_of_the_same_schema() -> None:
    real = pa.table({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    out = synthesize(real, rows=0)
    assert out.num_rows == 0 and out.schema == real.schema
