"""Two-step login as a user goes through it: enrol, then log in over HTTP
with the password and a code, then create an API token in that session."""

from __future__ import annotations

import re
import time

import pyotp
import requests
import sqlalchemy as sa
from ckan import model
from ckan.tests import helpers
from ckanext.umkm.access import two_factor

from .test_ui import PASSWORD

CSRF = re.compile(r'name="_csrf_token" (?:value|content)="([^"]+)"')


def enrol(user: dict) -> str:
    """Turn two-step login on for the user; returns the app's secret."""
    context = {"user": user["name"], "ignore_auth": False}
    setup = helpers.call_action("umkm_mfa_setup", context=dict(context))
    helpers.call_action("umkm_mfa_confirm", context=dict(context), code=fresh_code(setup["secret"], user),
                        password=PASSWORD)
    return setup["secret"]


def fresh_code(secret: str, user: dict) -> str:
    """A code the portal has not seen yet (each time step is accepted once;
    the next step is accepted too, for clock drift)."""
    model.Session.remove()
    used = model.Session.execute(sa.select(two_factor.table.c.last_step).where(
        two_factor.table.c.user_id == user["id"])).scalar() or 0
    while True:
        current = int(time.time()) // two_factor.STEP
        step = next((s for s in (current, current + 1) if s > used), None)
        if step is not None:
            return pyotp.TOTP(secret).generate_otp(step)
        time.sleep(1)


def csrf(html: str) -> str:
    return CSRF.search(html).group(1)


def password_step(base: str, user: dict) -> tuple[requests.Session, requests.Response]:
    session = requests.Session()
    form = session.get(f"{base}/user/login", timeout=30).text
    reply = session.post(f"{base}/user/login", data={"login": user["name"], "password": PASSWORD,
                                                     "_csrf_token": csrf(form)}, timeout=30)
    return session, reply


def login(base: str, user: dict, secret: str) -> requests.Session:
    session, reply = password_step(base, user)
    assert reply.url.endswith("/masuk/verifikasi"), reply.url
    done = session.post(reply.url, data={"code": fresh_code(secret, user), "_csrf_token": csrf(reply.text)},
                        timeout=30)
    assert "/masuk/verifikasi" not in done.url and "/user/login" not in done.url, done.url
    return session


def token(base: str, session: requests.Session, user: dict) -> str:
    """An API token created in this (logged-in) session, as the API-token page's JS does."""
    page = session.get(f"{base}/dashboard/datasets", timeout=30).text
    reply = session.post(f"{base}/api/3/action/api_token_create", json={"user": user["name"], "name": "uji"},
                         headers={"X-CSRFToken": csrf(page)}, timeout=30)
    assert reply.status_code == 200, reply.text
    return reply.json()["result"]["token"]
