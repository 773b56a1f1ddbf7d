"""The download gate: CKAN's resource download route, for restricted
datasets, delivers through the gate (scoped extract or the whole file),
logs what it delivered with its SHA-256, and refuses everything else.

CKAN registers ``download`` once per dataset type; ``install_gate``
puts the gate in front of each (the route, its URL and the other datasets'
downloads stay CKAN's own).
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from collections.abc import Callable
from typing import Any

import ckan.plugins.toolkit as tk
from flask import Blueprint, Flask, Response, request

from ckanext.umkm import caller
from ckanext.umkm.access import extracts as scoped_extracts
from ckanext.umkm.access import gate, two_factor
from ckanext.umkm.actions import access as access_actions
from ckanext.umkm.release import workflow
from ckanext.umkm.views import flash_validation_errors, view_context

PAGE = 10000
_ = tk._

umkm_access = Blueprint("umkm_access", __name__)


def _rows(context: dict[str, Any], resource_id: str) -> tuple[list[str], list[list[Any]]]:
    """Every row the user may read, through the gated, scoped datastore_search."""
    fields: list[str] = []
    rows: list[list[Any]] = []
    offset = 0
    while True:
        page = tk.get_action("datastore_search")(
            dict(context, umkm_internal=True),
            {"resource_id": resource_id, "limit": PAGE, "offset": offset, "sort": "_id", "records_format": "lists"})
        if not fields:
            fields = [f["id"] for f in page["fields"] if f["id"] != "_id"]
            index = [i for i, f in enumerate(page["fields"]) if f["id"] != "_id"]
        records = page["records"]
        rows.extend([r[i] for i in index] for r in records)
        if len(records) < PAGE:
            return fields, rows
        offset += PAGE


def gated_download(original: Callable[..., Any]) -> Callable[..., Any]:
    def download(package_type: str, id: str, resource_id: str, filename: str | None = None) -> Any:  # noqa: A002
        pkg = gate.resource_package(resource_id)
        if pkg is None or not gate.is_restricted(pkg):
            return original(package_type, id, resource_id, filename)
        context = view_context()
        try:
            # Visibility of the dataset itself first (a private one is a 404).
            tk.get_action("package_show")(dict(context), {"id": pkg["id"]})
        except (tk.ObjectNotFound, tk.NotAuthorized):
            return tk.abort(404, tk._("Resource not found"))
        res = next((r for r in pkg["resources"] if r["id"] == resource_id), None)
        if res is None or id not in (pkg["id"], pkg["name"]):
            return tk.abort(404, tk._("Resource not found"))
        decision = gate.decide(caller.context_user(context), pkg)
        try:
            if not decision.allowed:
                access_actions.refuse(context, pkg, resource_id, "download", decision)
            whole_file = decision.full and res.get("url_type") == "upload"
            if res.get("datastore_active") and not whole_file:
                fields, rows = _rows(context, resource_id)
                out = io.StringIO()
                writer = csv.writer(out)
                writer.writerow(fields)
                writer.writerows(rows)
                body = out.getvalue().encode("utf-8")
                digest = hashlib.sha256(body).hexdigest()
                access_actions.log_delivery(context, pkg, resource_id, "download", decision, len(rows), digest)
                name = os.path.splitext(filename or os.path.basename(res.get("url") or "") or res["id"])[0]
                suffix = "" if decision.full else "-" + "-".join(
                    (s.regions or ("semua",))[0].replace(".", "") for s in decision.scopes[:3])
                return Response(body, mimetype="text/csv", headers={
                    "Content-Disposition": f'attachment; filename="{name}{suffix}.csv"',
                    "X-Content-SHA256": digest, "Cache-Control": "no-store"})
            if res.get("url_type") != "upload":
                access_actions.refuse(context, pkg, resource_id, "download",
                                      gate.Decision(False, "link"))
            if not decision.full:
                access_actions.refuse(context, pkg, resource_id, "download", gate.Decision(False, "unscoped"))
        except tk.NotAuthorized as e:
            return tk.abort(403, str(e))
        except scoped_extracts.Unscoped:
            return tk.abort(403, gate.message("unscoped"))
        from ckan.lib import uploader

        path = uploader.get_resource_uploader(res).get_path(res["id"])
        with open(path, "rb") as f:
            body = f.read()
        digest = hashlib.sha256(body).hexdigest()
        access_actions.log_delivery(context, pkg, resource_id, "download", decision, None, digest)
        return Response(body, mimetype=res.get("mimetype") or "application/octet-stream", headers={
            "Content-Disposition": f'attachment; filename="{filename or os.path.basename(res.get("url") or "data")}"',
            "X-Content-SHA256": digest, "Cache-Control": "no-store"})

    download.__name__ = original.__name__
    return download


def install_gate(app: Flask) -> None:
    from ckan.views import resource
    from werkzeug.exceptions import Forbidden, NotFound

    for endpoint, view in list(app.view_functions.items()):
        if view is resource.download:
            app.view_functions[endpoint] = gated_download(view)

    # A refusal that a view lets through (CKAN's datatables filtered download
    # does) is a 403 page, not a server error; likewise a missing object.
    app.register_error_handler(tk.NotAuthorized, lambda e: app.handle_http_exception(Forbidden(str(e) or None)))
    app.register_error_handler(tk.ObjectNotFound, lambda e: app.handle_http_exception(NotFound(str(e) or None)))


# --- pages -------------------------------------------------------------------

def _walidata_page(refusal: str) -> Any:
    """None when Walidata (with two-step login) may open the page; else the
    way there (login, the code page, turning two-step login on) or a 403."""
    if not tk.current_user.is_authenticated:
        return tk.redirect_to("user.login", came_from=request.path)
    try:
        tk.check_access("umkm_audit_list", view_context(), {})
        return None
    except tk.NotAuthorized:
        second = two_factor.requirement(tk.current_user) if "walidata" in workflow.user_roles(
            tk.current_user) else None
    if second == "mfa_verify":
        return tk.redirect_to("umkm_mfa.verify", next=request.full_path)
    if second == "mfa_setup":
        tk.h.flash_notice(gate.message(second))
        return tk.redirect_to("umkm_mfa.manage")
    return tk.abort(403, refusal)


@umkm_access.route("/akses/pernyataan", methods=["GET", "POST"])
def statement() -> Any:
    """The confidentiality statement: read it, sign it (in the portal or by
    uploading the signed PDF), see one's signatures."""
    if not tk.current_user.is_authenticated:
        return tk.redirect_to("user.login", came_from=request.path)
    if request.method == "POST":
        data = {k: request.form.get(k) for k in ("template_version", "full_name", "nip_nik", "agency", "position")}
        data["accept_controller_duties"] = request.form.get("accept_controller_duties") == "on"
        upload = request.files.get("signed_pdf")
        if upload and upload.filename:
            import base64

            data["signed_pdf"] = base64.b64encode(upload.read()).decode()
        try:
            signed = tk.get_action("umkm_nda_sign")(view_context(), data)
        except tk.ValidationError as e:
            flash_validation_errors(e)
        else:
            tk.h.flash_success(_("Statement signed") if signed["status"] == "valid" else
                               _("Signed statement uploaded: it counts once Walidata approves it"))
            return tk.redirect_to("umkm_access.statement")
    nda = tk.get_action("umkm_nda_show")(view_context(), {})
    return tk.render("umkm/access/statement.html", {"nda": nda, "form": request.form})


@umkm_access.route("/akses/izin", methods=["GET", "POST"])
def grants() -> Any:
    """Walidata's page: grants (create, renew, revoke) and uploaded statements to review."""
    refused = _walidata_page(_("Only Walidata grants access to restricted data"))
    if refused is not None:
        return refused
    if request.method == "POST":
        op = request.form.get("op")
        try:
            if op == "create":
                tk.get_action("umkm_access_grant_create")(view_context(), {k: request.form.get(k) for k in (
                    "organization_id", "user_id", "package_id", "regions", "sectors", "purpose", "valid_from",
                    "valid_until")})
                tk.h.flash_success(_("Access granted"))
            elif op == "revoke":
                tk.get_action("umkm_access_grant_revoke")(view_context(), {"id": request.form.get("id"),
                                                                       "reason": request.form.get("reason")})
                tk.h.flash_success(_("Grant revoked"))
            elif op == "renew":
                tk.get_action("umkm_access_grant_renew")(view_context(), {"id": request.form.get("id"),
                                                                      "valid_until": request.form.get("valid_until")})
                tk.h.flash_success(_("Grant renewed"))
            elif op in ("approve", "reject"):
                tk.get_action("umkm_nda_review")(view_context(), {"id": request.form.get("id"),
                                                              "approve": op == "approve"})
                tk.h.flash_success(_("Statement reviewed"))
        except tk.ValidationError as e:
            flash_validation_errors(e)
            return tk.render("umkm/access/grants.html", _grants_page(request.form))
        except tk.ObjectNotFound as e:
            tk.h.flash_error(str(e))
        return tk.redirect_to("umkm_access.grants")
    return tk.render("umkm/access/grants.html", _grants_page({}))


def _grants_page(form: Any) -> dict[str, Any]:
    from ckanext.umkm.access import confidentiality

    return {"grants": tk.get_action("umkm_access_grant_list")(view_context(), {}),
            "pending": confidentiality.signatures(status="pending"), "form": form}


@umkm_access.route("/akses/log")
def audit() -> Any:
    """Walidata's audit log, filtered, with its log-book export."""
    refused = _walidata_page(_("Only Walidata reads the audit log"))
    if refused is not None:
        return refused
    filters = {k: request.args.get(k) for k in ("action", "actor", "package_id", "since", "until")
               if request.args.get(k)}
    export = request.args.get("format")
    try:
        if export in ("csv", "xlsx"):
            tk.check_access("umkm_audit_list", view_context(), {})
            from ckanext.umkm.audit import export as audit_export

            out = io.BytesIO()
            audit_export.write(out, export, since=filters.get("since"), until=filters.get("until"),
                               action=filters.get("action"))
            mimetype = "text/csv" if export == "csv" else (
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
            return Response(out.getvalue(), mimetype=mimetype, headers={
                "Content-Disposition": f'attachment; filename="log-book-akses-data.{export}"'})
        page = max(tk.asint(request.args.get("page", 1)), 1)
        listing = tk.get_action("umkm_audit_list")(view_context(), dict(filters, limit=50, offset=(page - 1) * 50))
    except tk.NotAuthorized as e:
        return tk.abort(403, str(e))
    except tk.ValidationError as e:
        flash_validation_errors(e)
        listing, page = {"count": 0, "results": []}, 1
    return tk.render("umkm/access/audit.html", {"listing": listing, "filters": filters, "page": page})


def get_blueprints() -> list[Blueprint]:
    return [umkm_access]
