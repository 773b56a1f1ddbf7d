"""How the audit trail reads to a person: events, refusal reasons and
delivery paths in words, people and datasets by name. One table for the
audit page and the log book (in the request's language; the CLI writes the
portal's default, Bahasa Indonesia)."""

from __future__ import annotations

from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk

EVENTS = ("data_delivered", "grant_create", "grant_renew", "grant_revoke", "nda_sign", "nda_approve",
          "nda_reject", "nda_view", "nda_template_publish", "file_modified", "file_missing", "mfa_enabled", "mfa_disabled",
          "mfa_reset", "mfa_locked", "audit_checkpoint", "access_refused", "request_submit", "request_advance",
          "request_ask", "request_answer", "request_forward", "request_refuse", "request_approve", "request_report",
          "request_revoke", "account_create", "account_activate", "account_delete", "membership_create",
          "membership_delete")


def event(action: str) -> str:
    _ = tk._
    return {
        "data_delivered": _("Data delivered"), "access_refused": _("Access refused"),
        "grant_create": _("Access granted"), "grant_renew": _("Grant renewed"), "grant_revoke": _("Grant revoked"),
        "nda_sign": _("Statement signed"), "nda_approve": _("Statement approved"),
        "nda_reject": _("Statement rejected"), "nda_view": _("Signed statement opened by Walidata"),
        "nda_template_publish": _("New statement version"),
        "file_modified": _("File modified outside the portal"), "file_missing": _("File missing"),
        "mfa_enabled": _("Two-step login turned on"), "mfa_disabled": _("Two-step login turned off"),
        "mfa_reset": _("Two-step login reset by a sysadmin"), "mfa_locked": _("Two-step login locked (wrong codes)"),
        "audit_checkpoint": _("Signed checkpoint of the log"),
        "request_submit": _("Request submitted"), "request_advance": _("Request step done"),
        "request_ask": _("Request: more information asked"), "request_answer": _("Request: requester answered"),
        "request_forward": _("Request forwarded"), "request_refuse": _("Request refused"),
        "request_approve": _("Request approved"), "request_report": _("Use report filed"),
        "request_revoke": _("Data-sharing access revoked"), "account_create": _("Account created"),
        "account_activate": _("Account activated"), "account_delete": _("Account deleted"),
        "membership_create": _("Agency membership added"), "membership_delete": _("Agency membership removed"),
    }.get(action, action)


def reason(code: str | None) -> str:
    """Why a read was refused, in short."""
    _ = tk._
    return {
        "anonymous": _("not signed in"), "closed": _("closed data"), "agency": _("account of no agency"),
        "nda": _("confidentiality statement not signed"), "grant": _("no grant in force"),
        "scope": _("outside the agency's region or sectors"), "unscoped": _("cannot be limited to the scope"),
        "link": _("outside link"), "token_scope": _("outside the token's data-sharing agreement"),
        "mfa_setup": _("two-step login not turned on"),
        "mfa_verify": _("signed in without the two-step login code"),
    }.get(code or "", code or "")


def path(code: str | None) -> str:
    """Where the data was read."""
    _ = tk._
    return {
        "download": _("file download"), "dump": _("DataStore dump"), "datastore_search": _("DataStore API"),
        "datastore_search_sql": _("DataStore SQL"), "datastore_info": _("DataStore table information"),
    }.get(code or "", code or "")


def actor(name: str | None) -> str:
    """A user by login name and full name; the anonymous and the system."""
    _ = tk._
    if not name:
        return _("(anonymous)")
    if name in ("system", tk.config.get("ckan.site_id")):
        return _("(system)")
    user = model.User.get(name)
    return f"{name} ({user.fullname})" if user is not None and user.fullname else name


class Names:
    """Titles of datasets, resources and agencies, looked up once each."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], str] = {}

    def _get(self, kind: str, ref: str) -> str:
        key = (kind, ref)
        if key not in self._cache:
            self._cache[key] = self._lookup(kind, ref)
        return self._cache[key]

    @staticmethod
    def _lookup(kind: str, ref: str) -> str:
        if kind == "package":
            pkg = model.Package.get(ref)
            return f"{pkg.title} ({pkg.name})" if pkg is not None and pkg.title else (pkg.name if pkg else ref)
        if kind == "resource":
            res = model.Resource.get(ref)
            return (res.name or res.id) if res is not None else ref
        if kind == "organization":
            org = model.Group.get(ref)
            return (org.title or org.name) if org is not None else ref
        return ref

    def dataset(self, ref: str | None) -> str:
        return self._get("package", ref) if ref else ""

    def resource(self, ref: str | None) -> str:
        return self._get("resource", ref) if ref else ""

    def agency(self, ref: str | None) -> str:
        return self._get("organization", ref) if ref else ""


def details(e: dict[str, Any], names: Names) -> str:
    """What else the event says, in words."""
    _ = tk._
    p = e.get("payload") or {}
    action = e.get("action")
    parts: list[str] = []
    if action in ("data_delivered", "access_refused"):
        parts.append(path(p.get("path")))
        if p.get("reason"):
            parts.append(reason(p["reason"]))
        if p.get("scopes"):
            parts.append(_("scope: {scope}").format(scope="; ".join(
                ", ".join(s.get("regions") or []) or _("all regions") for s in p["scopes"])))
        elif action == "data_delivered":
            parts.append(_("whole dataset"))
    elif action in ("grant_create", "grant_renew", "grant_revoke"):
        grant = p.get("grant") or {}
        if grant:
            if grant.get("organization_id"):
                holder = names.agency(grant["organization_id"])
            else:
                user = model.User.get(grant.get("user_id") or "")
                holder = actor(user.name) if user is not None else str(grant.get("user_id") or "")
            parts.append(_("to {holder}").format(holder=holder))
            if grant.get("valid_until"):
                parts.append(_("valid until {date}").format(date=str(grant["valid_until"])[:10]))
        if p.get("after"):
            parts.append(_("valid until {date}").format(date=str(p["after"])[:10]))
        if p.get("reason"):
            parts.append(str(p["reason"]))
    elif action in ("nda_sign", "nda_approve", "nda_reject"):
        if p.get("full_name"):
            parts.append(f"{p['full_name']} ({p.get('position') or '-'}, {p.get('agency') or '-'})")
        if p.get("template_version"):
            parts.append(_("version {n}").format(n=p["template_version"]))
        if p.get("method"):
            parts.append(_("signed in the portal") if p["method"] == "accept" else _("uploaded signed PDF"))
    elif action in ("mfa_enabled", "mfa_disabled", "mfa_reset", "mfa_locked"):
        if p.get("user"):
            parts.append(_("user {name}").format(name=p["user"]))
    elif action in ("file_modified", "file_missing"):
        parts.append(_("expected SHA-256 {digest}").format(digest=p.get("expected_sha256") or "-"))
    elif action == "audit_checkpoint":
        parts.append(_("up to entry {seq}").format(seq=p.get("seq")))
    return "; ".join(x for x in parts if x)
