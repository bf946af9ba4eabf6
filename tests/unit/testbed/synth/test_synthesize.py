"""The synthetic table keeps the real one's shape, types, values and trends, not its rows."""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from dpghub.testbed.synth import fit, privacy_report, quality_report, synthesize
from dpghub.testbed.synth.checkdigits import valid_brn, valid_rrn

from .conftest import correlated


@pytest.fixture(scope="module")
def synthetic(residents: pa.Table) -> pa.Table:
    return synthesize(residents, rows=3000, seed=7)


def test_schema_types_and_row_count_are_kept(residents: pa.Table, synthetic: pa.Table) -> None:
    assert synthetic.schema == residents.schema
    assert synthetic.num_rows == 3000
    assert synthesize(residents).num_rows == residents.num_rows


def test_each_column_keeps_its_share_of_missing_values(residents: pa.Table,
                                                     synthetic: pa.Table) -> None:
    for name in residents.column_names:
        real = residents.column(name).null_count / residents.num_rows
        syn = synthetic.column(name).null_count / synthetic.num_rows
        assert abs(real - syn) < 0.04, name
    assert synthetic.column("소득").null_count > 0


def test_categories_and_codes_are_only_values_that_exist(residents: pa.Table,
                                                         synthetic: pa.Table) -> None:
    for name in ("시도명", "법정동코드", "활성"):
        real = set(residents.column(name).to_pylist())
        drawn = set(synthetic.column(name).to_pylist())
        assert drawn <= real, name
        assert len(drawn) > 1
    assert all(c.startswith("0") and len(c) == 5 for c in synthetic.column("법정동코드")
               .to_pylist())


FORMATS = {
    "성명": re.compile(r"^[가-힣]{2,5}$"),
    "전화번호": re.compile(r"^0\d{1,2}-\d{3,4}-\d{4}$"),
    "주민등록번호": re.compile(r"^\d{6}-[1-4]\d{6}$"),
    "이메일": re.compile(r"^[^@\s]+@example\.(com|net|org)$"),
    "주소": re.compile(r"^[가-힣]+ [가-힣]+ .*\d+"),
    "사업자등록번호": re.compile(r"^\d{3}-\d{2}-\d{5}$"),
}


def test_identifiers_are_well_formed_fakes_that_no_real_row_has(residents: pa.Table,
                                                                synthetic: pa.Table) -> None:
    for name, pattern in FORMATS.items():
        values = synthetic.column(name).drop_null().to_pylist()
        assert values and all(pattern.match(v) for v in values), (name, values[:3])
        assert not set(values) & set(residents.column(name).to_pylist()), name
    assert all(valid_rrn(v) for v in synthetic.column("주민등록번호").to_pylist())
    assert all(valid_brn(v) for v in synthetic.column("사업자등록번호").to_pylist())


def test_no_synthetic_row_copies_a_real_row(residents: pa.Table, synthetic: pa.Table) -> None:
    assert privacy_report(residents, synthetic)["exact_copies"] == 0
    # no identifiers and few possible rows: most rows drawn are copies, and are drawn again
    rng = np.random.default_rng(4)
    few = pa.table({"a": rng.choice(["x", "y"], 200), "v": rng.integers(0, 100, 200)})
    model = fit(few)
    raw = model.draw(200, seed=0)  # as drawn, before copies are drawn again
    assert privacy_report(few, raw)["exact_copies"] > 50
    assert privacy_report(few, model.sample(200))["exact_copies"] == 0


def test_a_table_whose_every_possible_row_is_real_is_refused() -> None:
    from dpghub.core.errors import Invalid
    with pytest.raises(Invalid) as caught:
        synthesize(pa.table({"flag": [True, False] * 10}))
    assert caught.value.code == "synthetic_copies_unavoidable"


def test_trends_of_a_correlated_table_are_kept_and_beat_an_independent_shuffle() -> None:
    real = correlated()
    report = quality_report(real, synthesize(real, seed=3))
    rng = np.random.default_rng(0)
    shuffled = pa.table({n: real.column(n).take(pa.array(rng.permutation(real.num_rows)))
                         for n in real.column_names})
    baseline = quality_report(real, shuffled)
    assert report["score"] > 0.9
    assert report["properties"]["column_pair_trends"] > 0.9
    assert baseline["properties"]["column_pair_trends"] < \
        report["properties"]["column_pair_trends"] - 0.15
    xy = next(p for p in report["pairs"] if p["columns"] == ["x", "y"])
    assert xy["synthetic_correlation"] == pytest.approx(xy["real_correlation"], abs=0.05)


def test_the_same_seed_gives_the_same_table_and_another_seed_another(
        residents: pa.Table) -> None:
    model = fit(residents, seed=1)
    assert model.sample(200, seed=5).equals(model.sample(200, seed=5))
    assert synthesize(residents, rows=100, seed=2).equals(synthesize(residents, rows=100,
                                                                     seed=2))
    assert not model.sample(200, seed=5).equals(model.sample(200, seed=6))


def test_progress_is_reported_up_to_done(residents: pa.Table) -> None:
    seen: list[float] = []
    synthesize(residents, rows=50, progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) >= 3


def test_numbers_stay_in_range_and_keep_their_decimals(residents: pa.Table,
                                                       synthetic: pa.Table) -> None:
    for name in ("나이", "소득", "가입일", "점수"):
        real, syn = residents.column(name), synthetic.column(name)
        assert pc.min(syn).as_py() >= pc.min(real).as_py()
        assert pc.max(syn).as_py() <= pc.max(real).as_py()
    income = synthetic.column("소득").drop_null().to_numpy()
    assert np.allclose(income, np.round(income, 1))
