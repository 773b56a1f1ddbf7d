"""Security headers on every answer (OWASP ASVS 4.0.3 V14.4, V3.4).

The Content-Security-Policy lets a page load scripts, styles, images, fonts
and frames from the portal itself only, and nothing may frame the portal.
Its exceptions, each for a reason:

- ``script-src 'nonce-…'``: the data previews (CKAN's ``dataviewer`` and
  ``text_view`` templates, overridden here only to carry the nonce) hand
  the resource to their script in an inline ``<script>``; a fresh nonce per
  answer admits exactly those.
- no inline event handlers at all: CKAN's resource form and the DataTables
  preview used ``onclick`` attributes; the portal's copies of those two
  templates (``package/snippets/resource_upload_field.html``,
  ``datatables/datatables_view.html``) name the action in
  ``data-umkm-action`` instead, carried out by ``umkm-csp.js``.
- ``style-src 'unsafe-inline'``: CKAN's, scheming's and the portal's
  templates set ``style`` attributes and the JS libraries (Bootstrap,
  DataTables, Select2) write inline styles; styles cannot run code.
- ``img-src data: https:``: the two-step login QR code is an SVG data URI,
  and organizations' and groups' logos may be links to the agency's own
  site (images cannot run code; they only tell that site who looked).
- ``frame-ancestors 'self'`` (not ``'none'``) and ``X-Frame-Options:
  SAMEORIGIN`` on a resource view page only: the resource page shows its
  preview in an iframe of the portal's own.

Also: ``X-Content-Type-Options: nosniff``, ``Referrer-Policy:
strict-origin-when-cross-origin``, a ``Permissions-Policy`` that turns off
camera, microphone, geolocation, payment, USB and the like, and, when the
request came over TLS (directly or through a trusted proxy),
``Strict-Transport-Security``. Cookies are marked ``Secure`` by the
production template (``SESSION_COOKIE_SECURE``, ``REMEMBER_COOKIE_SECURE``)
and are ``HttpOnly`` and ``SameSite=Lax`` everywhere.
"""

from __future__ import annotations

import secrets
from typing import Any

import ckan.plugins.toolkit as tk

PERMISSIONS = ("accelerometer=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), "
               "magnetometer=(), microphone=(), midi=(), payment=(), usb=(), interest-cohort=()")
FRAMED_ENDPOINT_SUFFIXES = ("_resource.view", "resource.view", "_resource.embedded_dataviewer",
                            "resource.embedded_dataviewer")


def nonce() -> str:
    """This answer's script nonce (one per request)."""
    from flask import g

    value = g.get("_umkm_csp_nonce")
    if value is None:
        value = g._umkm_csp_nonce = secrets.token_urlsafe(16)
    return value


def policy(framed: bool) -> str:
    scripts = f"'self' 'nonce-{nonce()}'"
    directives = {
        "default-src": "'self'",
        "script-src": scripts,
        "style-src": "'self' 'unsafe-inline'",
        "img-src": "'self' data: https:",
        "font-src": "'self'",
        "connect-src": "'self'",
        "frame-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'self'" if framed else "'none'",
    }
    return "; ".join(f"{k} {v}" for k, v in directives.items())


def after_request(response: Any) -> Any:
    from flask import request

    framed = (request.endpoint or "").endswith(FRAMED_ENDPOINT_SUFFIXES)
    headers = response.headers
    headers.setdefault("Content-Security-Policy", policy(framed))
    headers.setdefault("X-Frame-Options", "SAMEORIGIN" if framed else "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Permissions-Policy", PERMISSIONS)
    if request.scheme == "https":
        headers.setdefault("Strict-Transport-Security",
                           f"max-age={tk.asint(tk.config.get('ckanext.umkm.hsts_seconds', 31536000))}; "
                           "includeSubDomains")
    return response


def install(app: Any) -> None:
    app.after_request(after_request)
