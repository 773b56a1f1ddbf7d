"""Federation, outbound over the CKAN API (issue 14, item 1): a second CKAN
2.11 instance, "the national portal", runs ckanext-harvest's stock
``ckan_harvester`` with the national schema (national/sdi_dataset.yaml) and
harvests this portal over HTTP as SDI does: everything the first time, then
only what changed since the last harvest."""

from __future__ import annotations

import json
import os
from urllib.parse import urlparse

import pytest
import requests
import yaml
from ckan.tests import factories, helpers
from ckanext.umkm import demo_content

from .conftest import ROOT
from .other_portal import OtherPortal, other_portal

pytestmark = pytest.mark.usefixtures("clean_portal_db", "clean_index", "reference_codes", "empty_access_tables")

SCHEMA = os.path.join(ROOT, "tests", "ckanext_umkm", "national", "sdi_dataset.yaml")
NATIONAL_KEYS = [f["field_name"] for f in yaml.safe_load(open(SCHEMA, encoding="utf-8"))["dataset_fields"]
                 if f["field_name"] not in ("title", "name", "notes", "owner_org")]
RELEASED = "jumlah-umkm-menurut-provinsi-2023"
RESTRICTED = "data-umkm-by-name-by-address-contoh-2023"


def _ours(base: str, action: str, **params) -> dict:
    r = requests.get(f"{base}/api/3/action/{action}", params=params, timeout=30)
    assert r.ok, r.text[:500]
    return r.json()["result"]


def _harvest(sdi: OtherPortal, source_id: str) -> dict:
    sdi.cli("harvester", "run-test", source_id)
    status = sdi.api("harvest_source_show_status", id=source_id)
    job = status["last_job"]
    report = sdi.api("harvest_job_report", id=job["id"])
    assert not report["gather_errors"] and not report["object_errors"], json.dumps(report, indent=1)[:3000]
    return job


def _national(sdi: OtherPortal) -> dict[str, dict]:
    found = sdi.api("package_search", q="*:*", rows=1000, include_private=True)["results"]
    return {p["id"]: p for p in found}


def _copy_of(source: str, **changes) -> dict:
    shown = helpers.call_action("package_show", id=source)
    keep = {k: v for k, v in shown.items() if k not in (
        "id", "name", "resources", "metadata_created", "metadata_modified", "revision_id", "organization",
        "state", "private", "num_resources", "num_tags", "creator_user_id")}
    keep.update(changes)
    return helpers.call_action("package_create", context={"user": "produsen-demo"}, **keep)


def _release(name: str) -> str:
    """Through the workflow; a copy without a file passes on a justification."""
    for transition, user, extra in (("submit", "produsen-demo", {}), ("pass", "walidata-demo", {}),
                                    ("approve", "forum-demo", {"justification": "Metadata saja (uji)"})):
        state = helpers.call_action(f"umkm_release_{transition}", context={"user": user, "ignore_auth": False},
                                    id=name, **extra)["state"]
    return state


def _same(national: dict, ours: dict) -> list[str]:
    """National keys whose values differ (the national side stores text)."""
    def text(value):
        return None if value in (None, "", []) else str(value)
    return [f"{k}: ours {ours.get(k)!r}, national {national.get(k)!r}" for k in NATIONAL_KEYS
            if text(national.get(k)) != text(ours.get(k))]


def test_the_national_portal_harvests_every_release_and_nothing_else(live_portal, tmp_path, ckan_config,
                                                                    monkeypatch):
    # Records indexed here carry links as the served portal writes them.
    monkeypatch.setitem(ckan_config, "ckan.site_url", live_portal)
    admin = factories.Sysadmin()
    list(demo_content.load(admin["name"]))
    draft = _copy_of(RELEASED, name="umkm-draf-belum-rilis", title="Draf yang belum dirilis")
    closed = _copy_of(RELEASED, name="umkm-tertutup", title="Data tertutup", accessRights="tertutup")
    try:
        _release(closed["name"])
    except Exception:  # noqa: BLE001 - refused or not, it must not cross
        pass

    extra = (f"scheming.dataset_schemas = file://{SCHEMA}\n"
             "scheming.presets = ckanext.scheming:presets.json\n"
             "ckan.harvest.mq.type = redis")
    with other_portal(str(tmp_path), "national", "Portal Satu Data Indonesia",
                      "harvest ckan_harvester scheming_datasets", extra=extra) as sdi:
        org = sdi.api("organization_create", name="sekretariat-sdi", title="Sekretariat SDI")
        source = sdi.api("harvest_source_create", name="portal-satu-data-umkm", title="Portal Satu Data UMKM",
                         url=live_portal, source_type="ckan", owner_org=org["id"], frequency="MANUAL",
                         config=json.dumps({"remote_orgs": "create"}))

        # 1. The first harvest: every released aggregate dataset, nothing else.
        _harvest(sdi, source["id"])
        ours = {p["id"]: p for p in _ours(live_portal, "package_search", rows=1000)["results"]}
        assert {p["type"] for p in ours.values()} == {"dataset"}
        assert RELEASED in {p["name"] for p in ours.values()}
        national = _national(sdi)
        assert set(national) == set(ours)
        assert draft["id"] not in national and closed["id"] not in national
        for pkg_id, found in ours.items():
            mine = _ours(live_portal, "package_show", id=pkg_id)
            theirs = sdi.api("package_show", id=pkg_id)
            assert theirs["name"] == mine["name"] and theirs["title"] == mine["title"]
            assert set(NATIONAL_KEYS) <= set(found), set(NATIONAL_KEYS) - set(found)  # search carries them
            assert _same(theirs, mine) == [], (mine["name"], _same(theirs, mine))
        shown = sdi.api("package_show", id=RELEASED)
        assert shown["accessRights"] == "terbuka" and shown["jenis"] == "statistik"
        assert shown["id_mskeg"] and shown["judul_kegiatan"] and shown["i_instansi_penyelanggara"]
        assert int(shown["total_msvar"]) > 0 and shown["status_review_pembina"] == "approved"
        assert shown["kodereferensi"].startswith(live_portal + "/kegiatan/")
        # The producer is the organization on the national side.
        assert shown["organization"]["title"] == helpers.call_action("package_show", id=RELEASED)[
            "organization"]["title"]
        # A restricted dataset's metadata crosses, no file URL of it does.
        restricted = sdi.api("package_show", id=RESTRICTED)
        assert restricted["accessRights"] == "terbatas"
        here = urlparse(live_portal).netloc
        urls = [r.get("url") for r in restricted["resources"]]
        assert restricted["resources"] and all(not u or here not in u for u in urls), urls
        assert here not in json.dumps(restricted["resources"])

        # 2. Changes: an update in place, a new release, a withdrawal and a
        # new version replacing a release; the next harvest takes only those.
        helpers.call_action("package_patch", context={"user": admin["name"]}, id=RELEASED,
                            notes="Diperbarui: catatan metodologi.")
        fresh = _copy_of(RELEASED, name="umkm-rilis-baru", title="Rilis baru setelah panen pertama")
        assert _release(fresh["name"]) == "released"
        others = [p for p in ours.values() if p["name"] not in (RELEASED, RESTRICTED)]
        withdrawn, revised = others[0], others[1]
        helpers.call_action("umkm_release_withdraw", context={"user": "forum-demo", "ignore_auth": False},
                            id=withdrawn["id"], note="Ditemukan kesalahan angka")
        copy = helpers.call_action("umkm_release_revise", context={"user": "produsen-demo", "ignore_auth": False},
                                   id=revised["id"])
        helpers.call_action("package_patch", context={"user": "produsen-demo", "ignore_auth": False},
                            id=copy["id"], title=revised["title"] + " (revisi)")
        assert _release(copy["name"]) == "released"

        job = _harvest(sdi, source["id"])
        national = _national(sdi)
        assert national[pkg_id := helpers.call_action("package_show", id=RELEASED)["id"]]["notes"] == \
            "Diperbarui: catatan metodologi."
        assert fresh["id"] in national and national[fresh["id"]]["name"] == "umkm-rilis-baru"
        assert withdrawn["id"] not in national
        gone = sdi.api("package_show", _ok=False, id=withdrawn["id"])
        assert not gone.get("success") or gone["result"]["state"] == "deleted"
        assert national[revised["id"]]["title"] == revised["title"] + " (revisi)"
        assert national[revised["id"]]["name"] == revised["name"]
        assert copy["id"] not in national
        assert pkg_id in national
        # Only the changes were fetched the second time.
        assert job["stats"].get("added", 0) + job["stats"].get("updated", 0) <= 5, job["stats"]
