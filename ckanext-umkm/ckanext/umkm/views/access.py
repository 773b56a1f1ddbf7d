"""The gate on CKAN's own download views: a restricted dataset's resource
download delivers through the gate (the whole file, or the scoped extract),
and the DataStore dump of a restricted table (by id or by alias, also where
the table preview's "download" leads) is one logged delivery. Everything is
streamed; the audit event, with the SHA-256 of the bytes, is written before
the first byte leaves.

CKAN offers no extension point for downloads (``IUploader`` only says where
a file is stored), so ``install_gate`` replaces the views behind the
endpoints: ``resource.download`` under each dataset type's blueprint and
``datastore.dump``. It refuses to start the portal if it finds none of them,
and ``test_download_views_are_the_gates`` checks every URL rule.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable
from typing import Any

import ckan.plugins.toolkit as tk
from flask import Blueprint, Flask, Response, request

from ckanext.umkm import caller
from ckanext.umkm.access import delivery, gate, two_factor
from ckanext.umkm.access import extracts as scoped_extracts
from ckanext.umkm.release import workflow
from ckanext.umkm.views import flash_validation_errors, view_context

PAGE = 10000
_ = tk._

umkm_access = Blueprint("umkm_access", __name__)


def _scoped_csv(context: dict[str, Any], resource_id: str, spool: delivery.Spool) -> int:
    """Every row the user may read, through the gated, scoped
    datastore_search, written to ``spool`` as CSV; returns the row count."""
    offset = 0
    rows = 0
    index: list[int] = []
    while True:
        page = tk.get_action("datastore_search")(
            dict(context),
            {"resource_id": resource_id, "limit": PAGE, "offset": offset, "sort": "_id", "records_format": "lists"})
        if offset == 0:
            index = [i for i, f in enumerate(page["fields"]) if f["id"] != "_id"]
            spool.write(_csv_line([page["fields"][i]["id"] for i in index]))
        for record in page["records"]:
            spool.write(_csv_line([record[i] for i in index]))
        rows += len(page["records"])
        if len(page["records"]) < PAGE:
            return rows
        offset += PAGE


def _csv_line(values: list[Any]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(values)
    return out.getvalue()


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
        headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
        try:
            if not decision.allowed:
                delivery.refuse(context, pkg, resource_id, "download", decision)
            whole_file = decision.full and res.get("url_type") == "upload"
            if res.get("datastore_active") and not whole_file:
                spool = delivery.Spool()
                with delivery.collect(resource_id):
                    rows = _scoped_csv(context, resource_id, spool)
                delivery.log_delivery(context, pkg, resource_id, "download", decision, rows, spool.digest)
                name = os.path.splitext(filename or os.path.basename(res.get("url") or "") or res["id"])[0]
                suffix = "" if decision.full else "-" + "-".join(
                    (s.regions or ("semua",))[0].replace(".", "") for s in decision.scopes[:3])
                return delivery.streamed(spool.rewound(), "text/csv", {
                    **headers, "Content-Disposition": f'attachment; filename="{name}{suffix}.csv"',
                    "X-Content-SHA256": spool.digest, "Content-Length": str(spool.size)})
            if res.get("url_type") != "upload":
                delivery.refuse(context, pkg, resource_id, "download", gate.Decision(False, "link"))
            if not decision.full:
                delivery.refuse(context, pkg, resource_id, "download", gate.Decision(False, "unscoped"))
        except tk.NotAuthorized as e:
            return tk.abort(403, str(e))
        except scoped_extracts.Unscoped:
            return tk.abort(403, gate.message("unscoped"))
        from ckan.lib import uploader

        path = uploader.get_resource_uploader(res).get_path(res["id"])
        try:
            stream = open(path, "rb")  # noqa: SIM115 - closed by the streamed response
        except OSError:
            return tk.abort(404, tk._("Resource not found"))
        # One open file: what is hashed is what is sent, even if the upload is
        # replaced meanwhile.
        digest = delivery.file_digest(stream)
        delivery.log_delivery(context, pkg, resource_id, "download", decision, None, digest)
        name = filename or os.path.basename(res.get("url") or "") or "data"
        return delivery.streamed(stream, res.get("mimetype") or "application/octet-stream", {
            **headers, "Content-Disposition": f'attachment; filename="{name}"', "X-Content-SHA256": digest,
            "Content-Length": str(os.fstat(stream.fileno()).st_size)})

    download.__name__ = original.__name__
    download.umkm_gate = True  # type: ignore[attr-defined]
    return download


def gated_dump(original: Callable[..., Any]) -> Callable[..., Any]:
    """CKAN's DataStore dump (CSV, TSV, JSON, XML) of a restricted table:
    the pages it reads through the gated ``datastore_search`` make one
    delivery, logged with its row count and the SHA-256 of the file."""
    def dump(resource_id: str) -> Any:
        real_id = gate.datastore_table(resource_id)
        pkg = gate.resource_package(real_id)
        if pkg is None or not gate.is_restricted(pkg):
            return original(resource_id)
        context = view_context()
        decision = gate.decide(caller.context_user(context), pkg)
        if not decision.allowed:
            try:
                delivery.refuse(context, pkg, real_id, "dump", decision)
            except tk.NotAuthorized as e:
                return tk.abort(403, str(e))
        spool = delivery.Spool()
        with delivery.collect(real_id) as collected:
            response = original(resource_id)
            if response.status_code != 200:
                return response
            # The pages are read here, inside the request (CKAN's dump would
            # read them while streaming, outside it).
            spool.write_all(response.response)
        delivery.log_delivery(context, pkg, real_id, "dump", decision, collected.rows, spool.digest,
                              {"format": request.args.get("format") or "csv",
                               "query": (collected.queries or [{}])[0]})
        headers = {k: v for k, v in response.headers.items() if k.lower() in ("content-disposition",)}
        return delivery.streamed(spool.rewound(), response.headers.get("Content-Type") or "text/csv", {
            **headers, "X-Content-SHA256": spool.digest, "Content-Length": str(spool.size),
            "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})

    dump.__name__ = original.__name__
    dump.umkm_gate = True  # type: ignore[attr-defined]
    return dump


def install_gate(app: Flask) -> None:
    from ckan.views import resource

    from ckanext.datastore import blueprint as datastore_views

    replaced = 0
    for endpoint, view in list(app.view_functions.items()):
        if view is resource.download:
            app.view_functions[endpoint] = gated_download(view)
            replaced += 1
        elif view is datastore_views.dump:
            app.view_functions[endpoint] = gated_dump(view)
            replaced += 1
    if not replaced:
        raise RuntimeError("ckanext-umkm: CKAN's download views were not found; restricted data cannot be gated")


# --- pages -------------------------------------------------------------------

def second_factor_way(refusal: str) -> Any:
    """Where a signed-in user refused for want of a second factor goes: the
    code page, or turning two-step login on; otherwise a 403."""
    second = two_factor.requirement(tk.current_user)
    if second == "mfa_verify":
        return tk.redirect_to("umkm_mfa.verify", next=request.full_path)
    if second == "mfa_setup":
        tk.h.flash_notice(gate.message(second))
        return tk.redirect_to("umkm_mfa.manage")
    return tk.abort(403, refusal)


def _walidata_page(refusal: str) -> Any:
    """None when Walidata or a sysadmin (with two-step login) may open the
    page; else the way there (login, the code page, turning two-step login
    on) or a 403."""
    if not tk.current_user.is_authenticated:
        return tk.redirect_to("user.login", came_from=request.path)
    try:
        tk.check_access("umkm_audit_list", view_context(), {})
        return None
    except tk.NotAuthorized:
        if tk.current_user.sysadmin or "walidata" in workflow.user_roles(tk.current_user):
            return second_factor_way(refusal)
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


@umkm_access.route("/akses/pernyataan/<signature_id>/berkas.pdf")
def statement_file(signature_id: str) -> Any:
    """An uploaded signed statement, for Walidata to read before approving
    it (nobody else opens it: it holds the signer's NIP/NIK and signature)."""
    refused = _walidata_page(_("Only Walidata reviews confidentiality statements"))
    if refused is not None:
        return refused
    try:
        tk.check_access("umkm_nda_review", view_context(), {"id": signature_id})
    except tk.NotAuthorized as e:
        return tk.abort(403, str(e))
    from ckanext.umkm.access import confidentiality
    from ckanext.umkm.audit import log as audit_log

    found = confidentiality.signed_file(signature_id)
    if found is None:
        return tk.abort(404, _("Signature not found"))
    row, path = found
    stream = open(path, "rb")  # noqa: SIM115 - closed by the streamed response
    audit_log.record("nda_view", actor=tk.current_user.name, object_type="nda", object_id=row["id"],
                     target_type="user", target_id=row["user_id"],
                     payload={"file_sha256": row["file_sha256"], **caller.request_meta()})
    return delivery.streamed(stream, "application/pdf", {
        "Content-Disposition": f'inline; filename="pernyataan-{row["id"][:8]}.pdf"',
        "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store",
        "Content-Length": str(os.fstat(stream.fileno()).st_size)})


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
    """Walidata's audit log, filtered, with the counted refusals and the
    log-book export."""
    refused = _walidata_page(_("Only Walidata reads the audit log"))
    if refused is not None:
        return refused
    filters = {k: request.args.get(k) for k in ("action", "actor", "package_id", "since", "until")
               if request.args.get(k)}
    export = request.args.get("format")
    try:
        page = max(int(request.args.get("page", 1)), 1)
    except ValueError:
        page = 1
    refusal_filters = {k: v for k, v in filters.items() if k in ("package_id", "since", "until")}
    try:
        listing = tk.get_action("umkm_audit_list")(view_context(), dict(filters, limit=50, offset=(page - 1) * 50))
        refusals = tk.get_action("umkm_audit_refusal_list")(view_context(), dict(refusal_filters, limit=50))
        if export in ("csv", "xlsx"):
            from ckanext.umkm.audit import export as audit_export

            out = io.BytesIO()
            audit_export.write(out, export, since=filters.get("since"), until=filters.get("until"),
                               action=filters.get("action"))
            mimetype = "text/csv; charset=utf-8" if export == "csv" else (
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
            return Response(out.getvalue(), mimetype=mimetype, headers={
                "Content-Disposition": f'attachment; filename="log-book-akses-data.{export}"',
                "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})
    except tk.NotAuthorized as e:
        return tk.abort(403, str(e))
    except tk.ValidationError as e:
        flash_validation_errors(e)
        listing, refusals, page = {"count": 0, "results": []}, {"count": 0, "results": []}, 1
    return tk.render("umkm/access/audit.html", {"listing": listing, "refusals": refusals, "filters": filters,
                                                "page": page})


def get_blueprints() -> list[Blueprint]:
    return [umkm_access]
