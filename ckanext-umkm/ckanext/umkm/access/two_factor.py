"""Two-step login (TOTP, RFC 6238) for those who read restricted data
(Lampiran I, "autentikasi multifaktor").

A user enrols an authenticator app by scanning a QR code and confirming one
code; from then on the login asks for a code after the password, and ten
one-time recovery codes stand in for a lost phone. The gate
(``restricted_access``) delivers restricted data to a logged-in user only
when this request is backed by the second factor: a session that passed it,
or an API token created by such a session (the token carries a signed
``umkm_mfa`` claim). Server-side calls (CLI, jobs) are not logins and are
not asked.

The shared secrets are stored encrypted (Fernet) with keys of their own,
``ckanext.umkm.mfa.encryption_keys``: secrets that the database does not
hold, from which the encryption keys are derived with HKDF-SHA256. The
first key encrypts; every key listed decrypts, so a key is rotated by
putting the new one first, running ``ckan umkm mfa rekey`` (which
re-encrypts every secret with it), then removing the old one. Rotating
``SECRET_KEY`` (sessions, CSRF) leaves two-step login alone. Enrolments
made when the key was derived from ``SECRET_KEY`` are still read, and
re-encrypted with the current key at their next use or by ``rekey``.

Recovery codes are stored as salted, slow PBKDF2-SHA512 hashes (passlib),
as CKAN stores passwords. Codes are accepted once (the last used time step
is kept) within one step of clock drift; five wrong codes lock the second
step for 15 minutes.

The portal's own background services (the DataStore loader) call the API
with a token of the site user made on the server (``ckan umkm
service-token``): such a token carries a signed ``umkm_service`` claim and
is accepted without a second factor, but only from the addresses in
``ckanext.umkm.service_addresses`` (default: this machine).

ckanext-auth was considered and not used: its QR endpoint hands any user's
TOTP secret to an anonymous caller, which defeats the second factor, and it
can only require two-step login of every user.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import secrets
import time
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
import pyotp
import segno
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from passlib.hash import pbkdf2_sha512

from ckanext.umkm.release.workflow import now

# Not CKAN's metadata: CKAN's test resets must not touch this table.
metadata = sa.MetaData()

table = sa.Table(
    "umkm_mfa", metadata,
    sa.Column("user_id", sa.UnicodeText, primary_key=True),
    sa.Column("secret", sa.UnicodeText, nullable=False),
    sa.Column("confirmed_at", sa.DateTime(timezone=True)),
    sa.Column("last_step", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("recovery", sa.UnicodeText, nullable=False, server_default="[]"),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
)

SESSION_KEY = "umkm_mfa"
PENDING_KEY = "umkm_mfa_pending"
TOKEN_CLAIM = "umkm_mfa"
SERVICE_CLAIM = "umkm_service"
KEYS_SETTING = "ckanext.umkm.mfa.encryption_keys"
STEP = 30
MAX_FAILURES = 5
LOCK_SECONDS = 15 * 60
PENDING_SECONDS = 5 * 60
RECOVERY_CODES = 10


class CodeRefused(Exception):
    """A wrong, reused or locked-out code; ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class KeysMissing(RuntimeError):
    """The portal has no key to encrypt two-step login secrets with."""


def encryption_keys() -> list[str]:
    keys = tk.aslist(tk.config.get(KEYS_SETTING) or "")
    if not keys:
        raise KeysMissing(f"{KEYS_SETTING} is not set: give it a random secret (see README, two-step login)")
    return keys


def _derive(secret: str, info: bytes = b"two-step login secrets v1") -> Fernet:
    """A Fernet key from a configured secret, with HKDF-SHA256; ``info``
    keeps each use's key apart (two-step secrets, requests' personal data)."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"ckanext-umkm",
               info=info).derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def _legacy() -> Fernet:
    """The key of enrolments made before keys of their own (from SECRET_KEY)."""
    key = hashlib.sha256(b"umkm-mfa:" + str(tk.config.get("SECRET_KEY") or "").encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def _fernet() -> MultiFernet:
    return MultiFernet([_derive(k) for k in encryption_keys()])


def cipher(info: bytes) -> MultiFernet:
    """The portal's encryption for other secrets at rest, from the same
    configured keys (the first encrypts; all decrypt), under a key of its own."""
    return MultiFernet([_derive(k, info) for k in encryption_keys()])


def _row(user_id: str) -> Any:
    return model.Session.execute(sa.select(table).where(table.c.user_id == user_id)).mappings().first()


def _secret(row: Any) -> str:
    token = row["secret"].encode()
    try:
        return _fernet().decrypt(token).decode()
    except InvalidToken:
        pass
    try:
        secret = _legacy().decrypt(token).decode()
    except InvalidToken:
        # No configured key reads it (a key was removed too early): the
        # user sets two-step login up again after a sysadmin's reset.
        raise CodeRefused("unreadable") from None
    model.Session.execute(sa.update(table).where(table.c.user_id == row["user_id"]).values(
        secret=_fernet().encrypt(secret.encode()).decode()))
    model.Session.commit()
    return secret


def rekey() -> tuple[int, int]:
    """Re-encrypt every secret with the first configured key; returns
    (secrets re-encrypted, secrets no key could read)."""
    done = unreadable = 0
    fernet = _fernet()
    for row in model.Session.execute(sa.select(table)).mappings().all():
        token = row["secret"].encode()
        try:
            fresh = fernet.rotate(token)
        except InvalidToken:
            try:
                fresh = fernet.encrypt(_legacy().decrypt(token))
            except InvalidToken:
                unreadable += 1
                continue
        model.Session.execute(sa.update(table).where(table.c.user_id == row["user_id"]).values(
            secret=fresh.decode()))
        done += 1
    model.Session.commit()
    return done, unreadable


def is_enrolled(user_id: str) -> bool:
    row = _row(user_id)
    return bool(row and row["confirmed_at"])


def status(user_id: str) -> dict[str, Any]:
    row = _row(user_id)
    enrolled = bool(row and row["confirmed_at"])
    return {"enrolled": enrolled, "confirmed_at": row["confirmed_at"].isoformat() if enrolled else None,
            "recovery_codes_left": len(json.loads(row["recovery"])) if enrolled else 0}


def provisioning_uri(user: model.User, secret: str) -> str:
    issuer = tk.config.get("ckan.site_title") or "Satu Data UMKM"
    return pyotp.TOTP(secret).provisioning_uri(name=user.name, issuer_name=issuer)


def start(user: model.User) -> dict[str, Any]:
    """A new, unconfirmed secret for the user (replacing an unconfirmed one)."""
    if is_enrolled(user.id):
        raise tk.ValidationError({"code": [tk._("Two-step login is already on; turn it off first")]})
    secret = pyotp.random_base32()
    values = {"secret": _fernet().encrypt(secret.encode()).decode(), "confirmed_at": None, "last_step": 0,
              "recovery": "[]", "created": now()}
    model.Session.execute(sa.delete(table).where(table.c.user_id == user.id))
    model.Session.execute(sa.insert(table).values(user_id=user.id, **values))
    model.Session.commit()
    return _for_the_app(user, secret)


def pending_setup(user: model.User) -> dict[str, Any] | None:
    """The unconfirmed secret the user is setting up, to show again."""
    row = _row(user.id)
    if not row or row["confirmed_at"]:
        return None
    try:
        return _for_the_app(user, _secret(row))
    except CodeRefused:
        return None  # no configured key reads it: set up anew


def _for_the_app(user: model.User, secret: str) -> dict[str, Any]:
    uri = provisioning_uri(user, secret)
    return {"secret": secret, "uri": uri, "qr": segno.make(uri, error="m").svg_data_uri(scale=5)}


def _normal(code: str) -> str:
    return code.replace("-", "").replace(" ", "").strip().lower()


def _hash(code: str) -> str:
    """A recovery code as stored: salted PBKDF2-SHA512, as CKAN's passwords."""
    return pbkdf2_sha512.hash(_normal(code))


def _matches(code: str, stored: str) -> bool:
    if stored.startswith("$pbkdf2"):
        return pbkdf2_sha512.verify(_normal(code), stored)
    # Codes handed out before salted hashes: unsalted SHA-256.
    return hmac.compare_digest(hashlib.sha256(_normal(code).encode()).hexdigest(), stored)


def _new_recovery_codes() -> list[str]:
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    codes = ["".join(secrets.choice(alphabet) for _ in range(10)) for _ in range(RECOVERY_CODES)]
    return [f"{c[:5]}-{c[5:]}" for c in codes]


def _redis() -> Any:
    from ckan.lib.redis import connect_to_redis

    return connect_to_redis()


def _fail_key(user_id: str) -> str:
    return f"{tk.config.get('ckan.site_id')}:umkm:mfa:failures:{user_id}"


def locked(user_id: str) -> bool:
    return int(_redis().get(_fail_key(user_id)) or 0) >= MAX_FAILURES


def _check(user_id: str, code: str, *, allow_recovery: bool, confirming: bool = False) -> str:
    """Accept one code for the user, or raise CodeRefused; returns how
    ("totp" or "recovery"). Every refusal counts towards the lock."""
    row = _row(user_id)
    if row is None or (not confirming and not row["confirmed_at"]):
        raise CodeRefused("not_enrolled")
    if confirming and row["confirmed_at"]:
        raise CodeRefused("enrolled")
    if locked(user_id):
        raise CodeRefused("locked")
    code = (code or "").strip().replace(" ", "")
    totp = pyotp.TOTP(_secret(row))
    current = int(time.time()) // STEP
    if code.isdigit() and len(code) == 6:
        for step in (current - 1, current, current + 1):
            if hmac.compare_digest(totp.generate_otp(step), code):
                # Compare-and-set, so that two requests cannot both use one code.
                used = model.Session.execute(
                    sa.update(table).where(table.c.user_id == user_id, table.c.last_step < step)
                    .values(last_step=step)).rowcount
                model.Session.commit()
                if not used:
                    _count_failure(user_id)
                    raise CodeRefused("reused")
                _redis().delete(_fail_key(user_id))
                return "totp"
    elif allow_recovery and code:
        hashes = json.loads(row["recovery"])
        found = next((h for h in hashes if _matches(code, h)), None)
        if found is not None:
            hashes.remove(found)
            model.Session.execute(sa.update(table).where(table.c.user_id == user_id)
                                  .values(recovery=json.dumps(hashes)))
            model.Session.commit()
            _redis().delete(_fail_key(user_id))
            return "recovery"
    _count_failure(user_id)
    raise CodeRefused("locked" if locked(user_id) else "wrong")


def _count_failure(user_id: str) -> None:
    # The lock lasts 15 minutes from the last wrong code.
    redis = _redis()
    key = _fail_key(user_id)
    redis.incr(key)
    redis.expire(key, LOCK_SECONDS)


def confirm(user: model.User, code: str) -> list[str]:
    """Turn two-step login on with the first code; returns the recovery
    codes (shown once, stored hashed)."""
    _check(user.id, code, allow_recovery=False, confirming=True)
    codes = _new_recovery_codes()
    model.Session.execute(sa.update(table).where(table.c.user_id == user.id).values(
        confirmed_at=now(), recovery=json.dumps([_hash(c) for c in codes])))
    model.Session.commit()
    return codes


def verify(user_id: str, code: str) -> str:
    """A login's second step: a current code or an unused recovery code."""
    return _check(user_id, code, allow_recovery=True)


def disable(user_id: str) -> bool:
    """Turn two-step login off (the caller checked the code or the right)."""
    gone = model.Session.execute(sa.delete(table).where(table.c.user_id == user_id)).rowcount
    model.Session.commit()
    _redis().delete(_fail_key(user_id))
    return bool(gone)


def refusal_message(reason: str) -> str:
    _ = tk._
    return {
        "wrong": _("The code is not valid"),
        "reused": _("This code has already been used; wait for the next one"),
        "locked": _("Too many wrong codes: try again in 15 minutes"),
        "not_enrolled": _("Two-step login is not set up for this account"),
        "enrolled": _("Two-step login is already on"),
        "unreadable": _("Two-step login must be set up again; ask a sysadmin to reset it"),
    }.get(reason, _("The code is not valid"))


# --- what a request is backed by ----------------------------------------------

def login_id() -> str | None:
    """The id of the user this HTTP request is logged in as, if any."""
    from flask import has_request_context

    if not has_request_context():
        return None
    current = tk.current_user
    return current.id if getattr(current, "is_authenticated", False) else None


def mark_session(user_id: str) -> None:
    """This session has just shown the second factor (if it is that user's)."""
    from flask import request, session

    # A request made with an API token has no session of its own to mark.
    if login_id() == user_id and not request.headers.get(tk.config.get("apitoken_header_name")):
        session[SESSION_KEY] = user_id


def start_pending(user: model.User, next_url: str | None, remember: str | None) -> None:
    """Password accepted, code still due: nobody is logged in yet."""
    from flask import session

    forget_session()
    session[PENDING_KEY] = {"user_id": user.id, "next": next_url, "remember": remember, "at": int(time.time())}


def forget_session() -> None:
    """At logout and at a new login, the session's second factor is gone."""
    from flask import session

    session.pop(SESSION_KEY, None)
    session.pop(PENDING_KEY, None)


def pending_user() -> tuple[model.User | None, dict[str, Any]]:
    from flask import session

    pending = session.get(PENDING_KEY) or {}
    if not pending or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        session.pop(PENDING_KEY, None)
        return None, {}
    user = model.User.get(pending["user_id"])
    return (user if user is not None and user.state == model.State.ACTIVE else None), pending


def clear_pending() -> None:
    from flask import session

    session.pop(PENDING_KEY, None)


def _token_claims() -> dict[str, Any]:
    from ckan.lib import api_token
    from flask import request

    header = request.headers.get(tk.config.get("apitoken_header_name"), "")
    return (api_token.decode(header) if header else None) or {}


def _token_claim() -> bool:
    return bool(_token_claims().get(TOKEN_CLAIM))


def sharing_token() -> list[str] | None:
    """The datasets this request's API token is limited to, when it is a
    data-sharing token (``requests.outcomes``); None otherwise."""
    from flask import g, has_request_context

    if not has_request_context() or not g.get("login_via_auth_header"):
        return None
    packages = _token_claims().get("umkm_packages")
    return list(packages) if isinstance(packages, list) else None


def is_site_user(user: model.User | None) -> bool:
    return user is not None and user.name == tk.config.get("ckan.site_id")


def service_token_claim(owner: model.User | None) -> bool:
    """Whether an API token created now for ``owner`` is one of the portal's
    own services: the site user's, made on the server (no HTTP login)."""
    return is_site_user(owner) and login_id() is None


def service_addresses() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(a, strict=False)
            for a in tk.aslist(tk.config.get("ckanext.umkm.service_addresses", "127.0.0.1/32 ::1/128"))]


def _service_request(user: model.User) -> bool:
    """This request is the portal's own service: the site user's token with
    the service claim, from an address where the services run."""
    from flask import g, request

    if not (g.get("login_via_auth_header") and is_site_user(user) and _token_claims().get(SERVICE_CLAIM)):
        return False
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in network for network in service_addresses())


def _login_verified(user: model.User) -> bool:
    """Whether this request's login (session or API token) gave the second
    factor; ``is_enrolled`` is the caller's to check."""
    from flask import g, session

    if g.get("login_via_auth_header"):
        return _token_claim()
    return session.get(SESSION_KEY) == user.id


def backs_new_token(owner: model.User | None) -> bool:
    """Whether an API token created now for ``owner`` comes from that user's
    own two-step login (so that it may read restricted data)."""
    return owner is not None and login_id() == owner.id and is_enrolled(owner.id) and _login_verified(owner)


def requirement(user: model.User) -> str | None:
    """None when the user may read restricted data in this request;
    otherwise "mfa_setup" (not enrolled) or "mfa_verify" (not verified)."""
    if login_id() != user.id:
        # Not this request's login: a server-side call on someone's behalf.
        return None
    if _service_request(user):
        return None
    if sharing_token() is not None:
        # A data-sharing token: made on Walidata's two-step-verified approval
        # for a service account, bound to its datasets, expiring, revocable.
        return None
    if not is_enrolled(user.id):
        return "mfa_setup"
    return None if _login_verified(user) else "mfa_verify"
