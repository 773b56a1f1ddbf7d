"""Federation, inbound (issue 14, item 4): a regency runs its own CKAN (a
second CKAN 2.11 instance here, stock plugins only); this portal harvests it
with ``umkm_ckan_harvester`` into its own schema: a first harvest, an update,
a deletion, and a malformed record that is reported and skipped while the
rest imports. Unknown codes are reported by field and never reach facets."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from ckan.logic import ValidationError
from ckan.tests import factories, helpers
from ckanext.umkm.federation import inbound

from . import metadata_records as records
from .conftest import ROOT
from .other_portal import OtherPortal, other_portal

pytestmark = pytest.mark.usefixtures("clean_portal_db", "clean_index", "reference_codes", "empty_access_tables")

HARVESTING = """[app:main]
use = config:{test_ini}
# The regency's portal of this test listens on the loopback address.
ckanext.umkm.egress.allowed_hosts = 127.0.0.1
"""


def _harvesting_ini(tmp_path) -> str:
    test_ini = os.environ.get("CKAN_INI") or os.path.join(ROOT, "config", "test.ini")
    ini = tmp_path / "harvesting.ini"
    ini.write_text(HARVESTING.format(test_ini=test_ini) + "\n[loggers]"
                   + open(test_ini, encoding="utf-8").read().split("[loggers]", 1)[1])
    return str(ini)


def _harvest(ini: str, source: str) -> dict:
    done = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ckan"), "-c", ini, "harvester",
                           "run-test", source], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    job = helpers.call_action("harvest_source_show_status", id=helpers.call_action(
        "harvest_source_show", id=source)["id"])["last_job"]
    return helpers.call_action("harvest_job_report", id=job["id"])


def _regional(regency: OtherPortal, org: str, name: str, **extras) -> dict:
    return regency.api("package_create", name=name, title=name.replace("-", " ").title(), owner_org=org,
                       notes=f"Data {name} dari Dinas Koperasi dan UMKM Kabupaten Bandung.",
                       extras=[{"key": k, "value": v} for k, v in extras.items()],
                       resources=[{"url": f"https://data.bandungkab.go.id/{name}.csv", "name": f"{name}.csv",
                                   "format": "CSV"}])


def _public(pkg_id: str) -> dict | None:
    try:
        return helpers.call_action("package_show", context={"user": "", "ignore_auth": False}, id=pkg_id)
    except Exception:  # noqa: BLE001 - not found or not authorized: not public
        return None


def test_a_regency_portal_is_harvested_into_our_schema(tmp_path):
    admin = factories.Sysadmin()
    agency = records.agency(name="diskumkm-kab-bandung", title="Dinas Koperasi dan UMKM Kabupaten Bandung",
                            jenis_instansi="PEMERINTAH_KABUPATEN_KOTA", kode_wilayah="32.04")
    ini = _harvesting_ini(tmp_path)

    with other_portal(str(tmp_path), "kabbandung", "Portal Data Kabupaten Bandung", "", redis_db=10) as regency:
        org = regency.api("organization_create", name="diskumkm", title="Diskumkm Kab. Bandung")["id"]
        counts = _regional(regency, org, "jumlah-umkm-per-kecamatan-2024", accessRights="terbuka",
                           accrualPeriodicity="TAHUNAN", tahun_kegiatan="2024",
                           cakupan_wilayah="32.04.05, 99.99", sektor_kbli="47111")
        coached = _regional(regency, org, "umkm-binaan-2024", accrualPeriodicity="sebulan-sekali")
        broken = _regional(regency, org, "data-rusak", temporal_start="bukan-tanggal")
        source = helpers.call_action("harvest_source_create", context={"user": admin["name"]},
                                     name="portal-kab-bandung", title="Portal Data Kabupaten Bandung",
                                     url=regency.url, source_type="ckan", owner_org=agency["id"],
                                     frequency="MANUAL", config=json.dumps({"trusted": True}))

        # 1. First harvest: two records released, the malformed one reported.
        report = _harvest(str(ini), source["name"])
        errors = json.dumps(report["object_errors"])
        assert "temporal_start" in errors and broken["id"] in errors, errors
        assert "cakupan_wilayah" in errors and "99.99" in errors, errors  # reported by field
        assert "accrualPeriodicity" in errors, errors
        mine = helpers.call_action("package_show", id=inbound.local_id(regency.url, counts["id"]))
        assert mine["id"] != counts["id"]  # never the remote id: no collision is possible
        assert mine["name"] == counts["name"] and mine["owner_org"] == agency["id"]
        assert mine["cakupan_wilayah"] == ["32.04.05"] and mine["sektor_kbli"] == ["47111"]
        assert mine["accessRights"] == "terbuka" and mine["accrualPeriodicity"] == "TAHUNAN"
        assert mine["temporal_start"] == "2024-01-01"
        assert mine["harvest_source_url"] == regency.url
        assert mine["harvest_original_url"] == f"{regency.url}/dataset/{counts['name']}"
        assert mine["harvested_at"]
        assert mine["produsen_data_city_code"] == "3204"
        assert _public(mine["id"]) is not None  # a trusted source: released at once
        other = helpers.call_action("package_show", id=inbound.local_id(regency.url, coached["id"]))
        assert other["accrualPeriodicity"] == "TIDAK_TERATUR"
        assert helpers.call_action("package_search", q="name:data-rusak")["count"] == 0
        facets = helpers.call_action("package_search", q="*:*", **{"facet.field": '["vocab_umkm_provinsi"]'})
        assert set(facets["facets"]["vocab_umkm_provinsi"]) == {"32"}

        # 2. An update upstream reaches us; 3. a deletion upstream withdraws ours.
        regency.api("package_patch", id=counts["id"], notes="Diperbarui oleh kabupaten.")
        regency.api("package_delete", id=coached["id"])
        _harvest(str(ini), source["name"])
        assert _public(mine["id"])["notes"] == "Diperbarui oleh kabupaten."
        assert _public(other["id"]) is None
        assert helpers.call_action("umkm_release_show", id=other["id"])["state"] == "withdrawn"


def test_an_untrusted_source_sends_records_into_the_workflow():
    """Without ``trusted``, a harvested record is the agency's draft."""
    agency = records.agency(name="diskumkm-kota-bandung", jenis_instansi="PEMERINTAH_KABUPATEN_KOTA",
                            kode_wilayah="32.73")

    class Source:
        id = "not-a-package"
        url = "https://data.bandung.go.id"
        owner_org = agency["id"]
        config = "{}"

    mapped, problems = inbound.map_dataset({"id": "abc", "name": "umkm", "title": "UMKM",
                                            "metadata_created": "2024-03-01T08:00:00",
                                            "extras": [{"key": "sektor_kbli", "value": "Z9"}]}, Source)
    assert problems == ["sektor_kbli: 'Z9' is not a code of kbli; left out"]
    created = helpers.call_action("package_create", context={"user": factories.Sysadmin()["name"]}, **mapped)
    assert created["private"] is True
    assert helpers.call_action("umkm_release_show", id=created["id"])["state"] == "draft"
    with pytest.raises(inbound.MappingError):
        inbound.map_dataset({"id": "x", "extras": [{"key": "bentuk_data", "value": "BNBA"}]}, Source)


def test_provenance_links_are_web_addresses_only():
    agency = records.agency()
    with pytest.raises(ValidationError) as e:
        helpers.call_action("package_create", context={"user": factories.Sysadmin()["name"]}, **records.dataset(
            agency["id"], name="asal-palsu", harvest_original_url="javascript:alert(document.cookie)"))
    assert "harvest_original_url" in e.value.error_dict


DCAT = """@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<https://data.bandung.go.id/catalog> a dcat:Catalog ;
    dcat:dataset <https://data.bandung.go.id/dataset/umkm-binaan> .
<https://data.bandung.go.id/dataset/umkm-binaan> a dcat:Dataset ;
    dct:identifier "umkm-binaan-2024" ;
    dct:title "UMKM Binaan Kota Bandung 2024" ;
    dct:description "Jumlah UMKM binaan Dinas Koperasi dan UKM Kota Bandung." ;
    dct:accessRights <http://publications.europa.eu/resource/authority/access-right/PUBLIC> ;
    dct:accrualPeriodicity <http://publications.europa.eu/resource/authority/frequency/ANNUAL> ;
    dct:spatial <https://satudata.umkm.go.id/kode/wilayah/32.73> ;
    dcat:theme <https://satudata.umkm.go.id/kode/kbli/47111>, <https://satudata.umkm.go.id/kode/kbli/99999> ;
    dct:temporal [ a dct:PeriodOfTime ; dcat:startDate "2024-01-01"^^xsd:date ; dcat:endDate "2024-12-31"^^xsd:date ] ;
    dcat:distribution [ a dcat:Distribution ; dct:title "umkm-binaan.csv" ;
        dcat:downloadURL <https://data.bandung.go.id/umkm-binaan.csv> ; dct:format "CSV" ] .
"""


@pytest.fixture()
def dcat_portal():
    """A city's DCAT catalogue (not CKAN), served over HTTP."""
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            body = DCAT.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/turtle")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/catalog.ttl"
    server.shutdown()


def test_a_dcat_portal_is_harvested_with_the_same_mapping(tmp_path, dcat_portal):
    admin = factories.Sysadmin()
    agency = records.agency(name="diskumkm-kota-bandung", jenis_instansi="PEMERINTAH_KABUPATEN_KOTA",
                            kode_wilayah="32.73")
    source = helpers.call_action("harvest_source_create", context={"user": admin["name"]}, name="dcat-kota-bandung",
                                 title="Katalog Kota Bandung", url=dcat_portal, source_type="dcat_rdf",
                                 owner_org=agency["id"], frequency="MANUAL", config=json.dumps({"trusted": True}))
    report = _harvest(_harvesting_ini(tmp_path), source["name"])
    errors = json.dumps(report["object_errors"])
    assert "sektor_kbli" in errors and "99999" in errors, errors
    found = helpers.call_action("package_search", q="title:Binaan", include_private=True)["results"]
    assert len(found) == 1, found
    mine = helpers.call_action("package_show", id=found[0]["id"])
    assert mine["owner_org"] == agency["id"] and mine["accessRights"] == "terbuka"
    assert mine["accrualPeriodicity"] == "TAHUNAN"
    assert mine["cakupan_wilayah"] == ["32.73"] and mine["sektor_kbli"] == ["47111"]
    assert mine["temporal_start"] == "2024-01-01"
    assert mine["harvest_source_url"] == dcat_portal
    assert mine["harvest_original_url"] == "https://data.bandung.go.id/dataset/umkm-binaan"
    assert [r["url"] for r in mine["resources"]] == ["https://data.bandung.go.id/umkm-binaan.csv"]
    assert _public(mine["id"]) is not None  # trusted: released


class _Stub:
    """A source that answers whatever the test sets, on the loopback address."""

    def __init__(self) -> None:
        import http.server
        import threading

        stub = self
        self.body, self.content_type = b"", "application/json"

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                self.send_response(200)
                self.send_header("Content-Type", stub.content_type)
                self.send_header("Content-Length", str(len(stub.body)))
                self.end_headers()
                self.wfile.write(stub.body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"


BAD_SOURCES = {  # case: (source type, content type, body, what the job's error says)
    "malformed JSON": ("ckan", "application/json", b'{"result": {"results": [ {"id": "a", ', "not JSON"),
    "not a CKAN answer": ("ckan", "text/html", b"<html>Bukan API</html>", "not JSON"),
    "a huge answer": ("ckan", "application/json", b'{"result": {"results": [], "x": "' + b"x" * (3 * 2**20) + b'"}}',
                      "lebih besar dari 1 MB"),
    "malformed RDF": ("dcat_rdf", "text/turtle", b"<https://a.example> a <broken .", "Error parsing the RDF"),
    "unreachable": ("ckan", None, b"", "Error sending request"),
}


@pytest.mark.parametrize("case", sorted(BAD_SOURCES))
def test_a_bad_source_is_reported_in_the_job_and_imports_nothing(tmp_path, case):
    kind, content_type, body, says = BAD_SOURCES[case]
    stub = _Stub()
    url = stub.url
    if content_type is None:  # nobody listens there any more
        stub.server.shutdown()
        stub.server.server_close()
    else:
        stub.content_type, stub.body = content_type, body
    admin = factories.Sysadmin()
    agency = records.agency(kode_wilayah="32.04", jenis_instansi="PEMERINTAH_KABUPATEN_KOTA")
    source = helpers.call_action("harvest_source_create", context={"user": admin["name"]},
                                 name="sumber-rusak", title="Sumber rusak", url=url + "/catalog",
                                 source_type=kind, owner_org=agency["id"], frequency="MANUAL")
    path = tmp_path / "bad.ini"
    path.write_text(open(_harvesting_ini(tmp_path)).read().replace(
        "ckanext.umkm.egress.allowed_hosts = 127.0.0.1\n",
        "ckanext.umkm.egress.allowed_hosts = 127.0.0.1\nckanext.umkm.harvest.max_mb = 1\n"))
    report = _harvest(str(path), source["name"])  # the command itself succeeds
    assert says in json.dumps(report["gather_errors"]), report
    before = helpers.call_action("package_search", q="*:*", include_private=True,
                                 fq="dataset_type:dataset")["count"]
    assert before == 0
