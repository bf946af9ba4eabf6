"""The DCAT-AP 3 export validates against the official shapes with zero violations."""

from __future__ import annotations

import pytest
from pyshacl import validate
from rdflib import Graph
from rdflib.namespace import DCAT, RDF

from tests.conftest import SHARED_DATA, unavailable
from tests.integration.lake.conftest import LIBRARY, Lake

SHAPES = SHARED_DATA / "dcat-ap-3.0.1"


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
                keywords=["도서관", "문화"], license="공공누리 제1유형")
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
