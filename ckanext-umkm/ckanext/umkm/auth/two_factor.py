"""Who manages two-step login: each user their own; sysadmins, themselves
logged in with two-step login, read and reset anyone's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ckan.plugins.toolkit as tk

from ckanext.umkm import caller
from ckanext.umkm.auth.access import second_factor, signed_in

AuthResult = dict[str, Any]


@tk.auth_sysadmins_check
def _yourself(context: dict[str, Any], data_dict: dict[str, Any]) -> AuthResult:
    """Each user their own two-step login; a sysadmin another user's, with
    two-step login of their own."""
    result = signed_in(context, data_dict)
    if not result["success"]:
        return result
    user = caller.context_user(context)
    target = data_dict.get("id")
    if target and target not in (user.id, user.name):
        if not user.sysadmin:
            return {"success": False, "msg": tk._("Only sysadmins manage another user's two-step login")}
        return second_factor(user) or {"success": True}
    return {"success": True}


def get_auth_functions() -> dict[str, Callable[..., Any]]:
    return {
        "umkm_mfa_show": _yourself,
        "umkm_mfa_setup": _yourself,
        "umkm_mfa_confirm": _yourself,
        "umkm_mfa_disable": _yourself,
    }
