"""Pages and downloads of the metadata exchange: import templates, the import
form of a kegiatan, and the JSON exports (whole kegiatan, one INDAH envelope).
"""

from __future__ import annotations

import json
from typing import Any

import ckan.plugins.toolkit as tk
from flask import Blueprint, Response, request

from ckanext.umkm.metadata import bulk_import, import_templates
from ckanext.umkm.metadata import indah_export as indah
from ckanext.umkm.views import view_context

_ = tk._

umkm_exchange = Blueprint("umkm_exchange", __name__)


def _kegiatan(ref: str) -> dict[str, Any]:
    """The kegiatan of the URL, as the user may see it; 404/403 otherwise."""
    try:
        pkg = tk.get_action("package_show")(view_context(), {"id": ref})
    except tk.ObjectNotFound:
        return tk.abort(404, _("Kegiatan not found"))
    except tk.NotAuthorized:
        return tk.abort(403, _("You may not see this record"))
    if pkg.get("type") != "kegiatan":
        return tk.abort(404, _("Kegiatan not found"))
    return pkg


def _download(content: bytes, content_type: str, filename: str) -> Response:
    return Response(content, mimetype=content_type.split(";")[0], headers={
        "Content-Type": content_type,
        "Content-Disposition": f'attachment; filename="{filename}"',
    })


@umkm_exchange.route("/kegiatan/<id>/template/<any(variabel, indikator):kind>.<any(csv, xlsx):fmt>")
def template(id: str, kind: str, fmt: str) -> Response:  # noqa: A002 - CKAN's URL parameter name
    kegiatan = _kegiatan(id)
    try:
        tk.check_access("umkm_metadata_template", view_context(), {"id": kegiatan["id"], "kind": kind})
    except tk.NotAuthorized:
        return tk.abort(403, _("Not authorized"))
    content = import_templates.build_template(kind, fmt, kegiatan)
    return _download(content, import_templates.CONTENT_TYPES[fmt], import_templates.template_filename(kind, fmt, kegiatan))


@umkm_exchange.route("/kegiatan/<id>/import/<any(variabel, indikator):kind>", methods=["GET", "POST"])
def import_form(id: str, kind: str) -> Any:  # noqa: A002 - CKAN's URL parameter name
    kegiatan = _kegiatan(id)
    context = view_context()
    try:
        tk.check_access("umkm_metadata_import", context, {"id": kegiatan["id"], "kind": kind})
    except tk.NotAuthorized:
        return tk.abort(403, _("You may not import records into this kegiatan"))

    extra: dict[str, Any] = {"pkg": kegiatan, "pkg_dict": kegiatan, "kind": kind,
                             "heading": _("Import variables") if kind == "variabel" else _("Import indicators"), "errors": None,
                             "row_errors": [], "max_rows": bulk_import.MAX_ROWS,
                             "max_mb": bulk_import.MAX_BYTES // (1024 * 1024)}
    if request.method == "GET":
        return tk.render("umkm/exchange/import.html", extra_vars=extra)

    upload = request.files.get("upload")
    if upload is None or not upload.filename:
        extra["errors"] = {"upload": [_("Choose a .csv or .xlsx file to upload")]}
        return tk.render("umkm/exchange/import.html", extra_vars=extra), 400
    try:
        result = tk.get_action("umkm_metadata_import")(
            context, {"id": kegiatan["id"], "kind": kind, "upload": upload})
    except tk.ValidationError as e:
        errors = dict(e.error_dict)
        extra["row_errors"] = errors.pop("rows", [])
        extra["errors"] = errors
        return tk.render("umkm/exchange/import.html", extra_vars=extra), 400
    except tk.NotAuthorized:
        return tk.abort(403, _("You may not import records into this kegiatan"))

    tk.h.flash_success(_("{count} records imported into {kegiatan}").format(
        count=result["count"], kegiatan=kegiatan.get("title") or kegiatan["name"]))
    return tk.redirect_to(tk.h.url_for("kegiatan.read", id=kegiatan["name"]))


def _json_download(data: Any, filename: str) -> Response:
    body = json.dumps(data, ensure_ascii=False, indent=2)
    return _download(body.encode("utf-8"), "application/json; charset=utf-8", filename)


@umkm_exchange.route("/kegiatan/<id>/export.json")
def kegiatan_export(id: str) -> Response:  # noqa: A002 - CKAN's URL parameter name
    kegiatan = _kegiatan(id)
    try:
        bundle = tk.get_action("umkm_kegiatan_export")(view_context(), {"id": kegiatan["id"]})
    except tk.NotAuthorized:
        return tk.abort(403, _("You may not see this record"))
    return _json_download(bundle, indah.envelope_filename(kegiatan, bundle=True))


@umkm_exchange.route("/<any(kegiatan, variabel, indikator):package_type>/<id>/indah.json")
def indah_export(package_type: str, id: str) -> Response:  # noqa: A002 - CKAN's URL parameter name
    try:
        pkg = tk.get_action("package_show")(view_context(), {"id": id})
        if pkg.get("type") != package_type:
            raise tk.ObjectNotFound()
        envelope = tk.get_action("umkm_indah_export")(view_context(), {"id": pkg["id"]})
    except tk.ObjectNotFound:
        return tk.abort(404, _("Record not found"))
    except tk.NotAuthorized:
        return tk.abort(403, _("You may not see this record"))
    return _json_download(envelope, indah.envelope_filename(pkg))


def get_blueprints() -> list[Blueprint]:
    return [umkm_exchange]
