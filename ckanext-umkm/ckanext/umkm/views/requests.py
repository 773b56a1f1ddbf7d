"""Pages of the request services: the procedures (``/permohonan``), the
three forms, "Permohonan saya", Walidata's queue, a request's page with its
steps, the public register and statistics, the log books and the letters."""

from __future__ import annotations

import io
from typing import Any

import ckan.plugins.toolkit as tk
from flask import Blueprint, Response, request

from ckanext.umkm.actions.requests import GRANULARITIES, USE_CATEGORIES, service_statistics
from ckanext.umkm.requests import documents, engine, logbook, procedures
from ckanext.umkm.views import view_context

_ = tk._

umkm_requests = Blueprint("umkm_requests", __name__)

SLUGS = {"data": "data", "akun": "akun", "berbagi-pakai": "berbagi_pakai"}
FIELDS = ("organization_id", "agency_name", "nip_nik", "phone", "position", "use_category", "purpose",
          "expected_outputs", "transparency", "data_description", "variables", "regions", "period", "granularity",
          "admin_nik", "admin_name", "admin_phone", "admin_position", "admin_email", "username",
          "accept_controller_duties", "background", "variables_needed", "variables_offered")
ACT_FIELDS = ("event", "step", "note", "reviewer", "alternative", "regions", "sectors", "valid_until",
              "download_limit", "username")


def _signed_in() -> bool:
    return bool(getattr(tk.current_user, "is_authenticated", False))


@umkm_requests.route("/permohonan")
def index() -> Any:
    return tk.render("umkm/requests/index.html", {"procedures": [
        (kind, slug, engine.flow(kind)) for slug, kind in SLUGS.items()]})


@umkm_requests.route("/permohonan/<any(data, akun, 'berbagi-pakai'):slug>/baru", methods=["GET", "POST"])
def new(slug: str) -> Any:
    kind = SLUGS[slug]
    if kind != "akun" and not _signed_in():
        tk.h.flash_notice(_("Sign in to submit a request (an account request needs no account)"))
        return tk.redirect_to("user.login", came_from=request.path)
    errors: dict[str, Any] = {}
    values: dict[str, Any] = {"datasets": request.args.getlist("dataset")[:50]}
    if request.method == "POST":
        values = {k: request.form.get(k, "") for k in FIELDS}
        values["datasets"] = [d for d in request.form.getlist("datasets") if d][:50]
        data = {**values, "kind": kind, **{name: request.files.get(name) for name in ("letter", "statement")
                                           if request.files.get(name)}}
        try:
            result = tk.get_action("umkm_request_create")(view_context(), data)
        except tk.NotAuthorized as e:
            return tk.abort(403, str(e))
        except tk.ValidationError as e:
            errors = e.error_dict
        else:
            tk.h.flash_success(_("Request {number} submitted. Its due dates and steps are on its page.").format(
                number=result["number"]))
            if _signed_in():
                return tk.redirect_to("umkm_requests.read", id=result["number"])
            return tk.render("umkm/requests/submitted.html", {"result": result})
    user = tk.current_user if _signed_in() else None
    agencies = []
    if user is not None:
        from ckanext.umkm.access import gate

        agencies = gate.user_agencies(user)  # type: ignore[arg-type]
    if kind == "akun":
        import ckan.model as model

        agencies = (model.Session.query(model.Group).filter(model.Group.is_organization.is_(True),
                                                             model.Group.state == "active")
                    .order_by(model.Group.title).all())
    titles = {}
    for name in values.get("datasets", []):
        try:
            pkg = tk.get_action("package_show")(view_context(), {"id": name})
            titles[pkg["name"]] = pkg.get("title") or pkg["name"]
        except (tk.ObjectNotFound, tk.NotAuthorized, tk.ValidationError):
            continue
    return tk.render("umkm/requests/form.html", {
        "kind": kind, "slug": slug, "procedure": procedures.PROCEDURES[kind], "steps": engine.flow(kind),
        "values": values, "errors": errors, "agencies": agencies, "dataset_titles": titles,
        "use_categories": USE_CATEGORIES, "granularities": GRANULARITIES})


@umkm_requests.route("/permohonan/saya")
def mine() -> Any:
    if not _signed_in():
        return tk.redirect_to("user.login", came_from=request.path)
    found = tk.get_action("umkm_request_list")(view_context(), {"mine": True, "limit": 1000})
    return tk.render("umkm/requests/list.html", {"items": found["results"], "queue": False})


@umkm_requests.route("/permohonan/antrean")
def queue() -> Any:
    if not _signed_in():
        return tk.redirect_to("user.login", came_from=request.path)
    try:
        tk.check_access("umkm_request_logbook", view_context(), {})
    except tk.NotAuthorized as e:
        return tk.abort(403, str(e))
    kind = request.args.get("kind") if request.args.get("kind") in engine.KINDS else None
    reports = request.args.get("laporan") == "terlambat"
    found = tk.get_action("umkm_request_list")(view_context(), {
        "open_only": not reports, "reports_overdue": reports, "kind": kind, "limit": 1000})
    return tk.render("umkm/requests/list.html", {"items": found["results"], "queue": True, "kind": kind,
                                                 "reports": reports})


@umkm_requests.route("/permohonan/register")
def register() -> Any:
    entries = tk.get_action("umkm_request_register")(view_context(), {})
    return tk.render("umkm/requests/register.html", {"entries": entries})


@umkm_requests.route("/permohonan/statistik")
def statistics() -> Any:
    tk.check_access("umkm_request_statistics", view_context(), {})
    return tk.render("umkm/requests/statistics.html", {"stats": service_statistics()})


@umkm_requests.route("/permohonan/log-book/<any(data, akun, 'berbagi-pakai'):slug>.<any(csv, xlsx):fmt>")
def log_book(slug: str, fmt: str) -> Any:
    try:
        tk.check_access("umkm_request_logbook", view_context(), {})
    except tk.NotAuthorized as e:
        return tk.abort(403, str(e))
    out = io.BytesIO()
    logbook.write(out, SLUGS[slug], fmt)
    mimetype = "text/csv" if fmt == "csv" else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(out.getvalue(), mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="log-book-permohonan-{slug}.{fmt}"',
        "Cache-Control": "no-store"})


def _show(id: str) -> dict[str, Any] | Any:  # noqa: A002
    if not _signed_in():
        return tk.redirect_to("user.login", came_from=request.path)
    try:
        return tk.get_action("umkm_request_show")(view_context(), {"id": id})
    except (tk.ObjectNotFound, tk.ValidationError):
        return tk.abort(404, _("Request not found"))
    except tk.NotAuthorized as e:
        return tk.abort(403, str(e))


@umkm_requests.route("/permohonan/<id>")
def read(id: str) -> Any:  # noqa: A002 - CKAN's URL parameter name
    shown = _show(id)
    if not isinstance(shown, dict):
        return shown
    from ckanext.umkm.release import notifications

    reviewers = [u for u in notifications.walidata_members()
                 if u.name not in (tk.current_user.name, tk.config.get("ckan.site_id")) and u.state == "active"]
    return tk.render("umkm/requests/read.html", {
        "req": shown, "reviewers": reviewers, "deciding": engine.DECIDING[shown["kind"]],
        "delivering": engine.DELIVERING[shown["kind"]]})


@umkm_requests.route("/permohonan/<id>/langkah", methods=["POST"])
def act(id: str) -> Any:  # noqa: A002
    if not _signed_in():
        return tk.redirect_to("user.login", came_from=request.path)
    data: dict[str, Any] = {k: request.form.get(k) for k in ACT_FIELDS if request.form.get(k) not in (None, "")}
    datasets = [d for d in request.form.getlist("datasets") if d]
    if datasets:
        data["datasets"] = datasets
    for name in ("agreement", "report", "answer"):
        if request.files.get(name):
            data[name] = request.files[name]
    data["id"] = id
    try:
        result = tk.get_action("umkm_request_act")(view_context(), data)
    except tk.ObjectNotFound:
        return tk.abort(404, _("Request not found"))
    except tk.NotAuthorized as e:
        # Walidata without this login's second factor: the page says what to do.
        tk.h.flash_error(str(e))
        return tk.redirect_to("umkm_requests.read", id=id)
    except tk.ValidationError as e:
        for field, messages in e.error_dict.items():
            for message in messages if isinstance(messages, list) else [messages]:
                tk.h.flash_error(message if field in ("__all__", "event", "step")
                                 else f"{tk.h.umkm_request_field_label(field)}: {message}")
        return tk.redirect_to("umkm_requests.read", id=id)
    tk.h.flash_success(_("Done: {event}").format(event=tk.h.umkm_request_event_label(data.get("event", ""))))
    return tk.redirect_to("umkm_requests.read", id=result["number"])


@umkm_requests.route("/permohonan/<id>/surat-balasan.pdf")
def reply_letter(id: str) -> Any:  # noqa: A002
    shown = _show(id)
    if not isinstance(shown, dict):
        return shown
    if not shown.get("decision"):
        return tk.abort(404, _("The request has no decision yet"))
    import ckan.model as model

    requester = model.User.get(shown["requester_id"]) if shown["requester_id"] else None
    name = requester.display_name if requester else shown["personal"].get("name", "")
    return Response(documents.reply_letter(shown, name), mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="surat-balasan-{shown["number"]}.pdf"',
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


@umkm_requests.route("/permohonan/<id>/berkas/<any(letter, statement, agreement, report, answer):name>.pdf")
def document(id: str, name: str) -> Any:  # noqa: A002
    shown = _show(id)
    if not isinstance(shown, dict):
        return shown
    row = engine.row(shown["id"])
    path = documents.path_of(row["documents"], name)
    if path is None:
        return tk.abort(404, _("No such document"))
    with open(path, "rb") as f:
        data = f.read()
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{shown["number"]}-{name}.pdf"',
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


def get_blueprints() -> list[Blueprint]:
    return [umkm_requests]
