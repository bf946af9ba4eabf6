"""Join suggestions between real datasets that share no column by name or by code."""

from __future__ import annotations

from tests.support.lake import LIBRARY, POPULATION, Lake


def test_population_codes_link_to_library_names(lake: Lake) -> None:
    for name, path in (("population", POPULATION), ("libraries", LIBRARY)):
        lake.create(name)
        lake.ingest_ok(name, path)
    answer = lake.hub.client.get("/api/v1/join-suggestions", headers=lake.auth, params={
        "left": "molit/population", "right": "molit/libraries"})
    assert answer.status_code == 200, answer.text
    suggestions = answer.json()["suggestions"]
    pair = next(s for s in suggestions if s["right"] == "시도명 + 시군구명")
    assert pair["left"] == "행정구역" and pair["how"] == "시군구 code"
    assert 0.7 < pair["match_rate"] < 1.0 and pair["left_keys"] == 292
    assert any("(5100000000)" in v for v in pair["unmatched"])  # a 시도 row has no 시군구
    assert pair["join"] == 'ON sigungu_code("행정구역") = sigungu_code("시도명", "시군구명")'
    sql = ('SELECT count(*) FROM molit.population p JOIN molit.libraries l '
           + pair["join"].replace('"행정구역"', 'p."행정구역"')
           .replace('"시도명", "시군구명"', 'l."시도명", l."시군구명"'))
    joined = lake.hub.client.post("/api/v1/query", headers=lake.auth, json={"sql": sql})
    assert joined.status_code == 200 and joined.json()["rows"][0][0] > 2000
