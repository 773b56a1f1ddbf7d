"""Restricted data (issue 5): metadata public, data gated by agency scope,
NDA and grant, only the rows within the scope, every access audited.

Each path is tried as anonymous, as an out-of-scope agency, as an in-scope
agency without a confidentiality statement, and as an in-scope agency with
statement and grant: only the last gets data, and only its rows."""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import urllib.parse
import uuid

import pytest
import requests
import sqlalchemy as sa
from ckan import model
from ckan.logic import NotAuthorized, ValidationError
from ckan.tests import factories, helpers
from ckanext.umkm.audit import log as audit_log
from ckanext.umkm.audit import refusals
from werkzeug.datastructures import FileStorage

from . import metadata_records as records
from . import two_factor_steps as steps
from .test_ui import PASSWORD

pytestmark = pytest.mark.usefixtures("clean_portal_db", "clean_index", "reference_codes")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROWS = [
    {"kode_desa": "32.73.01.1001", "kbli": "10710", "nama_usaha": "Roti Sukarasa", "nik": "3273010101800001"},
    {"kode_desa": "32.73.01.1002", "kbli": "47111", "nama_usaha": "Warung Gegerkalong", "nik": "3273010101800002"},
    {"kode_desa": "32.04.05.2001", "kbli": "10710", "nama_usaha": "Roti Cileunyi", "nik": "3204050101800003"},
    {"kode_desa": "35.78.01.1001", "kbli": "47111", "nama_usaha": "Toko Karang Pilang", "nik": "3578010101800004"},
]
BANDUNG = {"Roti Sukarasa", "Warung Gegerkalong"}
NEXT_YEAR = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=365)).date().isoformat()
SIGNER = {"full_name": "Siti Aminah", "nip_nik": "198001012005012001", "agency": "Dinas KUMKM Kota Bandung",
          "position": "Analis Data", "accept_controller_duties": True}


def call(user: dict | None, action_name: str, /, **kw):
    return helpers.call_action(action_name, context={"user": user["name"] if user else "", "ignore_auth": False}, **kw)


@pytest.fixture()
def world(empty_access_tables) -> dict:
    """A national BNBA table owned by the Deputy for micro enterprises, and
    the four kinds of reader."""
    users = {n: factories.User(name=f"ra-{n}", password=PASSWORD) for n in
             ("producer", "walidata", "outsider", "no_nda", "bandung")}
    owner = records.agency(name="deputi-usaha-mikro", jenis_instansi="UNIT_ESELON_I", kode_wilayah=None,
                           sektor_kbli=["C", "G"],
                           users=[{"name": users["producer"]["name"], "capacity": "editor"}])
    records.agency(name="walidata-umkm", users=[{"name": users["walidata"]["name"], "capacity": "member"}])
    kementan = records.agency(name="kementan", jenis_instansi="KEMENTERIAN_LEMBAGA", kode_wilayah=None,
                              sektor_kbli=["A"], users=[{"name": users["outsider"]["name"], "capacity": "member"}])
    bandung = records.agency(name="diskumkm-kota-bandung", kode_wilayah="32.73",
                             jenis_instansi="PEMERINTAH_KABUPATEN_KOTA",
                             users=[{"name": users["bandung"]["name"], "capacity": "member"},
                                    {"name": users["no_nda"]["name"], "capacity": "member"}])
    admin = factories.Sysadmin()
    create = lambda data: helpers.call_action("package_create", context={"user": admin["name"]}, **data)  # noqa: E731
    keg = create(records.kegiatan(owner["id"], name="pendataan-lengkap-umkm-2024"))
    variables = [
        create(records.variabel(owner["id"], keg["id"], name="var-kode-desa", title="Kode Desa/Kelurahan",
                                alias="kode_desa", value_domain=[], value_domain_reference="wilayah",
                                value_domain_reference_level="desa_kelurahan")),
        create(records.variabel(owner["id"], keg["id"], name="var-kbli", title="KBLI", alias="kbli",
                                value_domain=[], value_domain_reference="kbli",
                                value_domain_reference_level="kelompok")),
        create(records.variabel(owner["id"], keg["id"], name="var-nama-usaha", title="Nama Usaha",
                                alias="nama_usaha", value_domain=[{"kode": "-", "nilai": "Teks"}])),
    ]
    for item in [keg, *variables]:
        records.release(item["id"])
    pkg = helpers.call_action("package_create", context={"user": users["producer"]["name"]}, **records.dataset(
        owner["id"], name="bnba-umkm-nasional-2024", title="Data BNBA UMKM Nasional 2024",
        accessRights="terbatas", bentuk_data="BNBA", sektor_kbli=["C", "G"], kegiatan=[keg["id"]],
        variabel=[v["id"] for v in variables], analisis="Data unit usaha hasil pendataan lengkap."))
    text = "kode_desa,kbli,nama_usaha,nik\n" + "".join(
        f"{r['kode_desa']},{r['kbli']},{r['nama_usaha']},{r['nik']}\n" for r in ROWS)
    res = helpers.call_action("resource_create", context={"user": users["producer"]["name"]}, package_id=pkg["id"],
                              name="bnba.csv", format="CSV", url="bnba.csv",
                              upload=FileStorage(stream=io.BytesIO(text.encode()), filename="bnba.csv"))
    helpers.call_action("datastore_create", context={"user": admin["name"]}, resource_id=res["id"], force=True,
                        fields=[{"id": k, "type": "text"} for k in ("kode_desa", "kbli", "nama_usaha", "nik")],
                        records=ROWS)
    helpers.call_action("resource_view_create", context={"user": admin["name"]}, resource_id=res["id"],
                        view_type="datatables_view", title="Tabel")
    records.release(pkg["id"])

    # Walidata: a standing grant for Bandung's agency; a grant for the
    # Ministry of Agriculture, whose sectors the table does not hold.
    for org in (bandung, kementan):
        call(users["walidata"], "umkm_access_grant_create", organization_id=org["id"], purpose="Pembinaan UMKM",
             valid_until=NEXT_YEAR)
    for name in ("bandung", "outsider"):
        call(users[name], "umkm_nda_sign", **SIGNER)
    return {**users, "pkg": pkg, "resource": res, "bandung_org": bandung, "admin": admin}


READERS = ("anonymous", "outsider", "no_nda", "bandung")


def _reader(world: dict, who: str) -> dict | None:
    return None if who == "anonymous" else world[who]


def _token(user: dict) -> str:
    """A token made outside any login: it does not carry two-step login."""
    return helpers.call_action("api_token_create", context={"user": user["name"]}, user=user["name"],
                               name="uji")["token"]


def _verified_token(base: str, user: dict) -> str:
    """The token of a reader of restricted data: made after a two-step login."""
    return steps.token(base, steps.login(base, user, steps.enrol(user)), user)


@pytest.mark.parametrize("who", READERS)
def test_metadata_is_public_and_data_only_reaches_the_in_scope_agency(world, who):
    user = _reader(world, who)
    pkg = call(user, "package_show", id=world["pkg"]["id"])
    # Everyone sees that the data exists and what it holds.
    assert pkg["title"] == "Data BNBA UMKM Nasional 2024" and len(pkg["variabel"]) == 3
    (res,) = pkg["resources"]
    assert res["url"].endswith(f"/resource/{res['id']}/download") and "bnba.csv" not in res["url"]
    shown = call(user, "resource_show", id=res["id"])
    assert shown["url"] == res["url"]
    found = call(user, "package_search", q="BNBA")["results"]
    expected = {"anonymous": "denied", "outsider": "denied", "no_nda": "denied", "bandung": "rows"}[who]
    # Search results (what harvesters copy) give a reader who may not read no file URL at all.
    assert [r["resources"][0]["url"] for r in found] == ["" if expected == "denied" else res["url"]]
    assert res["umkm_access"] == expected == found[0]["resources"][0]["umkm_access"]

    if who != "bandung":
        for action, kw in (("datastore_search", {"resource_id": res["id"]}), ("datastore_info", {"id": res["id"]})):
            with pytest.raises(NotAuthorized):
                call(user, action, **kw)
        assert call(user, "resource_view_list", id=res["id"]) == []
        reason = call(user, "umkm_access_show", id=pkg["id"])["reason"]
        assert reason == {"anonymous": "anonymous", "outsider": "scope", "no_nda": "nda"}[who]
        return
    rows = call(user, "datastore_search", resource_id=res["id"])
    assert {r["nama_usaha"] for r in rows["records"]} == BANDUNG and rows["total"] == 2
    assert call(user, "datastore_info", id=res["id"])["meta"]
    assert len(call(user, "resource_view_list", id=res["id"])) == 1


def test_filters_and_queries_cannot_escape_the_row_scope(world):
    res_id = world["resource"]["id"]
    user = world["bandung"]
    assert call(user, "datastore_search", resource_id=res_id, filters={"kode_desa": "32.04.05.2001"})["records"] == []
    assert call(user, "datastore_search", resource_id=res_id, q="Cileunyi")["records"] == []
    assert call(user, "datastore_search", resource_id=res_id, distinct=True, fields=["kode_desa"])["total"] == 2
    with pytest.raises(ValidationError):
        call(user, "datastore_search", resource_id=res_id, filters={"kode_desa) OR (1=1": "x"}, sort="nik; DROP")
    for sql in (f'SELECT * FROM "{res_id}"', f'SELECT count(*) FROM "{res_id}" WHERE kode_desa LIKE \'35%\''):
        with pytest.raises((NotAuthorized, ValidationError)):
            call(user, "datastore_search_sql", sql=sql)


def test_the_regency_downloads_exactly_its_rows_and_the_log_records_it(world, live_portal):
    res = world["resource"]
    url = f"{live_portal}/dataset/{world['pkg']['name']}/resource/{res['id']}/download"
    for who in ("anonymous", "outsider", "no_nda"):
        headers = {} if who == "anonymous" else {"Authorization": _token(world[who])}
        reply = requests.get(url, headers=headers, timeout=30)
        assert reply.status_code == 403, who
        assert "Roti" not in reply.text
    token = _verified_token(live_portal, world["bandung"])
    reply = requests.get(url, headers={"Authorization": token}, timeout=30)
    assert reply.status_code == 200
    got = list(csv.DictReader(io.StringIO(reply.content.decode())))
    assert {r["nama_usaha"] for r in got} == BANDUNG and all(r["kode_desa"].startswith("32.73.") for r in got)
    digest = hashlib.sha256(reply.content).hexdigest()
    assert reply.headers["X-Content-SHA256"] == digest
    # Tampered URLs: the resource under another dataset, a guessed id.
    other = helpers.call_action("package_create", context={"user": world["producer"]["name"]},
                                **records.dataset(world["pkg"]["owner_org"], name="umkm-terbuka-lain"))
    tampered = f"{live_portal}/dataset/{other['id']}/resource/{res['id']}/download"
    for headers in ({}, {"Authorization": token}):
        assert requests.get(tampered, headers=headers, timeout=30).status_code == 404
    guessed = f"{live_portal}/dataset/{world['pkg']['name']}/resource/{uuid.uuid4()}/download"
    assert requests.get(guessed, headers={"Authorization": token}, timeout=30).status_code == 404
    # The DataStore dump is the same scoped read.
    dump = f"{live_portal}/datastore/dump/{res['id']}"
    refused = requests.get(dump, timeout=30)
    assert refused.status_code in (403, 404) and "Roti" not in refused.text  # CKAN answers 404 here
    dumped = requests.get(dump, headers={"Authorization": token}, timeout=30)
    assert dumped.status_code == 200
    assert {r["nama_usaha"] for r in csv.DictReader(io.StringIO(dumped.content.decode("utf-8-sig")))} == BANDUNG
    # The original file's own URL leads to the same gate.
    original = requests.get(url + "/bnba.csv", timeout=30)
    assert original.status_code == 403 and "Roti" not in original.text

    _, events = audit_log.search(action="data_delivered")
    delivered = [e for e in events if e["payload"]["path"] == "download"]
    # The download and the dump: one entry each, however many pages they read.
    assert len(delivered) == 1 and [e["payload"]["rows"] for e in events if e["payload"]["path"] == "dump"] == [2]
    payload = delivered[0]["payload"]
    assert (delivered[0]["actor"], payload["rows"], payload["sha256"]) == ("ra-bandung", 2, digest)
    assert payload["agency"] == ["diskumkm-kota-bandung"] and payload["purpose"] == "Pembinaan UMKM"
    assert payload["user_agent"] and payload["ip"]
    # Refusals are counted (one row per reader, path and reason), not chained.
    assert sum(r["count"] for r in refusals.search()[1]) >= 4

    assert audit_log.verify().ok
    cli = [os.path.join(os.path.dirname(sys.executable), "ckan"), "-c", os.path.join(ROOT, "config", "test.ini"),
           "umkm", "audit", "verify"]
    run = subprocess.run(cli, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    # Someone edits the log by hand: the chain breaks there.
    model.Session.execute(sa.text(
        "UPDATE event_audit_event SET payload = jsonb_set(payload, '{rows}', '1') WHERE id = :id"),
        {"id": delivered[0]["id"]})
    model.Session.commit()
    result = audit_log.verify()
    assert not result.ok and any("modified" in p for p in result.problems)
    run = subprocess.run(cli, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1 and "BROKEN" in run.stderr


def test_dcat_and_activity_carry_no_way_to_the_data(world, live_portal):
    ttl = requests.get(f"{live_portal}/dataset/{world['pkg']['name']}.ttl", timeout=30)
    assert ttl.status_code == 200 and "Data BNBA UMKM Nasional 2024" in ttl.text
    # The distribution points at the dataset's page: no file address at all, not even the gate's.
    assert "/download/bnba.csv" not in ttl.text and "Roti" not in ttl.text
    assert "/download" not in ttl.text and "access-right/RESTRICTED" in ttl.text
    assert f"dcat:accessURL <{live_portal}/dataset/{world['pkg']['name']}>" in ttl.text
    # Nor does the page's schema.org JSON-LD (ckanext-dcat's structured_data).
    page = requests.get(f"{live_portal}/dataset/{world['pkg']['name']}", timeout=30).text
    (ld,) = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert "Data BNBA UMKM Nasional 2024" in ld and "/download" not in ld and "contentUrl" not in ld
    activity = requests.get(f"{live_portal}/api/3/action/package_activity_list",
                            params={"id": world["pkg"]["id"]}, timeout=30).json()
    urls = [r.get("url") for a in activity["result"] for r in (a.get("data", {}).get("package") or {}).get(
        "resources", [])]
    assert urls
    for url in filter(None, urls):
        # Stored with the site URL of the time; asked of this portal.
        path = urllib.parse.urlsplit(url).path
        reply = requests.get(f"{live_portal}{path}", timeout=30)
        assert reply.status_code == 403 and "Roti" not in reply.text


def test_grants_expire_and_are_revoked_on_the_next_request(world, freezer):
    res_id = world["resource"]["id"]
    assert call(world["bandung"], "datastore_search", resource_id=res_id)["total"] == 2
    start = datetime.datetime.now(datetime.UTC)
    freezer.move_to(start + datetime.timedelta(days=400))
    with pytest.raises(NotAuthorized, match="no access in force"):
        call(world["bandung"], "datastore_search", resource_id=res_id)
    freezer.move_to(start)
    (grant,) = call(world["walidata"], "umkm_access_grant_list", organization_id=world["bandung_org"]["id"])
    call(world["walidata"], "umkm_access_grant_revoke", id=grant["id"], reason="Penugasan selesai")
    with pytest.raises(NotAuthorized):
        call(world["bandung"], "datastore_search", resource_id=res_id)
    with pytest.raises(ValidationError):
        call(world["walidata"], "umkm_access_grant_renew", id=grant["id"], valid_until=NEXT_YEAR)
    # A dataset grant to the user alone, narrowed to one village.
    call(world["walidata"], "umkm_access_grant_create", user_id=world["bandung"]["id"], package_id=world["pkg"]["id"],
         regions="32.73.01.1001", purpose="Verifikasi lapangan", valid_until=NEXT_YEAR)
    rows = call(world["bandung"], "datastore_search", resource_id=res_id)["records"]
    assert [r["nama_usaha"] for r in rows] == ["Roti Sukarasa"]


def test_a_new_statement_version_requires_signing_again(world):
    res_id = world["resource"]["id"]
    call(world["walidata"], "umkm_nda_template_publish", title="Pernyataan Kerahasiaan Individu",
         body="Versi 2: dengan ketentuan penghapusan data setelah 1 tahun.")
    with pytest.raises(NotAuthorized, match="confidentiality statement"):
        call(world["bandung"], "datastore_search", resource_id=res_id)
    with pytest.raises(ValidationError):
        call(world["bandung"], "umkm_nda_sign", template_version=1, **SIGNER)
    call(world["bandung"], "umkm_nda_sign", template_version=2, **SIGNER)
    assert call(world["bandung"], "datastore_search", resource_id=res_id)["total"] == 2


def test_an_uploaded_statement_counts_once_walidata_approves_it(world):
    import base64

    res_id = world["resource"]["id"]
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    pdf = out.getvalue()
    signed = call(world["no_nda"], "umkm_nda_sign", signed_pdf=base64.b64encode(pdf).decode(), **SIGNER)
    assert signed["status"] == "pending" and signed["file_sha256"] == hashlib.sha256(pdf).hexdigest()
    with pytest.raises(NotAuthorized):
        call(world["no_nda"], "datastore_search", resource_id=res_id)
    with pytest.raises(NotAuthorized):
        call(world["bandung"], "umkm_nda_review", id=signed["id"], approve=True)
    call(world["walidata"], "umkm_nda_review", id=signed["id"], approve=True)
    assert call(world["no_nda"], "datastore_search", resource_id=res_id)["total"] == 2
    actions = [e["action"] for e in audit_log.search()[1]]
    assert {"nda_sign", "nda_approve", "grant_create", "data_delivered"} <= set(actions)


def test_bad_grants_and_statements_are_refused_with_field_messages(world):
    walidata = world["walidata"]
    with pytest.raises(ValidationError) as err:
        call(walidata, "umkm_access_grant_create", organization_id=world["bandung_org"]["id"],
             user_id=world["bandung"]["id"], regions="99.99", purpose="", valid_until="2020-01-01")
    assert {"organization_id", "regions", "purpose", "valid_until"} <= set(err.value.error_dict)
    with pytest.raises(NotAuthorized):
        call(world["bandung"], "umkm_access_grant_create", organization_id=world["bandung_org"]["id"],
             purpose="Sendiri", valid_until=NEXT_YEAR)
    with pytest.raises(ValidationError) as err:
        call(world["no_nda"], "umkm_nda_sign", full_name="X", nip_nik="123", agency="", position="",
             accept_controller_duties=False)
    assert {"nip_nik", "agency", "position", "accept_controller_duties"} <= set(err.value.error_dict)
    with pytest.raises(NotAuthorized):
        call(None, "umkm_nda_sign", **SIGNER)


def test_a_deleted_user_with_a_live_api_token_gets_nothing(world, live_portal):
    token = _verified_token(live_portal, world["bandung"])
    api = f"{live_portal}/api/3/action/datastore_search"
    assert requests.post(api, json={"resource_id": world["resource"]["id"]}, headers={"Authorization": token},
                         timeout=30).json()["result"]["total"] == 2
    helpers.call_action("user_delete", context={"user": world["admin"]["name"]}, id=world["bandung"]["id"])
    reply = requests.post(api, json={"resource_id": world["resource"]["id"]}, headers={"Authorization": token},
                          timeout=30)
    assert reply.status_code == 403 and "Roti" not in reply.text


def test_the_audit_log_is_walidatas_and_exports_as_a_log_book(world, tmp_path):
    call(world["bandung"], "datastore_search", resource_id=world["resource"]["id"])
    listing = call(world["walidata"], "umkm_audit_list", action="data_delivered")
    assert listing["count"] == 1 and listing["results"][0]["payload"]["rows"] == 2
    with pytest.raises(NotAuthorized):
        call(world["bandung"], "umkm_audit_list")
    out = tmp_path / "logbook.csv"
    cli = [os.path.join(os.path.dirname(sys.executable), "ckan"), "-c", os.path.join(ROOT, "config", "test.ini"),
           "umkm", "audit", "export", "--action", "data_delivered", "-o", str(out)]
    run = subprocess.run(cli, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    user = model.User.get("ra-bandung")
    assert len(rows) == 1 and rows[0]["Pengguna"] == f"ra-bandung ({user.fullname})" and rows[0]["Baris"] == "2"
    assert rows[0]["Dataset"] == "Data BNBA UMKM Nasional 2024 (bnba-umkm-nasional-2024)"
    assert json.dumps(rows)  # a plain table


def test_outside_links_of_restricted_data_are_neither_shown_nor_followed(world, live_portal):
    secret = "https://simpan.example.go.id/internal/bnba-2024.csv"
    pkg = helpers.call_action("package_create", context={"user": world["producer"]["name"]}, **records.dataset(
        world["pkg"]["owner_org"], name="bnba-tautan-luar", accessRights="terbatas", bentuk_data="BNBA",
        resources=[{"url": secret, "format": "CSV", "name": "Tautan"}]))
    records.release(pkg["id"])
    for who in READERS:
        user = _reader(world, who)
        shown = call(user, "package_show", id=pkg["id"])
        assert secret not in json.dumps(shown)
        stored = call(user, "package_search", q="name:bnba-tautan-luar", fl="name,validated_data_dict,data_dict")
        assert stored["count"] == 1 and secret not in json.dumps(stored)
    link = call(world["bandung"], "package_show", id=pkg["id"])["resources"][0]["url"]
    reply = requests.get(link.replace("http://test.ckan.net", live_portal),
                         headers={"Authorization": _verified_token(live_portal, world["bandung"])}, timeout=30,
                         allow_redirects=False)
    assert reply.status_code == 403


def test_the_table_preview_shows_only_the_scope(world, live_portal):
    """The datatables view's AJAX endpoint (what the preview on the resource
    page loads) and its filtered download go through the same gate."""
    (view,) = helpers.call_action("resource_view_list", context={"user": world["admin"]["name"]},
                                  id=world["resource"]["id"])
    ajax = f"{live_portal}/datatables/ajax/{view['id']}"
    form = {"draw": "1", "search[value]": "", "start": "0", "length": "50"}

    def preview(session: requests.Session, **extra) -> requests.Response:
        page = session.get(f"{live_portal}/dataset/{world['pkg']['name']}", timeout=30).text
        return session.post(ajax, data={**form, **extra}, headers={"X-CSRFToken": steps.csrf(page)}, timeout=30)

    anonymous = preview(requests.Session())
    assert anonymous.status_code == 403 and "Roti" not in anonymous.text
    outsider, _ = steps.password_step(live_portal, world["outsider"])
    refused = preview(outsider)
    assert refused.status_code == 403 and "Roti" not in refused.text
    bandung = steps.login(live_portal, world["bandung"], steps.enrol(world["bandung"]))
    shown = preview(bandung).json()
    assert shown["recordsTotal"] == 2 and {r["nama_usaha"] for r in shown["data"]} == BANDUNG
    assert preview(bandung, **{"search[value]": "Cileunyi"}).json()["data"] == []
    # The preview's "download filtered rows" leads to the scoped dump.
    page = bandung.get(f"{live_portal}/dataset/{world['pkg']['name']}", timeout=30).text
    params = {"search": {"value": ""}, "order": [], "visible": [True] * 5, "columns": []}
    dump = bandung.post(f"{live_portal}/datatables/filtered-download/{view['id']}", timeout=30,
                        data={"params": json.dumps(params), "format": "csv"}, headers={"X-CSRFToken": steps.csrf(page)})
    assert dump.status_code == 200
    assert {r["nama_usaha"] for r in csv.DictReader(io.StringIO(dump.content.decode("utf-8-sig")))} == BANDUNG
    leaked = requests.post(f"{live_portal}/datatables/filtered-download/{view['id']}", timeout=30,
                           data={"params": json.dumps(params), "format": "csv"})
    assert leaked.status_code in (403, 404) and "Roti" not in leaked.text
