"""What an approval gives, per kind of request:

- data: a grant of the restricted-data gate for each restricted dataset
  (``umkm_access_grant_create`` with the request's id, scope, purpose,
  validity and download limit) and a link for each public one;
- account: the data administrator's user, active and a member of the
  agency's organization, with the statement the request carried;
- data sharing: a service account of the agency, granted the agreed
  datasets only, with an API token that expires with the grants and
  carries the datasets it may read (the gate refuses any other), revocable.
"""

from __future__ import annotations

import datetime
import re
import secrets
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk

from ckanext.umkm import caller
from ckanext.umkm.access import confidentiality, gate
from ckanext.umkm.audit import log as audit_log

# Claims of a data-sharing token: the request it answers and the datasets it reads.
SHARING_CLAIM = "umkm_sharing"
PACKAGES_CLAIM = "umkm_packages"

_ = tk._


def site_context(context: dict[str, Any], request: dict[str, Any] | None = None) -> dict[str, Any]:
    """Walidata's approval acts with the site user's rights, deferring the
    commit to the request's own transaction; the account log book names
    the Walidata user and the request."""
    return {"ignore_auth": True, "user": tk.config.get("ckan.site_id"), "defer_commit": True,
            "model": model, "session": model.Session, "umkm_actor": caller.actor_name(context),
            "umkm_request": request["number"] if request else None}


def grant_data(context: dict[str, Any], request: dict[str, Any], packages: list[dict[str, Any]], *,
               regions: list[str], sectors: list[str], valid_until: datetime.datetime | None,
               download_limit: int | None, holder: dict[str, str]) -> dict[str, Any]:
    grants, links = [], []
    for pkg in packages:
        if gate.is_restricted(pkg):
            grant = tk.get_action("umkm_access_grant_create")(
                {**caller.nested_context(context), "defer_commit": True}, {
                    **holder, "package_id": pkg["id"], "regions": regions, "sectors": sectors,
                    "purpose": request["details"].get("purpose") or request["title"],
                    "valid_until": valid_until.isoformat() if valid_until else None,
                    "download_limit": download_limit, "request_id": request["id"]})
            grants.append({**{k: grant[k] for k in ("id", "package_id", "regions", "sectors", "valid_until",
                                                     "download_limit")},
                           "dataset": pkg["name"], "dataset_title": pkg.get("title") or pkg["name"]})
        else:
            links.append({"dataset": pkg["name"], "title": pkg.get("title") or pkg["name"],
                          "url": tk.url_for("dataset.read", id=pkg["name"], _external=True)})
    return {"grants": grants, "links": links}


def _free_name(base: str) -> str:
    base = re.sub(r"[^a-z0-9_-]+", "-", base.lower()).strip("-")[:90] or "pengguna"
    name, n = base, 1
    while model.User.get(name) is not None:
        n += 1
        name = f"{base}-{n}"
    return name


def _statement(user: model.User, personal: dict[str, Any], agency: str, pdf_path: str | None,
               reviewer: str) -> str | None:
    """The request's signed statement becomes the user's signature, approved
    by the Walidata who approved the request."""
    if not pdf_path:
        return None
    with open(pdf_path, "rb") as f:
        pdf = f.read()
    signed = confidentiality.sign(user.id, method="upload", full_name=personal.get("name") or user.fullname or "",
                                  nip_nik=personal.get("nik") or "", agency=agency,
                                  position=personal.get("position") or "", controller_duties=True, pdf=pdf)
    confidentiality.review(signed["id"], approve=True, reviewer=reviewer)
    return signed["id"]


def create_account(context: dict[str, Any], request: dict[str, Any], personal: dict[str, Any],
                   statement_path: str | None, wanted_name: str | None) -> dict[str, Any]:
    """The administrator's account, active, member of the agency. An
    existing account with the same e-mail address is activated and joined
    instead of duplicated."""
    org = model.Group.get(request["organization_id"])
    if org is None or org.state != "active":
        raise tk.ValidationError({"organization_id": [_("No such agency")]})
    email = personal["email"]
    existing = model.User.by_email(email)
    user = existing[0] if existing else None
    created = user is None
    site = site_context(context, request)
    if user is None:
        name = _free_name(wanted_name or email.split("@")[0])
        tk.get_action("user_create")(dict(site), {
            "name": name, "email": email, "fullname": personal.get("name") or name,
            "password": secrets.token_urlsafe(24) + "aA1!"})
        user = model.User.get(name)
    elif user.state != "active":
        user.state = "active"
    assert user is not None
    tk.get_action("member_create")(dict(site), {"id": org.id, "object": user.id, "object_type": "user",
                                                "capacity": "member"})
    signature_id = _statement(user, personal, org.title or org.name, statement_path, caller.actor_name(context))
    if not created:
        audit_log.record("account_activate", actor=caller.actor_name(context), object_type="user",
                         object_id=user.id, target_type="organization", target_id=org.id,
                         payload={"request": request["number"], "user": user.name, "agency": org.name})
    from ckan.lib import mailer

    mailer.create_reset_key(user)
    reset = tk.url_for("user.perform_reset", id=user.id, key=user.reset_key, _external=True)
    return {"user": user.name, "user_id": user.id, "created": created, "statement": signature_id,
            "reset_url": reset}


def create_sharing(context: dict[str, Any], request: dict[str, Any], personal: dict[str, Any],
                   statement_path: str | None, packages: list[dict[str, Any]],
                   valid_until: datetime.datetime) -> tuple[dict[str, Any], str]:
    """The service account, its grants and its token; returns the outcome
    and the token (shown to the requester, stored encrypted)."""
    org = model.Group.get(request["organization_id"])
    if org is None or org.state != "active":
        raise tk.ValidationError({"organization_id": [_("No such agency")]})
    site = site_context(context, request)
    name = _free_name(f"layanan-{request['number']}")
    tk.get_action("user_create")(dict(site), {
        "name": name, "email": f"{name}@layanan.invalid", "fullname": f"Layanan berbagi pakai {request['number']}",
        "password": secrets.token_urlsafe(32) + "aA1!"})
    user = model.User.get(name)
    assert user is not None
    tk.get_action("member_create")(dict(site), {"id": org.id, "object": user.id, "object_type": "user",
                                                "capacity": "member"})
    _statement(user, personal, org.title or org.name, statement_path, caller.actor_name(context))
    granted = grant_data(context, request, packages, regions=[], sectors=[], valid_until=valid_until,
                         download_limit=None, holder={"user_id": user.id})
    token = tk.get_action("api_token_create")(dict(site), {
        "user": user.name, "name": f"berbagi-pakai-{request['number']}",
        "plugin_extras": {SHARING_CLAIM: request["id"]}})
    from ckan.lib import api_token

    claims = api_token.decode(token["token"]) or {}
    return {"service_user": user.name, "token_id": claims.get("jti"), "grants": granted["grants"],
            "links": granted["links"], "valid_until": valid_until.isoformat()}, token["token"]


def token_claims(owner: model.User | None, data_dict: dict[str, Any]) -> dict[str, Any]:
    """IApiToken: the claims of a data-sharing token (its datasets and its
    expiry), for the service account of an approved request only."""
    from ckanext.umkm.requests import engine

    extras = data_dict.get("plugin_extras") or {}
    request_id = extras.get(SHARING_CLAIM) if isinstance(extras, dict) else None
    if not request_id or owner is None:
        return {}
    found = engine.get(str(request_id))
    if not found or found["kind"] != "berbagi_pakai":
        return {}
    service = f"layanan-{found['number']}".lower()
    if not owner.name.startswith(service):
        return {}
    from ckanext.umkm.access import grants as access_grants

    held = access_grants.listing(user_id=owner.id, active_only=True)
    if not held:
        return {}
    until = min(datetime.datetime.fromisoformat(g["valid_until"]) for g in held)
    return {SHARING_CLAIM: found["id"], PACKAGES_CLAIM: sorted({g["package_id"] for g in held}),
            "exp": int(until.timestamp())}


def revoke_sharing(context: dict[str, Any], outcome: dict[str, Any], reason: str) -> None:
    """Revoke the token and the grants of a data-sharing outcome."""
    if outcome.get("token_id"):
        tk.get_action("api_token_revoke")(site_context(context), {"jti": outcome["token_id"]})
    for grant in outcome.get("grants", []):
        try:
            tk.get_action("umkm_access_grant_revoke")(
                {**caller.nested_context(context), "defer_commit": True}, {"id": grant["id"], "reason": reason})
        except tk.ValidationError:
            pass  # already revoked
