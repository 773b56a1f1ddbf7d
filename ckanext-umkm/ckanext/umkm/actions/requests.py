"""API of the request services (Permen UMKM 8/2025 Pasal 23(3), 25-27, 32;
Lampiran III.E): submit a data, account or data-sharing request, take its
steps, follow it, and read the public register and service statistics.

Uploads (PDF) come as multipart files or as base64 strings in
``<name>_pdf``: ``letter`` (all kinds), ``statement`` (account, data
sharing), ``agreement`` (data sharing's coordination), ``report`` (use
report), ``answer`` (an answer to a request for more information).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import statistics
from collections.abc import Callable
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk

from ckanext.umkm import caller
from ckanext.umkm.access import gate
from ckanext.umkm.actions.access import _codes, _moment
from ckanext.umkm.audit import log as audit_log
from ckanext.umkm.protection import limits
from ckanext.umkm.release import workflow
from ckanext.umkm.requests import documents, engine, notifications, outcomes, procedures

_ = tk._

USE_CATEGORIES = ("layanan_publik", "penelitian", "kebijakan", "komersial", "lainnya")
GRANULARITIES = ("agregat", "bnba")
TEXT_MAX = 4000
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _text(data_dict: dict[str, Any], key: str, errors: dict[str, list[str]], required: bool = True,
          limit: int = TEXT_MAX) -> str:
    value = data_dict.get(key)
    if value is not None and not isinstance(value, (str, int, float)):
        errors[key] = [_("Give a text")]
        return ""
    text = str(value or "").strip()
    if "\x00" in text:
        errors[key] = [_("Give a text")]
        return ""
    if required and not text:
        errors[key] = [_("Missing value")]
    elif len(text) > limit:
        errors[key] = [_("At most {n} characters").format(n=limit)]
    return text


def _upload(data_dict: dict[str, Any], name: str, errors: dict[str, list[str]], required: bool) -> bytes | None:
    """A PDF sent as a multipart file (``<name>``) or base64 (``<name>_pdf``), checked."""
    value = data_dict.get(name)
    if value is None or value == "":
        value = data_dict.get(f"{name}_pdf")
    data: bytes | None = None
    if hasattr(value, "read"):
        limit = tk.asint(tk.config.get("ckanext.umkm.nda.max_pdf_mb", 5)) * 1024 * 1024
        data = value.read(limit + 1) or None
    elif isinstance(value, str) and value:
        try:
            data = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            errors[name] = [_("Send the PDF as base64")]
            return None
    elif value not in (None, ""):
        errors[name] = [_("Send the PDF as base64")]
        return None
    if not data:
        if required:
            errors[name] = [_("{document} is missing").format(document=documents.label(name))]
        return None
    problem = documents.check(name, data)
    if problem:
        errors[name] = [problem]
        return None
    return data


def _packages(context: dict[str, Any], value: Any, field: str, errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Datasets of the catalogue the caller can see, by id or name."""
    if value in (None, "", []):
        return []
    items = [part for item in (value if isinstance(value, list) else [value]) if isinstance(item, (str, int))
             for part in str(item).replace(";", ",").split(",")]
    found, unknown = [], []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            continue
        try:
            pkg = tk.get_action("package_show")(caller.nested_context(context), {"id": item.strip()[:200]})
        except (tk.ObjectNotFound, tk.NotAuthorized):
            unknown.append(item.strip()[:100])
            continue
        if pkg.get("type") != "dataset":
            unknown.append(item.strip()[:100])
        elif pkg["id"] not in {p["id"] for p in found}:
            found.append(pkg)
    if unknown:
        errors[field] = [_("No such dataset: {names}").format(names=", ".join(unknown))]
    if len(found) > 50:
        errors[field] = [_("At most {n} datasets in one request").format(n=50)]
    return found


def _agency(user: model.User | None, value: Any, errors: dict[str, list[str]], required: bool
            ) -> model.Group | None:
    if value in (None, ""):
        if required:
            errors["organization_id"] = [_("Choose the agency")]
        return None
    org = model.Group.get(str(value)[:200])
    if org is None or not org.is_organization or org.state != "active":
        errors["organization_id"] = [_("No such agency")]
        return None
    if user is not None and not user.sysadmin and org.id not in {a.id for a in gate.user_agencies(user)}:
        errors["organization_id"] = [_("You are not a member of this agency")]
        return None
    return org


def _administrator(data_dict: dict[str, Any], errors: dict[str, list[str]]) -> dict[str, str]:
    """The data administrator of the Lampiran's table (NIK, name, phone,
    position, e-mail)."""
    admin = {k: _text(data_dict, f"admin_{k}", errors, limit=200)
             for k in ("nik", "name", "phone", "position", "email")}
    nik = admin["nik"].replace(" ", "")
    if nik and not (nik.isdigit() and len(nik) == 16):
        errors["admin_nik"] = [_("NIK has 16 digits")]
    phone = re.sub(r"[\s()-]", "", admin["phone"])
    if phone and not re.fullmatch(r"\+?\d{8,15}", phone):
        errors["admin_phone"] = [_("Give a phone number (8 to 15 digits)")]
    if admin["email"] and not EMAIL.match(admin["email"]):
        errors["admin_email"] = [_("Give an e-mail address")]
    return {**admin, "nik": nik, "phone": phone}


def _limit_submissions(user: model.User | None) -> None:
    """Floods of requests: counted per address and per account."""
    if not limits.enabled():
        return
    try:
        limits.hit("request", caller.client_ip() or "-")
        if user is not None:
            limits.hit("request_account", user.id)
    except limits.Exceeded as e:
        raise tk.ValidationError({"__all__": [
            _("Too many requests: try again in {seconds} seconds").format(seconds=e.retry_after)]}) from None


def _audit(event: str, context: dict[str, Any], request: dict[str, Any], **payload: Any) -> None:
    audit_log.record(f"request_{event}", actor=caller.actor_name(context), object_type="request",
                     object_id=request["id"], target_type="organization", target_id=request["organization_id"] or "",
                     payload={"number": request["number"], "kind": request["kind"], "step": request["step"],
                              "state": request["state"], **payload, **caller.request_meta()})


# --- submit ---------------------------------------------------------------------

def umkm_request_create(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    """Submit a request.

    :param kind: ``data``, ``akun`` or ``berbagi_pakai``
    Data request: :param organization_id: your agency (optional for other
    users, then :param agency_name:), :param nip_nik:, :param phone:,
    :param position:, :param use_category: (layanan_publik, penelitian,
    kebijakan, komersial, lainnya), :param purpose: (intended use),
    :param expected_outputs:, :param transparency: must be true,
    :param datasets: ids or names, or :param data_description:,
    :param variables:, :param regions: kode wilayah, :param period:,
    :param granularity: ``agregat`` or ``bnba``, :param letter: PDF.
    Account request (no sign-in needed): :param organization_id:,
    ``admin_nik``, ``admin_name``, ``admin_phone``, ``admin_position``,
    ``admin_email``, :param username: wished (optional), :param letter:,
    :param statement: PDFs, :param accept_controller_duties: true.
    Data-sharing request: :param organization_id:, :param background:,
    the ``admin_*`` fields, :param variables_needed:,
    :param variables_offered:, :param datasets: (optional),
    :param letter:, :param statement: PDFs.
    """
    tk.check_access("umkm_request_create", context, data_dict)
    kind = str(data_dict.get("kind") or "")
    if kind not in engine.KINDS:
        raise tk.ValidationError({"kind": [_("Choose data, akun or berbagi_pakai")]})
    user = caller.context_user(context)
    errors: dict[str, list[str]] = {}
    personal: dict[str, Any] = {}
    details: dict[str, Any] = {}
    org: model.Group | None = None
    agency_name = ""
    if kind == "data":
        org = _agency(user, data_dict.get("organization_id"), errors, required=False)
        agency_name = org.title if org else _text(data_dict, "agency_name", errors, limit=200)
        personal = {"name": (user.fullname or user.name) if user else "",
                    "nip_nik": _text(data_dict, "nip_nik", errors, required=False, limit=30).replace(" ", ""),
                    "phone": _text(data_dict, "phone", errors, required=False, limit=30),
                    "position": _text(data_dict, "position", errors, required=False, limit=200)}
        if personal["nip_nik"] and not (personal["nip_nik"].isdigit() and len(personal["nip_nik"]) in (16, 18)):
            errors["nip_nik"] = [_("NIK has 16 digits, NIP 18")]
        use = str(data_dict.get("use_category") or "")
        if use not in USE_CATEGORIES:
            errors["use_category"] = [_("Choose how the data will be used")]
        granularity = str(data_dict.get("granularity") or "")
        if granularity not in GRANULARITIES:
            errors["granularity"] = [_("Choose aggregate or by name by address")]
        packages = _packages(context, data_dict.get("datasets"), "datasets", errors)
        description = _text(data_dict, "data_description", errors, required=not packages and "datasets" not in errors)
        try:
            regions = _codes("wilayah", data_dict.get("regions"), "regions")
        except tk.ValidationError as e:
            errors.update(e.error_dict)
            regions = []
        if not tk.asbool(data_dict.get("transparency") or False):
            errors["transparency"] = [_("Agree to use the data only for this purpose and to report its use")]
        details = {
            "use_category": use, "purpose": _text(data_dict, "purpose", errors),
            "expected_outputs": _text(data_dict, "expected_outputs", errors),
            "datasets": [p["name"] for p in packages], "dataset_titles": [p.get("title") or p["name"] for p in packages],
            "data_description": description, "variables": _text(data_dict, "variables", errors, required=False),
            "regions": regions, "period": _text(data_dict, "period", errors, limit=100), "granularity": granularity,
        }
        title = ", ".join(details["dataset_titles"][:3]) or description[:120]
    else:
        org = _agency(user if kind == "berbagi_pakai" else None, data_dict.get("organization_id"), errors,
                      required=True)
        agency_name = org.title if org else ""
        personal = _administrator(data_dict, errors)
        if kind == "akun":
            wanted = _text(data_dict, "username", errors, required=False, limit=100).lower()
            if wanted and not re.fullmatch(r"[a-z0-9_-]{2,100}", wanted):
                errors["username"] = [_("Use lowercase letters, digits, - and _ (2 to 100)")]
            if not tk.asbool(data_dict.get("accept_controller_duties") or False):
                errors["accept_controller_duties"] = [_("Accept the duties of a data controller to sign")]
            details = {"username": wanted, "position": personal["position"]}
            title = _("Account for {name}, {agency}").format(name=personal["name"], agency=agency_name)
        else:
            packages = _packages(context, data_dict.get("datasets"), "datasets", errors)
            details = {"background": _text(data_dict, "background", errors),
                       "variables_needed": _text(data_dict, "variables_needed", errors),
                       "variables_offered": _text(data_dict, "variables_offered", errors),
                       "datasets": [p["name"] for p in packages],
                       "dataset_titles": [p.get("title") or p["name"] for p in packages]}
            title = _("Data sharing with {agency}").format(agency=agency_name)
    letter = _upload(data_dict, "letter", errors, required=True)
    statement = _upload(data_dict, "statement", errors, required=kind != "data")
    if errors:
        raise tk.ValidationError(errors)
    requester_key = user.id if user else personal.get("email", "")
    fp = engine.fingerprint(kind, requester_key, {**details, "organization_id": org.id if org else None})
    same = engine.duplicate_of(kind, fp)
    if same:
        raise tk.ValidationError({"__all__": [
            _("The same request was already submitted and is in process: {number}").format(number=same)]})
    _limit_submissions(user)
    if org is not None:
        overdue = engine.overdue_reports(org.id, user.id if user else None)
        if overdue:
            details["overdue_reports"] = overdue
    actor = engine.Actor(user.id if user else None, user.name if user else personal.get("email", ""),
                         procedures.REQUESTER)
    request = engine.create(kind=kind, actor=actor, requester_id=user.id if user else None,
                            organization_id=org.id if org else None, agency_name=agency_name or "-",
                            title=title[:300] or kind, details=details, personal=documents.seal(personal), fp=fp,
                            documents={})
    stored = {"letter": documents.store(request["id"], "letter", letter)} if letter else {}
    if statement:
        stored["statement"] = documents.store(request["id"], "statement", statement)
    request = engine.set_values(request["id"], documents=json.dumps(stored))
    _audit("submit", context, request, documents={k: v["sha256"] for k, v in stored.items()})
    model.repo.commit()
    row = engine.row(request["id"])
    notifications.notify(request, "submit", requester_email=notifications.requester_address(row), note=None)
    return request


# --- read -----------------------------------------------------------------------------

def _is_walidata(user: model.User | None) -> bool:
    return user is not None and (user.sysadmin or "walidata" in workflow.user_roles(user))


def _readable(context: dict[str, Any], reference: Any) -> tuple[Any, str]:
    """The request row and the caller's role on it (requester or Walidata)."""
    if not isinstance(reference, str) or not reference.strip() or len(reference) > 100:
        raise tk.ValidationError({"id": [_("Give the request's id or number")]})
    found = engine.find(reference.strip())
    user = caller.context_user(context)
    if found is None or user is None:
        raise tk.ObjectNotFound(_("Request not found"))
    if found["requester_id"] == user.id:
        return found, procedures.REQUESTER
    if _is_walidata(user):
        return found, procedures.WALIDATA
    raise tk.ObjectNotFound(_("Request not found"))


@tk.side_effect_free
def umkm_request_show(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    """A request with its history and personal data, to its requester and Walidata.

    :param id: the request's id or number
    """
    tk.check_access("umkm_request_show", context, data_dict)
    found, role = _readable(context, data_dict.get("id"))
    request = engine.serialise(found)
    request["history"] = engine.history(found["id"])
    personal = documents.unseal(found["personal"])
    token = personal.pop("token", None)
    request["personal"] = personal
    if token and role == procedures.REQUESTER and not request["outcome"].get("revoked"):
        request["token"] = token
    request["role"] = role
    request["steps"] = [{"key": s.key, "label": s.label, "actor": s.actor, "days": s.days}
                        for s in engine.flow(found["kind"])]
    request["overdue_reports"] = request["details"].get("overdue_reports", [])
    from ckanext.umkm.access import grants as access_grants

    for grant in request["outcome"].get("grants", []):
        # How the access is used: downloads so far, and whether it is still in force.
        current = access_grants.get(grant["id"]) or {}
        grant.update(downloads=current.get("downloads", 0), active=current.get("active", False),
                     revoked=bool(current.get("revoked_at")))
    return request


@tk.side_effect_free
def umkm_request_list(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    """Requests: yours, or (Walidata) all of them, due first.

    :param kind:, :param state: filters; :param open_only: bool;
    :param reports_overdue: bool, only those whose use report is overdue;
    :param limit: (at most 1000), :param offset:
    """
    tk.check_access("umkm_request_list", context, data_dict)
    user = caller.context_user(context)
    kind = data_dict.get("kind") or None
    state = data_dict.get("state") or None
    if kind is not None and kind not in engine.KINDS:
        raise tk.ValidationError({"kind": [_("Choose data, akun or berbagi_pakai")]})
    if state is not None and state not in engine.STATES:
        raise tk.ValidationError({"state": [_("Unknown state")]})
    try:
        limit = min(max(int(str(data_dict.get("limit", 100))), 1), 1000)
        offset = max(int(str(data_dict.get("offset", 0))), 0)
    except ValueError:
        raise tk.ValidationError({"limit": [_("Give a whole number")]}) from None
    mine = not _is_walidata(user) or tk.asbool(data_dict.get("mine") or False)
    total, found = engine.listing(kind=kind, state=state, requester_id=user.id if mine and user else None,
                                  open_only=tk.asbool(data_dict.get("open_only") or False),
                                  reports_overdue=tk.asbool(data_dict.get("reports_overdue") or False),
                                  limit=limit, offset=offset)
    return {"count": total, "results": found}


# --- steps -------------------------------------------------------------------------------

MESSAGES = {
    "moved": lambda: _("The request has moved on meanwhile: reload it and check its step"),
    "role": lambda: _("This step is not yours to take"),
    "closed": lambda: _("The request is closed"),
    "not_waiting": lambda: _("Nothing was asked of you on this request"),
    "waiting": lambda: _("The request waits for the requester's answer"),
    "not_here": lambda: _("This cannot be done at the request's current step"),
    "decide": lambda: _("At this step, approve or refuse the request"),
    "no_report": lambda: _("No use report is due on this request"),
    "unknown": lambda: _("Unknown event"),
}


def umkm_request_act(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    """Take a step on a request (see ``requests.engine``).

    :param id: the request (id or number)
    :param event: advance, ask, answer, forward, refuse, approve, report, revoke
    :param step: the step you saw (a request that moved meanwhile is refused)
    :param note: the message (required for ask, answer, refuse)
    :param reviewer: forward: the Walidata reviewer (name)
    :param alternative: refuse (data, data sharing): the data that is available instead
    :param agreement: advance of data sharing's ``koordinasi``: the agreement PDF
    :param report: the use report (PDF) or :param note: its text
    Approve (data): :param datasets: (default: those requested),
    :param regions:, :param sectors:, :param valid_until: (restricted data),
    :param download_limit:. Approve (account): :param username: (optional).
    Approve (data sharing): :param datasets:, :param valid_until:.
    """
    tk.check_access("umkm_request_act", context, data_dict)
    event = str(data_dict.get("event") or "")
    if event not in engine.EVENTS or event == "submit":
        raise tk.ValidationError({"event": [_("Unknown event")]})
    user = caller.context_user(context)
    assert user is not None
    reference = data_dict.get("id")
    if not isinstance(reference, str) or not reference.strip() or len(reference) > 100:
        raise tk.ValidationError({"id": [_("Give the request's id or number")]})
    found = engine.find(reference.strip())
    if found is None:
        raise tk.ObjectNotFound(_("Request not found"))
    current = engine.row(found["id"], for_update=True)
    if current["requester_id"] == user.id:
        role = procedures.REQUESTER
    elif _is_walidata(user):
        role = procedures.WALIDATA
        from ckanext.umkm.auth.access import second_factor

        refusal = second_factor(user)
        if refusal:
            raise tk.NotAuthorized(refusal["msg"])
    else:
        raise tk.ObjectNotFound(_("Request not found"))
    actor = engine.Actor(user.id, user.name, role)
    expected = data_dict.get("step")
    try:
        engine.check_event(current, event, actor, str(expected) if isinstance(expected, str) and expected else None)
    except engine.StepError as e:
        raise tk.ValidationError({e.field: [MESSAGES[e.message]()]}) from None
    errors: dict[str, list[str]] = {}
    note = _text(data_dict, "note", errors, required=event in ("ask", "answer", "refuse") or (
        event == "report" and not data_dict.get("report") and not data_dict.get("report_pdf")))
    request = engine.serialise(current)
    kwargs: dict[str, Any] = {"note": note or None}
    reviewer = None
    extra = None
    if event == "forward":
        reviewer = model.User.get(str(data_dict.get("reviewer") or "")[:200])
        if reviewer is None or reviewer.state != "active" or not _is_walidata(reviewer) or reviewer.id == user.id \
                or reviewer.name == tk.config.get("ckan.site_id"):
            errors["reviewer"] = [_("Name another Walidata reviewer")]
        else:
            kwargs["reviewer_id"] = reviewer.id
    elif event == "refuse":
        alternative = _text(data_dict, "alternative", errors, required=current["kind"] != "akun")
        kwargs["decision"] = {"refused": True, "reason": note, "alternative": alternative, "by": user.display_name}
    elif event == "answer":
        answer = _upload(data_dict, "answer", errors, required=False)
        if answer and not errors:
            kwargs["documents"] = {"answer": documents.store(current["id"], "answer", answer)}
    elif event == "report":
        report = _upload(data_dict, "report", errors, required=False)
        if report and not errors:
            kwargs["documents"] = {"report": documents.store(current["id"], "report", report)}
    elif event == "advance" and current["kind"] == "berbagi_pakai" and current["step"] == "koordinasi":
        agreement = _upload(data_dict, "agreement", errors, required=True)
        if agreement and not errors:
            kwargs["documents"] = {"agreement": documents.store(current["id"], "agreement", agreement)}
    elif event == "approve":
        if current["requester_id"] == user.id:
            errors["id"] = [_("Nobody approves their own request")]
        extra = _approve(context, current, request, data_dict, errors, kwargs, user)
    elif event == "revoke":
        outcome = dict(request["outcome"])
        outcomes.revoke_sharing(context, outcome, note or _("Revoked by Walidata"))
        outcome["revoked"] = workflow.now().isoformat()
        kwargs["outcome"] = outcome
    if errors:
        model.Session.rollback()
        raise tk.ValidationError(errors)
    updated = engine.apply(current, event, actor, **kwargs)
    _audit(event, context, updated, from_step=current["step"], reviewer=reviewer.name if reviewer else None,
           outcome={k: v for k, v in (kwargs.get("outcome") or {}).items() if k in ("grants", "links", "user",
                                                                                    "service_user", "revoked")})
    model.repo.commit()
    notifications.notify(updated, event, requester_email=notifications.requester_address(engine.row(current["id"])), note=note,
                         reviewer=reviewer, extra=extra)
    return updated


def _approve(context: dict[str, Any], current: Any, request: dict[str, Any], data_dict: dict[str, Any],
             errors: dict[str, list[str]], kwargs: dict[str, Any], user: model.User) -> str | None:
    """Check the approval's terms and carry them out (in the transaction of
    the step: an error leaves nothing behind). Returns words for the e-mail."""
    kind = current["kind"]
    decision = {"refused": False, "by": user.display_name}
    if kind == "akun":
        personal = documents.unseal(current["personal"])
        wanted = str(data_dict.get("username") or request["details"].get("username") or "")[:100]
        if errors:
            return None
        outcome = outcomes.create_account(context, request, personal,
                                          documents.path_of(current["documents"], "statement"), wanted)
        reset = outcome.pop("reset_url")
        kwargs.update(decision=decision, outcome=outcome)
        return _("Your account: {name}. Set its password here: {url}").format(name=outcome["user"], url=reset)
    chosen = data_dict.get("datasets") or request["details"].get("datasets") or []
    packages = _packages(context, chosen, "datasets", errors)
    if not packages and "datasets" not in errors:
        errors["datasets"] = [_("Name the datasets that answer the request (a dataset published since may answer it)")]
    unreleased = [p["name"] for p in packages if p.get("private")]
    if unreleased:
        # What is delivered is named in the public register: released data only.
        errors["datasets"] = [_("Not released yet: {names}").format(names=", ".join(unreleased))]
    restricted = [p for p in packages if gate.is_restricted(p)]
    valid_until = None
    try:
        valid_until = _moment(data_dict.get("valid_until"), "valid_until")
    except tk.ValidationError as e:
        errors.update(e.error_dict)
    if (restricted or kind == "berbagi_pakai") and "valid_until" not in errors:
        if valid_until is None:
            errors["valid_until"] = [_("Give the end of validity of the access")]
        elif valid_until <= workflow.now():
            errors["valid_until"] = [_("The end of validity must be after its start and in the future")]
    if kind == "data" and restricted and not current["organization_id"]:
        requester = model.User.get(current["requester_id"]) if current["requester_id"] else None
        if requester is None or not gate.user_agencies(requester):
            errors["datasets"] = [_("Restricted data reaches members of agencies only (Pasal 27(2)): the requester "
                                    "belongs to no agency; an account request of the agency comes first")]
    if kind == "berbagi_pakai" and packages and not restricted and "datasets" not in errors:
        errors["datasets"] = [_("Data sharing covers restricted datasets; public ones need no account")]
    if errors:
        return None
    if kind == "data":
        try:
            regions = _codes("wilayah", data_dict.get("regions", request["details"].get("regions")), "regions")
            sectors = _codes("kbli", data_dict.get("sectors"), "sectors")
        except tk.ValidationError as e:
            errors.update(e.error_dict)
            return None
        holder = {"organization_id": current["organization_id"]} if current["organization_id"] else {
            "user_id": current["requester_id"]}
        limit = data_dict.get("download_limit")
        try:
            outcome = outcomes.grant_data(context, request, packages, regions=regions, sectors=sectors,
                                          valid_until=valid_until, download_limit=limit, holder=holder)
        except tk.ValidationError as e:
            errors.update(e.error_dict)
            return None
        kwargs.update(decision=decision, outcome=outcome)
        return None
    assert valid_until is not None
    personal = documents.unseal(current["personal"])
    outcome, token = outcomes.create_sharing(context, request, personal,
                                             documents.path_of(current["documents"], "statement"), restricted,
                                             valid_until)
    engine.set_values(current["id"], personal=documents.seal({**personal, "token": token}))
    kwargs.update(decision=decision, outcome=outcome)
    return _("The service account's API token is on the request's page.")


# --- public ---------------------------------------------------------------------------------

@tk.side_effect_free
def umkm_request_register(context: dict[str, Any], data_dict: dict[str, Any]) -> list[dict[str, Any]]:
    """The public register of approved data requests: agency, data, purpose,
    period, approval date. No personal data."""
    tk.check_access("umkm_request_register", context, data_dict)
    out = []
    approvals = engine.event_times("approve")
    for row in engine.all_rows("data"):
        if row["state"] not in ("approved", "completed") or not row["decision"]:
            continue
        request = engine.serialise(row)
        if request["decision"].get("refused"):
            continue
        approved = approvals.get(row["id"])
        details = request["details"]
        out.append({"number": request["number"], "agency": request["agency_name"],
                    "datasets": [g.get("dataset_title") for g in request["outcome"].get("grants", [])]
                    + [link["title"] for link in request["outcome"].get("links", [])],
                    "use_category": details.get("use_category"), "purpose": details.get("purpose"),
                    "period": details.get("period"), "granularity": details.get("granularity"),
                    "approved": approved})
    return out


def service_statistics() -> dict[str, Any]:
    """Requests received and their outcome per kind and per agency, and the
    median working days each step took against its standard."""
    kinds = {}
    today = workflow.today()
    finished = engine.finished_steps()
    for kind in engine.KINDS:
        rows = engine.all_rows(kind)
        steps = []
        for step in engine.flow(kind):
            taken = [r["working_days"] for r in finished if r["kind"] == kind and r["step"] == step.key
                     and r["event"] != "submit"]
            steps.append({"step": step.key, "label": step.label, "standard_days": step.deadline_days,
                          "count": len(taken), "median_days": statistics.median(taken) if taken else None,
                          "within_standard": sum(1 for t in taken if step.deadline_days is None
                                                 or t <= step.deadline_days)})
        kinds[kind] = {
            "received": len(rows),
            "in_process": sum(1 for r in rows if r["state"] in ("open", "waiting")),
            "approved": sum(1 for r in rows if r["state"] in ("approved", "completed")),
            "refused": sum(1 for r in rows if r["state"] == "refused"),
            "overdue": sum(1 for r in rows if r["due"] and r["state"] not in engine.CLOSED and today > r["due"]),
            "steps": steps,
        }
    agencies: dict[str, dict[str, int]] = {}
    for row in engine.all_rows():
        counts = agencies.setdefault(row["agency_name"], {"received": 0, "approved": 0, "refused": 0})
        counts["received"] += 1
        counts["approved"] += row["state"] in ("approved", "completed")
        counts["refused"] += row["state"] == "refused"
    by_agency = [{"agency": name, **counts} for name, counts in sorted(agencies.items(), key=lambda i: -i[1]["received"])]
    return {"kinds": kinds, "by_agency": by_agency, "as_of": workflow.today().isoformat()}


@tk.side_effect_free
def umkm_request_statistics(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    """Public service statistics (see ``service_statistics``)."""
    tk.check_access("umkm_request_statistics", context, data_dict)
    return service_statistics()


# --- the log book of accounts ----------------------------------------------------------
# Every account created or deleted and every agency membership added or
# removed, whatever the way (an approved account request, registration, the
# organization's member page, the API), is a chained audit event.

def _account_event(event: str, context: dict[str, Any], user: model.User | None, org: model.Group | None,
                   **payload: Any) -> None:
    if user is None:
        return
    actor = context.get("umkm_actor") or caller.actor_name(context) or user.name
    audit_log.record(event, actor=actor, object_type="user", object_id=user.id,
                     target_type="organization" if org else "user", target_id=org.id if org else user.id,
                     payload={"user": user.name, "agency": org.name if org else None,
                              "request": context.get("umkm_request"), **payload, **caller.request_meta()})


@tk.chained_action
def user_create(next_action: Callable[..., Any], context: dict[str, Any], data_dict: dict[str, Any]) -> Any:
    result = next_action(context, data_dict)
    _account_event("account_create", context, model.User.get(result["id"]), None)
    return result


@tk.chained_action
def user_delete(next_action: Callable[..., Any], context: dict[str, Any], data_dict: dict[str, Any]) -> Any:
    user = model.User.get(str(data_dict.get("id") or "")) if isinstance(data_dict.get("id"), str) else None
    result = next_action(context, data_dict)
    _account_event("account_delete", context, user, None)
    return result


def _membership(data_dict: dict[str, Any]) -> tuple[model.User | None, model.Group | None]:
    if data_dict.get("object_type") != "user" or not all(
            isinstance(data_dict.get(k), str) for k in ("id", "object")):
        return None, None
    org = model.Group.get(data_dict["id"])
    if org is None or not org.is_organization:
        return None, None
    return model.User.get(data_dict["object"]), org


@tk.chained_action
def member_create(next_action: Callable[..., Any], context: dict[str, Any], data_dict: dict[str, Any]) -> Any:
    result = next_action(context, data_dict)
    user, org = _membership(data_dict)
    if org is not None:
        _account_event("membership_create", context, user, org, capacity=data_dict.get("capacity"))
    return result


@tk.chained_action
def member_delete(next_action: Callable[..., Any], context: dict[str, Any], data_dict: dict[str, Any]) -> Any:
    result = next_action(context, data_dict)
    user, org = _membership(data_dict)
    if org is not None:
        _account_event("membership_delete", context, user, org)
    return result


def get_actions() -> dict[str, Callable[..., Any]]:
    return {
        "umkm_request_create": umkm_request_create,
        "umkm_request_show": umkm_request_show,
        "umkm_request_list": umkm_request_list,
        "umkm_request_act": umkm_request_act,
        "umkm_request_register": umkm_request_register,
        "umkm_request_statistics": umkm_request_statistics,
        "user_create": user_create,
        "user_delete": user_delete,
        "member_create": member_create,
        "member_delete": member_delete,
    }
