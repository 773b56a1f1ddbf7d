"""Request services (issue 13) through the API: the three kinds of request
end to end, with the more-information loop, a refusal with alternative
data, an approval whose grant delivers exactly its scope until it expires
or its download limit is reached; due dates; the log books, the public
register and the service statistics against the database; bad input."""

from __future__ import annotations

import base64
import csv
import datetime
import io
import json

import pytest
import requests
import sqlalchemy as sa
from ckan import model
from ckan.logic import NotAuthorized, ValidationError
from ckan.logic import NotFound as ObjectNotFound
from ckan.tests import factories, helpers
from ckanext.umkm.access import confidentiality
from ckanext.umkm.access import grants as access_grants
from ckanext.umkm.audit import log as audit_log
from ckanext.umkm.requests import documents, engine, logbook

from . import metadata_records as records
from . import test_restricted_access as restricted
from .test_hardening import _pdf
from .test_ui import PASSWORD

pytestmark = pytest.mark.usefixtures("clean_portal_db", "clean_index", "reference_codes")

world = restricted.world
call = restricted.call
LETTER = base64.b64encode(_pdf(pages=1)).decode()
NEXT_MONTH = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
ADMIN = {"admin_nik": "3273010101900001", "admin_name": "Rina Wulandari", "admin_phone": "0812-3456-7890",
         "admin_position": "Pranata Komputer", "admin_email": "rina@diskumkm.bandung.go.id"}


@pytest.fixture()
def requests_world(world):
    """The world of restricted data, with Bandung's standing grant revoked:
    its agency reaches the table only through a data request."""
    for grant in call(world["walidata"], "umkm_access_grant_list", organization_id=world["bandung_org"]["id"]):
        call(world["walidata"], "umkm_access_grant_revoke", id=grant["id"], reason="diganti permohonan")
    return world


def data_request(user: dict, **extra) -> dict:
    fields = {"kind": "data", "organization_id": "diskumkm-kota-bandung", "nip_nik": "198001012005012001",
              "phone": "081234567890", "position": "Analis Data", "use_category": "kebijakan",
              "purpose": "Penyusunan program pembinaan UMKM kota", "expected_outputs": "Daftar sasaran pembinaan",
              "datasets": ["bnba-umkm-nasional-2024"], "regions": "32.73", "period": "2024",
              "granularity": "bnba", "transparency": True, "letter_pdf": LETTER}
    return call(user, "umkm_request_create", **{**fields, **extra})


def act(user: dict, request: dict | str, event: str, **kw) -> dict:
    number = request if isinstance(request, str) else request["number"]
    return call(user, "umkm_request_act", id=number, event=event, **kw)


def _download(base: str, world: dict, token: str) -> requests.Response:
    res = world["resource"]
    return requests.get(f"{base}/dataset/{world['pkg']['name']}/resource/{res['id']}/download",
                        headers={"Authorization": token}, timeout=30)


def test_a_data_request_runs_end_to_end_and_its_grant_delivers_exactly_its_scope(requests_world, live_portal):
    w = requests_world
    token = restricted._verified_token(live_portal, w["bandung"])
    assert _download(live_portal, w, token).status_code == 403  # no grant in force

    req = data_request(w["bandung"])
    assert req["number"] == f"PD-{datetime.date.today().year}-0001"
    assert (req["state"], req["step"]) == ("open", "mencatat") and req["due"]
    # A resend of the same request is refused, naming the first.
    with pytest.raises(ValidationError) as err:
        data_request(w["bandung"])
    assert req["number"] in str(err.value.error_dict)
    # Others neither read it nor take its steps; the requester takes no step of Walidata's.
    for who in ("outsider", "no_nda"):
        with pytest.raises(ObjectNotFound):
            call(w[who], "umkm_request_show", id=req["number"])
    with pytest.raises(NotAuthorized):
        call(None, "umkm_request_act", id=req["number"], event="advance")
    with pytest.raises(ValidationError, match="not yours"):
        act(w["bandung"], req, "advance")

    step = act(w["walidata"], req, "advance", step="mencatat")
    assert step["step"] == "meninjau"
    # A click on a page that is out of date is refused, not applied twice.
    with pytest.raises(ValidationError, match="moved on"):
        act(w["walidata"], req, "advance", step="mencatat")
    # More information: the clock waits for the requester.
    with pytest.raises(ValidationError) as err:
        act(w["walidata"], req, "ask")
    assert "note" in err.value.error_dict
    waiting = act(w["walidata"], req, "ask", note="Lampirkan surat tugas tim pembinaan")
    assert waiting["state"] == "waiting" and waiting["due"] is None and waiting["paused"]
    with pytest.raises(ValidationError, match="waits for the requester"):
        act(w["walidata"], req, "advance")
    answered = act(w["bandung"], req, "answer", note="Surat tugas terlampir", answer_pdf=LETTER)
    assert answered["state"] == "open" and answered["due"] and "answer" in answered["documents"]
    # Forwarded to another Walidata reviewer.
    other = factories.User(name="ra-walidata-2", password=PASSWORD)
    helpers.call_action("member_create", context={"ignore_auth": True}, id="walidata-umkm", object=other["id"],
                        object_type="user", capacity="member")
    forwarded = act(w["walidata"], req, "forward", reviewer=other["name"], note="Mohon ditinjau")
    assert forwarded["reviewer_id"] == other["id"]
    for expected in ("disposisi", "menyediakan"):
        assert act(other, req, "advance")["step"] == expected
    with pytest.raises(ValidationError, match="approve or refuse"):
        act(other, req, "advance")
    with pytest.raises(ValidationError) as err:
        act(other, req, "approve", download_limit=2)
    assert "valid_until" in err.value.error_dict
    approved = act(other, req, "approve", valid_until=NEXT_MONTH, download_limit=2)
    assert (approved["state"], approved["step"]) == ("approved", "mencatat_penyerahan")
    (granted,) = approved["outcome"]["grants"]
    grant = access_grants.get(granted["id"])
    assert grant["request_id"] == req["id"] and grant["organization_id"] == w["bandung_org"]["id"]
    assert grant["regions"] == ["32.73"] and grant["download_limit"] == 2
    assert grant["purpose"] == "Penyusunan program pembinaan UMKM kota"

    # The requester downloads exactly the granted scope, twice; then the limit holds.
    for _ in range(2):
        reply = _download(live_portal, w, token)
        assert reply.status_code == 200
        got = list(csv.DictReader(io.StringIO(reply.content.decode())))
        assert {r["nama_usaha"] for r in got} == restricted.BANDUNG
    refused = _download(live_portal, w, token)
    assert refused.status_code == 403 and "Roti" not in refused.text
    # Without the limit but past its validity, the grant gives nothing either.
    model.Session.remove()
    model.Session.execute(access_grants.grant_table.update().where(access_grants.grant_table.c.id == grant["id"])
                          .values(download_limit=None,
                                  valid_from=datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=2),
                                  valid_until=datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=1)))
    model.Session.commit()
    assert _download(live_portal, w, token).status_code == 403

    done = act(w["walidata"], req, "advance")
    assert done["state"] == "completed" and done["report_due"] and done["closed"]
    reported = act(w["bandung"], req, "report", note="Data dipakai untuk 40 sasaran pembinaan")
    assert reported["report_filed"]
    with pytest.raises(ValidationError, match="No use report"):
        act(w["bandung"], req, "report", note="lagi")

    shown = call(w["bandung"], "umkm_request_show", id=req["number"])
    (used,) = shown["outcome"]["grants"]
    assert (used["downloads"], used["active"]) == (2, False)  # watched: both downloads, and the end
    events = [h["event"] for h in shown["history"]]
    assert events == ["submit", "advance", "ask", "answer", "forward", "advance", "advance", "approve", "advance",
                      "report"]
    assert shown["personal"]["nip_nik"] == "198001012005012001"
    # Personal data is stored encrypted.
    raw = model.Session.execute(sa.select(engine.request_table.c.personal)).scalar()
    assert "198001012005012001" not in raw and "081234567890" not in raw
    # Every step is in the audit log.
    logged = [e["action"] for e in audit_log.search(limit=1000)[1] if e["action"].startswith("request_")]
    assert sorted(set(logged)) == sorted({f"request_{e}" for e in events})
    # The reply letter is a PDF that says what was approved.
    from pypdf import PdfReader

    letter = documents.reply_letter(shown, "Siti Aminah")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(letter)).pages)
    assert "DISETUJUI" in text and "Data BNBA UMKM Nasional 2024" in text and req["number"] in text


def test_a_refusal_names_the_alternative_and_overdue_reports_flag_the_next_request(requests_world):
    w = requests_world
    req = data_request(w["bandung"], datasets=[], data_description="Jumlah UMKM per kelurahan 2025",
                       granularity="agregat")
    assert req["details"]["data_description"] == "Jumlah UMKM per kelurahan 2025"
    with pytest.raises(ValidationError) as err:
        act(w["walidata"], req, "refuse", note="Data 2025 belum tersedia")
    assert "alternative" in err.value.error_dict
    refused = act(w["walidata"], req, "refuse", note="Data 2025 belum tersedia",
                  alternative="Jumlah UMKM per kecamatan 2024 (dataset umkm-kecamatan-2024)")
    assert refused["state"] == "refused" and refused["decision"]["alternative"].startswith("Jumlah UMKM")
    with pytest.raises(ValidationError, match="closed"):
        act(w["walidata"], req, "advance")
    from pypdf import PdfReader

    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(documents.reply_letter(refused, "x"))).pages)
    assert "TIDAK DAPAT DIPENUHI" in text and "per kecamatan 2024" in text
    # A request whose use report is overdue flags the agency's next request.
    model.Session.execute(engine.request_table.update().where(engine.request_table.c.id == req["id"]).values(
        report_due=datetime.date.today() - datetime.timedelta(days=1)))
    model.Session.commit()
    again = data_request(w["bandung"], purpose="Evaluasi program")
    assert again["details"]["overdue_reports"] == [req["number"]]
    # Restricted data reaches members of agencies only: not a requester of no agency.
    researcher = factories.User(name="ra-peneliti", password=PASSWORD)
    alone = data_request(researcher, organization_id="", agency_name="Universitas Contoh", purpose="Penelitian")
    for _ in range(3):
        act(w["walidata"], alone, "advance")
    with pytest.raises(ValidationError, match="no agency"):
        act(w["walidata"], alone, "approve", valid_until=NEXT_MONTH)
    # Nobody approves their own request.
    own = data_request(w["walidata"], organization_id="", agency_name="Walidata", datasets=[
        "bnba-umkm-nasional-2024"], purpose="uji sendiri")
    with pytest.raises(ValidationError, match="not yours"):
        act(w["walidata"], own, "advance")


def test_an_account_request_makes_the_administrator_a_member_with_the_statement(requests_world):
    w = requests_world
    statement = base64.b64encode(_pdf(pages=2)).decode()
    req = call(None, "umkm_request_create", kind="akun", organization_id="diskumkm-kota-bandung",
               username="rina-bandung", accept_controller_duties=True, letter_pdf=LETTER, statement_pdf=statement,
               **ADMIN)
    assert req["number"].startswith("PA-") and req["step"] == "menerima" and req["requester_id"] is None
    assert call(w["walidata"], "umkm_request_show", id=req["number"])["personal"]["nik"] == ADMIN["admin_nik"]
    with pytest.raises(ObjectNotFound):
        call(w["bandung"], "umkm_request_show", id=req["number"])
    for expected in ("review", "menyampaikan_keputusan", "menyampaikan_akun"):
        assert act(w["walidata"], req, "advance")["step"] == expected
    approved = act(w["walidata"], req, "approve")
    assert approved["outcome"]["user"] == "rina-bandung" and approved["outcome"]["created"]
    user = model.User.get("rina-bandung")
    assert user.state == "active" and user.email == ADMIN["admin_email"]
    assert "diskumkm-kota-bandung" in [g.name for g in user.get_groups("organization")]
    assert confidentiality.valid_signature(user.id)["full_name"] == ADMIN["admin_name"]
    assert act(w["walidata"], req, "advance")["state"] == "completed"
    events = {e["action"]: e for e in audit_log.search(limit=1000)[1] if e["action_object_id"] == user.id}
    assert events["account_create"]["payload"]["request"] == req["number"]
    assert events["membership_create"]["payload"]["agency"] == "diskumkm-kota-bandung"
    assert events["membership_create"]["actor"] == w["walidata"]["name"]
    # Membership changes made elsewhere (the organization's member page, the API) are in the same log.
    helpers.call_action("organization_member_delete", context={"user": w["admin"]["name"]},
                        id="diskumkm-kota-bandung", username="rina-bandung")
    removed = [e for e in audit_log.search(action="membership_delete")[1] if e["action_object_id"] == user.id]
    assert removed and removed[0]["actor"] == w["admin"]["name"]
    # The log book of accounts: one row, the account, no NIK nor phone.
    out = io.BytesIO()
    assert logbook.write(out, "akun", "csv") == 1
    text = out.getvalue().decode("utf-8-sig")
    assert "rina-bandung" in text and ADMIN["admin_name"] in text
    assert ADMIN["admin_nik"] not in text and "3456" not in text


def test_a_data_sharing_request_gives_a_revocable_token_limited_to_the_agreed_datasets(requests_world,
                                                                                       live_portal):
    w = requests_world
    req = call(w["bandung"], "umkm_request_create", kind="berbagi_pakai", organization_id="diskumkm-kota-bandung",
               background="Integrasi dengan SIM UMKM Kota Bandung", variables_needed="kode_desa, kbli, nama_usaha",
               variables_offered="status pembinaan", datasets="bnba-umkm-nasional-2024", letter_pdf=LETTER,
               statement_pdf=LETTER, **ADMIN)
    assert req["number"].startswith("BP-") and req["step"] == "menerima"
    for expected in ("verifikasi", "undangan", "koordinasi"):
        assert act(w["walidata"], req, "advance")["step"] == expected
    with pytest.raises(ValidationError) as err:
        act(w["walidata"], req, "advance")
    assert "agreement" in err.value.error_dict
    assert act(w["walidata"], req, "advance", agreement_pdf=LETTER)["step"] == "menyiapkan"
    assert act(w["walidata"], req, "advance")["step"] == "integrasi"
    approved = act(w["walidata"], req, "approve", valid_until=NEXT_MONTH)
    assert approved["outcome"]["service_user"].startswith("layanan-bp-")
    token = call(w["bandung"], "umkm_request_show", id=req["number"])["token"]
    assert "token" not in call(w["walidata"], "umkm_request_show", id=req["number"])
    from ckan.lib import api_token

    claims = api_token.decode(token)
    assert claims["umkm_packages"] == [w["pkg"]["id"]] and claims["exp"] > datetime.datetime.now().timestamp()
    reply = _download(live_portal, w, token)
    assert reply.status_code == 200
    assert {r["nama_usaha"] for r in csv.DictReader(io.StringIO(reply.content.decode()))} == restricted.BANDUNG
    # Another restricted dataset of the same agency's scope: not in the agreement.
    other = helpers.call_action("package_create", context={"user": w["producer"]["name"]}, **records.dataset(
        w["pkg"]["owner_org"], name="bnba-lain", accessRights="terbatas", bentuk_data="BNBA"))
    records.release(other["id"])
    call(w["walidata"], "umkm_access_grant_create", organization_id=w["bandung_org"]["id"], package_id=other["id"],
         purpose="uji", valid_until=NEXT_MONTH)
    shown = requests.get(f"{live_portal}/api/3/action/umkm_access_show", params={"id": other["id"]},
                         headers={"Authorization": token}, timeout=30).json()
    assert shown["result"]["allowed"] is False and shown["result"]["reason"] == "token_scope"
    revoked = act(w["walidata"], req, "revoke", note="Kesepakatan berakhir")
    assert revoked["outcome"]["revoked"]
    assert _download(live_portal, w, token).status_code in (401, 403)


def test_due_dates_skip_weekends_and_public_holidays():
    # Wednesday 12 August 2026; Monday 17 August is Independence Day.
    started = datetime.datetime(2026, 8, 12, 9, tzinfo=datetime.timezone(datetime.timedelta(hours=7)))
    assert engine.step_due("data", "meninjau", started, []) == datetime.date(2026, 8, 24)
    assert engine.step_due("data", "mencatat", started, []) == datetime.date(2026, 8, 18)
    # Christmas (Friday 25 December 2026) and a weekend: 3 days from Thursday 24th.
    started = datetime.datetime(2026, 12, 24, 9, tzinfo=datetime.timezone(datetime.timedelta(hours=7)))
    assert engine.step_due("akun", "menerima", started, []) == datetime.date(2026, 12, 30)
    # Two days waiting for the requester move the deadline by two working days.
    paused = [(datetime.date(2026, 12, 28), datetime.date(2026, 12, 30))]
    assert engine.step_due("akun", "menerima", started, paused) == datetime.date(2027, 1, 4)


def test_log_books_register_and_statistics_match_the_database(requests_world):
    w = requests_world
    first = data_request(w["bandung"], datasets=[], data_description="Rekap UMKM", granularity="agregat")
    second = data_request(w["bandung"], purpose="Program kedua")
    for _ in range(3):
        act(w["walidata"], second, "advance")
    act(w["walidata"], second, "approve", valid_until=NEXT_MONTH)
    act(w["walidata"], first, "refuse", note="Tidak tersedia", alternative="Rekap 2023")
    rows = engine.all_rows("data")
    register = call(None, "umkm_request_register")
    assert [e["number"] for e in register] == [second["number"]]
    entry = register[0]
    assert entry["agency"] == "Dinas KUMKM Kota Bandung" or entry["agency"] == w["bandung_org"]["title"]
    assert entry["datasets"] == ["Data BNBA UMKM Nasional 2024"] and entry["purpose"] == "Program kedua"
    assert "198001012005012001" not in json.dumps(register) and "081234567890" not in json.dumps(register)
    stats = call(None, "umkm_request_statistics")["kinds"]["data"]
    assert stats["received"] == len(rows) == 2
    assert (stats["approved"], stats["refused"], stats["in_process"]) == (1, 1, 0)
    by_agency = call(None, "umkm_request_statistics")["by_agency"]
    assert by_agency == [{"agency": w["bandung_org"]["title"], "received": 2, "approved": 1, "refused": 1}]
    steps_done = {s["step"]: s for s in stats["steps"]}
    assert steps_done["mencatat"]["count"] == 2 and steps_done["mencatat"]["median_days"] == 0
    assert steps_done["menyediakan"]["count"] == 1 and steps_done["menyediakan"]["standard_days"] == 7
    for fmt in ("csv", "xlsx"):
        out = io.BytesIO()
        assert logbook.write(out, "data", fmt) == 2
    out = io.BytesIO()
    logbook.write(out, "data", "csv")
    book = list(csv.reader(io.StringIO(out.getvalue().decode("utf-8-sig"))))
    assert [r[0] for r in book[1:]] == [r["number"] for r in rows]
    assert "198001012005012001" not in out.getvalue().decode("utf-8-sig")


@pytest.mark.parametrize("case", ["missing", "not a pdf", "script", "too large", "bad kind", "unknown dataset",
                                  "bad region", "no transparency", "anonymous data request"])
def test_bad_submissions_get_clear_messages_and_leave_nothing(requests_world, case):
    w = requests_world
    user = w["bandung"]
    kw: dict = {}
    if case == "missing":
        with pytest.raises(ValidationError) as err:
            call(user, "umkm_request_create", kind="data")
        assert {"use_category", "purpose", "granularity", "letter", "transparency"} <= set(err.value.error_dict)
    else:
        kw = {"not a pdf": {"letter_pdf": base64.b64encode(b"GIF89a").decode()},
              "script": {"letter_pdf": base64.b64encode(_pdf(script=True)).decode()},
              "too large": {"letter_pdf": base64.b64encode(b"%PDF-1.4" + b"0" * (6 * 1024 * 1024)).decode()},
              "bad kind": {"kind": "rahasia"}, "unknown dataset": {"datasets": ["tidak-ada"]},
              "bad region": {"regions": "99.99"}, "no transparency": {"transparency": False},
              "anonymous data request": {}}[case]
        if case == "anonymous data request":
            with pytest.raises(NotAuthorized):
                data_request(None)
        else:
            with pytest.raises(ValidationError) as err:
                data_request(user, **kw)
            assert all(m for messages in err.value.error_dict.values() for m in messages)
    assert engine.all_rows() == []


def test_requesters_are_reminded_of_their_use_report_and_walidata_sees_who_is_overdue(requests_world, monkeypatch):
    from ckanext.umkm.requests import notifications, reminders

    w = requests_world
    sent: list[tuple] = []
    monkeypatch.setattr(notifications.release_notifications, "deliver",
                        lambda messages, title: sent.append((title, [m["email"] for m in messages])))
    req = data_request(w["bandung"], datasets=[], data_description="Rekap", granularity="agregat")
    model.Session.execute(engine.request_table.update().where(engine.request_table.c.id == req["id"]).values(
        report_due=datetime.date.today() + datetime.timedelta(days=2)))
    model.Session.commit()
    sent.clear()
    assert reminders.due_reminders() == [req["number"]]
    assert sent == [(f"request notification: report_due {req['number']}", [w["bandung"]["email"]])]
    # Once while it is due, on the first day overdue, then weekly.
    assert reminders.due_reminders() == []
    later = datetime.date.today() + datetime.timedelta(days=3)
    assert reminders.due_reminders(later) == [req["number"]]
    assert reminders.due_reminders(later + datetime.timedelta(days=6)) == []
    assert reminders.due_reminders(later + datetime.timedelta(days=7)) == [req["number"]]
    # Walidata's list of overdue reports; the requester sees only their own.
    model.Session.execute(engine.request_table.update().where(engine.request_table.c.id == req["id"]).values(
        report_due=datetime.date.today() - datetime.timedelta(days=1)))
    model.Session.commit()
    listed = call(w["walidata"], "umkm_request_list", reports_overdue=True)
    assert [r["number"] for r in listed["results"]] == [req["number"]] and listed["results"][0]["report_overdue"]
    assert call(w["outsider"], "umkm_request_list", reports_overdue=True)["count"] == 0


@pytest.mark.ckan_config("ckanext.umkm.limits.enabled", "true")
@pytest.mark.ckan_config("ckanext.umkm.limits.request", "2/hour")
def test_a_flood_of_requests_is_refused_with_a_message(requests_world):
    from ckanext.umkm.protection import limits

    w = requests_world
    limits.clear(["request", "request_account"], "-")
    limits.clear(["request_account"], w["bandung"]["id"])
    try:
        for n in range(2):
            data_request(w["bandung"], purpose=f"Tujuan {n}")
        with pytest.raises(ValidationError, match="Too many requests"):
            data_request(w["bandung"], purpose="Tujuan 3")
        assert len(engine.all_rows()) == 2
    finally:
        limits.clear(["request"], "-")
        limits.clear(["request_account"], w["bandung"]["id"])


def test_only_released_data_answers_a_request(requests_world):
    w = requests_world
    draft = helpers.call_action("package_create", context={"user": w["producer"]["name"]}, **records.dataset(
        w["pkg"]["owner_org"], name="bnba-belum-rilis", accessRights="terbatas", bentuk_data="BNBA"))
    req = data_request(w["bandung"], datasets=[], data_description="Data BNBA 2025", granularity="bnba")
    for _ in range(3):
        act(w["walidata"], req, "advance")
    with pytest.raises(ValidationError) as err:
        act(w["walidata"], req, "approve", datasets=[draft["name"]], valid_until=NEXT_MONTH)
    assert "bnba-belum-rilis" in err.value.error_dict["datasets"][0]
    assert [g for g in access_grants.listing(package_id=draft["id"]) if g["package_id"] == draft["id"]] == []
    # Once released, the new dataset answers the request made before it existed.
    records.release(draft["id"])
    approved = act(w["walidata"], req, "approve", datasets=[draft["name"]], valid_until=NEXT_MONTH)
    assert [g["dataset"] for g in approved["outcome"]["grants"]] == ["bnba-belum-rilis"]


def test_every_step_is_mailed_to_whoever_it_concerns(requests_world, monkeypatch):
    from ckanext.umkm.requests import notifications

    w = requests_world
    sent: list[tuple[str, set[str], str]] = []
    sent_bodies: list[dict[str, str]] = []

    def deliver(messages, title):
        sent.append((title.split(": ")[1].split()[0], {m["email"] for m in messages}, messages[0]["body"]))
        sent_bodies.append({m["email"]: m["body"] for m in messages})

    monkeypatch.setattr(notifications.release_notifications, "deliver", deliver)
    requester, walidata = w["bandung"]["email"], w["walidata"]["email"]
    req = data_request(w["bandung"])
    act(w["walidata"], req, "advance")
    act(w["walidata"], req, "ask", note="Lampirkan surat tugas")
    act(w["bandung"], req, "answer", note="Terlampir")
    account = call(None, "umkm_request_create", kind="akun", organization_id="diskumkm-kota-bandung",
                   accept_controller_duties=True, letter_pdf=LETTER, statement_pdf=LETTER, **ADMIN)
    assert [(event, people) for event, people, _ in sent] == [
        ("submit", {requester, walidata}), ("advance", {requester}), ("ask", {requester}),
        ("answer", {requester, walidata}), ("submit", {ADMIN["admin_email"], walidata})]
    assert "Lampirkan surat tugas" in sent[2][2] and f"/permohonan/{req['number']}" in sent[2][2]
    assert f"/permohonan/{account['number']}" in sent[4][2]  # Walidata's message
    assert sent_bodies[-1][ADMIN["admin_email"]].count("/permohonan/") == 0
    assert account["number"] in sent_bodies[-1][ADMIN["admin_email"]]
