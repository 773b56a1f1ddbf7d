"""Datasets created, edited and deleted through CKAN are searched and faceted
by the embedded search service exactly as CKAN expects from Solr."""

import pytest
import requests
from ckan.lib.search.common import SearchQueryError
from ckan.tests import factories
from ckan.tests.helpers import call_action

from . import metadata_records as records

pytestmark = [pytest.mark.usefixtures("with_plugins", "clean_portal_db", "clean_index", "reference_codes")]


def _dataset(owner_org, private=False, **kw):
    """A dataset that meets the portal's schema, released unless private."""
    pkg = factories.Dataset(**records.dataset(owner_org, **kw))
    if not private:
        records.release(pkg["id"])
    return call_action("package_show", id=pkg["id"])


def _search(**kw):
    return call_action("package_search", **kw)


def test_create_search_facet_edit_delete():
    jabar = records.agency(name="dinas-kukm-jabar", title="Dinas KUKM Jawa Barat")
    jatim = records.agency(name="dinas-kukm-jatim", title="Dinas KUKM Jawa Timur")
    a = _dataset(jabar["id"], title="Jumlah Pedagang Pasar Tradisional Kota Bandung",
        tags=[{"name": "perdagangan"}, {"name": "umkm"}],
        resources=[{"url": "http://example.org/a.csv", "format": "CSV"}],
    )
    _dataset(jatim["id"], title="Produksi Kerajinan Batik Kabupaten Sidoarjo",
        tags=[{"name": "industri"}, {"name": "umkm"}],
        resources=[{"url": "http://example.org/b.xlsx", "format": "XLSX"}],
    )

    # Indonesian stemming: "perdagangan" (trade) and "pedagang" (trader) share
    # the stem "dagang"; a search for one finds the other.
    found = _search(q="perdagangan")
    assert [d["name"] for d in found["results"]] == [a["name"]]
    assert _search(q="berdagang")["count"] == 1

    facets = _search(q="*:*", **{"facet.field": '["organization","tags","res_format"]'})
    assert facets["count"] == 2
    assert facets["facets"]["tags"] == {"umkm": 2, "perdagangan": 1, "industri": 1}
    assert facets["facets"]["organization"] == {"dinas-kukm-jabar": 1, "dinas-kukm-jatim": 1}
    assert facets["facets"]["res_format"] == {"CSV": 1, "XLSX": 1}
    only_jatim = _search(fq="organization:dinas-kukm-jatim")
    assert [d["title"] for d in only_jatim["results"]] == ["Produksi Kerajinan Batik Kabupaten Sidoarjo"]

    # Edits and deletes are made by a user, as in the portal (the activity
    # stream records who).
    ctx = {"user": factories.Sysadmin()["name"]}
    call_action("package_patch", context=dict(ctx), id=a["id"], title="Jumlah Pedagang Kaki Lima Kota Bandung")
    assert _search(q="kaki lima")["count"] == 1
    assert _search(q="tradisional")["count"] == 0

    call_action("package_delete", context=dict(ctx), id=a["id"])
    assert _search(q="bandung")["count"] == 0
    assert _search(q="*:*")["count"] == 1


def test_sort_and_paging():
    org = records.agency()
    for title in ("Beta", "Alpha", "Gamma"):
        _dataset(org["id"], title=f"{title} data UMKM")
    res = _search(sort="title_string asc", rows=2)
    assert [d["title"] for d in res["results"]] == ["Alpha data UMKM", "Beta data UMKM"]
    assert res["count"] == 3
    res = _search(sort="title_string asc", rows=2, start=2)
    assert [d["title"] for d in res["results"]] == ["Gamma data UMKM"]
    # Solr's "Can't determine a Sort Order" answer, which CKAN turns into
    # its own "Invalid sort parameter" error (HTTP 409 in the API).
    with pytest.raises(SearchQueryError, match="sort"):
        _search(sort="no_such_field wrongly")


def test_private_dataset_is_never_found_by_outsiders():
    member = factories.User()
    outsider = factories.User()
    org = records.agency(users=[{"name": member["name"], "capacity": "member"}])
    _dataset(org["id"], private=True, title="Data rahasia UMKM")
    _dataset(org["id"], title="Data terbuka UMKM")

    def titles(user):
        ctx = {"user": user["name"] if user else "", "ignore_auth": False}
        res = call_action("package_search", context=ctx, q="umkm", include_private=True,
                          **{"facet.field": '["organization"]'})
        return res["count"], sorted(d["title"] for d in res["results"]), res["facets"]

    assert titles(member)[:2] == (2, ["Data rahasia UMKM", "Data terbuka UMKM"])
    for who in (outsider, None):
        count, found, facets = titles(who)
        assert (count, found) == (1, ["Data terbuka UMKM"])
        assert facets["organization"] == {org["name"]: 1}


def test_dcat_catalog_is_served_from_the_index(live_portal):
    org = records.agency()
    _dataset(org["id"], title="Jumlah Koperasi Aktif 2024")
    ttl = requests.get(f"{live_portal}/catalog.ttl", timeout=30)
    assert ttl.status_code == 200
    assert "Jumlah Koperasi Aktif 2024" in ttl.text
