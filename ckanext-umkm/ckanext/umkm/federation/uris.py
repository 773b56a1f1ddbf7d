"""The URIs this portal mints for its code lists (served by views/federation)."""

from __future__ import annotations

from urllib.parse import quote

import ckan.plugins.toolkit as tk


def site_url() -> str:
    return tk.config["ckan.site_url"].rstrip("/")


def scheme_uri(scheme: str) -> str:
    """The SKOS concept scheme of a code list (``wilayah`` or ``kbli``)."""
    return f"{site_url()}/kode/{scheme}"


def concept_uri(scheme: str, code: str) -> str:
    """One code of a list, e.g. ``/kode/wilayah/32.73`` or ``/kode/kbli/47111``."""
    return f"{scheme_uri(scheme)}/{quote(code, safe='.')}"
