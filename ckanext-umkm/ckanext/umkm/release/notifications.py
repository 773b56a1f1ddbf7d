"""E-mail to whoever acts next in the release workflow, and to the producers
when their record is returned, released or withdrawn.

Messages are written when the transition happens (in the actor's request, so
in the portal's language) and sent by the background worker, so that a slow
or absent mail server never holds up or undoes a transition.
"""

from __future__ import annotations

import logging
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk

log = logging.getLogger(__name__)


def _role_members(org_setting: str, default_org: str, users_setting: str) -> list[model.User]:
    users: dict[str, model.User] = {}
    org = model.Group.get(tk.config.get(org_setting, default_org))
    if org is not None:
        for member in model.Session.query(model.Member).filter(
                model.Member.group_id == org.id, model.Member.table_name == "user",
                model.Member.state == "active"):
            user = model.User.get(member.table_id)
            if user is not None:
                users[user.id] = user
    for name in tk.aslist(tk.config.get(users_setting, "")):
        user = model.User.get(name)
        if user is not None:
            users[user.id] = user
    return list(users.values())


def _producers(pkg: model.Package) -> list[model.User]:
    if not pkg.owner_org:
        return []
    members = model.Session.query(model.Member).filter(
        model.Member.group_id == pkg.owner_org, model.Member.table_name == "user",
        model.Member.state == "active", model.Member.capacity.in_(("editor", "admin")))
    return [u for u in (model.User.get(m.table_id) for m in members) if u is not None]


def walidata_members() -> list[model.User]:
    return _role_members("ckanext.umkm.walidata_organization", "walidata-umkm", "ckanext.umkm.walidata_users")


def recipients(pkg: model.Package, transition: str) -> list[model.User]:
    if transition == "submit":
        found = walidata_members()
    elif transition == "pass":
        found = _role_members("ckanext.umkm.forum_organization", "forum-satu-data-umkm", "ckanext.umkm.forum_users")
    elif transition in ("return", "approve", "release", "withdraw"):
        found = _producers(pkg)
    else:
        found = []
    return [u for u in found if u.email and u.state == "active"]


def compose(pkg: model.Package, transition: str, state: dict[str, Any], note: str | None) -> tuple[str, str]:
    """Subject and body of the message about ``transition`` of ``pkg``."""
    _ = tk._
    site = tk.config.get("ckan.site_url", "").rstrip("/")
    url = f"{site}/{pkg.type}/{pkg.name}#rilis"
    subject = _("[{site}] {step}: {title}").format(
        site=tk.config.get("ckan.site_title", "Portal Satu Data UMKM"),
        step=tk.h.umkm_transition_label(transition), title=pkg.title or pkg.name)
    lines = [
        _('"{title}" is now: {state}.').format(title=pkg.title or pkg.name,
                                               state=tk.h.umkm_state_label(state.get("state"))),
    ]
    if state.get("due") and transition in ("submit", "pass", "return"):
        lines.append(_("Due: {date}.").format(date=tk.h.umkm_format_moment(state["due"])))
    if state.get("release_at") and state.get("state") == "approved":
        lines.append(_("Scheduled for {moment}").format(moment=tk.h.umkm_format_moment(state["release_at"])))
    if note:
        lines.append(_("Note: {note}").format(note=note))
    lines.append(url)
    return subject, "\n\n".join(lines)


def send(messages: list[dict[str, str]]) -> None:
    """Background job: one e-mail per recipient; a failure is logged, not raised,
    so that the others still go."""
    from ckan.lib import mailer

    for message in messages:
        try:
            mailer.mail_recipient(message["name"], message["email"], message["subject"], message["body"])
        except mailer.MailerException:
            log.exception("release notification to %s failed", message["email"])


def notify(pkg: model.Package, transition: str, state: dict[str, Any], note: str | None) -> None:
    users = recipients(pkg, transition)
    if not users or not tk.asbool(tk.config.get("ckanext.umkm.release.notify", True)):
        return
    subject, body = compose(pkg, transition, state, note)
    deliver([{"name": u.display_name, "email": u.email, "subject": subject, "body": body} for u in users],
            f"release notification: {transition} {pkg.name}")


def deliver(messages: list[dict[str, str]], title: str) -> None:
    """Hand the messages to the worker (or, where configured, send them now)."""
    if tk.asbool(tk.config.get("ckanext.umkm.release.notify_in_background", True)):
        tk.enqueue_job(send, [messages], title=title)
    else:
        send(messages)

