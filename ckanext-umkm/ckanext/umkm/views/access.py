"""The download gate: CKAN's resource download route, for restricted
datasets, delivers through the gate (scoped extract or the whole file),
logs what it delivered with its SHA-256, and refuses everything else.

CKAN registers ``download`` once per dataset type; ``wrap_download_views``
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
from flask import Flask, Response

from ckanext.umkm import restricted_access as gate
from ckanext.umkm import scoped_extracts
from ckanext.umkm.actions import access as access_actions

PAGE = 10000


def _context() -> dict[str, Any]:
    return {"user": tk.current_user.name if tk.current_user.is_authenticated else "",
            "auth_user_obj": tk.current_user if tk.current_user.is_authenticated else None}


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
        context = _context()
        try:
            # Visibility of the dataset itself first (a private one is a 404).
            tk.get_action("package_show")(dict(context), {"id": pkg["id"]})
        except (tk.ObjectNotFound, tk.NotAuthorized):
            return tk.abort(404, tk._("Resource not found"))
        res = next((r for r in pkg["resources"] if r["id"] == resource_id), None)
        if res is None or id not in (pkg["id"], pkg["name"]):
            return tk.abort(404, tk._("Resource not found"))
        decision = gate.decide(gate.context_user(context), pkg)
        try:
            if not decision.allowed:
                access_actions.refuse(context, pkg, resource_id, "download", decision)
            if res.get("datastore_active"):
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


def wrap_download_views(app: Flask) -> None:
    from ckan.views import resource

    for endpoint, view in list(app.view_functions.items()):
        if view is resource.download:
            app.view_functions[endpoint] = gated_download(view)
