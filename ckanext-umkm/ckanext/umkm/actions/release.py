"""API of the release workflow: one action per transition, the record's state
and history, and the queues of each role."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import ckan.authz as authz
import ckan.model as model
import ckan.plugins.toolkit as tk
import sqlalchemy as sa
from ckan.lib import search

from ckanext.umkm import caller
from ckanext.umkm.release import checks as release_checks
from ckanext.umkm.release import notifications as release_notifications
from ckanext.umkm.release import versions as release_versions
from ckanext.umkm.release import workflow

QUEUES = ("mine", "check", "approve", "scheduled")


def _package(data_dict: dict[str, Any]) -> model.Package:
    pkg = model.Package.get(str(data_dict.get("id") or ""))
    if pkg is None or pkg.state == model.State.DELETED or not workflow.is_workflow_type(pkg.type):
        raise tk.ObjectNotFound(tk._("Record not found"))
    return pkg


def _release_at(value: Any) -> datetime.datetime | None:
    """An ISO 8601 date-time in the future; without an offset it is read in
    the portal's time zone (WIB by default)."""
    if value in (None, ""):
        return None
    try:
        moment = datetime.datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise tk.ValidationError({"release_at": [tk._(
            "Give the release time as YYYY-MM-DDTHH:MM, e.g. 2027-01-15T09:00")]}) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=workflow.timezone())
    if moment <= workflow.now():
        raise tk.ValidationError({"release_at": [tk._("The release time must be in the future")]})
    return moment


def _record_activity(pkg: model.Package, user: model.User | None, entry: dict[str, Any]) -> None:
    """The transition in the record's activity stream, with the package as it
    now is; the activity carries the package's permission labels, so a draft's
    steps stay hidden from those who may not see the draft."""
    if not tk.config.get("ckan.activity_streams_enabled") or "activity" not in tk.config.get("ckan.plugins", ""):
        return
    from ckanext.activity.model.activity import Activity

    site_user = tk.get_action("get_site_user")({"ignore_auth": True}, {})
    actor = user or model.User.get(site_user["name"])
    activity = Activity.activity_stream_item(pkg, "changed", actor.id if actor else None)
    if activity is not None:
        activity.data["umkm_release"] = entry
        model.Session.add(activity)


def _approval_note(pkg: model.Package, data_dict: dict[str, Any], note: str | None) -> str | None:
    """A failing check blocks approval; a curator may approve anyway by
    recording a justification, except for confidential data."""
    row = workflow.get_state(pkg.id)
    failed = release_checks.failures(workflow.serialise(row)["checks"] if row else None)
    if not failed:
        return note
    blocking = [c for c in failed if c.get("blocking")]
    if blocking:
        raise tk.ValidationError({"checks": [c["message"] for c in blocking]})
    justification = str(data_dict.get("justification") or "").strip()
    if not justification:
        raise tk.ValidationError({"justification": [tk._(
            "Checks failed ({checks}): record a justification to approve anyway").format(
                checks=", ".join(c["key"] for c in failed))]})
    return tk._("Approved despite failing checks ({checks}): {justification}").format(
        checks=", ".join(c["key"] for c in failed), justification=justification) + (
        f"\n{note}" if note else "")


def _publish_version(pkg: model.Package, user: model.User | None, role: str
                     ) -> release_versions.Published | None:
    """A new version being released goes into the public record it was made
    from, in the caller's transaction: the copy itself never becomes public."""
    published = release_versions.publish(pkg, user, role)
    if published is not None:
        pkg.private = True
        _record_activity(published.public, user, {"transition": "release", "role": role, "note": None,
                                                  "state": "released"})
    return published


def _commit_release(published: release_versions.Published | None) -> None:
    """Commit a transition; a released new version's files follow it."""
    try:
        model.repo.commit()
    except Exception:
        release_versions.abandon(published)
        raise
    if published is not None:
        release_versions.finish(published)
        search.rebuild(published.public.id)


def _transition_action(name: str) -> Callable[..., dict[str, Any]]:
    transition = workflow.TRANSITIONS[name]

    def action(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
        tk.check_access(f"umkm_release_{name}", context, data_dict)
        pkg = _package(data_dict)
        user = caller.context_user(context)
        role = workflow.SYSTEM if user is None else workflow.acting_role(user, pkg, transition)
        if role is None:  # ignore_auth callers without a role
            role = workflow.SYSTEM
        release_at = _release_at(data_dict.get("release_at")) if name == "approve" else None
        version = data_dict.get("version")
        expected = tk.asint(version) if version not in (None, "") else None
        note = data_dict.get("note")
        if note is not None and len(str(note)) > 5000:
            raise tk.ValidationError({"note": [tk._("At most {n} characters").format(n=5000)]})
        checks = None
        if name == "submit":
            # Computed once, at submission: the reviewers' checklist.
            checks = release_checks.run(tk.get_action("package_show")({"ignore_auth": True}, {"id": pkg.id}))
        if name == "approve":
            note = _approval_note(pkg, data_dict, note)
        published = None
        try:
            state = workflow.apply(pkg, transition, user=user, role=role, note=note,
                                   release_at=release_at, checks=checks, expected_version=expected)
            _record_activity(pkg, user, {"transition": name, "role": role, "note": note,
                                         "state": state["state"]})
            if name == "approve" and release_at is None:
                # Approved without a release time: published at once.
                state = workflow.apply(pkg, workflow.TRANSITIONS["release"], user=user, role=role,
                                       note=None)
                _record_activity(pkg, user, {"transition": "release", "role": role, "note": None,
                                             "state": state["state"]})
            if state["state"] == "released":
                published = _publish_version(pkg, user, role)
            _commit_release(published)
        except Exception:
            model.Session.rollback()
            release_versions.abandon(published)
            raise
        last = "release" if state["state"] == "released" and name == "approve" else name
        shown = published.public if published is not None else pkg
        if shown is pkg:
            # Who may find it (public, reviewers) changed with the state.
            search.rebuild(pkg.id)
        release_notifications.notify(shown, last, workflow.serialise(dict(state)) or {}, note)
        return tk.get_action("umkm_release_show")(dict(context, ignore_auth=True), {"id": shown.id})

    action.__name__ = f"umkm_release_{name}"
    action.__doc__ = (
        f"Move a record along the '{name}' transition "
        f"({' | '.join(transition.sources)} -> {transition.target}).\n\n"
        ":param id: id or name of the record\n"
        f":param note: {'the reason (required)' if transition.note_required else 'a note (optional)'}\n"
        + (":param release_at: ISO 8601 release time in the future (optional; "
           "without it the record is released at once)\n"
           ":param justification: why to approve although checks failed (curators)\n"
           if name == "approve" else "")
        + ":param version: the state version the caller saw (optional; refused if it changed)\n"
        ":returns: the record's state, as umkm_release_show\n")
    return action


def umkm_release_revise(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    """Start a new version of a released record: a private copy (metadata and
    resources) that goes through the workflow while the released version stays
    public, and replaces it when released.

    :param id: id or name of the released record
    :returns: the new version (``package_show``)
    """
    tk.check_access("umkm_release_revise", context, data_dict)
    pkg = _package(data_dict)
    user = caller.context_user(context)
    if user is None:
        raise tk.NotAuthorized(tk._("Sign in first"))
    role = workflow.acting_role(user, pkg, workflow.REVISE) or "sysadmin"
    try:
        copy = release_versions.start(context, pkg, user, role)
    except Exception:
        model.Session.rollback()
        raise
    search.rebuild(pkg.id)
    return copy


def _visible_name(context: dict[str, Any], package_id: str | None) -> str | None:
    """The name of a linked version, if the caller may see that record."""
    if not package_id:
        return None
    pkg = model.Package.get(package_id)
    if pkg is None or pkg.state != model.State.ACTIVE:
        return None
    if not authz.is_authorized_boolean("package_show", {"model": model, "user": context.get("user"),
                                                        "auth_user_obj": context.get("auth_user_obj")},
                                       {"id": pkg.id}):
        return None
    return pkg.name


@tk.side_effect_free
def umkm_release_show(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    """A record's workflow state, the transitions the caller may make, and its
    history (to those who take part in its workflow).

    :param id: id or name of the record
    """
    tk.check_access("umkm_release_show", context, data_dict)
    pkg = _package(data_dict)
    row = workflow.get_state(pkg.id)
    state = workflow.serialise(row) or {"state": "released" if not pkg.private else "draft", "version": 0}
    user = caller.context_user(context)
    today = workflow.today()
    state["overdue"] = bool(row and row["due"] and row["due"] < today)
    state["id"] = pkg.id
    state["name"] = pkg.name
    allowed = []
    for name, transition in workflow.TRANSITIONS.items():
        if state["state"] in transition.sources and workflow.acting_role(user, pkg, transition):
            allowed.append(name)
    # A released record is changed through a new version (release_versions).
    revision_id = workflow.open_revision(pkg.id) if state["state"] == "released" else None
    if state["state"] == "released" and revision_id is None and workflow.acting_role(user, pkg, workflow.REVISE):
        allowed.append("revise")
    state["allowed_transitions"] = allowed
    state["open_revision"] = _visible_name(context, revision_id)
    state["revision_of"] = _visible_name(context, state.get("revision_of"))
    roles = workflow.roles_of(user, pkg) if user else set()
    if roles or (user is not None and user.sysadmin):
        state["history"] = workflow.history(pkg.id)
    else:
        # The public learns when a record was released or withdrawn, and why.
        state["history"] = [h for h in workflow.history(pkg.id) if h["transition"] in ("release", "withdraw")]
        for item in state["history"]:
            item.pop("user_name", None)
        state.pop("checks", None)
    return state


@tk.side_effect_free
def umkm_release_queue(context: dict[str, Any], data_dict: dict[str, Any]) -> list[dict[str, Any]]:
    """The records waiting for the caller, oldest deadline first.

    :param queue: ``mine`` (records of the caller's organizations not yet
        released), ``check`` (submitted, for Walidata), ``approve`` (checked,
        for the Forum) or ``scheduled`` (approved with a future release time)
    """
    queue = data_dict.get("queue") or "mine"
    if queue not in QUEUES:
        raise tk.ValidationError({"queue": [tk._("Choose one of: {kinds}").format(kinds=", ".join(QUEUES))]})
    tk.check_access("umkm_release_queue", context, data_dict)
    user = caller.context_user(context)
    assert user is not None
    s, p = workflow.state_table, model.package_table
    query = (sa.select(p.c.id, p.c.name, p.c.title, p.c.type, p.c.owner_org, s.c.state, s.c.due,
                       s.c.step_started, s.c.release_at, s.c.version)
             .select_from(s.join(p, p.c.id == s.c.package_id))
             .where(p.c.state == "active"))
    if queue == "mine":
        orgs = tk.get_action("organization_list_for_user")(
            {"user": user.name}, {"id": user.id, "permission": "create_dataset"})
        query = query.where(p.c.owner_org.in_([o["id"] for o in orgs]),
                            s.c.state.in_(("draft", "submitted", "returned", "checked", "approved")))
    elif queue == "check":
        query = query.where(s.c.state == "submitted")
    elif queue == "approve":
        query = query.where(s.c.state == "checked")
    else:
        query = query.where(s.c.state == "approved", s.c.release_at.isnot(None))
    order = s.c.release_at if queue == "scheduled" else s.c.due
    rows = model.Session.execute(query.order_by(order.asc().nulls_last(), s.c.step_started)).mappings().all()
    today = workflow.today()
    out = []
    for row in rows:
        org = model.Group.get(row["owner_org"]) if row["owner_org"] else None
        out.append({
            "id": row["id"], "name": row["name"], "title": row["title"], "type": row["type"],
            "organization": {"name": org.name, "title": org.title} if org else None,
            "state": row["state"], "version": row["version"],
            "due": row["due"].isoformat() if row["due"] else None,
            "overdue": bool(row["due"] and row["due"] < today),
            "step_started": row["step_started"].isoformat(),
            "release_at": row["release_at"].isoformat() if row["release_at"] else None,
        })
    return out


def umkm_release_publish_due(context: dict[str, Any], data_dict: dict[str, Any]) -> list[str]:
    """Release every approved record whose release time has come (the
    scheduler's job; sysadmins only). Returns the names released."""
    tk.check_access("umkm_release_publish_due", context, data_dict)
    released = []
    for package_id in workflow.due_for_release():
        pkg = model.Package.get(package_id)
        published = None
        try:
            state = workflow.apply(pkg, workflow.TRANSITIONS["release"], user=None, role=workflow.SYSTEM,
                                   note=tk._("Published at the scheduled time"))
            _record_activity(pkg, None, {"transition": "release", "role": workflow.SYSTEM, "note": None,
                                         "state": state["state"]})
            published = _publish_version(pkg, None, workflow.SYSTEM)
            _commit_release(published)
        except tk.ValidationError:
            # Released or returned by a curator a moment ago: nothing to do.
            model.Session.rollback()
            release_versions.abandon(published)
            continue
        except Exception:
            model.Session.rollback()
            release_versions.abandon(published)
            raise
        shown = published.public if published is not None else pkg
        if shown is pkg:
            search.rebuild(pkg.id)
        release_notifications.notify(shown, "release", workflow.serialise(dict(state)) or {}, None)
        released.append(shown.name)
    return released


@tk.side_effect_free
def umkm_release_calendar(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    """The public release calendar: scheduled releases (title, producer, time)
    and those of the last ``days`` days (default 90, at most 366)."""
    tk.check_access("umkm_release_calendar", context, data_dict)
    try:
        days = int(data_dict.get("days") or 90)
    except (TypeError, ValueError):
        raise tk.ValidationError({"days": [tk._("Invalid integer")]}) from None
    if not 1 <= days <= 366:
        raise tk.ValidationError({"days": [tk._("Must be between {} and {}").format(1, 366)]})
    return workflow.calendar(days)


def get_actions() -> dict[str, Callable[..., Any]]:
    actions: dict[str, Callable[..., Any]] = {
        f"umkm_release_{name}": _transition_action(name) for name in workflow.TRANSITIONS
    }
    actions["umkm_release_show"] = umkm_release_show
    actions["umkm_release_queue"] = umkm_release_queue
    actions["umkm_release_publish_due"] = umkm_release_publish_due
    actions["umkm_release_revise"] = umkm_release_revise
    actions["umkm_release_calendar"] = umkm_release_calendar
    return actions
