"""The personal-data scan on real Korean public data: facilities' addresses and telephone
numbers are found for what they are, none of it is taken for a person's identifier, and the
datasets stay open — a scan that closed the public's data by mistake would be worse than none."""

from __future__ import annotations

import pytest

from tests.support.lake import BJD, EV, LIBRARY, POPULATION, Lake


@pytest.mark.acceptance
def test_real_public_data_is_scanned_and_stays_open(lake: Lake) -> None:
    for name, path in (("libraries", LIBRARY), ("chargers", EV), ("bjd", BJD),
                       ("population", POPULATION)):
        lake.create(name, access="open")
        lake.ingest_ok(name, path)
        found = lake.hub.client.get(f"/api/v1/privacy/datasets/molit/{name}/findings").json()
        assert found["direct_columns"] == [], (name, found)
        assert lake.dataset(name)["access"] == "open"
        kinds = {f["column"]: f["kind"] for f in found["findings"]}
        if name == "libraries":
            assert kinds["도서관전화번호"] == "landline"
            assert kinds["소재지도로명주소"] == "address"
        if name in ("bjd", "population"):
            assert kinds == {}, kinds     # codes and counts are nobody's identifiers
