"""Abuse limits (OWASP ASVS 4.0.3 V2.2.1, V11.1.4): password guessing,
mass registration and password resets, and floods of expensive reads get a
429 with ``Retry-After``, counted in Redis (the ``limits`` library, the
one flask-limiter is built on, with moving windows), per client address
(``caller.client_ip``) and, for logins, per account.

Each limit is ``ckanext.umkm.limits.<name>`` in the ``limits`` notation
("10/15 minutes", several separated by ";"), and all of them are off with
``ckanext.umkm.limits.enabled = false``:

============================  =====================  ======================
name                          counts                 default
============================  =====================  ======================
``login_client``              wrong passwords from   30/10 minutes
                              one address (any
                              account)
``login_account_client``      wrong passwords for    5/5 minutes
                              one account from one
                              address
``login_account``             wrong passwords for    50/hour
                              one account, from
                              anywhere
``register``                  registrations of one   5/hour
                              address
``reset``                     password-reset         5/hour
                              requests of one
                              address
``reset_account``             reset e-mails for one  3/hour
                              account
``search``                    dataset and resource   120/minute
                              searches (API, pages)
``datastore``                 DataStore reads        120/minute
                              (API, table preview)
``sql``                       DataStore SQL          30/minute
``dump``                      DataStore dumps and    30/minute
                              filtered downloads
``export``                    log book, INDAH and    20/minute
                              metadata exports
``request``                   requests submitted     10/hour
                              from one address
``request_account``           requests submitted by  20/day
                              one account
============================  =====================  ======================

Nobody is locked out for good: every window moves, so a limit lifts by
itself once the requests that filled it are older than the window (at most
an hour). Wrong passwords are counted per account *and address* with a short
window, so that an attacker elsewhere cannot keep a real user out; only a
flood of 50 wrong passwords an hour from everywhere holds an account back,
for the rest of that hour. The two-step code keeps its own lock (5 wrong
codes, 15 minutes).
"""

from __future__ import annotations

import functools
import json
import logging
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import ckan.plugins.toolkit as tk

from ckanext.umkm import caller

log = logging.getLogger(__name__)

DEFAULTS = {
    "login_client": "30/10 minutes",
    "login_account_client": "5/5 minutes",
    "login_account": "50/hour",
    "register": "5/hour",
    "reset": "5/hour",
    "reset_account": "3/hour",
    "search": "120/minute",
    "datastore": "120/minute",
    "sql": "30/minute",
    "dump": "30/minute",
    "export": "20/minute",
    "request": "10/hour",
    "request_account": "20/day",
}

# API actions and the limit they count against.
ACTIONS = {
    "package_search": "search", "resource_search": "search", "current_package_list_with_resources": "search",
    "datastore_search": "datastore", "datastore_info": "datastore", "datastore_search_sql": "sql",
    "umkm_indah_export": "export", "umkm_kegiatan_export": "export", "umkm_metadata_template": "export",
}


def enabled() -> bool:
    return tk.asbool(tk.config.get("ckanext.umkm.limits.enabled", True))


@functools.lru_cache(maxsize=1)
def _limiter(url: str) -> Any:
    from limits.storage import storage_from_string
    from limits.strategies import MovingWindowRateLimiter

    storage = storage_from_string(url)
    return MovingWindowRateLimiter(storage)


def limiter() -> Any:
    return _limiter(tk.config.get("ckan.redis.url") or "redis://localhost:6379/0")


def items(name: str) -> list[Any]:
    from limits import parse_many

    return parse_many(str(tk.config.get(f"ckanext.umkm.limits.{name}") or DEFAULTS[name]))


def _key(*parts: str) -> list[str]:
    return [str(tk.config.get("ckan.site_id") or "ckan"), "umkm-limit", *parts]


@dataclass
class Exceeded(Exception):
    """A limit is full; ``retry_after`` seconds until it lets one more through."""

    name: str
    retry_after: int


def _retry_after(item: Any, key: list[str]) -> int:
    stats = limiter().get_window_stats(item, *key)
    return max(1, math.ceil(stats.reset_time - time.time()))


def test(name: str, *key: str) -> None:
    """Raise Exceeded if ``name`` is full for ``key`` (nothing counted)."""
    full = _key(name, *key)
    for item in items(name):
        if not limiter().test(item, *full):
            raise Exceeded(name, _retry_after(item, full))


def hit(name: str, *key: str) -> None:
    """Count one request against ``name``; raise Exceeded if it was full."""
    full = _key(name, *key)
    for item in items(name):
        if not limiter().hit(item, *full):
            raise Exceeded(name, _retry_after(item, full))


def clear(names: Iterable[str], *key: str) -> None:
    for name in names:
        for item in items(name):
            limiter().clear(item, *_key(name, *key))


# --- the requests ----------------------------------------------------------------

def _login_name() -> str:
    """The account a login form names. CKAN also logs in by e-mail address:
    an address is counted as the account it belongs to, so that switching
    between the two does not double the guesses."""
    from flask import g, request

    if "_umkm_login_name" not in g:
        login = (request.form.get("login") or "").strip()[:200]
        if "@" in login:
            from ckan import model

            user = model.User.by_email(login)
            login = user.name if user is not None else login
        g._umkm_login_name = login.lower()
    return g._umkm_login_name


def _action_name() -> str | None:
    from flask import request

    if request.blueprint == "api" and request.view_args:
        return request.view_args.get("logic_function")
    return None


def before_request() -> Any:
    """Count this request against the limits it falls under; a 429 when one
    is full."""
    from flask import request

    if not enabled():
        return None
    ip = caller.client_ip() or "-"
    endpoint = request.endpoint or ""
    try:
        if endpoint == "user.login" and request.method == "POST":
            login = _login_name()
            test("login_client", ip)
            if login:
                test("login_account_client", login, ip)
                test("login_account", login)
        elif endpoint == "user.register" and request.method == "POST":
            hit("register", ip)
        elif endpoint == "user.request_reset" and request.method == "POST":
            hit("reset", ip)
            account = (request.form.get("user") or request.form.get("id") or "").strip().lower()[:200]
            if account:
                hit("reset_account", account)
        elif endpoint in ("datastore.dump", "datatables.filtered_download"):
            hit("dump", ip)
        elif endpoint == "datatables.ajax":
            hit("datastore", ip)
        elif endpoint.endswith(".search") and request.method == "GET":
            hit("search", ip)
        elif endpoint in ("umkm_access.audit",) and request.args.get("format"):
            hit("export", ip)
        elif endpoint in ("umkm_exchange.kegiatan_export", "umkm_exchange.indah_export", "umkm_exchange.template"):
            hit("export", ip)
        else:
            name = ACTIONS.get(_action_name() or "")
            if name:
                hit(name, ip)
    except Exceeded as e:
        return too_many(e)
    except Exception:  # noqa: BLE001 - Redis away: serve rather than fail every request
        log.exception("abuse limits could not be checked")
    return None


def after_request(response: Any) -> Any:
    """A wrong password counts against the account and the address (CKAN's
    login page comes back with 200; a right one redirects). Right passwords
    do not count: many colleagues behind one office address log in every
    morning."""
    from flask import request

    if (enabled() and request.endpoint == "user.login" and request.method == "POST"
            and response.status_code == 200 and _login_name()):
        login, ip = _login_name(), caller.client_ip() or "-"
        for name, key in (("login_client", (ip,)), ("login_account_client", (login, ip)),
                          ("login_account", (login,))):
            try:
                hit(name, *key)
            except Exceeded:
                pass
            except Exception:  # noqa: BLE001
                log.exception("abuse limits could not be counted")
    return response


def too_many(exceeded: Exceeded) -> Any:
    from flask import Response, request

    message = tk._("Too many requests: try again in {seconds} seconds").format(seconds=exceeded.retry_after)
    headers = {"Retry-After": str(exceeded.retry_after), "Cache-Control": "no-store"}
    log.warning("limit %s reached by %s on %s", exceeded.name, caller.client_ip(), request.path)
    if request.path.startswith("/api/"):
        body = json.dumps({"success": False, "error": {"__type": "Rate Limit", "message": message}})
        return Response(body, status=429, mimetype="application/json", headers=headers)
    return Response(message, status=429, mimetype="text/plain", headers=headers)


def install(app: Any) -> None:
    app.before_request(before_request)
    app.after_request(after_request)
