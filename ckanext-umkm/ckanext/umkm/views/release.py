"""Pages of the release workflow: the transition forms on a record, the
queues of each role, and the public release calendar with its iCalendar feed.
"""

from __future__ import annotations

import datetime
from typing import Any

import ckan.plugins.toolkit as tk
from flask import Blueprint, Response, request

from ckanext.umkm.actions.release import QUEUES
from ckanext.umkm.release import workflow
from ckanext.umkm.views import flash_validation_errors, view_context

_ = tk._

umkm_release = Blueprint("umkm_release", __name__)


@umkm_release.route("/rilis/<id>/<any(submit, return, pass, approve, release, withdraw, reopen, revise):transition>",
                    methods=["POST"])
def transition(id: str, transition: str) -> Any:  # noqa: A002 - CKAN's URL parameter name
    """A form button on the record page; back to the page with a message."""
    data = {"id": id, **{k: request.form.get(k) for k in ("note", "release_at", "justification", "version")
                         if request.form.get(k) not in (None, "")}}
    try:
        pkg = tk.get_action("package_show")(view_context(), {"id": id})
        result = tk.get_action(f"umkm_release_{transition}")(view_context(), data)
    except tk.ObjectNotFound:
        return tk.abort(404, _("Record not found"))
    except tk.NotAuthorized as e:
        return tk.abort(403, str(e) or _("Not authorized"))
    except tk.ValidationError as e:
        flash_validation_errors(e)
        return tk.redirect_to(f"{pkg['type']}.read", id=pkg["name"])
    tk.h.flash_success(_("Done: {transition}").format(transition=tk.h.umkm_transition_label(transition)))
    # A new version is edited on its own page; a released one replaces the public record.
    target = result.get("name") or pkg["name"]
    return tk.redirect_to(f"{pkg['type']}.read", id=target)


@umkm_release.route("/rilis/antrean")
@umkm_release.route("/rilis/antrean/<any(mine, check, approve, scheduled):queue>")
def queue(queue: str | None = None) -> Any:
    """The user's queues: the tabs are the ones their roles give them."""
    if not tk.g.user:
        return tk.redirect_to("user.login", came_from=request.path)
    available = []
    for name in QUEUES:
        try:
            tk.check_access("umkm_release_queue", view_context(), {"queue": name})
            available.append(name)
        except tk.NotAuthorized:
            continue
    queue = queue or ("check" if "check" in available else "approve" if "approve" in available else "mine")
    if queue not in available:
        return tk.abort(403, _("Not authorized"))
    items = tk.get_action("umkm_release_queue")(view_context(), {"queue": queue})
    return tk.render("umkm/release/queue.html", {"queue": queue, "queues": available, "items": items})


@umkm_release.route("/rilis")
def calendar() -> Any:
    data = tk.get_action("umkm_release_calendar")(view_context(), {})
    return tk.render("umkm/release/calendar.html", {"calendar": data})


@umkm_release.route("/rilis.ics")
def calendar_ics() -> Response:
    """The schedule as an iCalendar feed (one event per scheduled or recent release)."""
    from icalendar import Calendar, Event

    data = tk.get_action("umkm_release_calendar")(view_context(), {})
    site = tk.config.get("ckan.site_url", "").rstrip("/")
    cal = Calendar()
    cal.add("prodid", "-//Portal Satu Data UMKM//Kalender Rilis//ID")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", _("Release calendar") + " - " + tk.config.get("ckan.site_title", ""))
    stamp = workflow.now()
    for kind, items in (("upcoming", data["upcoming"]), ("recent", data["recent"])):
        for item in items:
            if not item["date"]:
                continue
            start = datetime.datetime.fromisoformat(item["date"])
            event = Event()
            event.add("uid", f"rilis-{item['id']}@{site.split('://')[-1] or 'umkm'}")
            event.add("summary", _("Release: {title}").format(title=item["title"]))
            event.add("dtstart", start)
            event.add("dtend", start + datetime.timedelta(minutes=30))
            event.add("dtstamp", stamp)
            event.add("description", f"{item['organization'] or ''}")
            if kind == "recent":
                event.add("url", f"{site}/{item['type']}/{item['name']}")
            cal.add_component(event)
    return Response(cal.to_ical(), mimetype="text/calendar",
                    headers={"Content-Disposition": 'inline; filename="kalender-rilis.ics"'})


def get_blueprints() -> list[Blueprint]:
    return [umkm_release]
