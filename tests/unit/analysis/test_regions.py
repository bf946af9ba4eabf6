"""Region names and codes, on the real 법정동코드 file."""

from __future__ import annotations

import pytest

from dpghub.analysis import regions
from tests.conftest import SHARED_DATA, unavailable

BJD = SHARED_DATA / "kr" / "bjd_code_molit" / "국토교통부_법정동코드_20240805.csv"
KIKCD = SHARED_DATA / "kr" / "admin_codes_mois" / "KIKcd_B.20230501(말소코드포함).xlsx"


@pytest.fixture(scope="module")
def index() -> regions.RegionIndex:
    if not BJD.exists():
        unavailable(f"the 법정동코드 file is not at {BJD}")
    return regions.build([BJD])


@pytest.mark.parametrize(("text", "code"), [
    ("서울특별시 종로구", "11110"),
    ("서울 종로구", "11110"),
    ("종로구", "11110"),
    ("서울특별시 종로구 (1111000000)", "11110"),
    ("1111010100", "11110"),
    ("서울특별시\u3000노원구\u3000", "11350"),
    ("서울특별시  강남구", "11680"),
    ("서울특별시 서울특별시 도봉구", "11320"),
    ("경기도 수원시 장안구", "41111"),
    ("경기 수원시", "41110"),
    ("전라북도 전주시", "52110"),
    ("전북 전주시 완산구", "52111"),
    ("4511100000", "52111"),
    ("강원도 춘천시", "51110"),
    ("세종특별자치시 없음", "36110"),
    ("경기도 화성시 봉담읍 동화리 123-4", "41590"),
    ("ＳＥＯＵＬ", None),
    ("중구", None),  # in six 시도: ambiguous without one
    ("부산 중구", "26110"),
    ("인천광역시 중구영종출장소 (2811400000)", None),  # a 출장소 is no 시군구
    (None, None),
])
def test_sigungu_code(index: regions.RegionIndex, text: str | None, code: str | None) -> None:
    assert index.sigungu_code(text) == code


def test_sido_code_and_names(index: regions.RegionIndex) -> None:
    assert index.sido_code("경북 포항시 남구") == "47"
    assert index.sido_code("전라북도") == "52"
    assert index.sido_code("1111000000") == "11"
    assert index.region_name("11110") == "서울특별시 종로구"
    assert index.region_name("1111000000") == "서울특별시 종로구"
    assert index.region_name("45110") == "전북특별자치도 전주시"  # renumbered
    assert index.region_name("11") == "서울특별시"
    assert index.region_name("99999") is None


def test_reference_round_trip_and_kikcd(index: regions.RegionIndex, tmp_path) -> None:  # type: ignore[no-untyped-def]
    regions.save(index, tmp_path / "regions.json")
    again = regions.load(tmp_path / "regions.json")
    assert again.sigungu_code("전라북도 전주시") == "52110"
    if KIKCD.exists():
        kik = regions.build([KIKCD])
        assert kik.sigungu_code("서울특별시 종로구") == "11110"
        assert kik.region_name("1111010100") == "서울특별시 종로구 청운동"


def test_administrative_districts_from_packaged_tables() -> None:
    from dpghub.demo import packaged_data_dir

    packaged = packaged_data_dir()
    if packaged is None:
        unavailable("PublicDataReader's code tables are not installed (make install does it)")
    both = regions.build([packaged / "code_bdong.json", packaged / "code_hdong.json"])
    assert len(both.hdong) > 3000
    assert both.hdong_name("1111051500") == "서울특별시 종로구 청운효자동"  # a 행정동
    assert both.region_name("1111010100") == "서울특별시 종로구 청운동"    # a 법정동
    assert both.sigungu_code("서울특별시 종로구 청운효자동") == "11110"
