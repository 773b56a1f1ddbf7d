"""Who manages restricted access: Walidata (with two-step login) creates,
renews and revokes grants, reviews uploaded statements and reads the audit
log; signed-in users sign the confidentiality statement. Sysadmins pass
before these run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk

from ckanext.umkm import caller
from ckanext.umkm.access import gate, two_factor
from ckanext.umkm.release import workflow

AuthResult = dict[str, Any]


def _walidata_only(message: Callable[[], str]) -> Callable[..., AuthResult]:
    """Walidata, logged in with two-step login: whoever manages access to
    restricted data holds the same second factor as those who read it."""
    def auth(context: dict[str, Any], data_dict: dict[str, Any]) -> AuthResult:
        user = caller.context_user(context)
        if "walidata" not in workflow.user_roles(user):
            return {"success": False, "msg": message()}
        second = two_factor.requirement(user)
        if second:
            return {"success": False, "msg": gate.message(second)}
        return {"success": True}
    return auth


def signed_in(context: dict[str, Any], data_dict: dict[str, Any]) -> AuthResult:
    user = caller.context_user(context)
    if isinstance(user, model.User) and user.state == model.State.ACTIVE:
        return {"success": True}
    return {"success": False, "msg": tk._("Sign in first")}


@tk.chained_auth_function
def datastore_search_sql(next_auth: Callable[..., AuthResult], context: dict[str, Any],
                         data_dict: dict[str, Any]) -> AuthResult:
    """SQL cannot be limited to a scope: restricted tables are refused to all
    but their custodians."""
    user = caller.context_user(context)
    for name in context.get("table_names", []):
        pkg = gate.resource_package(name)
        if pkg is not None and gate.is_restricted(pkg) and (user is None or not gate.custodian_role(user, pkg)):
            return {"success": False, "msg": tk._("SQL queries cannot read restricted tables; use datastore_search")}
    return next_auth(context, data_dict)


def get_auth_functions() -> dict[str, Callable[..., Any]]:
    return {
        "umkm_access_grant_create": _walidata_only(lambda: tk._("Only Walidata grants access to restricted data")),
        "umkm_access_grant_renew": _walidata_only(lambda: tk._("Only Walidata renews or revokes grants")),
        "umkm_access_grant_revoke": _walidata_only(lambda: tk._("Only Walidata renews or revokes grants")),
        "umkm_access_grant_list": signed_in,
        "umkm_nda_show": signed_in,
        "umkm_nda_sign": signed_in,
        "umkm_nda_review": _walidata_only(lambda: tk._("Only Walidata reviews confidentiality statements")),
        "umkm_nda_template_publish": _walidata_only(
            lambda: tk._("Only Walidata publishes the confidentiality statement")),
        "umkm_audit_list": _walidata_only(lambda: tk._("Only Walidata reads the audit log")),
        "datastore_search_sql": datastore_search_sql,
    }
