"""Read-only API actions over the national reference code lists."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ckan.plugins.toolkit as tk

from ckanext.umkm.metadata import reference_codes

MAX_LIMIT = 100


def _scheme(data_dict: dict[str, Any]) -> str:
    scheme = str(data_dict.get("scheme") or "")
    if scheme not in reference_codes.SCHEMES:
        raise tk.ValidationError({"scheme": [
            tk._("Unknown code list; choose one of: {}").format(", ".join(reference_codes.SCHEMES))]})
    return scheme


def _context_names(scheme: str, codes: list[reference_codes.Code]) -> dict[str, str]:
    """Names of the ancestors of each code (``Kota Bandung, Jawa Barat``), so
    that same-named districts and villages can be told apart."""
    names: dict[str, str] = {}
    known: dict[str, reference_codes.Code] = {c.code: c for c in codes}
    pending = {c.parent for c in codes if c.parent}
    while pending - known.keys():
        found = reference_codes.get_many(scheme, pending - known.keys())
        if not found:
            break
        known.update(found)
        pending = {c.parent for c in found.values() if c.parent}
    for code in codes:
        chain, parent = [], code.parent
        while parent and parent in known:
            chain.append(known[parent].name)
            parent = known[parent].parent
        names[code.code] = ", ".join(chain)
    return names


@tk.side_effect_free
def umkm_reference_autocomplete(context: dict[str, Any], data_dict: dict[str, Any]) -> list[dict[str, Any]]:
    """Codes of a list matching ``q`` by code prefix or by words of the name.

    :param scheme: ``wilayah`` or ``kbli``
    :param q: code prefix or words of the name
    :param level: optional level (e.g. ``provinsi``, ``kelompok``)
    :param parent: optional parent code
    :param limit: at most 100 (default 20)
    """
    tk.check_access("umkm_reference_autocomplete", context, data_dict)
    scheme = _scheme(data_dict)
    level = data_dict.get("level") or None
    if level and level not in reference_codes.LEVELS[scheme]:
        raise tk.ValidationError({"level": [tk._("Unknown level; choose one of: {}").format(
            ", ".join(reference_codes.LEVELS[scheme]))]})
    try:
        limit = int(data_dict.get("limit") or 20)
    except (TypeError, ValueError):
        raise tk.ValidationError({"limit": [tk._("Invalid integer")]}) from None
    if not 1 <= limit <= MAX_LIMIT:
        raise tk.ValidationError({"limit": [tk._("Must be between {} and {}").format(1, MAX_LIMIT)]})
    parent = reference_codes.normalize(scheme, data_dict["parent"]) if data_dict.get("parent") else None
    codes = reference_codes.search(scheme, str(data_dict.get("q") or ""), level, parent, limit)
    within = _context_names(scheme, codes)
    return [dict(c.as_dict(), context=within[c.code]) for c in codes]


@tk.side_effect_free
def umkm_reference_show(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    """One code with its ancestors (root first) and its direct children.

    :param scheme: ``wilayah`` or ``kbli``
    :param code: the code (``32.73`` or ``3273``; ``47111``)
    """
    tk.check_access("umkm_reference_show", context, data_dict)
    scheme = _scheme(data_dict)
    code = reference_codes.normalize(scheme, data_dict.get("code"))
    found = reference_codes.get(scheme, code) if code else None
    if not found:
        raise tk.ObjectNotFound(tk._("Code {} is not in the {} code list").format(code, scheme))
    return dict(found.as_dict(),
                ancestors=[a.as_dict() for a in reference_codes.ancestors(scheme, code)[:-1]],
                children=[c.as_dict() for c in reference_codes.children(scheme, code)])


@tk.side_effect_free
def umkm_reference_edition_list(context: dict[str, Any], data_dict: dict[str, Any]) -> list[dict[str, Any]]:
    """Editions of the code lists loaded so far, newest first, and the codes
    per level of the current one.

    :param scheme: optional, ``wilayah`` or ``kbli``
    """
    tk.check_access("umkm_reference_edition_list", context, data_dict)
    scheme = _scheme(data_dict) if data_dict.get("scheme") else None
    result = reference_codes.editions(scheme)
    current: set[str] = set()
    for edition in result:
        edition["current"] = edition["scheme"] not in current
        if edition["current"]:
            current.add(edition["scheme"])
            edition["levels"] = reference_codes.counts(edition["scheme"])
    return result


def get_actions() -> dict[str, Callable[..., Any]]:
    return {
        "umkm_reference_autocomplete": umkm_reference_autocomplete,
        "umkm_reference_show": umkm_reference_show,
        "umkm_reference_edition_list": umkm_reference_edition_list,
    }
