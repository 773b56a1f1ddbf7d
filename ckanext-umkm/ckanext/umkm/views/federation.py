"""The DCAT endpoints of ckanext-dcat (``/catalog.{ttl,rdf,jsonld,…}``,
``/dataset/<id>.<format>``, and their content-negotiated forms), wrapped:
bad parameters answer 400, unknown formats 404, and each answer carries an
ETag and Last-Modified so that harvesters can ask conditionally (304)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import ckan.plugins.toolkit as tk
from flask import Blueprint, Flask, Response, make_response, request

from ckanext.dcat import utils as dcat_utils
from ckanext.umkm.federation import dcat_catalog
from ckanext.umkm.views import view_context

CATALOG_ARGS = ("page", "modified_since", "q", "fq", "profiles")


def _bad_request(error: tk.ValidationError) -> Response:
    messages = "; ".join(f"{k}: {' '.join(v) if isinstance(v, list) else v}" for k, v in error.error_dict.items())
    response = make_response(messages, 400)
    response.headers["Content-Type"] = "text/plain; charset=utf-8"
    return response


def _rdf_response(body: str, fmt: str, modified: Any) -> Response:
    response = make_response(body)
    response.headers["Content-Type"] = dcat_utils.CONTENT_TYPES[fmt]
    # The same URL answers HTML or RDF by the Accept header.
    response.vary.add("Accept")
    # The serializer names blank nodes stably: the same graph is the same text.
    response.set_etag(hashlib.sha256(f"{fmt}\n{body}".encode()).hexdigest())
    if modified is not None:
        response.last_modified = modified
    return response.make_conditional(request)


def catalog_view(original: Callable[..., Any]) -> Callable[..., Any]:
    def view(_format: str | None = None, package_type: str | None = None) -> Any:
        fmt = _format or dcat_utils.check_access_header()
        if not fmt:
            return original(_format=_format, package_type=package_type)
        if fmt not in dcat_utils.CONTENT_TYPES:
            return tk.abort(404, tk._("Unknown catalogue format"))
        data_dict = {key: request.args.get(key) for key in CATALOG_ARGS if key in request.args}
        try:
            data_dict = dcat_catalog.checked({**data_dict, "format": fmt})
            body = tk.get_action("dcat_catalog_show")(view_context(), dict(data_dict))
            modified = dcat_catalog.last_modified(view_context(), data_dict)
        except tk.ValidationError as e:
            return _bad_request(e)
        return _rdf_response(body, fmt, modified)

    return view


def dataset_view(original: Callable[..., Any]) -> Callable[..., Any]:
    def view(_id: str, _format: str | None = None, package_type: str | None = None) -> Any:
        fmt = _format or dcat_utils.check_access_header()
        if not fmt:
            return original(_id=_id, _format=_format, package_type=package_type)
        if fmt not in dcat_utils.CONTENT_TYPES:
            return tk.abort(404, tk._("Unknown format"))
        data_dict = {"id": _id, "format": fmt}
        if "profiles" in request.args:
            data_dict["profiles"] = request.args["profiles"]
        try:
            body = tk.get_action("dcat_dataset_show")(view_context(), data_dict)
            pkg = tk.get_action("package_show")(view_context(), {"id": _id})
        except (tk.ObjectNotFound, tk.NotAuthorized):
            # A record the reader may not see does not exist for them.
            return tk.abort(404, tk._("Dataset not found"))
        except tk.ValidationError as e:
            return _bad_request(e)
        modified = dcat_catalog.parse_stamp(pkg.get("metadata_modified"))
        return _rdf_response(body, fmt, modified)

    return view


def install_catalog_views(app: Flask) -> None:
    """Wrap ckanext-dcat's view functions where they are registered."""
    wrappers = {"dcat.read_catalog": catalog_view, "dcat.read_dataset": dataset_view,
                "dcat.read_dataset_series": dataset_view}
    for endpoint, wrap in wrappers.items():
        original = app.view_functions.get(endpoint)
        if original is not None and not getattr(original, "umkm_wrapped", False):
            wrapped = wrap(original)
            wrapped.umkm_wrapped = True  # type: ignore[attr-defined]
            app.view_functions[endpoint] = wrapped


federation = Blueprint("umkm_federation", __name__)


@federation.route("/ns/metadata-statistik")
def vocabulary() -> Response:  # noqa: D103 - a Flask view
    from ckanext.umkm.federation import dcat_profile

    body = dcat_profile.vocabulary_graph().serialize(format="turtle")
    return _rdf_response(body, "ttl", None)


def get_blueprints() -> list[Blueprint]:
    return [federation]
