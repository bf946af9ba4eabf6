"""The quality and privacy scores, pinned on tables small enough to work out by hand."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from dpghub.testbed.synth import privacy_report, quality_report
from dpghub.testbed.synth.quality import (
    contingency_similarity,
    correlation_similarity,
    ks_complement,
    tv_complement,
)


def test_tv_complement_is_one_minus_half_the_summed_share_differences() -> None:
    # shares a: .5 vs .75, b: .5 vs .25 -> TVD = (.25 + .25) / 2
    assert tv_complement(np.array([0, 0, 1, 1]), np.array([0, 0, 0, 1])) == pytest.approx(0.75)
    assert tv_complement(np.array([0, 1, -1]), np.array([0, 1])) == pytest.approx(1.0)


def test_ks_complement_is_one_minus_the_largest_gap_between_the_cdfs() -> None:
    # F_real(4) = 1, F_syn(4) = .5
    assert ks_complement(np.array([1.0, 2, 3, 4]), np.array([3.0, 4, 5, 6])) == \
        pytest.approx(0.5)


def test_correlation_similarity_is_one_minus_half_the_gap_between_the_correlations() -> None:
    x = np.array([1.0, 2, 3])
    assert correlation_similarity(x, x, x, x[::-1])[0] == pytest.approx(0.0)
    assert correlation_similarity(x, x, x, x)[0] == pytest.approx(1.0)
    y = np.array([1.0, 3, 2])  # rho = .5
    assert correlation_similarity(x, x, x, y)[0] == pytest.approx(0.75)


def test_contingency_similarity_compares_the_two_way_tables() -> None:
    # real: (a,x) .5, (b,y) .5; synthetic: each of four cells .25 -> TVD .5
    a, b = np.array([0, 0, 1, 1]), np.array([0, 0, 1, 1])
    assert contingency_similarity(a, b, np.array([0, 0, 1, 1]), np.array([0, 1, 1, 0])) == \
        pytest.approx(0.5)
    # a missing value is a category of its own
    assert contingency_similarity(np.array([0, -1]), np.array([0, 0]), np.array([0, 0]),
                                  np.array([0, 0])) == pytest.approx(0.5)


def test_quality_report_bins_numbers_against_categories_and_averages_the_properties() -> None:
    real = pa.table({"n": [0, 0, 10, 10], "c": ["a", "a", "b", "b"]})
    synthetic = pa.table({"n": [0, 10, 0, 10], "c": ["a", "a", "b", "b"]})
    report = quality_report(real, synthetic)
    assert [c["score"] for c in report["columns"]] == [pytest.approx(1.0)] * 2
    assert report["pairs"] == [{"columns": ["n", "c"], "metric": "ContingencySimilarity",
                                "score": pytest.approx(0.5)}]
    assert report["score"] == pytest.approx(0.75)
    chart = report["columns"][1]["chart"]
    assert chart["categories"] == ["a", "b"] and chart["real"] == [0.5, 0.5]
    histogram = report["columns"][0]["chart"]
    assert len(histogram["edges"]) == 21 and sum(histogram["synthetic"]) == pytest.approx(1.0)


def test_privacy_counts_copies_and_shows_memorised_rows_in_the_dcr() -> None:
    rng = np.random.default_rng(0)
    real = pa.table({"x": rng.normal(size=400), "k": rng.choice(["a", "b", "c"], 400)})
    train, holdout = real.slice(0, 300), real.slice(300)
    copied = privacy_report(train, train, holdout=holdout)
    assert copied["exact_copies"] == 300
    assert copied["dcr"]["synthetic_to_train_median"] == 0.0
    assert copied["dcr"]["closer_to_train_share"] == pytest.approx(1.0, abs=0.02)
    fresh = pa.table({"x": rng.normal(size=300), "k": rng.choice(["a", "b", "c"], 300)})
    report = privacy_report(train, fresh, holdout=holdout)
    assert report["exact_copies"] == 0
    assert report["dcr"]["closer_to_train_expected"] == pytest.approx(0.75)
    assert 0.65 < report["dcr"]["closer_to_train_share"] < 0.85
    assert report["dcr"]["dcr_ratio"] == pytest.approx(1.0, abs=0.35)
    assert "holdout" in report["explanation"]
