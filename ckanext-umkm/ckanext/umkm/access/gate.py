"""The one gate of restricted data (Permen UMKM 8/2025 Pasal 23, 25, 27,
31–33; Lampiran I).

A dataset is restricted when its ``accessRights`` is ``terbatas`` (metadata
public, data gated), ``tertutup`` (closed: never delivered beyond its
custodians) or its ``bentuk_data`` is by-name-by-address. Its metadata and
variables stay visible wherever the dataset is; its data (files, DataStore
rows, previews) only reach:

- its custodians: the owning organization's members, Walidata reviewers and
  sysadmins (every read still audited);
- a member of an agency whose scope overlaps the dataset's coverage, who has
  a valid signed confidentiality statement of the current version, and who
  holds a grant in force (the agency's standing grant, or one for this
  dataset, to the agency or to the user).

Either way, a request made with a login must be backed by two-step login
(``two_factor``).

Where the scope does not cover the whole dataset, only the rows within it
are delivered (``RowScope``): the DataStore query gets a WHERE clause on the
columns the linked variables declare as wilayah or KBLI codes. A table that
has no such column cannot be scoped, so nothing is delivered.

Every path asks ``decide``: package and resource display (URLs redacted),
search results, the download route, DataStore reads and views.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import ckan.authz as authz
import ckan.model as model
import ckan.plugins.toolkit as tk

from ckanext.umkm.access import confidentiality, two_factor
from ckanext.umkm.access import grants as access_grants
from ckanext.umkm.access import scope as access_scope
from ckanext.umkm.access.scope import Scope
from ckanext.umkm.release import workflow

RESTRICTED_ACCESS = ("terbatas", "tertutup")
CUSTODIANS = ("sysadmin", "producer", "walidata")


@dataclass
class Decision:
    allowed: bool
    reason: str
    # Whole dataset (custodians, or a scope that covers its coverage).
    full: bool = False
    scopes: list[Scope] = field(default_factory=list)
    grant_ids: list[str] = field(default_factory=list)
    purpose: str | None = None
    role: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"allowed": self.allowed, "reason": self.reason, "full": self.full,
                "scopes": [s.as_dict() for s in self.scopes], "grants": self.grant_ids,
                "purpose": self.purpose, "role": self.role}


def is_restricted(pkg_dict: dict[str, Any]) -> bool:
    return (pkg_dict.get("type") or "dataset") == "dataset" and (
        pkg_dict.get("accessRights") in RESTRICTED_ACCESS or pkg_dict.get("bentuk_data") == "BNBA")


def message(reason: str) -> str:
    _ = tk._
    return {
        "anonymous": _("Restricted data: sign in with an account of an authorised agency"),
        "closed": _("Closed data is not shared outside its producer and Walidata"),
        "agency": _("Restricted data: your account belongs to no agency"),
        "nda": _("Restricted data: sign the current confidentiality statement first"),
        "grant": _("Restricted data: your agency has no access in force for this dataset; request access"),
        "scope": _("Restricted data: this dataset lies outside your agency's region or sectors"),
        "unscoped": _("Restricted data: this file cannot be limited to your agency's scope; ask Walidata"),
        "link": _("Restricted data is not served from outside links"),
        "token_scope": _("Restricted data: this API token is limited to the datasets of its data-sharing agreement"),
        "mfa_setup": _("Restricted data: turn on two-step login for your account first"),
        "mfa_verify": _("Restricted data: sign in again with your two-step login code (API tokens must be "
                        "created after a two-step login)"),
    }.get(reason, _("Not authorized"))


def user_agencies(user: model.User) -> list[model.Group]:
    """Organizations the user is an active member of."""
    return (model.Session.query(model.Group)
            .join(model.Member, model.Member.group_id == model.Group.id)
            .filter(model.Member.table_name == "user", model.Member.table_id == user.id,
                    model.Member.state == "active", model.Group.is_organization.is_(True),
                    model.Group.state == "active")
            .order_by(model.Group.name).all())


def _agency_dict(org: model.Group) -> dict[str, Any]:
    # Scheming keeps the organization's fields (jenis_instansi, kode_wilayah,
    # sektor_kbli) as group extras.
    return {"id": org.id, "name": org.name, **dict(org.extras)}


def custodian_role(user: model.User, pkg_dict: dict[str, Any]) -> str | None:
    if user.sysadmin:
        return "sysadmin"
    owner = pkg_dict.get("owner_org")
    if owner and authz.users_role_for_group_or_org(owner, user.name):
        return "producer"
    if "walidata" in workflow.user_roles(user):
        return "walidata"
    return None


def _decide(user: model.User | None, pkg_dict: dict[str, Any]) -> Decision:
    if not is_restricted(pkg_dict):
        return Decision(True, "open", full=True)
    if user is None or user.state != model.State.ACTIVE:
        return Decision(False, "anonymous")
    role = custodian_role(user, pkg_dict)
    if role:
        return Decision(True, "custodian", full=True, role=role)
    if pkg_dict.get("accessRights") == "tertutup":
        return Decision(False, "closed")
    agencies = user_agencies(user)
    if not agencies:
        return Decision(False, "agency")
    if confidentiality.valid_signature(user.id) is None:
        return Decision(False, "nda")
    grants = access_grants.active_for(user.id, [a.id for a in agencies], pkg_dict["id"])
    if not grants:
        return Decision(False, "grant")
    standing = {a.id: access_scope.agency_scope(_agency_dict(a)) for a in agencies}
    coverage = access_scope.dataset_coverage(pkg_dict)
    scopes: list[Scope] = []
    used: list[dict[str, Any]] = []
    for grant in grants:
        holders = [grant["organization_id"]] if grant["organization_id"] else list(standing)
        for org_id in holders:
            if org_id not in standing:
                continue
            base = standing[org_id]
            if base == access_scope.NOTHING:
                # Other stakeholders: the grant alone says what they may read
                # (a named dataset, or a named region/sector scope).
                named = grant["package_id"] or grant["regions"] or grant["sectors"]
                base = access_scope.EVERYTHING if named else base
            scope = access_scope.intersect(access_scope.intersect(base, access_grants.scope_of(grant)), coverage)
            if not scope.empty:
                scopes.append(scope)
                if grant not in used:
                    used.append(grant)
    scopes = access_scope.union(scopes)
    if not scopes:
        return Decision(False, "scope")
    full = any(access_scope.covers(s, coverage) for s in scopes)
    return Decision(True, "granted", full=full, scopes=[] if full else scopes,
                    grant_ids=[g["id"] for g in used], purpose="; ".join(sorted({g["purpose"] for g in used})),
                    role="agency")


def decide(user: model.User | None, pkg_dict: dict[str, Any]) -> Decision:
    """The decision for this user and dataset, once per request."""
    if not is_restricted(pkg_dict):
        return Decision(True, "open", full=True)
    from flask import g, has_request_context

    key = (user.id if user else None, pkg_dict.get("id"))
    cache = getattr(g, "_umkm_access", None) if has_request_context() else None
    if cache is not None and key in cache:
        return cache[key]
    decision = _decide(user, pkg_dict)
    limited = two_factor.sharing_token() if user is not None else None
    if decision.allowed and limited is not None and pkg_dict.get("id") not in limited:
        decision = Decision(False, "token_scope")
    if decision.allowed and user is not None:
        # Lampiran I: whoever reads restricted data logged in with a second factor.
        second = two_factor.requirement(user)
        if second:
            decision = Decision(False, second, role=decision.role)
    if has_request_context():
        if cache is None:
            cache = g._umkm_access = {}
        cache[key] = decision
    return decision


def sees_stored_urls(decision: Decision) -> bool:
    """Those who maintain the files (sysadmins, the producer) see them as
    they are, once the gate lets them read."""
    return decision.allowed and decision.role in ("sysadmin", "producer")


def access_state(decision: Decision) -> str:
    return "full" if decision.allowed and decision.full else "rows" if decision.allowed else "denied"


def redact_resource(res: dict[str, Any], pkg_ref: str) -> None:
    """A restricted resource as shown to readers: its URL is the gate's
    download route; no other address of the data is kept."""
    try:
        res["url"] = tk.url_for("resource.download", id=pkg_ref, resource_id=res["id"], _external=True)
    except Exception:  # noqa: BLE001 - outside a request or app context: no link at all
        res["url"] = ""
    for key in ("cache_url", "original_url"):
        res.pop(key, None)


def redact(pkg_dict: dict[str, Any], user: model.User | None) -> None:
    """What a restricted dataset shows: metadata and variables; resources
    keep their description, but their URL is the gate's download route and
    ``umkm_access`` says what the user would get."""
    if not is_restricted(pkg_dict):
        return
    decision = decide(user, pkg_dict)
    state = access_state(decision)
    pkg_dict["umkm_access"] = {"restricted": True, "access": state, "reason": decision.reason}
    for res in pkg_dict.get("resources", []):
        res["umkm_access"] = state
        if not sees_stored_urls(decision):
            redact_resource(res, pkg_dict.get("name") or pkg_dict["id"])


def datastore_table(name: str) -> str:
    """The resource id a DataStore name stands for: the name itself, or the
    table an alias (a DataStore view) points to. The gate decides on the
    table, whatever name the caller used."""
    if not name:
        return name
    from ckanext.datastore.backend import DatastoreBackend

    try:
        backend = DatastoreBackend.get_active_backend()
    except Exception:  # noqa: BLE001 - no DataStore configured: no aliases either
        return name
    exists, real_id = backend.resource_id_from_alias(name)
    return real_id if exists and real_id else name


def resource_package(resource_id: str) -> dict[str, Any] | None:
    """The package of a resource (in any state: a deleted resource's table
    or file is still its dataset's data), with the custodian's view (for
    deciding). DataStore aliases are resolved to their table."""
    res = model.Resource.get(resource_id) or model.Resource.get(datastore_table(resource_id))
    if res is None:
        return None
    pkg = model.Package.get(res.package_id)
    if pkg is None:
        return None
    return tk.get_action("package_show")({"ignore_auth": True, "umkm_no_redact": True}, {"id": pkg.id})
