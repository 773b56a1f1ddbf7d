"""The request engine: one set of states, steps, due dates, history and
serialisation for the three kinds of request (``procedures``).

A request sits at one step of its procedure. Events move it:

=========  ===========  ===================================================
event      who          what it does
=========  ===========  ===================================================
submit     requester    creates the request; its own first step is done
advance    Walidata     the current step is done: the next step starts
ask        Walidata     asks the requester for more: the clock waits
answer     requester    answers: the clock runs again (same step)
forward    Walidata     hands the request to another Walidata reviewer
refuse     Walidata     refuses at a deciding step (the request closes)
approve    Walidata     grants what was asked at the delivering step
report     requester    files the report on the data's use (Pasal 27(3))
revoke     Walidata     revokes a data-sharing token and its grants
=========  ===========  ===================================================

Each event takes the row ``FOR UPDATE`` and checks the step the caller saw,
so two clicks on one request are applied one after the other and the
second is refused with a message instead of being applied twice. Every
event is one row of ``umkm_request_step`` (append-only), with the working
days a finished step took, against its standard (``service_time``).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

import ckan.model as model
import sqlalchemy as sa

from ckanext.umkm.release.workflow import now, timezone, today
from ckanext.umkm.requests import procedures, service_time

metadata = sa.MetaData()

request_table = sa.Table(
    "umkm_request", metadata,
    sa.Column("id", sa.UnicodeText, primary_key=True),
    sa.Column("number", sa.UnicodeText, nullable=False),
    sa.Column("kind", sa.UnicodeText, nullable=False),
    sa.Column("state", sa.UnicodeText, nullable=False),
    sa.Column("step", sa.UnicodeText, nullable=False),
    sa.Column("step_started", sa.DateTime(timezone=True), nullable=False),
    sa.Column("pauses", sa.UnicodeText, nullable=False),
    sa.Column("due", sa.Date),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("requester_id", sa.UnicodeText),
    sa.Column("organization_id", sa.UnicodeText),
    sa.Column("agency_name", sa.UnicodeText, nullable=False),
    sa.Column("reviewer_id", sa.UnicodeText),
    sa.Column("title", sa.UnicodeText, nullable=False),
    sa.Column("details", sa.UnicodeText, nullable=False),
    sa.Column("personal", sa.UnicodeText),
    sa.Column("fingerprint", sa.UnicodeText, nullable=False),
    sa.Column("documents", sa.UnicodeText, nullable=False),
    sa.Column("decision", sa.UnicodeText),
    sa.Column("outcome", sa.UnicodeText, nullable=False),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
    sa.Column("closed", sa.DateTime(timezone=True)),
    sa.Column("report_due", sa.Date),
    sa.Column("report_filed", sa.DateTime(timezone=True)),
    sa.Column("report_reminded", sa.Date),
)

step_table = sa.Table(
    "umkm_request_step", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("request_id", sa.UnicodeText, nullable=False),
    sa.Column("step", sa.UnicodeText, nullable=False),
    sa.Column("event", sa.UnicodeText, nullable=False),
    sa.Column("from_state", sa.UnicodeText),
    sa.Column("to_state", sa.UnicodeText, nullable=False),
    sa.Column("next_step", sa.UnicodeText),
    sa.Column("user_id", sa.UnicodeText),
    sa.Column("user_name", sa.UnicodeText, nullable=False),
    sa.Column("role", sa.UnicodeText, nullable=False),
    sa.Column("note", sa.UnicodeText),
    sa.Column("started", sa.DateTime(timezone=True)),
    sa.Column("working_days", sa.Integer),
    sa.Column("standard_days", sa.Integer),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
)

KINDS = tuple(procedures.PROCEDURES)
# open: Walidata acts; waiting: the requester is asked for more;
# approved: delivered, the last bookkeeping step and the use report remain;
# refused and completed: closed.
STATES = ("open", "waiting", "approved", "refused", "completed")
CLOSED = ("refused", "completed")
EVENTS = ("submit", "advance", "ask", "answer", "forward", "refuse", "approve", "report", "revoke")
PREFIX = {"data": "PD", "akun": "PA", "berbagi_pakai": "BP"}

# Where a kind decides (refuse, ask, forward) and where it delivers (approve).
DECIDING = {"data": ("mencatat", "meninjau", "disposisi", "menyediakan"), "akun": ("menerima", "review"),
            "berbagi_pakai": ("menerima", "verifikasi")}
DELIVERING = {"data": "menyediakan", "akun": "menyampaikan_akun", "berbagi_pakai": "integrasi"}
# Steps that only the requester takes (none is waited for by Walidata).
REQUESTER_STEPS = {"data": ("mengajukan",), "akun": ("permintaan", "revisi"),
                   "berbagi_pakai": ("permohonan", "laporan")}
# Steps skipped by the engine: the account procedure's "revisi" is the
# requester's answer to "ask"; data sharing's "tidak_dapat" is its refusal.
SKIPPED = {"data": (), "akun": ("revisi",), "berbagi_pakai": ("tidak_dapat",)}


class StepError(Exception):
    """An event that does not fit the request's step or state (a message
    for the caller, keyed by the field it concerns)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Actor:
    user_id: str | None
    name: str
    role: str  # "pemohon", "walidata" or "system"


def procedure(kind: str) -> procedures.Procedure:
    return procedures.PROCEDURES[kind]


def flow(kind: str) -> list[procedures.Step]:
    """The steps a request of ``kind`` goes through, in order."""
    return [s for s in procedure(kind).steps if s.key not in SKIPPED[kind]]


def next_step(kind: str, step: str) -> str | None:
    keys = [s.key for s in flow(kind)]
    index = keys.index(step)
    following = keys[index + 1:]
    # The requester's own steps after delivery (the use report) are not
    # Walidata's to wait for: the request is complete once the log book is.
    following = [k for k in following if k not in REQUESTER_STEPS[kind]]
    return following[0] if following else None


def _local_date(moment: datetime.datetime) -> datetime.date:
    return moment.astimezone(timezone()).date()


def _pauses(row: Any) -> list[service_time.Pause]:
    return [(datetime.date.fromisoformat(a), datetime.date.fromisoformat(b) if b else None)
            for a, b in json.loads(row["pauses"] or "[]")]


def step_due(kind: str, step: str, started: datetime.datetime, pauses: list[service_time.Pause]
             ) -> datetime.date | None:
    days = procedure(kind).step(step).deadline_days
    if days is None:
        return None
    return service_time.due(_local_date(started), days, pauses)


def serialise(row: Any) -> dict[str, Any]:
    """The request as the API shows it, without its personal data."""
    out = {k: row[k] for k in ("id", "number", "kind", "state", "step", "version", "requester_id",
                                "organization_id", "agency_name", "reviewer_id", "title")}
    for key in ("step_started", "created", "updated", "closed", "report_filed"):
        out[key] = row[key].isoformat() if row[key] else None
    for key in ("due", "report_due"):
        out[key] = row[key].isoformat() if row[key] else None
    out["details"] = json.loads(row["details"])
    out["documents"] = sorted(json.loads(row["documents"] or "{}"))
    out["decision"] = json.loads(row["decision"]) if row["decision"] else None
    out["outcome"] = json.loads(row["outcome"] or "{}")
    out["overdue"] = bool(row["due"] and row["state"] not in CLOSED and today() > row["due"])
    out["report_overdue"] = bool(row["report_due"] and not row["report_filed"] and today() > row["report_due"])
    out["paused"] = row["state"] == "waiting"
    return out


def fingerprint(kind: str, requester: str, details: dict[str, Any]) -> str:
    """What makes two submissions the same request (a double click, a resend)."""
    blob = json.dumps([kind, requester, details], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def duplicate_of(kind: str, fp: str) -> str | None:
    row = model.Session.execute(sa.select(request_table.c.number).where(
        request_table.c.kind == kind, request_table.c.fingerprint == fp,
        request_table.c.state.notin_(CLOSED))).first()
    return row[0] if row else None


def _number(kind: str) -> str:
    """PD-2026-0001: the kind, the year, and the year's count of the kind.
    Serialised on an advisory lock so that two submissions never share one."""
    year = today().year
    model.Session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"umkm_request_{kind}"})
    prefix = f"{PREFIX[kind]}-{year}-"
    last = model.Session.execute(sa.select(sa.func.max(request_table.c.number)).where(
        request_table.c.number.like(f"{prefix}%"))).scalar()
    count = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{count:04d}"


def _history(request_id: str, step: str, event: str, from_state: str | None, to_state: str,
             next_key: str | None, actor: Actor, note: str | None, started: datetime.datetime | None = None,
             working_days: int | None = None, standard_days: int | None = None) -> None:
    model.Session.execute(step_table.insert().values(
        request_id=request_id, step=step, event=event, from_state=from_state, to_state=to_state,
        next_step=next_key, user_id=actor.user_id, user_name=actor.name, role=actor.role, note=note,
        started=started, working_days=working_days, standard_days=standard_days, created=now()))


def create(*, kind: str, actor: Actor, requester_id: str | None, organization_id: str | None, agency_name: str,
           title: str, details: dict[str, Any], personal: str | None, fp: str,
           documents: dict[str, Any]) -> dict[str, Any]:
    """A submitted request, at the first step Walidata takes (the
    requester's own first step is done by submitting)."""
    moment = now()
    first = flow(kind)[0]
    second = next_step(kind, first.key)
    assert second is not None
    request_id = str(uuid.uuid4())
    model.Session.execute(request_table.insert().values(
        id=request_id, number=_number(kind), kind=kind, state="open", step=second, step_started=moment,
        pauses="[]", due=step_due(kind, second, moment, []), version=1, requester_id=requester_id,
        organization_id=organization_id, agency_name=agency_name, reviewer_id=None, title=title,
        details=json.dumps(details, sort_keys=True), personal=personal, fingerprint=fp,
        documents=json.dumps(documents), decision=None, outcome="{}", created=moment, updated=moment))
    _history(request_id, first.key, "submit", None, "open", second, actor, None, moment, 0, first.deadline_days)
    return get(request_id) or {}


def row(request_id: str, for_update: bool = False) -> Any:
    query = sa.select(request_table).where(request_table.c.id == request_id)
    if for_update:
        query = query.with_for_update()
    return model.Session.execute(query).mappings().first()


def get(request_id: str) -> dict[str, Any] | None:
    found = row(request_id)
    return serialise(found) if found else None


def find(reference: str) -> Any:
    """A request by id or number."""
    query = sa.select(request_table).where(sa.or_(request_table.c.id == reference,
                                                  request_table.c.number == reference.upper()))
    return model.Session.execute(query).mappings().first()


def set_values(request_id: str, **values: Any) -> dict[str, Any]:
    """Record what a submission or an approval adds (files, the token)."""
    model.Session.execute(request_table.update().where(request_table.c.id == request_id).values(**values))
    return get(request_id) or {}


def history(request_id: str) -> list[dict[str, Any]]:
    rows = model.Session.execute(sa.select(step_table).where(step_table.c.request_id == request_id)
                                 .order_by(step_table.c.id)).mappings()
    out = []
    for r in rows:
        item = dict(r)
        for key in ("started", "created"):
            item[key] = item[key].isoformat() if item[key] else None
        out.append(item)
    return out


def check_event(current: Any, event: str, actor: Actor, expected_step: str | None) -> None:
    """Refuse an event that does not fit: wrong state, wrong step, wrong role."""
    kind, step, state = current["kind"], current["step"], current["state"]
    if expected_step and expected_step != step:
        raise StepError("step", "moved")
    if event == "report":
        if actor.role != procedures.REQUESTER:
            raise StepError("event", "role")
        if current["report_filed"] or not current["report_due"]:
            raise StepError("event", "no_report")
        return
    if event == "revoke":
        if actor.role != procedures.WALIDATA:
            raise StepError("event", "role")
        outcome = json.loads(current["outcome"] or "{}")
        if current["kind"] != "berbagi_pakai" or not outcome.get("token_id") or outcome.get("revoked"):
            raise StepError("event", "not_here")
        return
    if state in CLOSED:
        raise StepError("event", "closed")
    if event == "answer":
        if actor.role != procedures.REQUESTER:
            raise StepError("event", "role")
        if state != "waiting":
            raise StepError("event", "not_waiting")
        return
    if actor.role != procedures.WALIDATA:
        raise StepError("event", "role")
    if state == "waiting":
        raise StepError("event", "waiting")
    if event in ("ask", "forward", "refuse") and step not in DECIDING[kind]:
        raise StepError("event", "not_here")
    if event == "approve" and step != DELIVERING[kind]:
        raise StepError("event", "not_here")
    if event == "advance" and step == DELIVERING[kind]:
        raise StepError("event", "decide")


def apply(current: Any, event: str, actor: Actor, *, note: str | None = None, reviewer_id: str | None = None,
          decision: dict[str, Any] | None = None, outcome: dict[str, Any] | None = None,
          documents: dict[str, Any] | None = None, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """Apply an event already checked by ``check_event`` to the locked row."""
    kind, step, state = current["kind"], current["step"], current["state"]
    moment = now()
    pauses = _pauses(current)
    values: dict[str, Any] = {"updated": moment, "version": current["version"] + 1}
    if documents:
        values["documents"] = json.dumps({**json.loads(current["documents"] or "{}"), **documents})
    if details:
        values["details"] = json.dumps({**json.loads(current["details"]), **details}, sort_keys=True)
    standard = procedure(kind).step(step).deadline_days
    started = current["step_started"]

    def finish_step(to_state: str, next_key: str | None) -> None:
        taken = service_time.elapsed(_local_date(started), _local_date(moment), pauses)
        _history(current["id"], step, event, state, to_state, next_key, actor, note, started, taken, standard)
        values.update(state=to_state, pauses="[]")
        if next_key:
            values.update(step=next_key, step_started=moment, due=step_due(kind, next_key, moment, []))
        else:
            values.update(due=None)

    if event == "ask":
        pauses.append((_local_date(moment), None))
        values.update(state="waiting", due=None, pauses=_dump(pauses))
        _history(current["id"], step, event, state, "waiting", step, actor, note)
    elif event == "answer":
        stopped, _ = pauses[-1]
        pauses[-1] = (stopped, _local_date(moment))
        values.update(state="open", pauses=_dump(pauses), due=step_due(kind, step, started, pauses))
        _history(current["id"], step, event, state, "open", step, actor, note)
    elif event == "forward":
        values["reviewer_id"] = reviewer_id
        _history(current["id"], step, event, state, state, step, actor, note)
    elif event == "refuse":
        values.update(decision=json.dumps(decision or {}), closed=moment)
        finish_step("refused", None)
    elif event == "approve":
        values.update(decision=json.dumps(decision or {}), outcome=json.dumps(outcome or {}))
        finish_step("approved", next_step(kind, step))
    elif event == "advance":
        following = next_step(kind, step)
        if following is None:
            values["closed"] = moment
            if kind in ("data", "berbagi_pakai") and current["state"] == "approved":
                values["report_due"] = service_time.due(_local_date(moment), report_days())
        finish_step("completed" if following is None else state, following)
    elif event == "revoke":
        values["outcome"] = json.dumps(outcome or {})
        _history(current["id"], step, event, state, state, None, actor, note)
    elif event == "report":
        values["report_filed"] = moment
        _history(current["id"], "laporan", event, state, state, None, actor, note)
    else:
        raise StepError("event", "unknown")
    model.Session.execute(request_table.update().where(request_table.c.id == current["id"]).values(**values))
    return get(current["id"]) or {}


def _dump(pauses: list[service_time.Pause]) -> str:
    return json.dumps([[a.isoformat(), b.isoformat() if b else None] for a, b in pauses])


def report_days() -> int:
    """Working days after delivery within which the use report is due."""
    import ckan.plugins.toolkit as tk

    return tk.asint(tk.config.get("ckanext.umkm.requests.report_days", 20))


def report_overdue() -> Any:
    """The condition of a request whose use report is overdue."""
    return sa.and_(request_table.c.report_due < today(), request_table.c.report_filed.is_(None))


def listing(*, kind: str | None = None, state: str | None = None, requester_id: str | None = None,
            organization_id: str | None = None, open_only: bool = False, reports_overdue: bool = False,
            limit: int = 100, offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
    query = sa.select(request_table)
    if reports_overdue:
        query = query.where(report_overdue())
    if kind:
        query = query.where(request_table.c.kind == kind)
    if state:
        query = query.where(request_table.c.state == state)
    if open_only:
        query = query.where(request_table.c.state.notin_(CLOSED))
    if requester_id:
        query = query.where(request_table.c.requester_id == requester_id)
    if organization_id:
        query = query.where(request_table.c.organization_id == organization_id)
    total = model.Session.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar() or 0
    rows = model.Session.execute(query.order_by(request_table.c.due.asc().nulls_last(),
                                                request_table.c.created.desc()).limit(limit).offset(offset))
    return total, [serialise(r) for r in rows.mappings()]


def overdue_reports(organization_id: str | None, requester_id: str | None) -> list[str]:
    """Numbers of this agency's (or requester's) requests whose use report is overdue."""
    holders = []
    if organization_id:
        holders.append(request_table.c.organization_id == organization_id)
    if requester_id:
        holders.append(request_table.c.requester_id == requester_id)
    if not holders:
        return []
    rows = model.Session.execute(sa.select(request_table.c.number).where(sa.or_(*holders), report_overdue()))
    return sorted(r[0] for r in rows)


def event_times(event: str) -> dict[str, str]:
    """When each request took ``event`` (its first time), in one query."""
    query = (sa.select(step_table.c.request_id, sa.func.min(step_table.c.created))
             .where(step_table.c.event == event).group_by(step_table.c.request_id))
    return {r[0]: r[1].isoformat() for r in model.Session.execute(query)}


def all_rows(kind: str | None = None) -> list[Any]:
    query = sa.select(request_table).order_by(request_table.c.created)
    if kind:
        query = query.where(request_table.c.kind == kind)
    return list(model.Session.execute(query).mappings())


def finished_steps(kind: str | None = None) -> list[Any]:
    """Every finished step with the working days it took (for statistics)."""
    query = sa.select(step_table, request_table.c.kind).select_from(
        step_table.join(request_table, request_table.c.id == step_table.c.request_id)).where(
        step_table.c.working_days.isnot(None))
    if kind:
        query = query.where(request_table.c.kind == kind)
    return list(model.Session.execute(query).mappings())
