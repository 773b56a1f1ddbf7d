"""Who may move a record through the release workflow and see its queues.

One auth function per transition: the user must hold one of the roles the
transition names (producer of the owning organization, Walidata reviewer,
Forum Satu Data curator). Sysadmins pass CKAN's check before these run;
the workflow records that they acted as "sysadmin".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ckan.authz as authz
import ckan.model as model
import ckan.plugins.toolkit as tk

from ckanext.umkm import caller
from ckanext.umkm.release import workflow

AuthResult = dict[str, Any]


def _package(data_dict: dict[str, Any]) -> model.Package | None:
    pkg = model.Package.get(str(data_dict.get("id") or ""))
    if pkg is None or pkg.state == model.State.DELETED or not workflow.is_workflow_type(pkg.type):
        return None
    return pkg


def _transition_auth(name: str) -> Callable[..., AuthResult]:
    transition = workflow.TRANSITIONS[name]

    def auth(context: dict[str, Any], data_dict: dict[str, Any]) -> AuthResult:
        pkg = _package(data_dict)
        if pkg is None:
            return {"success": False, "msg": tk._("Record not found")}
        if workflow.acting_role(caller.context_user(context), pkg, transition) is None:
            roles = ", ".join(r for r in transition.roles if r != workflow.SYSTEM)
            return {"success": False, "msg": tk._("Only {roles} may {transition} this record").format(
                roles=roles, transition=name)}
        return {"success": True}

    auth.__name__ = f"umkm_release_{name}"
    return auth


def umkm_release_revise(context: dict[str, Any], data_dict: dict[str, Any]) -> AuthResult:
    """Producers of the owning organization start a new version of a released record."""
    pkg = _package(data_dict)
    if pkg is None:
        return {"success": False, "msg": tk._("Record not found")}
    if workflow.acting_role(caller.context_user(context), pkg, workflow.REVISE) is None:
        return {"success": False, "msg": tk._("Only producers of the owning organization start a new version")}
    return {"success": True}


@tk.auth_allow_anonymous_access
def umkm_release_show(context: dict[str, Any], data_dict: dict[str, Any]) -> AuthResult:
    """Whoever may see the record may see its state."""
    pkg = _package(data_dict)
    if pkg is None:
        return {"success": False, "msg": tk._("Record not found")}
    return {"success": authz.is_authorized_boolean("package_show", dict(context), {"id": pkg.id})}


def umkm_release_queue(context: dict[str, Any], data_dict: dict[str, Any]) -> AuthResult:
    """``mine`` is any signed-in user's; the review queues are the roles'."""
    user = caller.context_user(context)
    if user is None:
        return {"success": False, "msg": tk._("Sign in to see the queues")}
    queue = data_dict.get("queue") or "mine"
    needed = {"check": "walidata", "approve": "forum", "scheduled": None}.get(queue)
    roles = workflow.user_roles(user)
    if queue == "scheduled" and not roles:
        return {"success": False, "msg": tk._("Only Walidata and Forum Satu Data see this queue")}
    if needed and needed not in roles:
        return {"success": False, "msg": tk._("Only {role} see this queue").format(role=needed)}
    return {"success": True}


@tk.chained_auth_function
@tk.auth_allow_anonymous_access
def package_show(next_auth: Callable[..., AuthResult], context: dict[str, Any],
                 data_dict: dict[str, Any]) -> AuthResult:
    """Walidata reviewers and Forum curators read records handed over to them
    (and so their resources, DataStore tables and downloads)."""
    result = next_auth(context, data_dict)
    if result.get("success"):
        return result
    user = caller.context_user(context)
    pkg = context.get("package") or _package(data_dict)
    if user is not None and pkg is not None and workflow.user_roles(user) \
            and workflow.reviewers_may_read(pkg):
        return {"success": True}
    return result


def umkm_release_publish_due(context: dict[str, Any], data_dict: dict[str, Any]) -> AuthResult:
    """The scheduler's job: sysadmins only (they pass before this runs)."""
    return {"success": False, "msg": tk._("Only sysadmins run the release scheduler")}


@tk.auth_allow_anonymous_access
def umkm_release_calendar(context: dict[str, Any], data_dict: dict[str, Any]) -> AuthResult:
    """The release calendar is public (Pasal 24: releases follow a published schedule)."""
    return {"success": True}


def _locked_message(state: str) -> str | None:
    if state == "submitted":
        return tk._("The record is under review: ask Walidata to return it before editing")
    if state == "checked":
        return tk._("The record awaits the Forum's approval: ask for it to be returned before editing")
    if state == "approved":
        return tk._("The record is approved for release: ask the Forum to return it before editing")
    if state == "released":
        return tk._("The record is released: start a new version to change it")
    return None


@tk.chained_auth_function
@tk.auth_allow_anonymous_access
def package_update(next_auth: Callable[..., AuthResult], context: dict[str, Any],
                   data_dict: dict[str, Any]) -> AuthResult:
    """What reviewers look at, or what the public sees, does not change under
    them: a record is edited only as a draft or after a return."""
    pkg = _package(data_dict) or context.get("package")
    if pkg is not None and workflow.is_workflow_type(pkg.type):
        row = workflow.get_state(pkg.id)
        message = _locked_message(row["state"]) if row else None
        if message:
            return {"success": False, "msg": message}
    return next_auth(context, data_dict)


@tk.auth_sysadmins_check
def bulk_update_visibility(context: dict[str, Any], data_dict: dict[str, Any]) -> AuthResult:
    """CKAN's bulk "make public/private" would bypass the workflow (and its
    history), so it is refused to everyone: records are released or withdrawn."""
    return {"success": False, "msg": tk._(
        "Visibility follows the release workflow: release or withdraw the records instead")}


def get_auth_functions() -> dict[str, Callable[..., Any]]:
    functions: dict[str, Callable[..., Any]] = {
        f"umkm_release_{name}": _transition_auth(name) for name in workflow.TRANSITIONS
    }
    functions["umkm_release_revise"] = umkm_release_revise
    functions["umkm_release_show"] = umkm_release_show
    functions["umkm_release_queue"] = umkm_release_queue
    functions["umkm_release_publish_due"] = umkm_release_publish_due
    functions["umkm_release_calendar"] = umkm_release_calendar
    functions["package_show"] = package_show
    functions["package_update"] = package_update
    functions["bulk_update_public"] = bulk_update_visibility
    functions["bulk_update_private"] = bulk_update_visibility
    return functions
