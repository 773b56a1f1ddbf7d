"""E-mail at every step of a request: to the requester (for an account
request, the data administrator named in it) and to Walidata when it is
theirs to act, or to the reviewer a request is forwarded to. Written in the
actor's request and sent by the worker, as the release workflow's."""

from __future__ import annotations

from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk

from ckanext.umkm.release import notifications as release_notifications

# Events after which Walidata acts next.
WALIDATA_NEXT = ("submit", "answer", "report")


def requester_address(row: Any) -> tuple[str, str] | None:
    """Name and e-mail address of whoever submitted the request: the
    requester's account, or the data administrator of an account request."""
    from ckanext.umkm.requests import documents

    if row["requester_id"]:
        user = model.User.get(row["requester_id"])
        return (user.display_name, user.email) if user is not None and user.email else None
    personal = documents.unseal(row["personal"])
    return (personal.get("name", ""), personal.get("email", "")) if personal.get("email") else None


def walidata_members() -> list[model.User]:
    return release_notifications.walidata_members()


def compose(request: dict[str, Any], event: str, note: str | None, extra: str | None = None,
            link: bool = True) -> tuple[str, str]:
    _ = tk._
    from ckanext.umkm.helpers import request_event_label, request_step_label

    site = tk.config.get("ckan.site_title", "Portal Satu Data UMKM")
    subject = _("[{site}] {number}: {event}").format(site=site, number=request["number"],
                                                      event=request_event_label(event))
    lines = [request["title"],
             _("Step: {step}").format(step=request_step_label(request["kind"], request["step"]))]
    if request.get("due") and request["state"] not in ("refused", "completed"):
        lines.append(_("Due: {date}.").format(date=request["due"]))
    if note:
        lines.append(_("Note: {note}").format(note=note))
    if extra:
        lines.append(extra)
    if link:
        lines.append(tk.url_for("umkm_requests.read", id=request["number"], _external=True))
    else:
        # The administrator of an account request has no account yet: the
        # request's page is not theirs to open.
        lines.append(_("Request number: {number}").format(number=request["number"]))
    return subject, "\n\n".join(lines)


def notify(request: dict[str, Any], event: str, *, requester_email: tuple[str, str] | None, note: str | None,
           reviewer: model.User | None = None, extra: str | None = None) -> None:
    if not tk.asbool(tk.config.get("ckanext.umkm.release.notify", True)):
        return
    people: dict[str, tuple[str, str]] = {}
    if requester_email and requester_email[1]:
        people[requester_email[1]] = requester_email
    if event in WALIDATA_NEXT:
        for user in walidata_members():
            if user.email and user.state == "active":
                people.setdefault(user.email, (user.display_name, user.email))
    if reviewer is not None and reviewer.email:
        people.setdefault(reviewer.email, (reviewer.display_name, reviewer.email))
    if not people:
        return
    subject, body = compose(request, event, note, extra)
    outside = requester_email[1] if requester_email and not request.get("requester_id") else None
    messages = [{"name": name, "email": email, "subject": subject, "body": body} for name, email in people.values()
                if email != outside]
    if outside:
        messages.append({"name": requester_email[0], "email": outside, "subject": subject,
                         "body": compose(request, event, note, extra, link=False)[1]})
    release_notifications.deliver(messages, f"request notification: {event} {request['number']}")
