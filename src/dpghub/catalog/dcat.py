"""DCAT-AP 3 export of the registry: the catalogue, its datasets and their distributions.

Every resource the shapes check by class is typed explicitly (publishers as foaf:Agent,
licences as dcterms:LicenseDocument, formats as dcterms:MediaTypeOrExtent, themes as
skos:Concept in the EU data-theme scheme), so the export validates with pyshacl against the
official DCAT-AP 3.0.1 shapes without extra vocabularies.
"""

from __future__ import annotations

from typing import Any

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, SKOS, XSD

from ..lake import vocabulary
from ..lake.models import Dataset

VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
EU_FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
EU_LANGUAGE = "http://publications.europa.eu/resource/authority/language/"
FORMATS = {"csv": "CSV", "json": "JSON", "parquet": "PARQUET", "xml": "XML"}
MEDIA = {"csv": "text/csv", "json": "application/json", "parquet": "application/vnd.apache.parquet",
         "xml": "application/xml"}


def catalog_graph(base: str, datasets: list[Dataset], *, title: str = "DPG Hub",
                  page: dict[str, Any] | None = None) -> Graph:
    graph = _graph()
    catalog = URIRef(f"{base}/catalog")
    graph.add((catalog, RDF.type, DCAT.Catalog))
    graph.add((catalog, DCTERMS.title, Literal("디지털플랫폼정부 허브", lang="ko")))
    graph.add((catalog, DCTERMS.title, Literal(title, lang="en")))
    graph.add((catalog, DCTERMS.description, Literal(
        "공공기관과 기업이 공개한 데이터와 API의 목록", lang="ko")))
    graph.add((catalog, DCTERMS.description, Literal(
        "Data and APIs published by public agencies and companies", lang="en")))
    publisher = URIRef(f"{base}/#publisher")
    graph.add((catalog, DCTERMS.publisher, publisher))
    graph.add((publisher, RDF.type, FOAF.Agent))
    graph.add((publisher, FOAF.name, Literal("DPG Hub")))
    graph.add((catalog, FOAF.homepage, URIRef(f"{base}/")))
    graph.add((URIRef(f"{base}/"), RDF.type, FOAF.Document))
    graph.add((catalog, DCTERMS.language, URIRef(EU_LANGUAGE + "KOR")))
    graph.add((URIRef(EU_LANGUAGE + "KOR"), RDF.type, DCTERMS.LinguisticSystem))
    for dataset in datasets:
        node = add_dataset(graph, base, dataset)
        graph.add((catalog, DCAT.dataset, node))
    if page:
        hydra = Namespace("http://www.w3.org/ns/hydra/core#")
        view = URIRef(page["self"])
        graph.add((view, RDF.type, hydra.PartialCollectionView))
        if page.get("next"):
            graph.add((view, hydra.next, URIRef(page["next"])))
        graph.add((view, hydra.totalItems, Literal(page["total"], datatype=XSD.integer)))
    return graph


def dataset_graph(base: str, dataset: Dataset) -> Graph:
    graph = _graph()
    add_dataset(graph, base, dataset)
    return graph


def _graph() -> Graph:
    graph = Graph()
    graph.bind("dcat", DCAT)
    graph.bind("dct", DCTERMS)
    graph.bind("foaf", FOAF)
    graph.bind("vcard", VCARD)
    graph.bind("skos", SKOS)
    return graph


def add_dataset(graph: Graph, base: str, dataset: Dataset) -> URIRef:
    org = dataset.organization
    ref = f"{org.slug}/{dataset.slug}"
    node = URIRef(f"{base}/dataset/{ref}")
    graph.add((node, RDF.type, DCAT.Dataset))
    graph.add((node, DCTERMS.identifier, Literal(ref)))
    graph.add((node, DCTERMS.title, Literal(dataset.title_ko, lang="ko")))
    if dataset.title_en:
        graph.add((node, DCTERMS.title, Literal(dataset.title_en, lang="en")))
    description = dataset.description_ko or dataset.title_ko
    graph.add((node, DCTERMS.description, Literal(description, lang="ko")))
    if dataset.description_en:
        graph.add((node, DCTERMS.description, Literal(dataset.description_en, lang="en")))
    for keyword in dataset.keywords:
        graph.add((node, DCAT.keyword, Literal(keyword, lang="ko")))
    publisher = URIRef(f"{base}/orgs/{org.slug}")
    graph.add((node, DCTERMS.publisher, publisher))
    graph.add((publisher, RDF.type, FOAF.Agent))
    graph.add((publisher, FOAF.name, Literal(org.name_ko, lang="ko")))
    graph.add((publisher, FOAF.name, Literal(org.name_en, lang="en")))
    contact = BNode()
    graph.add((node, DCAT.contactPoint, contact))
    graph.add((contact, RDF.type, VCARD.Kind))
    graph.add((contact, RDF.type, VCARD.Organization))
    graph.add((contact, VCARD.fn, Literal(dataset.contact_name or org.name_ko, lang="ko")))
    graph.add((contact, VCARD.hasURL, URIRef(f"{base}/orgs/{org.slug}")))
    if dataset.contact_email:
        graph.add((contact, VCARD.hasEmail, URIRef(f"mailto:{dataset.contact_email}")))
    _describe(graph, node, dataset)
    graph.add((node, DCAT.landingPage, URIRef(f"{base}/datasets/{ref}")))
    graph.add((URIRef(f"{base}/datasets/{ref}"), RDF.type, FOAF.Document))
    graph.add((node, DCTERMS.issued, Literal(dataset.created_at.isoformat(),
                                             datatype=XSD.dateTime)))
    graph.add((node, DCTERMS.modified, Literal(dataset.updated_at.isoformat(),
                                               datatype=XSD.dateTime)))
    if dataset.current_version:
        graph.add((node, URIRef(str(DCAT) + "version"), Literal(str(dataset.current_version))))
    licence = None
    if dataset.license:
        term = vocabulary.LICENCES.get(dataset.license)
        licence = URIRef(term.eu if term and term.eu
                         else f"{base}/licences/{_slug(dataset.license)}")
        graph.add((licence, RDF.type, DCTERMS.LicenseDocument))
        graph.add((licence, DCTERMS.title, Literal(
            vocabulary.licence_label(dataset.license, "ko"), lang="ko")))
        graph.add((licence, DCTERMS.title, Literal(
            vocabulary.licence_label(dataset.license, "en"), lang="en")))
    rows = f"{base}/api/v1/datasets/{ref}/rows"
    for fmt in ("json", "csv", "parquet", "xml"):
        dist = URIRef(f"{base}/dataset/{ref}/distribution/{fmt}")
        graph.add((node, DCAT.distribution, dist))
        graph.add((dist, RDF.type, DCAT.Distribution))
        access = URIRef(f"{rows}?format={fmt}")
        graph.add((dist, DCAT.accessURL, access))
        graph.add((dist, DCTERMS.title, Literal(f"{dataset.title_ko} ({fmt.upper()})",
                                                lang="ko")))
        form = URIRef(EU_FILE_TYPE + FORMATS[fmt])
        graph.add((dist, DCTERMS.format, form))
        graph.add((form, RDF.type, DCTERMS.MediaTypeOrExtent))
        media = URIRef(f"https://www.iana.org/assignments/media-types/{MEDIA[fmt]}")
        graph.add((dist, DCAT.mediaType, media))
        graph.add((media, RDF.type, DCTERMS.MediaType))
        if licence is not None:
            graph.add((dist, DCTERMS.license, licence))
    return node


def _describe(graph: Graph, node: URIRef, dataset: Dataset) -> None:
    """Theme, update frequency and coverage, as EU vocabulary URIs where one exists."""
    theme = vocabulary.THEMES.get(dataset.theme)
    if theme is not None:
        concept = URIRef(vocabulary.EU_THEME + theme.eu)
        graph.add((node, DCAT.theme, concept))
        scheme = URIRef(vocabulary.EU_THEME.rstrip("/"))
        graph.add((concept, RDF.type, SKOS.Concept))
        graph.add((concept, SKOS.prefLabel,
                   Literal(vocabulary.EU_THEME_LABELS[theme.eu], lang="en")))
        graph.add((concept, SKOS.inScheme, scheme))
        graph.add((scheme, RDF.type, SKOS.ConceptScheme))
        graph.add((scheme, DCTERMS.title, Literal("Data theme", lang="en")))
        graph.add((node, DCAT.keyword, Literal(theme.ko, lang="ko")))
    frequency = vocabulary.FREQUENCIES.get(dataset.update_frequency)
    if frequency is not None:
        period = URIRef(vocabulary.EU_FREQUENCY + frequency.eu)
        graph.add((node, DCTERMS.accrualPeriodicity, period))
        graph.add((period, RDF.type, DCTERMS.Frequency))
    if dataset.spatial:
        place = BNode()
        graph.add((node, DCTERMS.spatial, place))
        graph.add((place, RDF.type, DCTERMS.Location))
        graph.add((place, SKOS.prefLabel, Literal(dataset.spatial, lang="ko")))
    if dataset.temporal_start or dataset.temporal_end:
        period_node = BNode()
        graph.add((node, DCTERMS.temporal, period_node))
        graph.add((period_node, RDF.type, DCTERMS.PeriodOfTime))
        if dataset.temporal_start:
            graph.add((period_node, DCAT.startDate,
                       Literal(dataset.temporal_start.isoformat(), datatype=XSD.date)))
        if dataset.temporal_end:
            graph.add((period_node, DCAT.endDate,
                       Literal(dataset.temporal_end.isoformat(), datatype=XSD.date)))


def _slug(text: str) -> str:
    from urllib.parse import quote

    return quote(text.replace(" ", "-"), safe="-")
