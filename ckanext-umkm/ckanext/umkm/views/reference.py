"""Autocomplete endpoints for the metadata forms.

They answer in the ``{"ResultSet": {"Result": [...]}}`` shape of CKAN's own
``/api/2/util/*`` completions, which CKAN's ``autocomplete`` JavaScript module
reads; the data come from the portal's API actions.
"""

from __future__ import annotations

import ckan.plugins.toolkit as tk
from flask import Blueprint, jsonify, request

from ckanext.umkm.views import view_context

reference = Blueprint("umkm_reference", __name__)

LIMIT = 20


@reference.route("/api/umkm/reference/autocomplete")
def autocomplete():  # noqa: ANN201 - a Flask view
    q = request.args.get("q", "").strip()
    scheme = request.args.get("scheme", "")
    levels = [lv for lv in request.args.get("levels", "").split(",") if lv] or [None]
    results: list[dict] = []
    try:
        for level in levels:
            params = {"q": q, "scheme": scheme, "limit": LIMIT}
            if level:
                params["level"] = level
            results += tk.get_action("umkm_reference_autocomplete")(view_context(), params)
    except tk.ValidationError as e:
        return jsonify({"error": e.error_dict}), 400
    results.sort(key=lambda r: (not r["code"].startswith(q), r["code"]))
    return jsonify({"ResultSet": {"Result": [
        {"Name": r["code"], "code": r["code"],
         "label": f'{r["label"]} ({r["context"]})' if r["context"] else r["label"]}
        for r in results[:LIMIT]]}})


@reference.route("/api/umkm/package/autocomplete")
def package_autocomplete():  # noqa: ANN201 - a Flask view
    """Records of one type the user may see, by words of the title or name."""
    q = request.args.get("q", "").strip()
    kind = request.args.get("type", "")
    if kind not in ("kegiatan", "variabel", "indikator", "dataset"):
        return jsonify({"error": {"type": [tk._("Unknown record type")]}}), 400
    # Only plain words reach the query parser: no Solr syntax from users.
    words = [w.lower() for w in q.split() if w.isalnum()]
    query = " AND ".join(f"(title_ngram:{w} OR name:{w}*)" for w in words)
    result = tk.get_action("package_search")(view_context(), {
        "q": query or "*:*",
        "fq": f"+dataset_type:{kind}", "rows": LIMIT, "include_private": True,
        "fl": "id,name,title"})
    return jsonify({"ResultSet": {"Result": [
        {"Name": r["name"], "name": r["name"], "label": f'{r.get("title") or r["name"]} ({r["name"]})'}
        for r in result["results"]]}})


def get_blueprints() -> list[Blueprint]:
    return [reference]
