"""API of two-step login: a user turns it on (setup, then confirm with a
first code) and off (with a code); a sysadmin resets it for a user who lost
the phone and the recovery codes. The login's second step is a page
(``views.two_factor``), like CKAN's login."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk

from ckanext.umkm import caller
from ckanext.umkm.access import two_factor
from ckanext.umkm.audit import log as audit_log
from ckanext.umkm.release import notifications as release_notifications
from ckanext.umkm.release.workflow import now

_ = tk._


def _target(context: dict[str, Any], data_dict: dict[str, Any]) -> model.User:
    """The user named by ``id`` (default: the caller)."""
    acting = caller.context_user(context)
    ref = data_dict.get("id") or (acting.id if acting else None)
    user = model.User.get(ref) if ref else None
    if user is None:
        raise tk.ObjectNotFound(_("User not found"))
    return user


def _refused(error: two_factor.CodeRefused) -> tk.ValidationError:
    return tk.ValidationError({"code": [two_factor.refusal_message(error.reason)]})


def _tell(user: model.User, change: str) -> None:
    """E-mail the user about a change of their two-step login, so that a
    change they did not make does not go unnoticed."""
    if not user.email:
        return
    site = tk.config.get("ckan.site_title", "Portal Satu Data UMKM")
    what = {"mfa_enabled": _("Two-step login turned on"), "mfa_disabled": _("Two-step login turned off"),
            "mfa_reset": _("Two-step login reset by a sysadmin")}[change]
    body = "\n\n".join([
        _("{what} for your account {user} on {site}, {time}.").format(
            what=what, user=user.name, site=site, time=tk.h.umkm_format_moment(now().isoformat())),
        _("If this was not you, tell Walidata UMKM or the portal's administrator at once."),
        tk.config.get("ckan.site_url", "").rstrip("/") + tk.h.url_for("umkm_mfa.manage"),
    ])
    release_notifications.deliver([{"name": user.display_name, "email": user.email,
                                    "subject": f"[{site}] {what}", "body": body}], f"{change} {user.name}")


@tk.side_effect_free
def umkm_mfa_show(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    """Whether two-step login is on for a user (``id``, default: yourself)."""
    user = _target(context, data_dict)
    tk.check_access("umkm_mfa_show", context, {"id": user.id})
    return two_factor.status(user.id)


def umkm_mfa_setup(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    """Start setting up two-step login for yourself: returns the secret, its
    ``otpauth://`` URI and a QR code (SVG data URI) for the authenticator app.
    Nothing changes for the login until ``umkm_mfa_confirm``."""
    tk.check_access("umkm_mfa_setup", context, data_dict)
    return two_factor.start(_target(context, {}))


def umkm_mfa_confirm(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    """Turn two-step login on with the first code the app shows (``code``)
    and your ``password``. Returns the ten recovery codes, shown only this once."""
    tk.check_access("umkm_mfa_confirm", context, data_dict)
    user = _target(context, {})
    if not user.validate_password(str(data_dict.get("password") or "")):
        # Whoever holds only a stolen session or token cannot tie the account to their phone.
        raise tk.ValidationError({"password": [_("The password is not correct")]})
    try:
        codes = two_factor.confirm(user, str(data_dict.get("code") or ""))
    except two_factor.CodeRefused as e:
        raise _refused(e) from None
    two_factor.mark_session(user.id)
    audit_log.record("mfa_enabled", actor=user.name, object_type="user", object_id=user.id)
    _tell(user, "mfa_enabled")
    return {**two_factor.status(user.id), "recovery_codes": codes}


def umkm_mfa_disable(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    """Turn two-step login off: for yourself with a current or recovery code
    (``code``); a sysadmin for another user (``id``) without one, when that
    user has lost the phone (logged as a reset)."""
    tk.check_access("umkm_mfa_disable", context, data_dict)
    user = _target(context, data_dict)
    acting = caller.context_user(context)
    reset = acting is None or acting.id != user.id
    if not reset:
        try:
            two_factor.verify(user.id, str(data_dict.get("code") or ""))
        except two_factor.CodeRefused as e:
            raise _refused(e) from None
    if not two_factor.disable(user.id):
        raise tk.ValidationError({"code": [two_factor.refusal_message("not_enrolled")]})
    change = "mfa_reset" if reset else "mfa_disabled"
    audit_log.record(change, actor=acting.name if acting else "", object_type="user", object_id=user.id,
                     payload={"user": user.name})
    _tell(user, change)
    return two_factor.status(user.id)


def get_actions() -> dict[str, Callable[..., Any]]:
    return {
        "umkm_mfa_show": umkm_mfa_show,
        "umkm_mfa_setup": umkm_mfa_setup,
        "umkm_mfa_confirm": umkm_mfa_confirm,
        "umkm_mfa_disable": umkm_mfa_disable,
    }
