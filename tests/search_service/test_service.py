"""The search service over real HTTP, with pysolr (CKAN's client) where CKAN uses it."""

from __future__ import annotations

import threading

import pysolr
import pytest
import requests

from .conftest import doc

LABELS = "+permission_labels:(public OR member-org-a)"


def ids(res: dict) -> list[str]:
    return [d["id"] for d in res["response"]["docs"]]


def test_pysolr_roundtrip_upsert_delete_and_schema(service):
    solr = pysolr.Solr(service.url, always_commit=True)
    solr.add([doc(1, title="Jumlah UMKM Jawa Barat"), doc(2, title="Koperasi aktif")])
    assert solr.search("*:*").hits == 2
    solr.add([doc(1, title="Jumlah UMKM Jawa Tengah")])  # same index_id: replaced
    res = solr.search("title:tengah", fl="id,title")
    assert [d["id"] for d in res.docs] == ["id-1"] and solr.search("*:*").hits == 2
    solr.delete(id="idx-2")
    assert solr.search("*:*").hits == 1
    solr.delete(q="site_id:test")
    assert solr.search("*:*").hits == 0
    schema = requests.get(f"{service.url}/schema", params={"wt": "schema.xml"}, timeout=5).text
    assert '<schema name="ckan-2.11"' in schema


@pytest.mark.parametrize("q", ["*:*", ") OR *:*", "permission_labels:*", "-permission_labels:public",
                               "capacity:private OR *:*", "_query_:\"{!lucene}*:*\"", "title:secret"])
def test_permission_labels_filter_is_never_escaped(service, q):
    service.add([
        doc("pub", title="Open data"),
        doc("mine", title="Member secret", capacity="private", permission_labels=["member-org-a"]),
        doc("other", title="Other secret", capacity="private", permission_labels=["member-org-b"]),
    ])
    r = requests.get(f"{service.url}/select", params={
        "q": q, "fq": LABELS, "facet": "true", "facet.field": ["capacity", "permission_labels"],
        "wt": "json"}, timeout=10)
    if r.status_code == 400:  # a syntax error is fine; a leak is not
        assert "error" in r.json()
        return
    res = r.json()
    assert "id-other" not in ids(res)
    assert res["response"]["numFound"] <= 2
    facets = res["facet_counts"]["facet_fields"]
    assert "member-org-b" not in facets["permission_labels"][::2]
    assert sum(facets["capacity"][1::2]) == res["response"]["numFound"]


def test_fielded_queries_ranges_wildcards_and_sorting(service):
    service.add([
        doc(1, title="Alpha usaha mikro", tags=["umkm", "mikro"], metadata_modified="2021-05-01T00:00:00Z"),
        doc(2, title="Beta usaha kecil", tags=["umkm"], metadata_modified="2023-05-01T00:00:00Z"),
        doc(3, title="Gamma koperasi", tags=["koperasi"], metadata_modified="2025-05-01T00:00:00Z",
            extras_kode_wilayah="32.73"),
    ])
    assert ids(service.select(q="tags:umkm AND -tags:mikro")) == ["id-2"]
    assert sorted(ids(service.select(q="metadata_modified:[2022-01-01T00:00:00Z TO NOW]"))) == ["id-2", "id-3"]
    assert ids(service.select(q="metadata_modified:{* TO 2023-05-01T00:00:00Z}")) == ["id-1"]
    assert ids(service.select(q="name:name-3*")) == ["id-3"]
    assert ids(service.select(q="extras_kode_wilayah:*")) == ["id-3"]
    assert ids(service.select(q='title:"usaha kecil"')) == ["id-2"]
    assert ids(service.select(q="*:*", sort="metadata_modified desc")) == ["id-3", "id-2", "id-1"]
    assert ids(service.select(q="*:*", sort="title_string asc", rows=2, start=1)) == ["id-2", "id-3"]
    # Free text the way CKAN sends it (dismax, qf boosts, mm), Indonesian stemming.
    res = service.select(q="usaha", defType="dismax", qf="name^4 title^4 tags^2 text", mm="2<-1 5<80%",
                         tie="0.1", fl="id,score")
    assert sorted(ids(res)) == ["id-1", "id-2"] and res["response"]["maxScore"] > 0
    def tag_facet(limit: int) -> list:
        res = service.select(q="*:*", facet="true", **{"facet.field": "tags", "facet.mincount": 1, "facet.limit": limit})
        return res["facet_counts"]["facet_fields"]["tags"]

    # As in Solr: sorted by count when limited, by term when unlimited.
    assert tag_facet(10) == ["umkm", 2, "koperasi", 1, "mikro", 1]
    assert tag_facet(1) == ["umkm", 2]
    assert tag_facet(-1) == ["koperasi", 1, "mikro", 1, "umkm", 2]


def test_ngram_fields_match_substrings_like_solr(service):
    service.add([doc(1, name="jumlah-umkm-bandung", title="Jumlah UMKM Kota Bandung"),
                 doc(2, name="koperasi-aktif", title="Koperasi Aktif Jawa Barat")])
    # package_autocomplete's query: any 2..10-character piece of the name or title
    q = 'name_ngram:"{0}" OR title_ngram:"{0}" OR name:"{0}" OR title:"{0}"'
    assert ids(service.select(q=q.format("bandu"))) == ["id-1"]
    assert ids(service.select(q=q.format("TIF"))) == ["id-2"]
    assert ids(service.select(q="title_ngram:kota title_ngram:bandung", **{"q.op": "AND"})) == ["id-1"]
    assert ids(service.select(q="title_ngram:a")) == []  # shorter than a gram
    assert ids(service.select(q="title_ngram:koperasiaktif")) == []  # longer than a gram
    assert ids(service.select(q="title_ngram:jaw*")) == ["id-2"]


def test_long_stored_values_round_trip_exactly(service):
    data_dict = '{"notes": "' + "Data UMKM \"kabupaten\" " * 400 + '", "x": "\u00e9"}'
    service.add([doc(1, data_dict=data_dict, validated_data_dict=data_dict[:600], notes="n" * 700)])
    got = service.select(q="*:*", fl="id,data_dict,validated_data_dict,notes")["response"]["docs"][0]
    assert got == {"id": "id-1", "data_dict": data_dict, "validated_data_dict": data_dict[:600], "notes": "n" * 700}


def test_pages_sorted_by_id_and_counts_without_cache(service):
    # ckanext-harvest's CKAN harvester: a date range, 100 rows, sorted by id
    service.add([doc(f"{i:03d}", metadata_modified=f"2025-01-{1 + i % 28:02d}T00:00:00Z") for i in range(150)])
    for start in (0, 100):
        res = service.select(q="*:*", fq="metadata_modified:[2025-01-10T00:00:00Z TO *]", sort="id asc",
                             rows=100, start=start)
        want = sorted(f"id-{i:03d}" for i in range(150) if 1 + i % 28 >= 10)
        assert res["response"]["numFound"] == len(want)
        assert ids(res) == want[start:start + 100]
    res = service.select(q="*:*", sort="id desc", rows=3, fl="id")
    assert ids(res) == ["id-149", "id-148", "id-147"] and res["response"]["numFound"] == 150
    assert service.select(q="title:nothing", rows=10)["response"]["numFound"] == 0


def test_form_post_select_with_repeated_parameters(service):
    service.add([doc(1, tags=["a"]), doc(2, tags=["b"]), doc(3, tags=["a", "b"])])
    r = requests.post(f"{service.url}/select", data=[("q", "*:*"), ("fq", "tags:a"), ("fq", "tags:b"),
                                                    ("wt", "json")], timeout=10)
    assert ids(r.json()) == ["id-3"]


def test_errors_in_solr_shape_and_index_intact(service):
    service.add([doc(1)])
    bad = [
        requests.get(f"{service.url}/select", params={"q": "title:(unclosed", "wt": "json"}, timeout=5),
        requests.get(f"{service.url}/select", params={"q": "*:*", "sort": "title_string sideways"}, timeout=5),
        requests.post(f"{service.url}/update", data=b"[{not json", headers={"Content-Type": "application/json"},
                      timeout=5),
        requests.post(f"{service.url}/update", data=b"<delete><id>x</id>", headers={"Content-Type": "text/xml"},
                      timeout=5),
        # One valid and one invalid document: the whole batch is refused.
        service.add([doc(2), {"title": "no index_id"}]),
    ]
    for r in bad:
        assert r.status_code == 400, r.text
        assert r.json()["error"]["code"] == 400 and r.json()["error"]["msg"]
    assert "Can't determine a Sort Order" in bad[1].json()["error"]["msg"]
    assert ids(service.select(q="*:*")) == ["id-1"]
    assert requests.get(service.url.replace("/ckan", "/nope") + "/select", timeout=5).status_code == 404


def test_index_survives_restart_and_kill(service):
    service.add([doc(i) for i in range(50)])
    service.stop()
    service.start()
    assert service.select(q="*:*")["response"]["numFound"] == 50
    service.add([doc("late")])  # committed: must survive even a hard kill
    service.stop(graceful=False)
    service.start()
    assert service.select(q="id:id-late")["response"]["numFound"] == 1


def test_concurrent_readers_and_writers(service):
    errors: list[str] = []

    def writer(n: int) -> None:
        for i in range(20):
            r = service.add([doc(f"{n}-{i}", tags=["t"])], commit=True)
            if r.status_code != 200:
                errors.append(r.text)

    def reader() -> None:
        for _ in range(40):
            r = requests.get(f"{service.url}/select", params={"q": "tags:t", "facet": "true",
                                                              "facet.field": "tags", "wt": "json"}, timeout=10)
            if r.status_code != 200:
                errors.append(r.text)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
    threads += [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert service.select(q="tags:t")["response"]["numFound"] == 60


def test_pages_sorted_by_id_reach_past_one_aggregation(tmp_path, monkeypatch):
    """A string sort reads its values with one aggregation of at most
    MAX_BUCKETS values (65,000: tantivy's limit); a harvester paging 100,000
    records by id (UUIDs) must still get every page. Here the limit is 40 and
    the index holds 150 records."""
    import uuid

    from .conftest import Service, _free_port

    monkeypatch.setenv("UMKM_SEARCH_MAX_BUCKETS", "40")
    svc = Service(f"http://127.0.0.1:{_free_port()}/solr/ckan", str(tmp_path / "index"))
    svc.start()
    try:
        uuids = [str(uuid.UUID(int=(i + 1) * 0x9E3779B97F4A7C15 % 2**128)) for i in range(150)]
        svc.add([doc(i, id=u) for i, u in enumerate(uuids)])
        for order, want in (("asc", sorted(uuids)), ("desc", sorted(uuids, reverse=True))):
            got = []
            for start in range(0, 160, 25):
                res = svc.select(q="*:*", sort=f"id {order}", rows=25, start=start, fl="id")
                assert res["response"]["numFound"] == 150
                got += ids(res)
            assert got == want, order
        # A filtered page past the limit too.
        low = sorted(uuids)[50]
        res = svc.select(q="*:*", fq=f'id:["{low}" TO *]', sort="id asc", rows=10, start=90, fl="id")
        assert ids(res) == sorted(uuids)[140:150]
    finally:
        svc.stop()
