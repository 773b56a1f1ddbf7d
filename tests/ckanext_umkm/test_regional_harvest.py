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
    test_ini = os.path.join(ROOT, "config", "test.ini")
    ini = tmp_path / "harvesting.ini"
    ini.write_text(HARVESTING.format(test_ini=test_ini) + "\n[loggers]"
                   + open(test_ini, encoding="utf-8").read().split("[loggers]", 1)[1])

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
