"""The code lists as linked data (issue 14): ``/kode/<scheme>/<code>`` in
HTML, Turtle, JSON-LD and RDF/XML, the schemes and their whole-list dumps."""

from __future__ import annotations

import json
import os
import shutil
import time

import pytest
from ckanext.umkm.federation import code_lists, uris
from ckanext.umkm.metadata import reference_codes as rc
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, SKOS

pytestmark = pytest.mark.usefixtures("with_plugins", "clean_portal_db", "reference_codes")

CC = code_lists.CC
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
ODBL = URIRef("https://opendatacommons.org/licenses/odbl/1-0/")


@pytest.fixture()
def dump_storage(tmp_path, ckan_config, monkeypatch):
    """Dumps go to a directory of the test's own, so every run writes them cold."""
    monkeypatch.setitem(ckan_config, "ckan.storage_path", str(tmp_path))
    return tmp_path


def concept(scheme: str, code: str) -> URIRef:
    return URIRef(uris.concept_uri(scheme, code))


def scheme_ref(scheme: str) -> URIRef:
    return URIRef(uris.scheme_uri(scheme))


def fetch_graph(app, url: str, accept: str | None = None, fmt: str = "turtle") -> Graph:
    response = app.get(url, headers={"Accept": accept} if accept else {})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    graph = Graph()
    graph.parse(data=response.get_data(as_text=True), format=fmt, publicID=url)
    return graph


def test_concept_in_turtle_by_content_negotiation(app):
    response = app.get("/kode/wilayah/32.73", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    assert response.mimetype == "text/turtle"
    assert "Accept" in response.headers["Vary"]
    assert response.headers["Content-Location"] == uris.concept_uri("wilayah", "32.73") + ".ttl"
    graph = Graph().parse(data=response.get_data(as_text=True), format="turtle")
    c = concept("wilayah", "32.73")
    assert (c, RDF.type, SKOS.Concept) in graph
    assert graph.value(c, SKOS.prefLabel) == Literal("Kota Bandung", lang="id")
    assert graph.value(c, SKOS.notation) == Literal("32.73")
    assert graph.value(c, SKOS.inScheme) == scheme_ref("wilayah")
    assert set(graph.objects(c, SKOS.broader)) == {concept("wilayah", "32")}
    # The parent and the children are named, so a client needs no second request.
    assert graph.value(concept("wilayah", "32"), SKOS.prefLabel) == Literal("Jawa Barat", lang="id")
    narrower = set(graph.objects(c, SKOS.narrower))
    assert concept("wilayah", "32.73.07") in narrower
    assert len(narrower) == len(rc.children("wilayah", "32.73"))
    assert (code_lists.level_uri("wilayah", "kabupaten_kota"), SKOS.member, c) in graph
    # The edition and the ODbL licence with its attribution travel with every code.
    s = scheme_ref("wilayah")
    assert graph.value(s, OWL.versionInfo) == Literal(rc.editions("wilayah")[0]["edition"])
    assert graph.value(s, DCTERMS.license) == ODBL
    assert "idn-area-data" in str(graph.value(s, CC.attributionName))


def test_concept_in_json_ld(app):
    graph = fetch_graph(app, "/kode/wilayah/32", "application/ld+json", "json-ld")
    c = concept("wilayah", "32")
    assert graph.value(c, SKOS.prefLabel) == Literal("Jawa Barat", lang="id")
    assert concept("wilayah", "32.73") in set(graph.objects(c, SKOS.narrower))
    assert graph.value(c, SKOS.topConceptOf) == scheme_ref("wilayah")
    assert graph.value(c, SKOS.broader) is None
    s = scheme_ref("wilayah")
    assert graph.value(s, DCTERMS.license) == ODBL
    assert graph.value(s, OWL.versionInfo) == Literal("Kepmendagri 300.2.2-2138/2025")
    assert "ODbL" in str(graph.value(s, DCTERMS.bibliographicCitation))
    # Plain JSON clients get JSON-LD too.
    response = app.get("/kode/wilayah/32", headers={"Accept": "application/json"})
    assert response.mimetype == "application/ld+json"
    assert json.loads(response.get_data(as_text=True))["@context"]["skos"] == str(SKOS)


def test_kbli_broader_chain_in_every_format(app):
    chain = []
    code, fmts = "47111", [("ttl", "turtle"), ("jsonld", "json-ld"), ("rdf", "xml"), ("nt", "nt")]
    for i in range(10):
        suffix, parser = fmts[i % len(fmts)]
        graph = fetch_graph(app, f"/kode/kbli/{code}.{suffix}", fmt=parser)
        c = concept("kbli", code)
        assert graph.value(c, SKOS.notation) == Literal(code)
        assert graph.value(c, SKOS.inScheme) == scheme_ref("kbli")
        chain.append(code)
        broader = graph.value(c, SKOS.broader)
        if broader is None:
            assert graph.value(c, SKOS.topConceptOf) == scheme_ref("kbli")
            break
        code = str(graph.value(broader, SKOS.notation))
    assert chain == ["47111", "4711", "471", "47", "G"]
    graph = fetch_graph(app, "/kode/kbli/G?format=ttl")
    assert graph.value(concept("kbli", "G"), SKOS.prefLabel).language == "id"
    assert concept("kbli", "47") in set(graph.objects(concept("kbli", "G"), SKOS.narrower))
    assert graph.value(scheme_ref("kbli"), OWL.versionInfo) == Literal("KBLI 2020 (Peraturan BPS 2/2020)")


def test_concept_page_for_browsers(app):
    response = app.get("/kode/wilayah/32.73", headers={"Accept": BROWSER})
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "Accept" in response.headers["Vary"]
    page = response.get_data(as_text=True)
    assert "Kota Bandung" in page
    assert "Kabupaten/Kota" in page  # the level, in the default locale (id)
    assert 'href="/kode/wilayah/32"' in page and "Jawa Barat" in page
    assert 'href="/kode/wilayah/32.73.07"' in page and "Sukajadi" in page
    assert "Kepmendagri 300.2.2-2138/2025" in page
    assert "Open Database License (ODbL) 1.0" in page and "fityannugroho/idn-area-data" in page
    assert (f'<link rel="alternate" type="text/turtle" href="{uris.concept_uri("wilayah", "32.73")}.ttl"'
            in page)
    assert 'type="application/ld+json"' in page
    assert 'rel="alternate"; type="text/turtle"' in response.headers["Link"]
    # No Accept at all is a browser too.
    assert app.get("/kode/kbli/47111", headers={"Accept": ""}).mimetype == "text/html"
    assert app.get("/kode/kbli/47111.html").mimetype == "text/html"
    english = app.get("/en/kode/wilayah/32.73").get_data(as_text=True)
    assert "Regency/City" in english and "Narrower codes" in english


def test_scheme_documents(app):
    page = app.get("/kode/wilayah", headers={"Accept": BROWSER})
    assert page.status_code == 200 and page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    assert 'href="/kode/wilayah/32"' in text and "Jawa Barat" in text
    assert f'href="{uris.scheme_uri("wilayah")}.ttl"' in text
    assert "83.762" in text  # villages, numbers as written in Bahasa Indonesia
    graph = fetch_graph(app, "/kode/kbli", "text/turtle")
    s = scheme_ref("kbli")
    assert (s, RDF.type, SKOS.ConceptScheme) in graph
    assert len(set(graph.objects(s, SKOS.hasTopConcept))) == rc.counts("kbli")["kategori"] == 21
    assert graph.value(s, DCTERMS.license) == URIRef("https://creativecommons.org/publicdomain/mark/1.0/")
    assert graph.value(s, DCTERMS.source) is not None
    assert Literal("Kode Wilayah Administrasi Pemerintahan", lang="id") in set(
        fetch_graph(app, "/kode/wilayah", "application/rdf+xml", "xml").objects(scheme_ref("wilayah"),
                                                                                  DCTERMS.title))
    assert URIRef(code_lists.dump_url("kbli", "ttl")) in set(graph.objects(s, code_lists.VOID.dataDump))
    index = app.get("/kode").get_data(as_text=True)
    assert 'href="/kode/wilayah"' in index and 'href="/kode/kbli"' in index


def test_canonical_redirects_and_conditional_requests(app):
    response = app.get("/kode/wilayah/3273", follow_redirects=False)
    assert response.status_code == 301
    assert response.headers["Location"].endswith("/kode/wilayah/32.73")
    response = app.get("/kode/kbli/g.ttl?format=ttl", follow_redirects=False)
    assert response.status_code == 301
    assert response.headers["Location"].endswith("/kode/kbli/G.ttl?format=ttl")
    first = app.get("/kode/wilayah/32.73.ttl")
    assert first.headers["ETag"]
    again = app.get("/kode/wilayah/32.73.ttl", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    other = app.get("/kode/wilayah/32.73.jsonld")
    assert other.headers["ETag"] != first.headers["ETag"]


BAD_REQUESTS = [
    ("/kode/wilayah/99.99", {"Accept": "text/turtle"}, 404),
    ("/kode/kbli/99999", {}, 404),
    ("/kode/nope/32", {}, 404),
    ("/kode/nope", {"Accept": "text/turtle"}, 404),
    ("/kode/nope.ttl", {}, 404),
    ("/kode/wilayah/32.73", {"Accept": "image/png"}, 406),
    ("/kode/wilayah", {"Accept": "application/pdf"}, 406),
    ("/kode/wilayah/32.73?format=exe", {}, 400),
    ("/kode/wilayah/" + "3" * 5000, {}, 404),
    ("/kode/wilayah/32%00", {}, 404),
    ("/kode/wilayah/32%0A", {"Accept": "text/turtle"}, 404),
    ("/kode/wilayah/..%2F..%2Fetc%2Fpasswd", {}, 404),
    ("/kode/wilayah/%2e%2e", {}, 404),
    ("/kode/wilayah/<script>", {}, 404),
    ("/kode/kbli/%D9%A3%D9%A2", {}, 404),  # Arabic-Indic digits
    ("/kode/kbli/'%20OR%201=1", {}, 404),
    ("/kode/wilayah/32.73", {"Accept": "text/turtle;q=abc, */*;;;"}, 200),
    ("/kode/" + "w" * 3000 + ".ttl", {}, 404),
]


def test_bad_input_is_refused_with_a_message(app):
    # One test for all cases: each case's own database reset would cost seconds.
    for url, headers, status in BAD_REQUESTS:
        response = app.get(url, headers=headers)
        assert response.status_code == status, (url, headers)
        if status != 200:
            assert response.get_data(as_text=True).strip(), url


def test_not_found_page_in_bahasa_indonesia(app):
    response = app.get("/kode/wilayah/99.99", headers={"Accept": BROWSER})
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "tidak ada dalam daftar kode" in response.get_data(as_text=True)
    plain = app.get("/kode/wilayah/99.99", headers={"Accept": "text/turtle"})
    assert plain.mimetype == "text/plain" and "99.99" in plain.get_data(as_text=True)
    refused = app.get("/kode/wilayah/32", headers={"Accept": "image/png"})
    assert "text/turtle" in refused.get_data(as_text=True)


def total(scheme: str) -> int:
    return sum(rc.counts(scheme).values())


def concepts_of(graph: Graph) -> set:
    return set(graph.subjects(RDF.type, SKOS.Concept))


@pytest.mark.parametrize(("suffix", "parser"), [("ttl", "turtle"), ("jsonld", "json-ld"),
                                                  ("rdf", "xml"), ("nt", "nt")])
def test_kbli_dump_in_every_format(app, dump_storage, suffix, parser):
    response = app.get(f"/kode/kbli.{suffix}")
    assert response.status_code == 200
    assert response.mimetype == code_lists.FORMATS[suffix].media_type
    assert response.headers["ETag"] and response.headers["Last-Modified"]
    graph = Graph().parse(data=response.get_data(), format=parser)
    found = concepts_of(graph)
    assert len(found) == total("kbli")
    assert concept("kbli", "47111") in found
    assert graph.value(concept("kbli", "47111"), SKOS.broader) == concept("kbli", "4711")
    assert concept("kbli", "4711") in set(graph.objects(concept("kbli", "471"), SKOS.narrower))
    assert len(set(graph.objects(code_lists.level_uri("kbli", "kelompok"), SKOS.member))) == \
        rc.counts("kbli")["kelompok"]
    s = scheme_ref("kbli")
    assert graph.value(s, OWL.versionInfo) == Literal(rc.editions("kbli")[0]["edition"])
    assert len(set(graph.objects(s, SKOS.hasTopConcept))) == 21
    # Written once, then served from the file with conditional requests.
    files = sorted(os.listdir(dump_storage / "umkm" / "kode"))
    assert [f for f in files if f.endswith(f".{suffix}")]
    again = app.get(f"/kode/kbli.{suffix}", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    assert sorted(os.listdir(dump_storage / "umkm" / "kode")) == files


def test_wilayah_dump_is_complete_and_keeps_the_attribution(app, dump_storage):
    started = time.perf_counter()
    response = app.get("/kode/wilayah.ttl")
    written = time.perf_counter() - started
    assert response.status_code == 200 and response.mimetype == "text/turtle"
    graph = Graph().parse(data=response.get_data(), format="turtle")
    found = concepts_of(graph)
    assert len(found) == total("wilayah") == 91599
    assert len(set(graph.objects(code_lists.level_uri("wilayah", "desa_kelurahan"), SKOS.member))) == \
        rc.counts("wilayah")["desa_kelurahan"]
    assert graph.value(concept("wilayah", "32.73.07"), SKOS.broader) == concept("wilayah", "32.73")
    assert graph.value(concept("wilayah", "32.73.01.1001"), SKOS.prefLabel).language == "id"
    s = scheme_ref("wilayah")
    assert graph.value(s, DCTERMS.license) == ODBL
    assert "idn-area-data" in str(graph.value(s, CC.attributionName))
    assert len(set(graph.objects(s, SKOS.hasTopConcept))) == 38
    # The second request reads the file: no second generation.
    started = time.perf_counter()
    assert app.get("/kode/wilayah.ttl", headers={"Range": "bytes=0-99"}).status_code == 206
    assert time.perf_counter() - started < written


def test_dump_without_storage_is_unavailable(app, ckan_config, monkeypatch):
    monkeypatch.setitem(ckan_config, "ckan.storage_path", "")
    response = app.get("/kode/kbli.ttl")
    assert response.status_code == 503
    assert "storage_path" in response.get_data(as_text=True)


def test_a_new_edition_gets_a_new_dump(app, dump_storage, tmp_path):
    shipped = os.path.join(rc.REFERENCE_DIR, "kbli-2020")
    directory = tmp_path / "kbli-uji"
    shutil.copytree(shipped, directory)
    with open(directory / "kbli_kategori.csv", encoding="utf-8") as f:
        text = f.read()
    with open(directory / "kbli_kategori.csv", "w", encoding="utf-8") as f:
        f.write(text.replace("Real Estat", "Real Estat (uji)"))
    first = app.get("/kode/kbli.ttl")
    page = app.get("/kode/kbli/L.ttl")
    try:
        rc.load("kbli", str(directory), "KBLI (uji) 2026")
        second = app.get("/kode/kbli.ttl", headers={"If-None-Match": first.headers["ETag"]})
        assert second.status_code == 200 and second.headers["ETag"] != first.headers["ETag"]
        graph = Graph().parse(data=second.get_data(), format="turtle")
        assert graph.value(concept("kbli", "L"), SKOS.prefLabel) == Literal("Real Estat (uji)", lang="id")
        assert graph.value(scheme_ref("kbli"), OWL.versionInfo) == Literal("KBLI (uji) 2026")
        # The old edition's file is gone; a code's document changes its ETag too.
        assert len([f for f in os.listdir(dump_storage / "umkm" / "kode") if f.endswith(".ttl")]) == 1
        assert app.get("/kode/kbli/L.ttl", headers={"If-None-Match": page.headers["ETag"]}).status_code == 200
    finally:
        rc.load("kbli", force=True)
