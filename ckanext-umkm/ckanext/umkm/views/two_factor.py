"""Two-step login pages: the code after the password (or again, for a
session restored from a "remember me" cookie before it reads restricted
data), and the account page that turns it on and off.

``login_step`` runs before CKAN's login view (IAuthenticator.login): for a
user with two-step login on, a correct password logs nobody in yet; it
leads to the code page, and only a correct code calls ``login_user``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.lib import authenticator
from ckan.views.user import next_page_or_default, regenerate_session, rotate_token
from flask import Blueprint, request
from flask_login import login_user

from ckanext.umkm import caller
from ckanext.umkm.access import two_factor
from ckanext.umkm.audit import log as audit_log
from ckanext.umkm.views import flash_validation_errors, view_context

_ = tk._

umkm_mfa = Blueprint("umkm_mfa", __name__)


def login_step() -> Any:
    """The password step for users with two-step login on; None lets
    CKAN's own login go on for everyone else."""
    if request.method != "POST" or tk.current_user.is_authenticated:
        return None
    login = (request.form.get("login") or "").strip()
    user = model.User.by_name(login) or model.User.by_email(login) if login else None
    if user is None or not two_factor.is_enrolled(user.id):
        return None
    found = authenticator.ckan_authenticator({"login": login, "password": request.form.get("password") or ""})
    if found is None or found.id != user.id:
        tk.h.flash_error(_("Login failed. Bad username or password."))
        return tk.render("user/login.html", {})
    regenerate_session()
    two_factor.start_pending(user, request.args.get("next", request.args.get("came_from")),
                             request.form.get("remember"))
    return tk.redirect_to("umkm_mfa.verify")


@umkm_mfa.route("/masuk/verifikasi", methods=["GET", "POST"])
def verify() -> Any:
    """The second step: after the password, or to confirm a restored session."""
    step_up = tk.current_user.is_authenticated
    if step_up:
        user: model.User | None = tk.current_user
        pending = {"next": request.args.get("next")}
        if not two_factor.is_enrolled(user.id):
            return tk.redirect_to("umkm_mfa.manage")
    else:
        user, pending = two_factor.pending_user()
        if user is None:
            tk.h.flash_error(_("Sign in again: the code was not given within 5 minutes"))
            return tk.redirect_to("user.login")
    if request.method == "POST":
        try:
            how = two_factor.verify(user.id, request.form.get("code") or "")
        except two_factor.CodeRefused as e:
            tk.h.flash_error(two_factor.refusal_message(e.reason))
            if e.reason == "locked":
                audit_log.record("mfa_locked", actor=user.name, object_type="user", object_id=user.id,
                                 payload=caller.request_meta())
                two_factor.clear_pending()
                return tk.redirect_to("user.login")
        else:
            if not step_up:
                two_factor.clear_pending()
                remember = pending.get("remember")
                if remember and str(remember).isdigit():
                    login_user(user, remember=True, duration=timedelta(milliseconds=int(remember)))
                else:
                    login_user(user)
                rotate_token()
            two_factor.mark_session(user.id)
            if how == "recovery":
                tk.h.flash_notice(_("You signed in with a recovery code; %(left)s left. Set up a new phone "
                                    "on your two-step login page if you lost yours.")
                                  % {"left": two_factor.status(user.id)["recovery_codes_left"]})
            return next_page_or_default(pending.get("next"))
    return tk.render("umkm/two_factor/verify.html", {"step_up": step_up, "user_name": user.name})


@umkm_mfa.route("/akun/verifikasi-dua-langkah", methods=["GET", "POST"])
def manage() -> Any:
    """Turn two-step login on (QR code, first code, recovery codes) or off."""
    if not tk.current_user.is_authenticated:
        return tk.redirect_to("user.login", came_from=request.path)
    user = tk.current_user
    extra: dict[str, Any] = {}
    other = request.args.get("user")
    if other and other not in (user.name, user.id):
        return _manage_other(other)
    if request.method == "POST":
        op = request.form.get("op")
        try:
            if op == "setup":
                extra["setup"] = tk.get_action("umkm_mfa_setup")(view_context(), {})
            elif op == "confirm":
                result = tk.get_action("umkm_mfa_confirm")(view_context(), {"code": request.form.get("code"),
                                                                        "password": request.form.get("password")})
                tk.h.flash_success(_("Two-step login is on"))
                extra["recovery_codes"] = result["recovery_codes"]
            elif op == "disable":
                tk.get_action("umkm_mfa_disable")(view_context(), {"code": request.form.get("code")})
                tk.h.flash_success(_("Two-step login is off"))
                return tk.redirect_to("umkm_mfa.manage")
        except tk.ValidationError as e:
            flash_validation_errors(e)
    status = tk.get_action("umkm_mfa_show")(view_context(), {})
    if not status["enrolled"] and "setup" not in extra:
        extra["setup"] = two_factor.pending_setup(user)
    return tk.render("umkm/two_factor/manage.html", {"status": status, "user_dict": {"name": user.name}, **extra})


def _manage_other(ref: str) -> Any:
    """A sysadmin's view of another user's two-step login: status, and the
    reset for a user who lost the phone and the recovery codes."""
    try:
        if request.method == "POST":
            tk.get_action("umkm_mfa_disable")(view_context(), {"id": ref})
            tk.h.flash_success(_("Two-step login reset: the user sets it up again"))
            return tk.redirect_to("umkm_mfa.manage", user=ref)
        status = tk.get_action("umkm_mfa_show")(view_context(), {"id": ref})
    except tk.NotAuthorized as e:
        if tk.current_user.sysadmin:
            from ckanext.umkm.views.access import second_factor_way

            return second_factor_way(str(e))
        return tk.abort(403, str(e))
    except tk.ObjectNotFound as e:
        return tk.abort(404, str(e))
    except tk.ValidationError as e:
        flash_validation_errors(e)
        return tk.redirect_to("umkm_mfa.manage", user=ref)
    return tk.render("umkm/two_factor/manage.html", {"status": status, "other": model.User.get(ref)})


def get_blueprints() -> list[Blueprint]:
    return [umkm_mfa]
