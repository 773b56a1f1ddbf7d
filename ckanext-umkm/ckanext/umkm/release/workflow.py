"""The release workflow (Permen UMKM 8/2025 Pasal 4(1)f, 22, 24; Lampiran B and D).

Every publishable record (aggregate dataset, kegiatan, variabel, indikator)
moves draft -> submitted -> returned | checked -> approved -> released ->
withdrawn. Only a released record is public: the state decides CKAN's own
``private`` flag, so every path that already respects it (pages, search,
API, DCAT, activity streams) follows the workflow without a second
visibility model.

The current state lives in ``umkm_release_state`` (one row per record, its
``version`` guards against concurrent transitions); every transition is
appended to ``umkm_release_transition``, which the database refuses to
update or delete.
"""

from __future__ import annotations

import datetime
import json
import zoneinfo
from dataclasses import dataclass
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
import sqlalchemy as sa

metadata = sa.MetaData()

state_table = sa.Table(
    "umkm_release_state", metadata,
    sa.Column("package_id", sa.UnicodeText, primary_key=True),
    sa.Column("state", sa.UnicodeText, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("release_at", sa.DateTime(timezone=True)),
    sa.Column("released_at", sa.DateTime(timezone=True)),
    sa.Column("step_started", sa.DateTime(timezone=True), nullable=False),
    sa.Column("due", sa.Date),
    sa.Column("checks", sa.UnicodeText),
    # A new version of a released record is a private record of its own
    # until released; it points at the public one.
    sa.Column("revision_of", sa.UnicodeText),
    sa.Column("release_number", sa.Integer, nullable=False, server_default="0"),
)

transition_table = sa.Table(
    "umkm_release_transition", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("package_id", sa.UnicodeText, nullable=False),
    sa.Column("transition", sa.UnicodeText, nullable=False),
    sa.Column("from_state", sa.UnicodeText),
    sa.Column("to_state", sa.UnicodeText, nullable=False),
    sa.Column("user_id", sa.UnicodeText),
    sa.Column("user_name", sa.UnicodeText, nullable=False),
    sa.Column("role", sa.UnicodeText, nullable=False),
    sa.Column("note", sa.UnicodeText),
    sa.Column("release_at", sa.DateTime(timezone=True)),
    sa.Column("checks", sa.UnicodeText),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
)

WORKFLOW_TYPES = ("dataset", "kegiatan", "variabel", "indikator")
STATES = ("draft", "submitted", "returned", "checked", "approved", "released", "withdrawn")
ROLES = ("producer", "walidata", "forum")
SYSTEM = "system"  # the scheduler publishing an approved record at its time


@dataclass(frozen=True)
class Transition:
    name: str
    sources: tuple[str, ...]
    target: str
    roles: tuple[str, ...]
    note_required: bool = False
    # Working days the next actor has (Lampiran's baku mutu waktu); None: no deadline.
    due_setting: str | None = None


TRANSITIONS: dict[str, Transition] = {t.name: t for t in (
    Transition("submit", ("draft", "returned"), "submitted", ("producer",), due_setting="review"),
    Transition("return", ("submitted", "checked"), "returned", ("walidata", "forum"), note_required=True,
               due_setting="revision"),
    Transition("pass", ("submitted",), "checked", ("walidata",), due_setting="approval"),
    Transition("approve", ("checked",), "approved", ("forum",)),
    Transition("release", ("approved",), "released", ("forum", SYSTEM)),
    Transition("withdraw", ("released",), "withdrawn", ("forum",), note_required=True),
    Transition("reopen", ("withdrawn",), "draft", ("producer",)),
)}

# Not a change of state: a producer starts a new version of a released record
# (a private copy that goes through the workflow; see release_versions).
REVISE = Transition("revise", ("released",), "released", ("producer",))

# Working days the next actor has (config ckanext.umkm.release.days.<step>
# overrides), from the Lampiran's baku mutu waktu:
# review   - B "Pemeriksaan kesesuaian data terhadap standar data dan metadata": 3 hari kerja
# revision - B "Perbaikan oleh produsen data": 3 hari kerja
# approval - D "Persetujuan dan otorisasi rilis data": 10 hari kerja
DEFAULT_DAYS = {"review": 3, "revision": 3, "approval": 10}


def is_workflow_type(package_type: str | None) -> bool:
    return (package_type or "dataset") in WORKFLOW_TYPES


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def timezone() -> zoneinfo.ZoneInfo:
    """The portal's time zone (WIB by default): deadlines count its days."""
    return zoneinfo.ZoneInfo(tk.config.get("ckanext.umkm.timezone", "Asia/Jakarta"))


def today() -> datetime.date:
    return now().astimezone(timezone()).date()


def working_days(step: str) -> int:
    return tk.asint(tk.config.get(f"ckanext.umkm.release.days.{step}", DEFAULT_DAYS[step]))


def due_date(start: datetime.date, days: int) -> datetime.date:
    """``days`` working days after ``start``, skipping weekends and Indonesian
    public holidays."""
    import holidays

    return holidays.country_holidays("ID").get_nth_working_day(start, days)


# --- roles -------------------------------------------------------------------

def _setting_list(name: str) -> list[str]:
    return tk.aslist(tk.config.get(name, ""))


def _member_of(user: model.User, org_name: str) -> bool:
    if not org_name:
        return False
    group = model.Group.get(org_name)
    if group is None or not group.is_organization:
        return False
    return model.Session.query(model.Member).filter(
        model.Member.group_id == group.id, model.Member.table_name == "user",
        model.Member.table_id == user.id, model.Member.state == "active").count() > 0


def user_roles(user: model.User | None) -> set[str]:
    """The portal-wide workflow roles of a user: Walidata reviewer, Forum curator."""
    if user is None:
        return set()
    roles: set[str] = set()
    if _member_of(user, tk.config.get("ckanext.umkm.walidata_organization", "walidata-umkm")) \
            or user.name in _setting_list("ckanext.umkm.walidata_users"):
        roles.add("walidata")
    if _member_of(user, tk.config.get("ckanext.umkm.forum_organization", "forum-satu-data-umkm")) \
            or user.name in _setting_list("ckanext.umkm.forum_users"):
        roles.add("forum")
    return roles


def roles_of(user: model.User | None, pkg: model.Package) -> set[str]:
    """The workflow roles a user holds for a record: producer (editor or admin
    of the owning organization) plus the portal-wide roles. Sysadmins hold no
    role of their own; they act as "sysadmin", which the history records."""
    if user is None:
        return set()
    roles = user_roles(user)
    if pkg.owner_org and _can_edit(user, pkg):
        roles.add("producer")
    return roles


def _can_edit(user: model.User, pkg: model.Package) -> bool:
    """Editor or admin of the owning organization by membership (a sysadmin
    who is not a member acts as sysadmin, not as producer)."""
    from ckan import authz

    return authz.users_role_for_group_or_org(pkg.owner_org, user.name) in ("editor", "admin")


def acting_role(user: model.User | None, pkg: model.Package, transition: Transition) -> str | None:
    """The role in which ``user`` may make ``transition`` on ``pkg``, or None."""
    if user is None:
        return None
    held = roles_of(user, pkg)
    for role in transition.roles:
        if role in held:
            return role
    if user.sysadmin:
        return "sysadmin"
    return None


# --- state -------------------------------------------------------------------

def get_state(package_id: str, for_update: bool = False) -> dict[str, Any] | None:
    query = sa.select(state_table).where(state_table.c.package_id == package_id)
    if for_update:
        query = query.with_for_update()
    row = model.Session.execute(query).mappings().first()
    return dict(row) if row else None


def ensure_state(pkg: model.Package, revision_of: str | None = None) -> dict[str, Any]:
    """The record's state row, created as draft for a new record."""
    row = get_state(pkg.id)
    if row is None:
        model.Session.execute(state_table.insert().values(
            package_id=pkg.id, state="draft", version=1, step_started=now(), revision_of=revision_of))
        row = get_state(pkg.id)
    assert row is not None
    return row


def open_revision(package_id: str) -> str | None:
    """The id of the new version of a released record being prepared, if any."""
    p = model.package_table
    row = model.Session.execute(
        sa.select(state_table.c.package_id)
        .select_from(state_table.join(p, p.c.id == state_table.c.package_id))
        .where(state_table.c.revision_of == package_id, p.c.state == "active",
               state_table.c.state != "released")).first()
    return row[0] if row else None


def revisions(package_id: str) -> list[str]:
    """Ids of every new version ever prepared for a record, oldest first."""
    rows = model.Session.execute(
        sa.select(state_table.c.package_id).where(state_table.c.revision_of == package_id)
        .order_by(state_table.c.step_started)).all()
    return [r[0] for r in rows]


def record_step(pkg: model.Package, name: str, *, user: model.User | None, role: str,
                note: str | None, released: bool = False) -> None:
    """A step of a released record that does not change its state (a new
    version started or published), in its history."""
    stamp = now()
    row = get_state(pkg.id, for_update=True)
    assert row is not None
    values: dict[str, Any] = {"version": row["version"] + 1}
    if released:
        # Also when the public record was withdrawn meanwhile: the new version
        # went through the whole workflow.
        values.update(state="released", released_at=stamp, release_number=row["release_number"] + 1,
                      step_started=stamp, due=None, release_at=None)
    model.Session.execute(state_table.update().where(state_table.c.package_id == pkg.id).values(**values))
    model.Session.execute(transition_table.insert().values(
        package_id=pkg.id, transition=name, from_state=row["state"], to_state=values.get("state", row["state"]),
        user_id=user.id if user else None, user_name=user.name if user else SYSTEM, role=role,
        note=note, created=stamp))


def is_public(state: str | None) -> bool:
    return state == "released"


# Walidata and the Forum read what producers have handed over (not drafts).
REVIEW_STATES = ("submitted", "returned", "checked", "approved", "withdrawn")
REVIEW_LABEL = "umkm-review"


def reviewers_may_read(pkg: model.Package) -> bool:
    if not is_workflow_type(pkg.type) or not pkg.owner_org:
        return False
    row = get_state(pkg.id)
    return row is not None and row["state"] in REVIEW_STATES


def history(package_id: str) -> list[dict[str, Any]]:
    rows = model.Session.execute(
        sa.select(transition_table).where(transition_table.c.package_id == package_id)
        .order_by(transition_table.c.id)).mappings().all()
    out = []
    for row in rows:
        item = dict(row)
        item["checks"] = json.loads(item["checks"]) if item["checks"] else None
        for key in ("created", "release_at"):
            item[key] = item[key].isoformat() if item[key] else None
        item.pop("user_id")
        out.append(item)
    return out


def apply(pkg: model.Package, transition: Transition, *, user: model.User | None, role: str,
          note: str | None = None, release_at: datetime.datetime | None = None,
          checks: Any = None, expected_version: int | None = None) -> dict[str, Any]:
    """Move ``pkg`` along ``transition`` inside the caller's transaction.

    The state row is locked first, so two concurrent transitions of the same
    record cannot both succeed: the second sees the new state and is refused.
    """
    _ = tk._
    ensure_state(pkg)
    current = get_state(pkg.id, for_update=True)
    assert current is not None
    if expected_version is not None and current["version"] != expected_version:
        raise tk.ValidationError({"version": [_(
            "The record changed in the meantime (now {state}); reload and try again").format(
                state=current["state"])]})
    if current["state"] not in transition.sources:
        raise tk.ValidationError({"state": [_(
            'Cannot {transition} a record in state "{state}"; allowed from: {sources}').format(
                transition=transition.name, state=current["state"],
                sources=", ".join(transition.sources))]})
    if transition.note_required and not (note or "").strip():
        raise tk.ValidationError({"note": [_("Give the reason")]})
    stamp = now()
    due = None
    if transition.due_setting:
        due = due_date(stamp.astimezone(timezone()).date(), working_days(transition.due_setting))
    values: dict[str, Any] = {
        "state": transition.target, "version": current["version"] + 1,
        "step_started": stamp, "due": due,
    }
    if transition.name == "approve":
        values["release_at"] = release_at
    if transition.name == "release":
        values["released_at"] = stamp
        values["release_number"] = current["release_number"] + 1
    if transition.name in ("reopen", "withdraw"):
        values["release_at"] = None
    if checks is not None:
        values["checks"] = json.dumps(checks)
    model.Session.execute(state_table.update().where(
        state_table.c.package_id == pkg.id).values(**values))
    model.Session.execute(transition_table.insert().values(
        package_id=pkg.id, transition=transition.name, from_state=current["state"],
        to_state=transition.target, user_id=user.id if user else None,
        user_name=user.name if user else SYSTEM, role=role, note=(note or "").strip() or None,
        release_at=release_at if transition.name == "approve" else None,
        checks=json.dumps(checks) if checks is not None else None, created=stamp))
    pkg.private = not is_public(transition.target)
    return get_state(pkg.id) or {}


def serialise(row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    out = dict(row)
    for key in ("release_at", "released_at", "step_started", "due"):
        out[key] = out[key].isoformat() if out.get(key) else None
    out["checks"] = json.loads(out["checks"]) if out.get("checks") else None
    out.pop("package_id", None)
    return out


# --- CKAN hooks: the state decides CKAN's private flag ------------------------

def on_create(pkg: model.Package) -> None:
    """A new record starts as a private draft, whatever the form or API said."""
    if not is_workflow_type(pkg.type) or not pkg.owner_org:
        return
    ensure_state(pkg)
    pkg.private = True


def on_edit(pkg: model.Package) -> None:
    """An edit cannot change visibility: only a release makes a record public."""
    if not is_workflow_type(pkg.type) or not pkg.owner_org:
        return
    row = get_state(pkg.id)
    if row is None:
        ensure_state(pkg)
        row = get_state(pkg.id)
    assert row is not None
    pkg.private = not is_public(row["state"])


# --- INDAH (BPS) review status of a record -----------------------------------

INDAH_STATUS = {"draft": "DRAFT", "submitted": "SUBMITTED", "returned": "CORRECTION_REQUIRED",
                "checked": "UNDER_REVIEW", "approved": "APPROVED", "released": "APPROVED",
                "withdrawn": "REJECTED"}


def indah_review(package_id: str) -> dict[str, Any]:
    """``status``, ``rejection_note`` and ``reviews`` of the INDAH envelope
    from the record's workflow (a resubmission after a return is REVISED)."""
    row = get_state(package_id)
    steps = history(package_id)
    state = row["state"] if row else "draft"
    status = INDAH_STATUS[state]
    if state == "submitted" and any(s["transition"] == "return" for s in steps):
        status = "REVISED"
    returns = [s for s in steps if s["transition"] in ("return", "withdraw")]
    reviews = [{"reviewer": s["user_name"], "role": s["role"], "result": s["transition"],
                "note": s["note"], "date": s["created"]}
               for s in steps if s["transition"] in ("return", "pass", "approve", "withdraw")]
    return {"status": status,
            "rejection_note": returns[-1]["note"] if returns and state in ("returned", "withdrawn") else None,
            "reviews": reviews}


# --- scheduled releases and the calendar --------------------------------------

def due_for_release(moment: datetime.datetime | None = None) -> list[str]:
    """Approved records whose release time has come, oldest first."""
    p = model.package_table
    rows = model.Session.execute(
        sa.select(state_table.c.package_id)
        .select_from(state_table.join(p, p.c.id == state_table.c.package_id))
        .where(state_table.c.state == "approved", state_table.c.release_at.isnot(None),
               state_table.c.release_at <= (moment or now()), p.c.state == "active")
        .order_by(state_table.c.release_at)).all()
    return [row[0] for row in rows]


def calendar(recent_days: int, moment: datetime.datetime | None = None) -> dict[str, list[dict[str, Any]]]:
    """Scheduled releases (approved, with a time) and recent ones: title,
    producer and date, which the public may know before the data is out."""
    moment = moment or now()
    p, g = model.package_table, model.group_table
    columns = (p.c.id, p.c.name, p.c.title, p.c.type, g.c.title.label("organization"),
               g.c.name.label("organization_name"), state_table.c.release_at, state_table.c.released_at)
    base = (sa.select(*columns)
            .select_from(state_table.join(p, p.c.id == state_table.c.package_id)
                         .outerjoin(g, g.c.id == p.c.owner_org))
            .where(p.c.state == "active"))
    upcoming = model.Session.execute(
        base.where(state_table.c.state == "approved", state_table.c.release_at.isnot(None))
        .order_by(state_table.c.release_at)).mappings().all()
    recent = model.Session.execute(
        base.where(state_table.c.state == "released",
                   state_table.c.released_at >= moment - datetime.timedelta(days=recent_days))
        .order_by(state_table.c.released_at.desc())).mappings().all()

    def item(row: Any, when: str) -> dict[str, Any]:
        return {"id": row["id"], "name": row["name"], "title": row["title"], "type": row["type"],
                "organization": row["organization"], "organization_name": row["organization_name"],
                "date": row[when].isoformat() if row[when] else None}

    return {"upcoming": [item(r, "release_at") for r in upcoming],
            "recent": [item(r, "released_at") for r in recent]}
