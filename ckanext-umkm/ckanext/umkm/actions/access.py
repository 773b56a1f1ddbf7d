"""API of restricted data: grants, confidentiality statements, the access
decision, the audit log, and the gate on CKAN's and the DataStore's reads."""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import json
from collections.abc import Callable
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk

from ckanext.umkm import caller
from ckanext.umkm.access import confidentiality, delivery, gate
from ckanext.umkm.access import grants as access_grants
from ckanext.umkm.audit import log as audit_log
from ckanext.umkm.audit import refusals
from ckanext.umkm.metadata import reference_codes
from ckanext.umkm.release import workflow

_ = tk._


def _moment(value: Any, field: str) -> datetime.datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        moment = value
    else:
        try:
            moment = datetime.datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise tk.ValidationError({field: [_("Give a date (YYYY-MM-DD) or a date-time")]}) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=workflow.timezone())
    return moment


def _codes(scheme: str, value: Any, field: str) -> list[str]:
    if value in (None, ""):
        return []
    items = value if isinstance(value, list) else [v for v in str(value).replace(";", ",").split(",")]
    codes = [reference_codes.normalize(scheme, v) for v in items if str(v).strip()]
    known = reference_codes.get_many(scheme, codes)
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise tk.ValidationError({field: [_("Unknown codes: {codes}").format(codes=", ".join(unknown))]})
    return sorted(set(codes))


# --- grants ------------------------------------------------------------------

def umkm_access_grant_create(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    """Grant access to restricted data. The one action that creates grants,
    for Walidata's forms and for approved data requests.

    :param organization_id: the agency (id or name) — or ``user_id``, not both
    :param user_id: one user (id or name)
    :param package_id: the dataset (id or name); omitted: the agency's standing
        access to every restricted dataset within its scope
    :param regions: wilayah prefixes narrowing the scope (list or comma-separated)
    :param sectors: KBLI prefixes narrowing the scope
    :param purpose: what the data is for (required)
    :param valid_from: start (default now); :param valid_until: end (required)
    :param request_id: the data request this grant answers (optional)
    :param download_limit: how many downloads (files, extracts, dumps) the
        grant allows; omitted: no limit
    """
    tk.check_access("umkm_access_grant_create", context, data_dict)
    errors: dict[str, list[str]] = {}
    org = user = pkg = None
    if bool(data_dict.get("organization_id")) == bool(data_dict.get("user_id")):
        errors["organization_id"] = [_("Name either an agency or a user")]
    if data_dict.get("organization_id"):
        org = model.Group.get(str(data_dict["organization_id"]))
        if org is None or not org.is_organization or org.state != "active":
            errors["organization_id"] = [_("No such agency")]
    if data_dict.get("user_id"):
        user = model.User.get(str(data_dict["user_id"]))
        if user is None or user.state != "active":
            errors["user_id"] = [_("No such user")]
    if data_dict.get("package_id"):
        pkg = model.Package.get(str(data_dict["package_id"]))
        if pkg is None or pkg.state != "active" or pkg.type != "dataset":
            errors["package_id"] = [_("No such dataset")]
        elif not gate.is_restricted(tk.get_action("package_show")({"ignore_auth": True}, {"id": pkg.id})):
            errors["package_id"] = [_("This dataset is not restricted: it needs no grant")]
    elif user is not None:
        errors["package_id"] = [_("A grant to a single user names the dataset")]
    purpose = str(data_dict.get("purpose") or "").strip()
    if not purpose:
        errors["purpose"] = [_("Missing value")]
    try:
        regions = _codes("wilayah", data_dict.get("regions"), "regions")
    except tk.ValidationError as e:
        errors.update(e.error_dict)
        regions = []
    try:
        sectors = _codes("kbli", data_dict.get("sectors"), "sectors")
    except tk.ValidationError as e:
        errors.update(e.error_dict)
        sectors = []
    start = end = None
    try:
        start = _moment(data_dict.get("valid_from"), "valid_from") or workflow.now()
        end = _moment(data_dict.get("valid_until"), "valid_until")
    except tk.ValidationError as e:
        errors.update(e.error_dict)
    if end is None and "valid_until" not in errors:
        errors["valid_until"] = [_("Missing value")]
    elif start and end and end <= max(start, workflow.now()):
        errors["valid_until"] = [_("The end of validity must be after its start and in the future")]
    limit = data_dict.get("download_limit")
    if limit in (None, ""):
        limit = None
    else:
        try:
            limit = int(str(limit))
        except ValueError:
            limit = 0
        if not 1 <= limit <= 100000:
            errors["download_limit"] = [_("Give a whole number of downloads from 1 to 100000")]
    if errors:
        raise tk.ValidationError(errors)
    assert start is not None and end is not None
    grant = access_grants.insert(
        organization_id=org.id if org else None, user_id=user.id if user else None,
        package_id=pkg.id if pkg else None, regions=regions, sectors=sectors, purpose=purpose,
        valid_from=start, valid_until=end, created_by=caller.actor_name(context),
        request_id=str(data_dict["request_id"]) if data_dict.get("request_id") else None, download_limit=limit)
    audit_log.record("grant_create", actor=caller.actor_name(context), object_type="grant", object_id=grant["id"],
                     target_type="package" if pkg else "organization" if org else "user",
                     target_id=pkg.id if pkg else (org.id if org else user.id if user else ""),
                     payload={"grant": grant, **caller.request_meta()})
    if not context.get("defer_commit"):
        model.repo.commit()
    return grant


def _grant_for_change(context: dict[str, Any], data_dict: dict[str, Any], action: str) -> dict[str, Any]:
    tk.check_access(action, context, data_dict)
    grant = access_grants.get(str(data_dict.get("id") or ""), for_update=True)
    if grant is None:
        raise tk.ObjectNotFound(_("Grant not found"))
    if grant["revoked_at"]:
        raise tk.ValidationError({"id": [_("The grant was revoked")]})
    return grant


def umkm_access_grant_renew(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    """Extend a grant that is not revoked.

    :param id: the grant; :param valid_until: the new end (in the future)
    """
    grant = _grant_for_change(context, data_dict, "umkm_access_grant_renew")
    end = _moment(data_dict.get("valid_until"), "valid_until")
    if end is None or end <= workflow.now():
        raise tk.ValidationError({"valid_until": [_("The end of validity must be in the future")]})
    updated = access_grants.update(grant["id"], valid_until=end)
    audit_log.record("grant_renew", actor=caller.actor_name(context), object_type="grant", object_id=grant["id"],
                     target_type="package", target_id=grant["package_id"] or "",
                     payload={"before": grant["valid_until"], "after": end.isoformat(), **caller.request_meta()})
    model.repo.commit()
    return updated or {}


def umkm_access_grant_revoke(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    """Revoke a grant; it stops working on the next request.

    :param id: the grant; :param reason: why (required)
    """
    grant = _grant_for_change(context, data_dict, "umkm_access_grant_revoke")
    reason = str(data_dict.get("reason") or "").strip()
    if not reason:
        raise tk.ValidationError({"reason": [_("Missing value")]})
    updated = access_grants.update(grant["id"], revoked_at=workflow.now(), revoked_by=caller.actor_name(context),
                                   revoke_reason=reason)
    audit_log.record("grant_revoke", actor=caller.actor_name(context), object_type="grant", object_id=grant["id"],
                     target_type="package", target_id=grant["package_id"] or "",
                     payload={"reason": reason, **caller.request_meta()})
    if not context.get("defer_commit"):
        model.repo.commit()
    return updated or {}


@tk.side_effect_free
def umkm_access_grant_list(context: dict[str, Any], data_dict: dict[str, Any]) -> list[dict[str, Any]]:
    """Grants, newest first (Walidata: all; others: their own and their agencies').

    :param organization_id, user_id, package_id: filters; :param active_only: bool
    """
    tk.check_access("umkm_access_grant_list", context, data_dict)
    user = caller.context_user(context)
    org = model.Group.get(str(data_dict["organization_id"])) if data_dict.get("organization_id") else None
    target = model.User.get(str(data_dict["user_id"])) if data_dict.get("user_id") else None
    pkg = model.Package.get(str(data_dict["package_id"])) if data_dict.get("package_id") else None
    grants = access_grants.listing(organization_id=org.id if org else None, user_id=target.id if target else None,
                                   package_id=pkg.id if pkg else None,
                                   active_only=tk.asbool(data_dict.get("active_only", False)))
    if user is not None and (user.sysadmin or "walidata" in workflow.user_roles(user)):
        return grants
    mine = {a.id for a in gate.user_agencies(user)} if user else set()
    return [g for g in grants if g["user_id"] == (user.id if user else None) or g["organization_id"] in mine]


# --- confidentiality statements ---------------------------------------------

@tk.side_effect_free
def umkm_nda_show(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    """The current statement text and the caller's signatures."""
    tk.check_access("umkm_nda_show", context, data_dict)
    user = caller.context_user(context)
    template = confidentiality.current_template()
    model.repo.commit()
    return {"template": template,
            "signatures": confidentiality.signatures(user.id) if user else [],
            "valid": bool(user and confidentiality.valid_signature(user.id))}


def umkm_nda_sign(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    """Sign the current confidentiality statement and accept the duties of a
    data controller (Pasal 27(1), 31).

    :param template_version: the version the user read (refused if outdated)
    :param full_name, nip_nik, agency, position: the signer (required)
    :param accept_controller_duties: must be true
    :param signed_pdf: optional base64 of the signed PDF; with it the
        signature is valid once Walidata approves it
    """
    tk.check_access("umkm_nda_sign", context, data_dict)
    user = caller.context_user(context)
    assert user is not None
    errors: dict[str, list[str]] = {}
    fields = {k: str(data_dict.get(k) or "").strip() for k in ("full_name", "nip_nik", "agency", "position")}
    for key, value in fields.items():
        if not value:
            errors[key] = [_("Missing value")]
    nip = fields["nip_nik"].replace(" ", "")
    if nip and not (nip.isdigit() and len(nip) in (16, 18)):
        errors["nip_nik"] = [_("NIK has 16 digits, NIP 18")]
    if not tk.asbool(data_dict.get("accept_controller_duties", False)):
        errors["accept_controller_duties"] = [_("Accept the duties of a data controller to sign")]
    pdf = None
    if data_dict.get("signed_pdf"):
        try:
            pdf = base64.b64decode(str(data_dict["signed_pdf"]), validate=True)
        except (binascii.Error, ValueError):
            errors["signed_pdf"] = [_("Send the PDF as base64")]
        else:
            problem = confidentiality.check_pdf(pdf)
            if problem:
                errors["signed_pdf"] = [problem]
    version = data_dict.get("template_version")
    if errors:
        raise tk.ValidationError(errors)
    signed = confidentiality.sign(
        user.id, method="upload" if pdf else "accept", full_name=fields["full_name"], nip_nik=nip,
        agency=fields["agency"], position=fields["position"], controller_duties=True, pdf=pdf,
        template_version=tk.asint(version) if version not in (None, "") else None, **caller.request_meta())
    audit_log.record("nda_sign", actor=user.name, object_type="nda", object_id=signed["id"],
                     target_type="user", target_id=user.id,
                     payload={k: signed[k] for k in ("template_version", "method", "full_name", "nip_nik", "agency",
                                                     "position", "ip", "user_agent", "file_sha256", "status")})
    model.repo.commit()
    return signed


def umkm_nda_review(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    """Walidata approves or rejects an uploaded signed statement.

    :param id: the signature; :param approve: bool
    """
    tk.check_access("umkm_nda_review", context, data_dict)
    current = confidentiality.signature(str(data_dict.get("id") or ""))
    if current is None:
        raise tk.ObjectNotFound(_("Signature not found"))
    if current["status"] != "pending":
        raise tk.ValidationError({"id": [_("This signature was already reviewed")]})
    approve = tk.asbool(data_dict.get("approve", False))
    reviewed = confidentiality.review(current["id"], approve=approve, reviewer=caller.actor_name(context))
    audit_log.record("nda_approve" if approve else "nda_reject", actor=caller.actor_name(context), object_type="nda",
                     object_id=current["id"], target_type="user", target_id=current["user_id"],
                     payload={"file_sha256": current["file_sha256"], **caller.request_meta()})
    model.repo.commit()
    return reviewed or {}


def umkm_nda_template_publish(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    """Publish a new version of the statement; every user signs it again.

    :param title, body: the text (required)
    """
    tk.check_access("umkm_nda_template_publish", context, data_dict)
    title, body = (str(data_dict.get(k) or "").strip() for k in ("title", "body"))
    errors = {k: [_("Missing value")] for k, v in (("title", title), ("body", body)) if not v}
    if errors:
        raise tk.ValidationError(errors)
    template = confidentiality.publish_template(title, body, created_by=caller.actor_name(context))
    audit_log.record("nda_template_publish", actor=caller.actor_name(context), object_type="nda_template",
                     object_id=str(template["version"]),
                     payload={"sha256": hashlib.sha256(body.encode()).hexdigest()})
    return template


# --- the decision and the log --------------------------------------------------

@tk.side_effect_free
def umkm_access_show(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    """What the caller may get of a dataset's data, and why (``id``)."""
    tk.check_access("package_show", context, {"id": data_dict.get("id")})
    pkg = tk.get_action("package_show")(dict(context, umkm_no_redact=True, ignore_auth=True),
                                        {"id": data_dict.get("id")})
    decision = gate.decide(caller.context_user(context), pkg)
    out = decision.as_dict()
    out["restricted"] = gate.is_restricted(pkg)
    out["message"] = None if decision.allowed else gate.message(decision.reason)
    return out


@tk.side_effect_free
def umkm_audit_list(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    """The audit log, newest first (Walidata).

    :param action, actor, package_id: filters; :param since, until: dates
    :param limit (default 100, at most 1000), offset
    """
    tk.check_access("umkm_audit_list", context, data_dict)
    limit = min(tk.asint(data_dict.get("limit", 100)), 1000)
    total, events = audit_log.search(
        action=data_dict.get("action") or None, actor=data_dict.get("actor") or None,
        package_id=data_dict.get("package_id") or None, since=_moment(data_dict.get("since"), "since"),
        until=_moment(data_dict.get("until"), "until"), limit=limit, offset=tk.asint(data_dict.get("offset", 0)))
    return {"count": total, "results": events}


@tk.side_effect_free
def umkm_audit_refusal_list(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    """Refused reads of restricted data, counted per hour (Walidata); they
    are kept out of the hash chain so that nobody can grow it by asking.

    :param package_id: filter; :param since, until: dates
    :param limit (default 100, at most 1000), offset
    """
    tk.check_access("umkm_audit_refusal_list", context, data_dict)
    limit = min(tk.asint(data_dict.get("limit", 100)), 1000)
    total, rows = refusals.search(package_id=data_dict.get("package_id") or None,
                                  since=_moment(data_dict.get("since"), "since"),
                                  until=_moment(data_dict.get("until"), "until"), limit=limit,
                                  offset=tk.asint(data_dict.get("offset", 0)))
    return {"count": total, "results": rows}


# --- the gate on reads ---------------------------------------------------------

def _table_id(data_dict: dict[str, Any], key: str) -> str:
    """The resource id or DataStore name under ``key``: text, or a
    ValidationError (a list from ``?id=a&id=b`` or an object would reach the
    DataStore's SQL as something the gate never decided on)."""
    value = data_dict.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise tk.ValidationError({key: [_("Must be a text value")]})
    return value


def _gate_resource(context: dict[str, Any], resource_id: str, path: str
                   ) -> tuple[str, dict[str, Any] | None, gate.Decision | None]:
    """(the resource id behind ``resource_id``, which may be a DataStore
    alias; its dataset if restricted; the caller's decision), refusing
    (NotAuthorized) those who may not read it."""
    real_id = gate.datastore_table(resource_id)
    if context.get("ignore_auth"):
        return real_id, None, None
    pkg = gate.resource_package(real_id)
    if pkg is None or not gate.is_restricted(pkg):
        return real_id, None, None
    decision = gate.decide(caller.context_user(context), pkg)
    if not decision.allowed:
        delivery.refuse(context, pkg, real_id, path, decision)
    return real_id, pkg, decision


@tk.chained_action
@tk.side_effect_free
def datastore_search(next_action: Callable[..., Any], context: dict[str, Any],
                     data_dict: dict[str, Any]) -> dict[str, Any]:
    """Restricted tables (by id or by alias): the gate first, the rows limited
    to the scope (``access.extracts`` via IDatastore), each read logged; the
    pages of one dump or extract are logged once, by its view."""
    if data_dict.get("id"):
        # The DataStore's schema renames ``id`` to ``resource_id``, over any
        # ``resource_id`` given: the gate decides on the same one.
        data_dict = dict(data_dict)
        data_dict["resource_id"] = data_dict.pop("id")
    if _table_id(data_dict, "resource_id") in ("_table_metadata",):
        # The DataStore's own catalogue of tables, which CKAN serves without
        # any auth check (and then answers 500): not a resource anyone reads.
        raise tk.ValidationError({"resource_id": [_("Not a DataStore table of a resource")]})
    resource_id, pkg, decision = _gate_resource(context, _table_id(data_dict, "resource_id"),
                                                "datastore_search")
    if pkg is None or decision is None:
        return next_action(context, data_dict)
    context["umkm_row_scope"] = (decision, pkg)
    result = next_action(context, data_dict)
    rows = delivery.count_records(result.get("records"), data_dict.get("records_format"))
    query = {k: data_dict.get(k) for k in ("q", "filters", "limit", "offset", "fields", "sort", "distinct")
             if data_dict.get(k) not in (None, "")}
    collected = delivery.collecting(resource_id)
    if collected is not None:
        collected.rows += rows
        collected.pages += 1
        if len(collected.queries) < 1:
            collected.queries.append(query)
    else:
        digest = hashlib.sha256(json.dumps(result.get("records"), sort_keys=True, default=str).encode()).hexdigest()
        delivery.log_delivery(context, pkg, resource_id, "datastore_search", decision, rows, digest,
                              {"query": query})
    return result


@tk.chained_action
@tk.side_effect_free
def datastore_info(next_action: Callable[..., Any], context: dict[str, Any], data_dict: dict[str, Any]) -> Any:
    """A restricted table's structure and size only for those who may read it
    (whichever of ``resource_id`` and ``id`` names it)."""
    for key in ("resource_id", "id"):
        if data_dict.get(key):
            _gate_resource(context, _table_id(data_dict, key), "datastore_info")
    return next_action(context, data_dict)


@tk.chained_action
@tk.side_effect_free
def resource_view_list(next_action: Callable[..., Any], context: dict[str, Any],
                       data_dict: dict[str, Any]) -> list[dict[str, Any]]:
    """No previews of restricted data for those who may not read it."""
    views = next_action(context, data_dict)
    if context.get("ignore_auth"):
        return views
    pkg = gate.resource_package(str(data_dict.get("id") or ""))
    if pkg is not None and gate.is_restricted(pkg) and not gate.decide(caller.context_user(context), pkg).allowed:
        return []
    return views


@tk.chained_action
@tk.side_effect_free
def package_search(next_action: Callable[..., Any], context: dict[str, Any],
                   data_dict: dict[str, Any]) -> dict[str, Any]:
    """Search results show restricted datasets as package_show does (the
    search hooks do not know the caller; the action does), except that a
    caller who may not read the data gets no file URL at all: search results
    are what harvesters copy to other portals."""
    result = next_action(context, data_dict)
    if not (context.get("ignore_auth") and not context.get("user")):
        user = caller.context_user(context)
        for item in result.get("results", []):
            if isinstance(item, dict) and "resources" in item:
                gate.redact(item, user)
                if (item.get("umkm_access") or {}).get("access") == "denied":
                    for res in item["resources"]:
                        res["url"] = ""
    return result


@tk.chained_action
def datastore_search_sql(next_action: Callable[..., Any], context: dict[str, Any],
                         data_dict: dict[str, Any]) -> dict[str, Any]:
    """A custodian's SQL over restricted tables is logged as a delivery of
    each table it read (the auth function let only custodians through)."""
    result = next_action(context, data_dict)
    reads = delivery.sql_reads()
    if reads:
        records = result.get("records") or []
        digest = hashlib.sha256(json.dumps(records, sort_keys=True, default=str).encode()).hexdigest()
        for pkg, resource_id, decision in reads:
            delivery.log_delivery(context, pkg, resource_id, "datastore_search_sql", decision, len(records),
                                  digest, {"query": {"sql": str(data_dict.get("sql") or "")[:2000]}})
    return result


# Resource fields whose value a restricted resource shows to every reader;
# any other (url, hash, extras) must not be searchable by those who see the
# resource redacted, or the search itself would tell its value.
SHOWN_RESOURCE_FIELDS = {"id", "package_id", "name", "description", "format", "mimetype", "resource_type",
                         "position", "created", "last_modified", "metadata_modified", "state"}


@tk.chained_action
@tk.side_effect_free
def resource_search(next_action: Callable[..., Any], context: dict[str, Any],
                    data_dict: dict[str, Any]) -> dict[str, Any]:
    """CKAN's resource search reads resources without their dataset's
    ``package_show``: restricted resources are redacted as there, and left
    out of searches on fields the caller does not see (a search on ``url``
    would otherwise confirm an outside link letter by letter)."""
    if context.get("search_query"):
        return next_action(context, data_dict)
    from ckan.lib.dictization import model_dictize

    found = next_action(dict(context, search_query=True),
                        {k: v for k, v in data_dict.items() if k not in ("offset", "limit")})["results"]
    query = data_dict.get("query")
    terms = [query] if isinstance(query, str) else list(query or [])
    hidden_fields = any(str(t).split(":", 1)[0] not in SHOWN_RESOURCE_FIELDS for t in terms)
    user = caller.context_user(context)
    packages: dict[str, dict[str, Any]] = {}
    decisions: dict[str, gate.Decision] = {}
    kept = []
    for res in found:
        if res.package_id not in packages:
            packages[res.package_id] = gate.resource_package(res.id) or {}
            pkg = packages[res.package_id]
            if pkg and gate.is_restricted(pkg):
                decisions[res.package_id] = gate.decide(user, pkg)
        decision = decisions.get(res.package_id)
        if decision is not None and hidden_fields and not gate.sees_stored_urls(decision):
            continue
        kept.append(res)
    offset = tk.asint(data_dict.get("offset") or 0)
    limit = data_dict.get("limit")
    page = kept[offset:offset + tk.asint(limit)] if limit not in (None, "") else kept[offset:]
    results = model_dictize.resource_list_dictize(page, context)
    for res in results:
        decision = decisions.get(res["package_id"])
        if decision is not None:
            res["umkm_access"] = gate.access_state(decision)
            if not gate.sees_stored_urls(decision):
                pkg = packages[res["package_id"]]
                gate.redact_resource(res, pkg.get("name") or pkg["id"])
    return {"count": len(kept), "results": results}


def get_actions() -> dict[str, Callable[..., Any]]:
    actions: dict[str, Callable[..., Any]] = {
        "umkm_access_grant_create": umkm_access_grant_create,
        "umkm_access_grant_renew": umkm_access_grant_renew,
        "umkm_access_grant_revoke": umkm_access_grant_revoke,
        "umkm_access_grant_list": umkm_access_grant_list,
        "umkm_nda_show": umkm_nda_show,
        "umkm_nda_sign": umkm_nda_sign,
        "umkm_nda_review": umkm_nda_review,
        "umkm_nda_template_publish": umkm_nda_template_publish,
        "umkm_access_show": umkm_access_show,
        "umkm_audit_list": umkm_audit_list,
        "umkm_audit_refusal_list": umkm_audit_refusal_list,
        "datastore_search": datastore_search,
        "datastore_info": datastore_info,
        "resource_view_list": resource_view_list,
        "package_search": package_search,
        "resource_search": resource_search,
    }
    # SQL search exists only where the DataStore allows it.
    if tk.asbool(tk.config.get("ckan.datastore.sqlsearch.enabled")):
        actions["datastore_search_sql"] = datastore_search_sql
    return actions
