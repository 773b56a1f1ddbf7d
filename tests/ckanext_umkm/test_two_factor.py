"""Two-step login (issue 5, item 8; Lampiran I asks for multi-factor
authentication): enrolment, the code after the password, recovery codes,
replay and guessing refused, and restricted data only for logins and API
tokens backed by the second factor."""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import subprocess
import sys

import pyotp
import pytest
import requests
import sqlalchemy as sa
from ckan import model
from ckan.logic import NotAuthorized, ValidationError
from ckan.tests import factories, helpers
from ckanext.umkm.access import two_factor
from ckanext.umkm.audit import log as audit_log
from ckanext.umkm.audit import refusals

from . import test_release_notifications as notifications
from . import test_restricted_access as restricted
from . import two_factor_steps as steps
from .test_ui import PASSWORD

pytestmark = pytest.mark.usefixtures("clean_portal_db", "clean_index", "reference_codes")

world = restricted.world  # the fixture: a national BNBA table and its readers
inbox = notifications.inbox  # the fixture: a real SMTP server


def _ctx(user: dict) -> dict:
    return {"user": user["name"], "ignore_auth": False}


@pytest.fixture()
def no_lock():
    """Wrong codes of earlier tests must not lock this one's users."""
    from ckan.lib.redis import connect_to_redis

    redis = connect_to_redis()
    for key in redis.scan_iter("*:umkm:mfa:failures:*"):
        redis.delete(key)


def test_enrolment_codes_and_recovery(empty_access_tables, no_lock):
    user = factories.User(password=PASSWORD)
    other = factories.User()
    assert helpers.call_action("umkm_mfa_show", context=_ctx(user))["enrolled"] is False
    setup = helpers.call_action("umkm_mfa_setup", context=_ctx(user))
    assert setup["uri"].startswith("otpauth://totp/") and setup["qr"].startswith("data:image/svg+xml")
    # The secret is kept encrypted.
    stored = model.Session.execute(sa.select(two_factor.table.c.secret).where(
        two_factor.table.c.user_id == user["id"])).scalar()
    assert setup["secret"] not in stored
    # Until a first code and the password confirm it, nothing is on.
    with pytest.raises(ValidationError) as err:
        helpers.call_action("umkm_mfa_confirm", context=_ctx(user), code="000000", password=PASSWORD)
    assert "code" in err.value.error_dict
    with pytest.raises(ValidationError) as err:
        helpers.call_action("umkm_mfa_confirm", context=_ctx(user), code=steps.fresh_code(setup["secret"], user),
                            password="bukan-sandinya")
    assert "password" in err.value.error_dict
    assert not two_factor.is_enrolled(user["id"])
    codes = helpers.call_action("umkm_mfa_confirm", context=_ctx(user), password=PASSWORD,
                                code=steps.fresh_code(setup["secret"], user))["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    status = helpers.call_action("umkm_mfa_show", context=_ctx(user))
    assert status["enrolled"] and status["recovery_codes_left"] == 10

    # A code is accepted once; a recovery code once.
    code = steps.fresh_code(setup["secret"], user)
    assert two_factor.verify(user["id"], code) == "totp"
    with pytest.raises(two_factor.CodeRefused) as refused:
        two_factor.verify(user["id"], code)
    assert refused.value.reason == "reused"
    assert two_factor.verify(user["id"], codes[0].upper()) == "recovery"
    with pytest.raises(two_factor.CodeRefused):
        two_factor.verify(user["id"], codes[0])
    assert two_factor.status(user["id"])["recovery_codes_left"] == 9

    # Nobody but a sysadmin manages another user's; turning it off needs a code.
    for action in ("umkm_mfa_show", "umkm_mfa_disable"):
        with pytest.raises(NotAuthorized):
            helpers.call_action(action, context=_ctx(other), id=user["id"])
    with pytest.raises(ValidationError):
        helpers.call_action("umkm_mfa_disable", context=_ctx(user), code="123456")
    helpers.call_action("umkm_mfa_disable", context=_ctx(user), code=codes[1])
    assert not two_factor.is_enrolled(user["id"])
    # A sysadmin resets it for a user who lost the phone; the log says so.
    steps.enrol(user)
    admin = factories.Sysadmin()
    helpers.call_action("umkm_mfa_disable", context=_ctx(admin), id=user["name"])
    assert not two_factor.is_enrolled(user["id"])
    actions = [e["action"] for e in audit_log.search()[1]]
    assert {"mfa_enabled", "mfa_disabled", "mfa_reset"} <= set(actions)


def test_the_user_hears_of_every_change(empty_access_tables, no_lock, inbox):
    """Turning it on, off, or a sysadmin's reset: an e-mail to the user, so
    that a change made by someone else does not go unnoticed."""
    user = factories.User(password=PASSWORD, email="analis@diskumkm.example.id")
    steps.enrol(user)
    (enabled,) = inbox.take().values()
    assert user["name"] in enabled.get_content() and "/akun/verifikasi-dua-langkah" in enabled.get_content()
    helpers.call_action("umkm_mfa_disable", context=_ctx(factories.Sysadmin()), id=user["id"])
    reset = inbox.take()["analis@diskumkm.example.id"]
    assert reset["Subject"] != enabled["Subject"] and "sysadmin" in reset["Subject"]


def test_guessing_locks_the_second_step(empty_access_tables, no_lock):
    user = factories.User(password=PASSWORD)
    secret = steps.enrol(user)
    for _ in range(two_factor.MAX_FAILURES):
        with pytest.raises(two_factor.CodeRefused):
            two_factor.verify(user["id"], "000000")
    # Locked: even the right code is refused now.
    with pytest.raises(two_factor.CodeRefused) as refused:
        two_factor.verify(user["id"], steps.fresh_code(secret, user))
    assert refused.value.reason == "locked"


def test_login_asks_for_the_code_after_the_password(live_portal, empty_access_tables, no_lock):
    user = factories.User(password=PASSWORD)
    plain = factories.User(password=PASSWORD)
    # Without two-step login, the password alone logs in, as before.
    session, reply = steps.password_step(live_portal, plain)
    assert "/masuk/verifikasi" not in reply.url and "/user/login" not in reply.url

    secret = steps.enrol(user)
    # A wrong password never reaches the second step.
    s = requests.Session()
    form = s.get(f"{live_portal}/user/login", timeout=30).text
    wrong = s.post(f"{live_portal}/user/login", data={"login": user["name"], "password": "salah-sekali",
                                                       "_csrf_token": steps.csrf(form)}, timeout=30)
    assert "/masuk/verifikasi" not in wrong.url
    # The right password alone logs nobody in.
    session, reply = steps.password_step(live_portal, user)
    assert reply.url.endswith("/masuk/verifikasi")
    me = session.get(f"{live_portal}/dashboard/datasets", timeout=30)
    assert "/user/login" in me.url
    # A wrong code: the page again, with the reason.
    again = session.post(reply.url, data={"code": "000000", "_csrf_token": steps.csrf(reply.text)}, timeout=30)
    assert again.url.endswith("/masuk/verifikasi") and "/user/login" in session.get(
        f"{live_portal}/dashboard/datasets", timeout=30).url
    # The right code logs in.
    done = session.post(reply.url, data={"code": steps.fresh_code(secret, user), "_csrf_token": steps.csrf(
        again.text)}, timeout=30)
    assert done.status_code == 200 and "/masuk/verifikasi" not in done.url
    me = session.get(f"{live_portal}/dashboard/datasets", timeout=30)
    assert me.status_code == 200 and "/user/login" not in me.url

    # Five wrong codes lock the second step for 15 minutes, and the log says so.
    session, reply = steps.password_step(live_portal, user)
    for _ in range(two_factor.MAX_FAILURES):
        reply = session.post(f"{live_portal}/masuk/verifikasi",
                             data={"code": "111111", "_csrf_token": steps.csrf(reply.text)}, timeout=30)
    assert "/user/login" in reply.url
    session, reply = steps.password_step(live_portal, user)
    locked = session.post(reply.url, data={"code": steps.fresh_code(secret, user),
                                           "_csrf_token": steps.csrf(reply.text)}, timeout=30)
    assert "/user/login" in locked.url
    # Logged: the lock, and the attempt made during it.
    assert audit_log.search(action="mfa_locked")[0] == 2


def test_restricted_data_needs_the_second_factor(world, live_portal, no_lock):
    """The in-scope agency user with statement and grant gets the regency's
    rows only through a login (or API token) backed by two-step login."""
    bandung = world["bandung"]
    res = world["resource"]
    url = f"{live_portal}/dataset/{world['pkg']['name']}/resource/{res['id']}/download"
    search = f"{live_portal}/api/3/action/datastore_search"

    def reads(headers=None, session=None) -> tuple[int, int]:
        http = session or requests
        download = http.get(url, headers=headers or {}, timeout=30)
        rows = http.get(search, params={"resource_id": res["id"]}, headers=headers or {}, timeout=30)
        return download.status_code, rows.status_code

    # Not enrolled: refused, and told to turn it on.
    plain = {"Authorization": restricted._token(bandung)}
    assert reads(plain) == (403, 403)
    shown = requests.get(f"{live_portal}/api/3/action/umkm_access_show", params={"id": world["pkg"]["id"]},
                         headers=plain, timeout=30).json()["result"]
    assert shown["reason"] == "mfa_setup" and not shown["allowed"]

    secret = steps.enrol(bandung)
    # A token created before (or outside) a two-step login is still refused.
    assert reads(plain) == (403, 403)
    assert reads({"Authorization": restricted._token(bandung)}) == (403, 403)
    # A password login that stops before the code reads nothing either.
    half, _ = steps.password_step(live_portal, bandung)
    assert reads(session=half)[0] in (401, 403)

    # After the code: the session, and tokens it creates, read the rows.
    session = steps.login(live_portal, bandung, secret)
    download = session.get(url, timeout=30)
    assert download.status_code == 200
    assert {r["nama_usaha"] for r in csv.DictReader(io.StringIO(download.content.decode()))} == restricted.BANDUNG
    token = steps.token(live_portal, session, bandung)
    assert reads({"Authorization": token}) == (200, 200)
    # A token made with that token still carries the second factor; the
    # claim cannot be added by hand (the token is signed).
    second = requests.post(f"{live_portal}/api/3/action/api_token_create", json={"user": bandung["name"],
                           "name": "uji-2"}, headers={"Authorization": token}, timeout=30).json()["result"]["token"]
    assert reads({"Authorization": second}) == (200, 200)
    head, payload, signature = plain["Authorization"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged = base64.urlsafe_b64encode(json.dumps({**claims, two_factor.TOKEN_CLAIM: True}).encode()).decode()
    assert reads({"Authorization": f"{head}.{forged.rstrip('=')}.{signature}"}) == (403, 403)

    # Custodians too: the producer reads the whole table only after the code.
    producer = world["producer"]
    assert requests.get(url, headers={"Authorization": restricted._token(producer)}, timeout=30).status_code == 403
    producer_session = steps.login(live_portal, producer, steps.enrol(producer))
    whole = producer_session.get(url, timeout=30)
    assert whole.status_code == 200 and len(list(csv.DictReader(io.StringIO(whole.content.decode())))) == 4

    # Turning it off ends the session's and the tokens' access at once.
    helpers.call_action("umkm_mfa_disable", context={"user": world["admin"]["name"]}, id=bandung["id"])
    assert reads({"Authorization": token}) == (403, 403)
    assert session.get(url, timeout=30).status_code == 403
    refused = [r["reason"] for r in refusals.search()[1]]
    assert {"mfa_setup", "mfa_verify"} <= set(refused)


def test_walidata_manages_access_only_with_the_second_factor(world, live_portal, no_lock):
    walidata = world["walidata"]
    api = f"{live_portal}/api/3/action/umkm_audit_list"
    plain = requests.get(api, headers={"Authorization": restricted._token(walidata)}, timeout=30)
    assert plain.status_code == 403
    session, _ = steps.password_step(live_portal, walidata)
    page = session.get(f"{live_portal}/akses/izin", timeout=30)
    assert page.url.endswith("/akun/verifikasi-dua-langkah")
    secret = steps.enrol(walidata)
    # Enrolled, but this session has not given the code: the code page, then the grants.
    page = session.get(f"{live_portal}/akses/izin", timeout=30)
    assert "/masuk/verifikasi" in page.url
    done = session.post(page.url, data={"code": steps.fresh_code(secret, walidata),
                                        "_csrf_token": steps.csrf(page.text)}, timeout=30)
    assert done.status_code == 200 and done.url.endswith("/akses/izin") and "umkm-grants" in done.text
    token = steps.token(live_portal, session, walidata)
    assert requests.get(api, headers={"Authorization": token}, timeout=30).json()["result"]["count"] >= 1


def test_the_code_page_confirms_a_restored_session(world, live_portal, no_lock):
    """A session without the second factor (restored from "remember me", or
    logged in before enrolment) confirms it on the code page, then reads."""
    bandung = world["bandung"]
    path = f"/dataset/{world['pkg']['name']}/resource/{world['resource']['id']}/download"
    url = live_portal + path
    session, reply = steps.password_step(live_portal, bandung)  # not enrolled: logged in by password
    assert "/user/login" not in session.get(f"{live_portal}/dashboard/datasets", timeout=30).url
    secret = steps.enrol(bandung)
    assert session.get(url, timeout=30).status_code == 403
    page = session.get(f"{live_portal}/masuk/verifikasi", params={"next": path}, timeout=30)
    assert page.status_code == 200
    done = session.post(page.url, data={"code": steps.fresh_code(secret, bandung),
                                        "_csrf_token": steps.csrf(page.text)}, timeout=30)
    assert done.status_code == 200 and done.url == url
    assert {r["nama_usaha"] for r in csv.DictReader(io.StringIO(done.content.decode()))} == restricted.BANDUNG


def test_the_app_secret_gives_the_codes_the_portal_accepts(empty_access_tables, no_lock):
    """The provisioning URI is the standard one authenticator apps read."""
    user = factories.User(password=PASSWORD)
    setup = helpers.call_action("umkm_mfa_setup", context=_ctx(user))
    parsed = pyotp.parse_uri(setup["uri"])
    assert parsed.secret == setup["secret"] and parsed.digits == 6 and parsed.interval == 30
    assert helpers.call_action("umkm_mfa_confirm", context=_ctx(user), code=parsed.now(),
                               password=PASSWORD)["enrolled"]


def test_a_sysadmin_resets_a_lost_phone(live_portal, empty_access_tables, no_lock):
    """On the user's page (sysadmins only) or with ``ckan umkm mfa reset``."""
    user = factories.User(password=PASSWORD)
    other = factories.User(password=PASSWORD)
    admin = factories.Sysadmin(password=PASSWORD)
    steps.enrol(user)
    page = f"{live_portal}/akun/verifikasi-dua-langkah"
    nosy, _ = steps.password_step(live_portal, other)
    assert nosy.get(page, params={"user": user["name"]}, timeout=30).status_code == 403
    # A sysadmin's password alone does not reset anyone (issue 12, item 8).
    password_only, _ = steps.password_step(live_portal, admin)
    sent = password_only.get(page, params={"user": user["name"]}, timeout=30)
    # ... it leads to turning two-step login on for the sysadmin's own account.
    assert sent.url == page and 'data-enrolled="true"' not in sent.text
    assert two_factor.is_enrolled(user["id"])
    session = steps.login(live_portal, admin, steps.enrol(admin))
    shown = session.get(page, params={"user": user["name"]}, timeout=30)
    assert shown.status_code == 200 and 'data-enrolled="true"' in shown.text
    done = session.post(shown.url, data={"_csrf_token": steps.csrf(shown.text)}, timeout=30)
    assert done.status_code == 200 and 'data-enrolled="false"' in done.text
    assert not two_factor.is_enrolled(user["id"])
    assert audit_log.search(action="mfa_reset")[1][0]["actor"] == admin["name"]

    steps.enrol(user)
    cli = [os.path.join(os.path.dirname(sys.executable), "ckan"), "-c", os.path.join(restricted.ROOT, "config",
           "test.ini"), "umkm", "mfa", "reset"]
    run = subprocess.run([*cli, user["name"]], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    model.Session.remove()
    assert not two_factor.is_enrolled(user["id"])
    run = subprocess.run([*cli, "tidak-ada-pengguna-ini"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 1
