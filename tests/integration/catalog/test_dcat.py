"""The DCAT-AP 3 export validates against the official shapes with zero violations."""

from __future__ import annotations

import pytest
from pyshacl import validate
from rdflib import Graph, Namespace
from rdflib.namespace import DCAT, DCTERMS, RDF

from tests.conftest import SHARED_DATA, unavailable
from tests.support.lake import LIBRARY, Lake

SHAPES = SHARED_DATA / "dcat-ap-3.0.1"
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")


@pytest.fixture
def shapes() -> list[Graph]:
    if not SHAPES.exists():
        unavailable(f"the DCAT-AP 3.0.1 shapes are not at {SHAPES}")
    graphs = []
    for name in ("dcat-ap-SHACL.ttl", "shapes.ttl"):
        graph = Graph()
        graph.parse(SHAPES / name)
        graphs.append(graph)
    return graphs


def test_catalog_and_dataset_exports_conform(lake: Lake, shapes: list[Graph]) -> None:
    lake.create("libraries", title_ko="전국도서관표준데이터", title_en="Public libraries",
                keywords=["도서관", "문화"], license="공공누리 제1유형", theme="culture",
                update_frequency="annual", spatial="전국", temporal_start="2024-01-01",
                temporal_end="2024-12-31", contact_name="문화체육관광부 도서관정책과",
                contact_email="library@mcst.go.kr")
    lake.ingest_ok("libraries", LIBRARY)
    lake.create("empty-one")
    client = lake.hub.client
    turtle = client.get("/catalog.ttl")
    assert turtle.headers["content-type"].startswith("text/turtle")
    data = Graph()
    data.parse(data=turtle.text, format="turtle")
    assert len(list(data.subjects(RDF.type, DCAT.Dataset))) == 2
    for shape in shapes:
        conforms, _, report = validate(data, shacl_graph=shape, allow_warnings=True)
        assert conforms, report
    jsonld = Graph()
    jsonld.parse(data=client.get("/catalog.jsonld").text, format="json-ld")
    assert len(jsonld) == len(data)
    rdfxml = Graph()
    rdfxml.parse(data=client.get("/catalog.rdf").text, format="xml")
    assert len(rdfxml) == len(data)
    one = Graph()
    one.parse(data=client.get("/dataset/molit/libraries.ttl").text, format="turtle")
    conforms, _, report = validate(one, shacl_graph=shapes[1], allow_warnings=True)
    assert conforms, report
    assert client.get("/dataset/molit/libraries.csv").status_code == 404
    # the DCAT metadata arrives as EU vocabulary URIs a harvester can map
    dataset = next(one.subjects(RDF.type, DCAT.Dataset))
    assert str(one.value(dataset, DCAT.theme)).endswith("/data-theme/EDUC")
    assert str(one.value(dataset, DCTERMS.accrualPeriodicity)).endswith("/frequency/ANNUAL")
    licence = one.value(next(one.objects(dataset, DCAT.distribution)), DCTERMS.license)
    assert str(licence) == "https://www.kogl.or.kr/info/licenseType1.do"
    period = one.value(dataset, DCTERMS.temporal)
    assert str(one.value(period, DCAT.startDate)) == "2024-01-01"
    contact = one.value(dataset, DCAT.contactPoint)
    assert str(one.value(contact, VCARD.hasEmail)) == "mailto:library@mcst.go.kr"


def test_unknown_metadata_values_are_refused_by_field(lake: Lake) -> None:
    client = lake.hub.client
    for field, value in (("theme", "weather"), ("license", "아무나 써도 됨"),
                         ("update_frequency", "hourly"), ("contact_email", "not-an-address"),
                         ("temporal_start", "2024-13-01")):
        answer = client.post(f"/api/v1/orgs/{lake.org.slug}/datasets", headers=lake.auth,
                             json={"slug": "xx", "title_ko": "x", field: value})
        assert answer.status_code == 422 and answer.json()["field"] == field, answer.text
    backwards = client.post(f"/api/v1/orgs/{lake.org.slug}/datasets", headers=lake.auth,
                            json={"slug": "xx", "title_ko": "x", "temporal_start": "2024-02-01",
                                  "temporal_end": "2024-01-01"})
    assert backwards.status_code == 422 and "temporal_start" in backwards.text
    made = lake.create("yy", license="공공누리 제3유형", theme="safety")
    assert made["license"] == "KOGL-3" and made["theme"] == "safety"
