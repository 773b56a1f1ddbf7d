"""Who uses the request services: anyone reads the procedures, the register
and the statistics, and submits an account request; data and data-sharing
requests need an account. Reading and taking steps is for the requester and
Walidata, as ``actions.requests`` decides per request (Walidata's steps need
the second factor, as every management of restricted access)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ckan.plugins.toolkit as tk

from ckanext.umkm.auth.access import _walidata_only, signed_in

AuthResult = dict[str, Any]


@tk.auth_allow_anonymous_access
def public(context: dict[str, Any], data_dict: dict[str, Any]) -> AuthResult:
    return {"success": True}


@tk.auth_allow_anonymous_access
def create(context: dict[str, Any], data_dict: dict[str, Any]) -> AuthResult:
    if data_dict.get("kind") == "akun":
        return {"success": True}
    result = signed_in(context, data_dict)
    if not result["success"]:
        return {"success": False, "msg": tk._("Sign in to submit a request (an account request needs no account)")}
    return result


def get_auth_functions() -> dict[str, Callable[..., Any]]:
    return {
        "umkm_request_create": create,
        "umkm_request_show": signed_in,
        "umkm_request_list": signed_in,
        "umkm_request_act": signed_in,
        "umkm_request_register": public,
        "umkm_request_statistics": public,
        "umkm_request_logbook": _walidata_only(lambda: tk._("Only Walidata reads the log books")),
    }
