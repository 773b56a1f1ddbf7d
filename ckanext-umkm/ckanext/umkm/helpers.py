"""Template helpers of the portal."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk

from ckanext.umkm.metadata.validators import as_list

# Reverse links shown on a record's page: (type of the linking records,
# their link field, heading msgid).
RELATED = {
    "kegiatan": [("variabel", "kegiatan", "Variables"),
                 ("indikator", "kegiatan_penghasil", "Indicators"),
                 ("dataset", "kegiatan", "Datasets")],
    "variabel": [("indikator", "variabel_pembangun", "Indicators built from it"),
                 ("dataset", "variabel", "Datasets")],
    "indikator": [("indikator", "indikator_pembangun", "Composite indicators built from it"),
                  ("dataset", "indikator", "Datasets")],
}

BLOK_TITLES = {
    "identitas": ("Identitas kegiatan", "Activity identity"),
    "I": ("Blok I. Penyelenggara", "Block I. Organiser"),
    "II": ("Blok II. Penanggung jawab", "Block II. Responsible unit"),
    "III": ("Blok III. Perencanaan dan persiapan", "Block III. Planning and preparation"),
    "IV": ("Blok IV. Desain kegiatan", "Block IV. Activity design"),
    "V": ("Blok V. Desain sampel", "Block V. Sample design"),
    "VI": ("Blok VI. Pengumpulan data", "Block VI. Data collection"),
    "VII": ("Blok VII. Pengolahan dan analisis", "Block VII. Processing and analysis"),
    "VIII": ("Blok VIII. Diseminasi hasil", "Block VIII. Dissemination"),
}


def reference_labels(scheme: str, value: Any) -> list[Any]:
    """Codes of a field as reference records (code, name, level), in order;
    unknown codes (e.g. from an older edition) come back with an empty name."""
    from ckanext.umkm.metadata import reference_codes

    codes = as_list(value)
    known = reference_codes.get_many(scheme, codes) if codes else {}
    return [known.get(c) or reference_codes.Code(scheme, c, "", "", None) for c in codes]


def linked_packages(value: Any) -> list[dict[str, Any]]:
    """Records a link field names, as far as the current user may see them."""
    out = []
    for ref in as_list(value):
        pkg = model.Package.get(ref)
        if pkg is None or pkg.state != "active":
            continue
        try:
            tk.check_access("package_show", {"user": tk.g.user}, {"id": pkg.id})
        except tk.NotAuthorized:
            continue
        out.append({"id": pkg.id, "name": pkg.name, "title": pkg.title or pkg.name, "type": pkg.type})
    return out


def related_records(pkg_dict: dict[str, Any]) -> list[dict[str, Any]]:
    """The records that link to this one (the reverse direction of the link
    fields), one group per kind; one search each."""
    groups = []
    for kind, field, heading in RELATED.get(pkg_dict.get("type"), []):
        result = tk.get_action("package_search")(
            {"user": tk.g.user},
            {"fq": f'+dataset_type:{kind} +vocab_{field}:"{pkg_dict["id"]}"',
             "rows": 1000, "sort": "title_string asc", "include_private": True,
             "fl": "id,name,title,type"},
        )
        groups.append({"type": kind, "field": field, "heading": tk._(heading),
                       "count": result["count"], "records": result["results"]})
    return groups


def form_conditions(schema: dict[str, Any]) -> str:
    """Conditions of the form's fields, for the script that shows and hides
    the parts that apply (the validators enforce the same rules)."""
    fields = schema.get("dataset_fields") or schema.get("fields") or []
    return json.dumps({f["field_name"]: f["condition"] for f in fields if f.get("condition")})


def blok_title(blok: str | None) -> str:
    titles = BLOK_TITLES.get(blok or "")
    if not titles:
        return ""
    return titles[1] if tk.h.lang() == "en" else titles[0]


def has_value(value: Any) -> bool:
    # A key the record does not have reaches templates as jinja's Undefined.
    from jinja2 import Undefined

    if isinstance(value, Undefined):
        return False
    return value is not None and value != "" and value != [] and value != {}


# --- release workflow ----------------------------------------------------------

def transition_label(name: str) -> str:
    _ = tk._
    return {"submit": _("Submit for review"), "return": _("Return to the producer"),
            "pass": _("Pass the check"), "approve": _("Approve for release"), "release": _("Release now"),
            "withdraw": _("Withdraw"), "reopen": _("Reopen as a draft"),
            "revise": _("Start a new version")}.get(name, name)


def state_label(state: str | None) -> str:
    _ = tk._
    return {"draft": _("Draft"), "submitted": _("Submitted"), "returned": _("Returned"),
            "checked": _("Checked"), "approved": _("Approved for release"), "released": _("Released"),
            "withdrawn": _("Withdrawn")}.get(state or "", state or "")


def role_label(role: str) -> str:
    _ = tk._
    return {"producer": _("Producer"), "walidata": _("Walidata"), "forum": _("Forum Satu Data"),
            "sysadmin": _("System administrator"), "system": _("Scheduler")}.get(role, role)


def check_label(key: str) -> str:
    _ = tk._
    return {"not_confidential": _("Not confidential"), "analysed": _("Analysed"),
            "standard": _("Meets the data standard and metadata"),
            "consistent": _("Consistent syntax, structure and semantics"),
            "open_format": _("Open machine-readable format"),
            "disclosure": _("No business can be singled out")}.get(key, key)


def queue_label(queue: str) -> str:
    _ = tk._
    return {"mine": _("My records"), "check": _("To check"), "approve": _("To approve"),
            "scheduled": _("Scheduled")}.get(queue, queue)


def release_state(package_id: str) -> dict[str, Any] | None:
    """The record's workflow state as the current user may see it."""
    try:
        return tk.get_action("umkm_release_show")(
            {"user": tk.g.user, "auth_user_obj": tk.g.userobj}, {"id": package_id})
    except (tk.ObjectNotFound, tk.NotAuthorized):
        return None


def format_moment(value: str | None) -> str:
    """An ISO time in the portal's time zone (WIB by default), e.g. 15-01-2027 09:00 WIB."""
    import datetime

    from ckanext.umkm.release.workflow import timezone

    if not value:
        return ""
    zone = timezone()
    moment = datetime.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        return moment.strftime("%d-%m-%Y")
    local = moment.astimezone(zone)
    return f"{local:%d-%m-%Y %H:%M} {local.tzname()}"


# --- restricted data -----------------------------------------------------------

def access_state(package_id: str) -> dict[str, Any] | None:
    """What the current user would get of a dataset's data."""
    try:
        return tk.get_action("umkm_access_show")(
            {"user": tk.g.user, "auth_user_obj": tk.g.userobj}, {"id": package_id})
    except (tk.ObjectNotFound, tk.NotAuthorized):
        return None


def is_walidata() -> bool:
    from ckanext.umkm.release.workflow import user_roles

    user = tk.g.userobj
    return bool(user and (user.sysadmin or "walidata" in user_roles(user)))


def walidata_contact() -> str:
    return tk.config.get("ckanext.umkm.walidata_email") or tk.config.get("smtp.mail_from") or ""


def signature_status(status: str) -> str:
    _ = tk._
    return {"valid": _("valid"), "pending": _("awaiting Walidata"), "rejected": _("rejected")}.get(status, status)


def grant_holder(grant: dict[str, Any]) -> str:
    import ckan.model as model

    if grant.get("organization_id"):
        org = model.Group.get(grant["organization_id"])
        return org.title or org.name if org else grant["organization_id"]
    user = model.User.get(grant.get("user_id") or "")
    return (user.fullname or user.name) if user else (grant.get("user_id") or "")


def grant_dataset(grant: dict[str, Any]) -> str:
    import ckan.model as model

    if not grant.get("package_id"):
        return tk._("every restricted dataset within the agency scope")
    pkg = model.Package.get(grant["package_id"])
    return (pkg.title or pkg.name) if pkg else grant["package_id"]


def audit_label(action: str) -> str:
    from ckanext.umkm.audit import labels

    return labels.event(action)


def audit_events() -> tuple[str, ...]:
    from ckanext.umkm.audit import labels

    return labels.EVENTS


def audit_details(event: dict[str, Any]) -> str:
    from ckanext.umkm.audit import labels

    return labels.details(event, labels.Names())


def audit_actor(name: str | None) -> str:
    from ckanext.umkm.audit import labels

    return labels.actor(name)


def audit_reason(code: str | None) -> str:
    from ckanext.umkm.audit import labels

    return labels.reason(code)


def audit_path(code: str | None) -> str:
    from ckanext.umkm.audit import labels

    return labels.path(code)


def dataset_title(ref: str | None) -> str:
    from ckanext.umkm.audit import labels

    return labels.Names().dataset(ref)


def csp_nonce() -> str:
    from ckanext.umkm.protection import headers

    return headers.nonce()


def get_helpers() -> dict[str, Callable[..., Any]]:
    return {
        "umkm_reference_labels": reference_labels,
        "umkm_linked_packages": linked_packages,
        "umkm_related_records": related_records,
        "umkm_form_conditions": form_conditions,
        "umkm_blok_title": blok_title,
        "umkm_has_value": has_value,
        "umkm_transition_label": transition_label,
        "umkm_state_label": state_label,
        "umkm_role_label": role_label,
        "umkm_check_label": check_label,
        "umkm_queue_label": queue_label,
        "umkm_release_state": release_state,
        "umkm_format_moment": format_moment,
        "umkm_access_state": access_state,
        "umkm_is_walidata": is_walidata,
        "umkm_walidata_contact": walidata_contact,
        "umkm_signature_status": signature_status,
        "umkm_grant_holder": grant_holder,
        "umkm_grant_dataset": grant_dataset,
        "umkm_audit_label": audit_label,
        "umkm_audit_events": audit_events,
        "umkm_audit_details": audit_details,
        "umkm_audit_actor": audit_actor,
        "umkm_audit_reason": audit_reason,
        "umkm_audit_path": audit_path,
        "umkm_dataset_title": dataset_title,
        "umkm_csp_nonce": csp_nonce,
        "umkm_request_kind_label": request_kind_label,
        "umkm_request_step_label": request_step_label,
        "umkm_request_state_label": request_state_label,
        "umkm_request_event_label": request_event_label,
        "umkm_request_use_label": request_use_label,
        "umkm_request_field_label": request_field_label,
    }


# --- request services ------------------------------------------------------------

def request_kind_label(kind: str) -> str:
    _ = tk._
    return {"data": _("Data request"), "akun": _("Account request"),
            "berbagi_pakai": _("Data-sharing request")}.get(kind, kind)


def request_step_label(kind: str, step: str) -> str:
    """A step in the Lampiran's own words (official names stay Indonesian)."""
    from ckanext.umkm.requests import procedures

    try:
        return procedures.PROCEDURES[kind].step(step).label
    except KeyError:
        return step


def request_state_label(state: str) -> str:
    _ = tk._
    return {"open": _("In process"), "waiting": _("Waiting for the requester"), "approved": _("Approved"),
            "refused": _("Refused"), "completed": _("Completed")}.get(state, state)


def request_event_label(event: str) -> str:
    _ = tk._
    return {"submit": _("Submitted"), "advance": _("Step done"), "ask": _("More information asked"),
            "answer": _("Requester answered"), "forward": _("Forwarded to another reviewer"),
            "refuse": _("Refused"), "approve": _("Approved"), "report": _("Use report filed"),
            "revoke": _("Access revoked"), "report_due": _("Use report due")}.get(event, event)


def request_use_label(category: str) -> str:
    _ = tk._
    return {"layanan_publik": _("Public service"), "penelitian": _("Research"), "kebijakan": _("Policy"),
            "komersial": _("Commercial"), "lainnya": _("Other")}.get(category, category)


def request_field_label(key: str) -> str:
    _ = tk._
    return {
        "use_category": _("Use of the data"), "purpose": _("Intended use"), "expected_outputs": _("Expected outputs"),
        "datasets": _("Datasets"), "data_description": _("Data not yet published"), "variables": _("Variables"),
        "regions": _("Regions"), "period": _("Period"), "granularity": _("Level of the data"),
        "username": _("Wished user name"), "position": _("Position"), "background": _("Background of the programme"),
        "variables_needed": _("Variables needed"), "variables_offered": _("Variables you can give back"),
        "name": _("Name"), "nip_nik": _("NIP or NIK"), "nik": _("NIK"), "phone": _("Phone"), "email": _("E-mail"),
        "letter": _("Cover letter"), "statement": _("Signed confidentiality statement"),
        "agreement": _("Agreement document"), "report": _("Use report"), "answer": _("Answer"),
        "agency_name": _("Institution"), "organization_id": _("Agency"), "admin_nik": _("NIK"),
        "admin_name": _("Name"), "admin_phone": _("Phone"), "admin_position": _("Position"),
        "admin_email": _("E-mail"), "transparency": _("Commitment"),
        "accept_controller_duties": _("Duties of a data controller"), "valid_until": _("Valid until"),
        "download_limit": _("Download limit"), "sectors": _("Sectors"), "reviewer": _("Reviewer"),
        "alternative": _("Alternative data"), "note": _("Note"),
    }.get(key, key)
