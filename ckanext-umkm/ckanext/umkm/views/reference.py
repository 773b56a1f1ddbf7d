"""Autocomplete endpoints for the metadata forms, and the code lists as
linked data (``/kode/...``).

The autocomplete endpoints answer in the ``{"ResultSet": {"Result": [...]}}``
shape of CKAN's own ``/api/2/util/*`` completions, which CKAN's
``autocomplete`` JavaScript module reads; the data come from the portal's API
actions. The ``/kode`` pages are public and read-only (the code lists are
public data); the RDF comes from :mod:`ckanext.umkm.federation.code_lists`.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlencode

import ckan.plugins.toolkit as tk
from flask import Blueprint, Response, jsonify, redirect, request, send_file

from ckanext.umkm.federation import code_lists, uris
from ckanext.umkm.metadata import reference_codes
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


# --- code lists as linked data (issue 14) -----------------------------------

HTML = "html"
# Offered media types in order of preference: a browser's */* gets the page.
OFFERS: dict[str, str] = {
    "text/html": HTML, "application/xhtml+xml": HTML,
    "text/turtle": "ttl", "application/ld+json": "jsonld", "application/json": "jsonld",
    "application/rdf+xml": "rdf", "application/n-triples": "nt",
}
FORMAT_NAMES = {HTML: HTML, "ttl": "ttl", "turtle": "ttl", "jsonld": "jsonld",
                "json-ld": "jsonld", "rdf": "rdf", "xml": "rdf", "nt": "nt",
                "ntriples": "nt", "n-triples": "nt"}
MAX_CACHE_AGE = 3600


class _Refused(Exception):
    """A request that is answered with an error status and a plain message."""

    def __init__(self, status: int, message: str, html: bool = False):
        super().__init__(message)
        self.status, self.message, self.html = status, message, html


def _split_suffix(name: str) -> tuple[str, str | None]:
    """``32.73.ttl`` -> (``32.73``, ``ttl``); codes never end in a format name."""
    stem, dot, suffix = name.rpartition(".")
    if dot and (suffix in code_lists.FORMATS or suffix == HTML):
        return stem, suffix
    return name, None


def _negotiate(suffix: str | None) -> str:
    """The format asked for: a path suffix, then ``?format=``, then ``Accept``."""
    if suffix:
        return suffix
    wanted = request.args.get("format")
    if wanted is not None:
        if wanted.lower() not in FORMAT_NAMES:
            raise _Refused(400, tk._("Unknown format; choose one of: {}").format(
                "html, ttl, jsonld, rdf, nt"))
        return FORMAT_NAMES[wanted.lower()]
    if not request.headers.get("Accept", "").strip():
        return HTML
    best = request.accept_mimetypes.best_match(list(OFFERS))
    if best is None:
        raise _Refused(406, tk._("None of the requested media types is available; "
                                 "available: {}").format(", ".join(OFFERS)))
    return OFFERS[best]


def _refusal(error: _Refused) -> Any:
    if error.html:
        return tk.abort(error.status, error.message)
    response = Response(error.message + "\n", status=error.status, mimetype="text/plain")
    response.headers["Vary"] = "Accept"
    return response


def _scheme_or_refuse(scheme: str, fmt: str) -> dict[str, Any]:
    if scheme not in reference_codes.SCHEMES:
        raise _Refused(404, tk._("There is no code list named like this; the code lists are: {}")
                       .format(", ".join(reference_codes.SCHEMES)), html=fmt == HTML)
    loaded = code_lists.edition(scheme)
    if loaded is None:
        raise _Refused(404, tk._("This code list is not loaded yet."), html=fmt == HTML)
    return loaded


def _alternates(base_url: str) -> list[dict[str, str]]:
    return [{"label": f.label, "type": f.media_type, "url": f"{base_url}.{f.suffix}"}
            for f in code_lists.FORMATS.values()]


def _rdf_response(body: bytes, fmt: str, etag_parts: tuple[str, ...], location: str,
                  negotiated: bool) -> Response:
    media_type = code_lists.FORMATS[fmt].media_type
    response = Response(body, mimetype=media_type)
    response.set_etag(hashlib.sha256("\n".join(etag_parts).encode()).hexdigest()[:32])
    response.cache_control.public = True
    response.cache_control.max_age = MAX_CACHE_AGE
    if negotiated:
        response.headers["Vary"] = "Accept"
        response.headers["Content-Location"] = location
    return response.make_conditional(request)


def _html_response(body: str, alternates: list[dict[str, str]], negotiated: bool) -> Response:
    response = Response(body, mimetype="text/html")
    response.headers["Link"] = ", ".join(
        f'<{a["url"]}>; rel="alternate"; type="{a["type"]}"' for a in alternates)
    if negotiated:
        response.headers["Vary"] = "Accept"
    return response


def _scheme_context(scheme: str, loaded: dict[str, Any]) -> dict[str, Any]:
    lang = "en" if tk.h.lang() == "en" else "id"
    info = code_lists.SCHEME_INFO[scheme]
    return {
        "scheme": scheme, "lang": lang, "info": info, "edition": loaded,
        "title": info["title"][lang], "rights": info["rights"][lang],
        "scheme_uri": uris.scheme_uri(scheme),
        "level_label": lambda level: code_lists.level_label(scheme, level, lang),
    }


@reference.route("/kode")
def code_list_index():  # noqa: ANN201 - a Flask view
    lists = []
    for scheme in reference_codes.SCHEMES:
        loaded = code_lists.edition(scheme)
        if loaded:
            context = _scheme_context(scheme, loaded)
            context["counts"] = reference_codes.counts(scheme)
            lists.append(context)
    return tk.render("umkm/code_lists/index.html", {"lists": lists})


@reference.route("/kode/<name>")
def scheme_document(name: str):  # noqa: ANN201 - a Flask view
    """``/kode/wilayah`` (negotiated) or a whole-scheme dump ``/kode/wilayah.ttl``."""
    scheme, suffix = _split_suffix(name)
    try:
        if suffix and suffix != HTML:
            _scheme_or_refuse(scheme, suffix)
            return _dump_response(scheme, suffix)
        fmt = _negotiate(suffix)
        loaded = _scheme_or_refuse(scheme, fmt)
    except _Refused as e:
        return _refusal(e)
    negotiated = suffix is None and "format" not in request.args
    alternates = [{"label": f.label + " " + tk._("(whole list)"), "type": f.media_type,
                   "url": code_lists.dump_url(scheme, f.suffix)}
                  for f in code_lists.FORMATS.values()]
    if fmt != HTML:
        graph = code_lists.scheme_graph(scheme)
        return _rdf_response(
            code_lists.serialize(graph, fmt), fmt,
            (scheme, loaded["checksum"], fmt, uris.site_url(), code_lists.DUMP_VERSION),
            f"{uris.scheme_uri(scheme)}?format={fmt}", negotiated)
    context = _scheme_context(scheme, loaded)
    context.update(counts=reference_codes.counts(scheme), alternates=alternates,
                   top_concepts=reference_codes.children(scheme, None))
    return _html_response(tk.render("umkm/code_lists/scheme.html", context), alternates, negotiated)


def _dump_response(scheme: str, suffix: str) -> Response:
    try:
        found = code_lists.dump(scheme, suffix)
    except RuntimeError:
        raise _Refused(503, tk._("Downloads of whole code lists are not configured "
                                 "(ckan.storage_path).")) from None
    if found is None:
        raise _Refused(404, tk._("This code list is not loaded yet."))
    response = send_file(found.path, mimetype=found.media_type, conditional=True,
                         etag=found.etag, last_modified=found.last_modified, max_age=MAX_CACHE_AGE,
                         download_name=f"{scheme}.{suffix}")
    response.cache_control.public = True
    return response


@reference.route("/kode/<scheme>/<name>")
def concept_document(scheme: str, name: str):  # noqa: ANN201 - a Flask view
    """One code, e.g. ``/kode/wilayah/32.73`` (negotiated) or ``/kode/kbli/47111.ttl``."""
    raw, suffix = _split_suffix(name)
    try:
        fmt = _negotiate(suffix)
        loaded = _scheme_or_refuse(scheme, fmt)
        code = code_lists.canonical_code(scheme, raw)
        found = reference_codes.get(scheme, code) if code else None
        if found is None:
            raise _Refused(404, tk._("The code {code} is not in the code list {scheme}.").format(
                code=raw[:code_lists.MAX_CODE_LENGTH] + ("…" if len(raw) > code_lists.MAX_CODE_LENGTH
                                                           else ""), scheme=scheme),
                html=fmt == HTML)
    except _Refused as e:
        return _refusal(e)
    if code != raw:
        # 3273 -> 32.73, c -> C: one URI per code.
        target = tk.h.url_for("umkm_reference.concept_document", scheme=scheme,
                              name=code + (f".{suffix}" if suffix else ""))
        if request.args:
            target += "?" + urlencode(list(request.args.items(multi=True)))
        return redirect(target, 301)
    negotiated = suffix is None and "format" not in request.args
    concept_uri = uris.concept_uri(scheme, code)
    alternates = _alternates(concept_uri)
    if fmt != HTML:
        graph = code_lists.concept_graph(scheme, found)
        return _rdf_response(
            code_lists.serialize(graph, fmt), fmt,
            (scheme, code, loaded["checksum"], fmt, uris.site_url(), code_lists.DUMP_VERSION),
            f"{concept_uri}.{fmt}", negotiated)
    context = _scheme_context(scheme, loaded)
    context.update(code=found, concept_uri=concept_uri, alternates=alternates,
                   ancestors=reference_codes.ancestors(scheme, code)[:-1],
                   children=reference_codes.children(scheme, code))
    return _html_response(tk.render("umkm/code_lists/concept.html", context), alternates, negotiated)


def get_blueprints() -> list[Blueprint]:
    return [reference]
