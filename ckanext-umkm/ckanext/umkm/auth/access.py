"""Who manages restricted access: Walidata (with two-step login) creates,
renews and revokes grants, reviews uploaded statements and reads the audit
log; signed-in users sign the confidentiality statement. Sysadmins are held
to the same second factor (``auth_sysadmins_check``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk

from ckanext.umkm import caller
from ckanext.umkm.access import delivery, gate, two_factor
from ckanext.umkm.release import workflow

AuthResult = dict[str, Any]


def second_factor(user: model.User) -> AuthResult | None:
    """A refusal when this request's login lacks the second factor."""
    second = two_factor.requirement(user)
    return {"success": False, "msg": gate.message(second)} if second else None


def _walidata_only(message: Callable[[], str]) -> Callable[..., AuthResult]:
    """Walidata (or a sysadmin), logged in with two-step login: whoever
    manages access to restricted data holds the same second factor as those
    who read it. Sysadmins are asked too (CKAN lets them pass every auth
    function unless it says otherwise)."""
    @tk.auth_sysadmins_check
    def auth(context: dict[str, Any], data_dict: dict[str, Any]) -> AuthResult:
        user = caller.context_user(context)
        if user is None or user.state != model.State.ACTIVE or not (
                user.sysadmin or "walidata" in workflow.user_roles(user)):
            return {"success": False, "msg": message()}
        return second_factor(user) or {"success": True}
    return auth


def signed_in(context: dict[str, Any], data_dict: dict[str, Any]) -> AuthResult:
    user = caller.context_user(context)
    if isinstance(user, model.User) and user.state == model.State.ACTIVE:
        return {"success": True}
    return {"success": False, "msg": tk._("Sign in first")}


@tk.chained_auth_function
def datastore_search_sql(next_auth: Callable[..., AuthResult], context: dict[str, Any],
                         data_dict: dict[str, Any]) -> AuthResult:
    """SQL cannot be limited to a scope: restricted tables (named by id or by
    alias) are read only by their custodians, through the gate (two-step
    login included); each such read is logged by the action."""
    user = caller.context_user(context)
    for name in context.get("table_names", []):
        real_id = gate.datastore_table(name)
        pkg = gate.resource_package(real_id)
        if pkg is None or not gate.is_restricted(pkg):
            continue
        decision = gate.decide(user, pkg) if user is not None else None
        if decision is None or not decision.allowed or decision.role not in gate.CUSTODIANS:
            return {"success": False, "msg": tk._("SQL queries cannot read restricted tables; use datastore_search")}
        delivery.note_sql_read(pkg, real_id, decision)
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
        "umkm_audit_refusal_list": _walidata_only(lambda: tk._("Only Walidata reads the audit log")),
        "datastore_search_sql": datastore_search_sql,
    }
