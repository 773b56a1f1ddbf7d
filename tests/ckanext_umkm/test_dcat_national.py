"""Outbound DCAT (issue 14, item 2): the national profile ``umkm_sdi`` over the
demo catalogue. Every page and every record validates against the DCAT-AP 3
SHACL shapes; each record type carries its own fields; restricted data
leaves no file address; the catalogue pages, filters and answers
conditional requests."""

from __future__ import annotations

import datetime
import os
import re
import time

import pytest
from ckan.tests import factories, helpers
from ckanext.dcat import logic as dcat_logic
from ckanext.umkm import demo_content
from ckanext.umkm.federation import dcat_profile, uris
from pyshacl import validate
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, PROV, RDF, SKOS

pytestmark = pytest.mark.usefixtures("clean_portal_db", "clean_index", "reference_codes", "empty_access_tables")

SHAPES = "/work/shared/data/shacl-dcat-ap/dcat-ap_3_shacl_shapes.ttl"
SPDX = Namespace("http://spdx.org/rdf/terms#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
EU = "http://publications.europa.eu/resource/authority/"
BNBA = "data-umkm-by-name-by-address-contoh-2023"
FORMATS = {"ttl": "turtle", "rdf": "xml", "jsonld": "json-ld"}


@pytest.fixture()
def demo():
    """The demo catalogue, released: 4 datasets, 1 kegiatan, 18 variabel, 3 indikator."""
    admin = factories.Sysadmin()
    lines = list(demo_content.load(admin["name"]))
    assert sum(line.endswith(": released") for line in lines) == 26, "\n".join(lines)
    return admin


def shacl_violations(text: str, fmt: str = "turtle") -> tuple[int, str]:
    conforms, report, report_text = validate(Graph().parse(data=text, format=fmt), shacl_graph=SHAPES)
    count = len(list(report.subjects(RDF.type, URIRef("http://www.w3.org/ns/shacl#ValidationResult"))))
    return (0 if conforms else count), report_text


def graph_of(app, url: str, fmt: str = "ttl", **kw) -> Graph:
    reply = app.get(url, **kw)
    assert reply.status_code == 200, reply.get_data(as_text=True)[:500]
    return Graph().parse(data=reply.get_data(as_text=True), format=FORMATS[fmt])


def catalogue_pages(app, url: str = "/catalog.ttl", **kw) -> list[tuple[Graph, str]]:
    """Every page of the catalogue, following hydra:next."""
    pages = []
    while url:
        reply = app.get(url, **kw)
        assert reply.status_code == 200, reply.get_data(as_text=True)[:500]
        text = reply.get_data(as_text=True)
        g = Graph().parse(data=text, format="turtle")
        pages.append((g, text))
        nxt = next(g.objects(None, HYDRA.next), None)
        url = str(nxt).replace("http://test.ckan.net", "") if nxt else None
        assert len(pages) < 50
    return pages


def members(g: Graph) -> set[str]:
    catalog = next(g.subjects(RDF.type, DCAT.Catalog))
    return {str(o) for p in (DCAT.dataset, DCAT.resource) for o in g.objects(catalog, p)}


def record_uri(name: str) -> URIRef:
    pkg = helpers.call_action("package_show", id=name)
    return URIRef(f"http://test.ckan.net/dataset/{pkg['id']}")


# --- 1. the whole demo catalogue against DCAT-AP 3 ---------------------------

def test_the_whole_demo_catalogue_has_no_dcat_ap_3_violation(app, demo):
    pages = catalogue_pages(app)
    assert sum(len(members(g)) for g, _ in pages) == 26
    for _, text in pages:
        count, report = shacl_violations(text)
        assert count == 0, report
    for fmt in ("rdf", "jsonld"):
        reply = app.get(f"/catalog.{fmt}")
        count, report = shacl_violations(reply.get_data(as_text=True), FORMATS[fmt])
        assert count == 0, report
    # Each record's own page too.
    names = [p["name"] for p in helpers.call_action("package_search", q="*:*", rows=100)["results"]]
    assert len(names) == 26
    for name in names:
        reply = app.get(f"/dataset/{name}.ttl")
        assert reply.status_code == 200
        count, report = shacl_violations(reply.get_data(as_text=True))
        assert count == 0, f"{name}:\n{report}"


# --- 2. each record type with its own fields ---------------------------------

def _mapped_or_published(g: Graph, subject: URIRef, record_type: str, pkg: dict) -> list[str]:
    """Schema fields with a value that the graph carries neither by a standard
    property (the README table) nor under the MS vocabulary."""
    ms = dcat_profile.ms_namespace()
    missing = []
    for field in dcat_profile.schema_fields(record_type):
        key = field["field_name"]
        if key in dcat_profile.MAPPED[record_type] or key in dcat_profile.UNPUBLISHED:
            continue
        if pkg.get(key) not in (None, "", [], "[]") and (subject, ms[key], None) not in g:
            missing.append(key)
    return missing


@pytest.mark.parametrize("fmt", ["ttl", "rdf", "jsonld"])
def test_each_record_type_serializes_with_its_own_fields(app, demo, fmt):
    site = "http://test.ckan.net"
    keg = record_uri("pendataan-umkm-2023")

    # dataset
    name = "umkm-dki-jakarta-menurut-kategori-kbli-2023"
    ds = record_uri(name)
    g = graph_of(app, f"/dataset/{name}.{fmt}", fmt)
    assert (ds, RDF.type, DCAT.Dataset) in g
    assert (ds, DCTERMS.accessRights, URIRef(f"{EU}access-right/PUBLIC")) in g
    assert (ds, DCTERMS.accrualPeriodicity, URIRef(f"{EU}frequency/ANNUAL")) in g
    assert (ds, DCTERMS.spatial, URIRef(uris.concept_uri("wilayah", "31"))) in g
    assert URIRef(uris.concept_uri("wilayah", "31")).startswith(site)
    assert (ds, DCAT.theme, URIRef(uris.concept_uri("kbli", "G"))) in g
    assert g.value(URIRef(uris.concept_uri("kbli", "G")), SKOS.prefLabel)
    period = g.value(ds, DCTERMS.temporal)
    assert str(g.value(period, DCAT.startDate)) == "2023-01-01" and str(g.value(period, DCAT.endDate)) == "2023-12-31"
    assert {str(v) for v in g.objects(ds, dcat_profile.GEODCATAP.spatialResolutionAsText)} == {"Provinsi", "Province"}
    assert (ds, PROV.wasGeneratedBy, keg) in g and (keg, RDF.type, PROV.Activity) in g
    dims = set(g.objects(ds, dcat_profile.STAT.dimension))
    attrs = set(g.objects(ds, dcat_profile.STAT.attribute))
    assert record_uri("var-kategori-kbli") in dims and record_uri("var-kode-provinsi") in dims
    assert record_uri("var-jumlah-tenaga-kerja") in attrs and record_uri("var-jumlah-umkm") in attrs
    units = {str(g.value(u, SKOS.prefLabel)) for u in g.objects(ds, dcat_profile.STAT.statUnitMeasure)}
    assert units == {"Orang", "Unit usaha"}
    indicator = record_uri("ind-rata-rata-tenaga-kerja-umkm")
    assert (ds, DCTERMS.relation, indicator) in g and (indicator, RDF.type, dcat_profile.DQV.Metric) in g
    publisher = g.value(ds, DCTERMS.publisher)
    assert str(g.value(publisher, dcat_profile.FOAF.name)) == "Dinas PPKUKM Provinsi DKI Jakarta"
    assert g.value(publisher, DCTERMS.type) == dcat_profile.ADMS_PUBLISHER_TYPE.RegionalAuthority
    contact = g.value(ds, DCAT.contactPoint)
    assert str(g.value(contact, dcat_profile.VCARD.fn)) == "Walidata UMKM - Kementerian UMKM"
    dist = g.value(ds, DCAT.distribution)
    assert g.value(dist, DCAT.mediaType) == URIRef("https://www.iana.org/assignments/media-types/text/csv")
    assert g.value(dist, DCTERMS["format"]) == URIRef(f"{EU}file-type/CSV")
    assert g.value(dist, DCTERMS.license) == URIRef(f"{EU}licence/CC_BY_4_0")
    assert "/download/" in str(g.value(dist, DCAT.downloadURL))
    checksum = g.value(dist, SPDX.checksum)
    assert re.fullmatch(r"[0-9a-f]{64}", str(g.value(checksum, SPDX.checksumValue)))
    assert g.value(checksum, SPDX.algorithm) == SPDX.checksumAlgorithm_sha256
    pkg = helpers.call_action("package_show", id=name)
    assert _mapped_or_published(g, ds, "dataset", pkg) == []

    # kegiatan: a PROV activity with its stages, not a dataset
    g = graph_of(app, f"/dataset/pendataan-umkm-2023.{fmt}", fmt)
    assert (keg, RDF.type, PROV.Activity) in g and (keg, RDF.type, DCAT.Dataset) not in g
    assert str(g.value(keg, PROV.startedAtTime)).startswith("2023-01-02")
    assert str(g.value(keg, PROV.endedAtTime)).startswith("2024-07-31")
    assert len(list(g.objects(keg, DCTERMS.hasPart))) == 7
    assert (keg, DCTERMS.accrualPeriodicity, URIRef(f"{EU}frequency/ANNUAL")) in g
    assert str(g.value(keg, dcat_profile.ms_namespace().cara_pengumpulan_data)) == "KOMPILASI_PRODUK_ADMINISTRASI"
    assert "Kepala Bidang Pengelolaan Data" not in g.serialize(format="turtle")  # a person's name stays home
    pkg = helpers.call_action("package_show", id="pendataan-umkm-2023")
    assert _mapped_or_published(g, keg, "kegiatan", pkg) == []

    # variabel: StatDCAT-AP / Data Cube component properties
    var = record_uri("var-skala-usaha")
    g = graph_of(app, f"/dataset/var-skala-usaha.{fmt}", fmt)
    assert (var, RDF.type, dcat_profile.QB.DimensionProperty) in g and (var, RDF.type, DCAT.Dataset) not in g
    codes = g.value(var, dcat_profile.QB.codeList)
    labels = {str(g.value(c, SKOS.prefLabel)) for c in g.objects(codes, SKOS.hasTopConcept)}
    assert labels == {"Usaha mikro", "Usaha kecil", "Usaha menengah"}
    assert (var, PROV.wasGeneratedBy, keg) in g
    pkg = helpers.call_action("package_show", id="var-skala-usaha")
    assert _mapped_or_published(g, var, "variabel", pkg) == []
    var = record_uri("var-jumlah-tenaga-kerja")
    g = graph_of(app, f"/dataset/var-jumlah-tenaga-kerja.{fmt}", fmt)
    assert (var, RDF.type, dcat_profile.QB.AttributeProperty) in g
    assert str(g.value(g.value(var, dcat_profile.SDMX_ATTRIBUTE.unitMeasure), SKOS.prefLabel)) == "Orang"
    var = record_uri("var-kode-wilayah")
    g = graph_of(app, f"/dataset/var-kode-wilayah.{fmt}", fmt)
    assert (var, dcat_profile.QB.codeList, URIRef(uris.scheme_uri("wilayah"))) in g

    # indikator: a DQV metric derived from its variables
    ind = record_uri("ind-jumlah-umkm")
    g = graph_of(app, f"/dataset/ind-jumlah-umkm.{fmt}", fmt)
    assert (ind, RDF.type, dcat_profile.DQV.Metric) in g and (ind, RDF.type, DCAT.Dataset) not in g
    assert (ind, PROV.wasDerivedFrom, record_uri("var-skala-usaha")) in g
    assert (ind, PROV.wasGeneratedBy, keg) in g
    assert str(g.value(g.value(ind, dcat_profile.SDMX_ATTRIBUTE.unitMeasure), SKOS.prefLabel)) == "Unit usaha"
    assert str(g.value(ind, dcat_profile.ms_namespace().interpretasi)).startswith("Makin besar")
    pkg = helpers.call_action("package_show", id="ind-jumlah-umkm")
    assert _mapped_or_published(g, ind, "indikator", pkg) == []


def test_the_catalogue_lists_statistical_metadata_as_resources_and_has_a_publisher(app, demo):
    g = graph_of(app, "/catalog.ttl")
    catalog = next(g.subjects(RDF.type, DCAT.Catalog))
    datasets = set(g.objects(catalog, DCAT.dataset))
    resources = set(g.objects(catalog, DCAT.resource))
    assert len(datasets) == 4 and len(resources) == 22
    assert record_uri("pendataan-umkm-2023") in resources
    assert str(g.value(g.value(catalog, DCTERMS.publisher), dcat_profile.FOAF.name)) == "Walidata UMKM - Kementerian UMKM"
    assert g.value(catalog, DCTERMS.language) == URIRef(f"{EU}language/IND")
    assert (catalog, DCAT.themeTaxonomy, URIRef(uris.scheme_uri("kbli"))) in g
    vocabulary = graph_of(app, "/ns/metadata-statistik")
    assert (dcat_profile.ms_namespace().jenis_data, RDF.type, RDF.Property) in vocabulary


# --- 3. restricted data -------------------------------------------------------

def _no_file_address(text: str, resource_ids: list[str], whole: bool) -> None:
    """No address of the restricted files; a record's own page has no download link at all."""
    assert "bnba-umkm-contoh-2023.csv" not in text
    if whole:
        assert "downloadURL" not in text and "/download" not in text
    for rid in resource_ids:
        assert f"/resource/{rid}/" not in text


def test_restricted_data_is_restricted_with_no_file_address_whoever_asks(app, demo):
    pkg = helpers.call_action("package_show", id=BNBA)
    rids = [r["id"] for r in pkg["resources"]]
    ds = record_uri(BNBA)
    outsider = factories.User()
    helpers.call_action("organization_member_create", id="dinas-ppkukm-dki-jakarta", username=outsider["name"],
                        role="member")
    readers = {"anonymous": {}, "outsider": {"Authorization": factories.APIToken(user=outsider["name"])["token"]},
               "sysadmin": {"Authorization": factories.APIToken(user=demo["name"])["token"]}}
    for who, headers in readers.items():
        for fmt in FORMATS:
            for url in (f"/dataset/{BNBA}.{fmt}", f"/catalog.{fmt}"):
                text = app.get(url, headers=headers).get_data(as_text=True)
                _no_file_address(text, rids, whole=url.startswith("/dataset/"))
                g = Graph().parse(data=text, format=FORMATS[fmt])
                assert (ds, DCTERMS.accessRights, URIRef(f"{EU}access-right/RESTRICTED")) in g, (who, url)
                assert list(g.objects(ds, DCAT.distribution))
                for dist in g.objects(ds, DCAT.distribution):
                    assert (dist, DCAT.downloadURL, None) not in g
                    assert [str(u) for u in g.objects(dist, DCAT.accessURL)] == [
                        f"http://test.ckan.net/dataset/{BNBA}"], (who, url)
        # Another profile chain cannot be asked for.
        reply = app.get(f"/dataset/{BNBA}.ttl?profiles=euro_dcat_ap_3", headers=headers)
        assert reply.status_code == 400
        reply = app.get("/catalog.ttl?profiles=schemaorg", headers=headers)
        assert reply.status_code == 400
    dcat_json = app.get("/dcat.json").get_data(as_text=True)
    _no_file_address(dcat_json, rids, whole=False)


def test_unreleased_records_stay_out_of_the_catalogue(app, demo):
    draft = helpers.call_action("package_create", context={"user": "produsen-demo"},
                                **{**helpers.call_action("package_show", id="var-tahun"), "id": None,
                                   "name": "var-belum-dirilis", "title": "Variabel belum dirilis",
                                   "owner_org": "deputi-usaha-mikro"})
    assert helpers.call_action("package_show", id=draft["id"])["private"]
    text = app.get("/catalog.ttl").get_data(as_text=True)
    assert "belum dirilis" not in text and draft["id"] not in text
    assert app.get("/dataset/var-belum-dirilis.ttl").status_code == 404


# --- 4. paging, modified_since, conditional requests, bad input ---------------

@pytest.mark.ckan_config("ckan.search.rows_max", "5")
@pytest.mark.ckan_config("ckanext.dcat.datasets_per_page", "100")
def test_catalogue_pages_stay_within_rows_max(app, demo):
    pages = catalogue_pages(app)
    assert len(pages) == 6 and all(len(members(g)) <= 5 for g, _ in pages)
    assert len(set().union(*(members(g) for g, _ in pages))) == 26


def test_modified_since_and_conditional_requests(app, demo):
    assert len(members(graph_of(app, "/catalog.ttl?modified_since=2000-01-01"))) == 26
    assert len(members(graph_of(app, "/catalog.ttl?modified_since=2999-01-01T00:00:00%2B07:00"))) == 0
    # Records changed after a moment: only those.
    time.sleep(1)
    stamp = datetime.datetime.now(datetime.UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    time.sleep(1)
    helpers.call_action("package_patch", context={"user": demo["name"]}, id="var-nik", notes="Nomor Induk Kependudukan (diubah).")
    changed = members(graph_of(app, f"/catalog.ttl?modified_since={stamp}Z"))
    assert str(record_uri("var-nik")) in changed and str(record_uri("var-usaha-mikro")) not in changed

    first = app.get("/catalog.ttl")
    # The same graph is the same tag, whatever rdflib names its blank nodes.
    assert app.get("/catalog.ttl").headers["ETag"] == first.headers["ETag"]
    etag, modified = first.headers.get("ETag"), first.headers.get("Last-Modified")
    assert etag and modified
    assert app.get("/catalog.ttl", headers={"If-None-Match": etag}).status_code == 304
    assert app.get("/catalog.ttl", headers={"If-Modified-Since": modified}).status_code == 304
    assert app.get("/catalog.ttl", headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}).status_code == 200
    dataset = app.get(f"/dataset/{BNBA}.ttl")
    assert dataset.headers.get("ETag") and dataset.headers.get("Last-Modified")
    assert app.get(f"/dataset/{BNBA}.ttl", headers={"If-None-Match": dataset.headers["ETag"]}).status_code == 304
    # A change is a new answer.
    helpers.call_action("package_patch", context={"user": demo["name"]}, id="var-tahun", notes="Tahun referensi (diubah).")
    again = app.get("/catalog.ttl", headers={"If-None-Match": etag})
    assert again.status_code == 200 and again.headers["ETag"] != etag


@pytest.mark.parametrize("query", ["page=0", "page=-1", "page=abc", "page=99999999999999999999",
                                   "modified_since=yesterday-ish", "modified_since=99999999999999999999",
                                   "modified_since=0001-01-01", "profiles=nope"])
def test_bad_catalogue_parameters_are_400(app, query):
    reply = app.get(f"/catalog.ttl?{query}")
    assert reply.status_code == 400, reply.get_data(as_text=True)[:300]
    assert app.get("/catalog.exe").status_code == 404
    assert app.get("/dataset/nothing-here.ttl").status_code == 404


def test_the_profile_is_registered_last_in_every_config():
    from ckanext.umkm.federation import dcat_catalog

    assert dcat_catalog.profiles()[-1] == "umkm_sdi"
    root = os.path.join(os.path.dirname(__file__), "..", "..", "config")
    for name in ("test.ini", "ckan.ini.template", "production.ini.template"):
        with open(os.path.join(root, name), encoding="utf-8") as f:
            line = next(li for li in f if li.startswith("ckanext.dcat.rdf.profiles"))
        assert re.search(r"euro_dcat_ap_3 umkm_sdi\}?$", line.strip()), (name, line)


@pytest.mark.parametrize("fmt", ["ttl", "jsonld"])
def test_an_anonymous_page_from_stored_fragments_is_the_whole_graph(app, demo, fmt):
    """Harvesters' pages are joined from per-record fragments kept on disk;
    the result is the graph the profile chain builds for the whole page."""
    from ckanext.umkm.federation import dcat_catalog
    from rdflib.compare import isomorphic

    with app.flask_app.test_request_context(f"/catalog.{fmt}?page=1"):
        query = dcat_catalog.search({"user": ""}, {"page": 1})
        pagination = dcat_logic._pagination_info(query, {"page": 1, "format": fmt})
        whole = dcat_catalog.CatalogSerializer().serialize_catalog({}, query["results"], _format=fmt,
                                                                   pagination_info=pagination)
        cold = dcat_catalog._page_from_fragments(query["results"], pagination, fmt)
        warm = dcat_catalog._page_from_fragments(query["results"], pagination, fmt)
    assert cold == warm  # the second one read the stored fragments
    assert len(query["results"]) == 26
    assert all(os.path.isfile(dcat_catalog._fragment_path(pkg, fmt)) for pkg in query["results"])
    assert isomorphic(Graph().parse(data=whole, format=FORMATS[fmt]), Graph().parse(data=warm, format=FORMATS[fmt]))
    # What the endpoint answers anonymously is that page.
    reply = app.get(f"/catalog.{fmt}?page=1")
    assert isomorphic(Graph().parse(data=reply.get_data(as_text=True), format=FORMATS[fmt]),
                      Graph().parse(data=warm, format=FORMATS[fmt]))


def test_warming_builds_every_public_record_fragment(app, demo):
    """``ckan umkm dcat warm`` (and the worker after each index) builds the
    fragments an anonymous page is joined from."""
    from ckanext.umkm.federation import dcat_catalog

    with app.flask_app.test_request_context("/"):
        assert dcat_catalog.warm() == 26
        public = dcat_catalog.search({"user": ""}, {"page": 1})["results"]
        for pkg in public:
            for fmt in dcat_catalog.FRAGMENT_FORMATS:
                assert os.path.isfile(dcat_catalog._fragment_path(pkg, fmt))
        assert dcat_catalog.warm([public[0]["id"]]) == 1
