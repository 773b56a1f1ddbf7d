"""The audit log: ckanext-event-audit's events, chained by hashes.

Events are stored by ckanext-event-audit (table ``event_audit_event``); this
module registers its repository ``umkm_chain``, which writes each event
together with a link in ``umkm_audit_chain``: the SHA-256 of the previous
link's hash and the event's canonical JSON. Links are written one at a time
under a PostgreSQL advisory lock, so the chain has one order. Editing or
deleting an event, or a link (the chain table refuses both unless its
trigger is dropped), breaks the chain where it happened; ``verify`` finds
that (``ckan umkm audit verify``).

Restricted-data reads are recorded synchronously before anything is
delivered (``record``): no log entry, no data. Refused reads are counted
apart (``audit.refusals``), so that nobody can grow the chain by asking.
Signed checkpoints (``audit.checkpoints``) anchor the chain outside the
database.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session as SQLAlchemySession

from ckanext.event_audit import types
from ckanext.event_audit.model import EventModel
from ckanext.event_audit.repositories.postgres import PostgresRepository, _fresh_session

CATEGORY = "umkm"
GENESIS = "0" * 64
_LOCK_KEY = 0x756D6B6D  # "umkm": one writer of the chain at a time

# Not CKAN's metadata: CKAN's test resets must not touch these tables.
metadata = sa.MetaData()

chain_table = sa.Table(
    "umkm_audit_chain", metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.UnicodeText, nullable=False, unique=True),
    sa.Column("prev_hash", sa.UnicodeText, nullable=False),
    sa.Column("hash", sa.UnicodeText, nullable=False),
)


def _timestamp(value: Any) -> str:
    moment = datetime.datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(datetime.UTC).isoformat(timespec="microseconds")


def canonical(event: dict[str, Any]) -> bytes:
    """The bytes an event's hash covers: every field, keys sorted."""
    fields = {k: event.get(k) or ("" if k not in ("payload", "result") else {}) for k in (
        "id", "category", "action", "actor", "action_object", "action_object_id", "target_type", "target_id",
        "payload", "result")}
    fields["timestamp"] = _timestamp(event["timestamp"])
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def link_hash(prev_hash: str, event: dict[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + canonical(event)).hexdigest()


class ChainedPostgresRepository(PostgresRepository):
    """ckanext-event-audit's PostgreSQL repository, each event chained."""

    @classmethod
    def get_name(cls) -> str:
        return "umkm_chain"

    def _append(self, session: SQLAlchemySession, event: types.Event) -> None:
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        prev = session.execute(sa.select(chain_table.c.hash).order_by(chain_table.c.seq.desc()).limit(1)).scalar()
        data = dict(event)
        EventModel(**data).save(session=session, defer_commit=True)
        session.execute(chain_table.insert().values(
            event_id=data["id"], prev_hash=prev or GENESIS, hash=link_hash(prev or GENESIS, data)))

    def write_event(self, event: types.Event, session: SQLAlchemySession | None = None,
                    defer_commit: bool = False) -> types.Result:
        if session is not None:
            self._append(session, event)
            if not defer_commit:
                session.commit()
            return types.Result(status=True)
        with _fresh_session() as own:
            self._append(own, event)
            own.commit()
        return types.Result(status=True)

    def write_events(self, events: Iterable[types.Event]) -> types.Result:
        with _fresh_session() as session:
            for event in events:
                self._append(session, event)
            session.commit()
        return types.Result(status=True)


def _without_none(value: Any) -> Any:
    """The payload without empty values (ckanext-event-audit would store
    None as the text "None")."""
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value if v is not None]
    return value


def record(action: str, *, actor: str | None, object_type: str = "", object_id: str = "",
           target_type: str = "", target_id: str = "", payload: dict[str, Any] | None = None) -> str:
    """Write one event (committed in its own transaction, so that a rollback
    of the request does not erase it); returns its id."""
    event = types.Event(category=CATEGORY, action=action, actor=actor or "", action_object=object_type,
                        action_object_id=object_id or "", target_type=target_type, target_id=target_id or "",
                        payload=_without_none(json.loads(json.dumps(payload or {}, default=str))))
    ChainedPostgresRepository().write_event(event)
    return str(event.id)


@dataclass
class Verification:
    ok: bool
    links: int
    problems: list[str]
    checkpoints: int = 0
    last_checkpoint: dict[str, Any] | None = None


def _events(session: SQLAlchemySession) -> Iterator[tuple[Any, dict[str, Any] | None]]:
    e = EventModel.__table__
    query = (sa.select(chain_table, e).select_from(chain_table.outerjoin(e, e.c.id == chain_table.c.event_id))
             .order_by(chain_table.c.seq).execution_options(yield_per=2000))
    for row in session.execute(query).mappings():
        event = None if row[e.c.id] is None else {c.name: row[e.c[c.name]] for c in e.columns}
        yield row, event


def verify() -> Verification:
    """Recompute the chain from the first link and report every break; then
    check it against the signed checkpoints (``audit.checkpoints``), which
    also reveal a chain rewritten from some point on, or cut short."""
    from ckanext.umkm.audit import checkpoints

    problems: list[str] = []
    prev = GENESIS
    links = 0
    last_seq = 0
    wanted = checkpoints.wanted_links() if checkpoints.configured() else set()
    anchored: dict[int, str] = {}
    e = EventModel.__table__
    with _fresh_session() as session:
        for row, event in _events(session):
            links += 1
            seq = row[chain_table.c.seq]
            last_seq = seq
            if seq in wanted:
                anchored[seq] = row[chain_table.c.hash]
            if row[chain_table.c.prev_hash] != prev:
                problems.append(f"link {seq}: does not follow the previous link (a link was removed or replaced)")
            if event is None:
                problems.append(f"link {seq}: event {row[chain_table.c.event_id]} was deleted")
            elif link_hash(row[chain_table.c.prev_hash], event) != row[chain_table.c.hash]:
                problems.append(f"link {seq}: event {event['id']} was modified")
            prev = row[chain_table.c.hash]
        unchained = session.execute(
            sa.select(e.c.id).where(e.c.category == CATEGORY, ~e.c.id.in_(sa.select(chain_table.c.event_id)))
        ).scalars().all()
        problems += [f"event {i} is not in the chain (inserted outside the portal)" for i in unchained]
    report = checkpoints.verify(anchored, last_seq) if checkpoints.configured() else None
    if report is not None:
        problems += report.problems
    return Verification(not problems, links, problems, report.checked if report else 0,
                        report.last if report else None)


def search(*, action: str | None = None, actor: str | None = None, package_id: str | None = None,
           since: datetime.datetime | None = None, until: datetime.datetime | None = None,
           limit: int = 100, offset: int = 0, after_seq: int | None = None,
           ascending: bool = False) -> tuple[int, list[dict[str, Any]]]:
    """The portal's events with their chain position, newest first, and
    their total; or, for reading the whole log, those after ``after_seq``
    (oldest first with ``ascending``; the total is then not counted: -1)."""
    e = EventModel.__table__
    query = sa.select(e, chain_table.c.seq, chain_table.c.hash).select_from(
        e.join(chain_table, chain_table.c.event_id == e.c.id)).where(e.c.category == CATEGORY)
    if action:
        query = query.where(e.c.action == action)
    if actor:
        query = query.where(e.c.actor == actor)
    if package_id:
        query = query.where(e.c.target_id == package_id)
    if since:
        query = query.where(e.c.timestamp >= since)
    if until:
        query = query.where(e.c.timestamp < until)
    with _fresh_session() as session:
        # Reading on from a position needs no total.
        total = -1 if after_seq is not None else (
            session.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar() or 0)
        if after_seq is not None:
            query = query.where(chain_table.c.seq > after_seq)
        order = chain_table.c.seq.asc() if ascending else chain_table.c.seq.desc()
        rows = session.execute(query.order_by(order).limit(limit).offset(offset)).mappings()
        out = []
        for row in rows:
            item = dict(row)
            item["timestamp"] = _timestamp(item["timestamp"])
            out.append(item)
    return total, out
