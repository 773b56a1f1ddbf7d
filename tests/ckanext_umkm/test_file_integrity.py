"""Authenticity and integrity of uploaded files (issue 5, Lampiran I): a
SHA-256 per upload on the resource and in DCAT, and a job that flags files
modified outside CKAN."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys

import pytest
import requests
from ckan.lib import uploader
from ckan.tests import factories, helpers
from ckanext.umkm.audit import log as audit_log
from werkzeug.datastructures import FileStorage

from . import metadata_records as records

pytestmark = pytest.mark.usefixtures("clean_portal_db", "clean_index", "reference_codes", "empty_access_tables")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CSV = "kode_provinsi,jumlah_umkm\n32,100\n"


def _upload(user: dict, pkg_id: str, text: str, res_id: str | None = None) -> dict:
    data = {"package_id": pkg_id, "name": "umkm.csv", "format": "CSV", "url": "umkm.csv",
            "upload": FileStorage(stream=io.BytesIO(text.encode()), filename="umkm.csv")}
    action = "resource_update" if res_id else "resource_create"
    if res_id:
        data["id"] = res_id
    return helpers.call_action(action, context={"user": user["name"]}, **data)


def _verify() -> subprocess.CompletedProcess:
    cli = [os.path.join(os.path.dirname(sys.executable), "ckan"), "-c", os.path.join(ROOT, "config", "test.ini"),
           "umkm", "files", "verify"]
    return subprocess.run(cli, capture_output=True, text=True, timeout=120)


def test_every_upload_carries_its_sha256_and_tampering_is_detected(live_portal):
    producer = factories.User()
    org = records.agency(name="diskumkm-jabar", users=[{"name": producer["name"], "capacity": "editor"}])
    pkg = helpers.call_action("package_create", context={"user": producer["name"]},
                              **records.dataset(org["id"], name="jumlah-umkm-jabar-sha"))
    res = _upload(producer, pkg["id"], CSV)
    shown = helpers.call_action("resource_show", id=res["id"])
    assert shown["hash"] == hashlib.sha256(CSV.encode()).hexdigest() and shown["umkm_integrity"] == "ok"
    assert shown["hash_algorithm"].endswith("checksumAlgorithm_sha256")
    records.release(pkg["id"])
    ttl = requests.get(f"{live_portal}/dataset/{pkg['name']}.ttl", timeout=30).text
    assert hashlib.sha256(CSV.encode()).hexdigest() in ttl and "spdx:checksum" in ttl

    run = _verify()
    assert run.returncode == 0 and "0 modified" in run.stdout, run.stderr[-2000:]
    # Someone edits the stored file behind CKAN's back.
    path = uploader.get_resource_uploader(shown).get_path(shown["id"])
    with open(path, "a", encoding="utf-8") as f:
        f.write("35,999999\n")
    run = _verify()
    assert run.returncode == 1 and f"modified: resource {res['id']}" in run.stderr
    assert helpers.call_action("resource_show", id=res["id"])["umkm_integrity"] == "modified"
    events = audit_log.search(action="file_modified")[1]
    assert [e["action_object_id"] for e in events] == [res["id"]]
    assert audit_log.verify().ok

    # A new upload through CKAN is the new truth.
    new = CSV + "33,50\n"
    _upload(producer, pkg["id"], new, res_id=res["id"])
    shown = helpers.call_action("resource_show", id=res["id"])
    assert shown["hash"] == hashlib.sha256(new.encode()).hexdigest() and shown["umkm_integrity"] == "ok"
    assert _verify().returncode == 0
