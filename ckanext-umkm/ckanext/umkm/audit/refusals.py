"""Refused reads of restricted data, counted rather than chained.

Anyone can ask for a restricted file: crawlers follow the gated download
URLs that DCAT publishes, and an attacker can repeat a refused request as
often as they like. Each refusal appending a link to the hash chain (under
its one lock) would let them grow the append-only log without bound and
slow every delivery down. Refusals are therefore counted per hour and per
(user, dataset, resource, path, reason) in ``umkm_access_refusal``: one row
however many requests, holding the first few client addresses and user
agents seen. The number of rows is bounded by the restricted resources and
the users that exist, not by the number of requests; a request for a
resource that is not restricted, or does not exist, records nothing.

Deliveries, grants, statements and every other change stay in the chain
(``audit.log``).
"""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert

from ckanext.event_audit.repositories.postgres import _fresh_session

# Not CKAN's metadata: CKAN's test resets must not touch this table.
metadata = sa.MetaData()

refusal_table = sa.Table(
    "umkm_access_refusal", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
    sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.UnicodeText, nullable=False),
    sa.Column("package_id", sa.UnicodeText, nullable=False),
    sa.Column("resource_id", sa.UnicodeText, nullable=False),
    sa.Column("path", sa.UnicodeText, nullable=False),
    sa.Column("reason", sa.UnicodeText, nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
    sa.Column("clients", JSONB, nullable=False),
    sa.Column("user_agents", JSONB, nullable=False),
    sa.UniqueConstraint("window_start", "actor", "package_id", "resource_id", "path", "reason",
                        name="umkm_access_refusal_key"),
)

WINDOW = datetime.timedelta(hours=1)
MAX_CLIENTS = 20
MAX_USER_AGENTS = 5


def _window(moment: datetime.datetime) -> datetime.datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _append_capped(column: sa.Column, value: str | None, cap: int) -> Any:
    """The JSON list with ``value`` added, unless present, absent or full."""
    if not value:
        return column
    item = sa.func.jsonb_build_array(value)
    return sa.case(
        (sa.or_(sa.func.jsonb_array_length(column) >= cap, column.op("@>")(item)), column),
        else_=column.op("||")(item))


def record(*, actor: str, package_id: str, resource_id: str, path: str, reason: str,
           ip: str | None = None, user_agent: str | None = None,
           moment: datetime.datetime | None = None) -> None:
    """Count one refused read (committed at once, in its own transaction)."""
    moment = moment or datetime.datetime.now(datetime.UTC)
    values = {"window_start": _window(moment), "actor": actor or "", "package_id": package_id,
              "resource_id": resource_id or "", "path": path, "reason": reason, "count": 1,
              "first_seen": moment, "last_seen": moment,
              "clients": [ip] if ip else [], "user_agents": [user_agent[:200]] if user_agent else []}
    table = refusal_table
    statement = insert(table).values(**values)
    statement = statement.on_conflict_do_update(
        constraint="umkm_access_refusal_key",
        set_={"count": table.c.count + 1, "last_seen": statement.excluded.last_seen,
              "clients": _append_capped(table.c.clients, ip, MAX_CLIENTS),
              "user_agents": _append_capped(table.c.user_agents, (user_agent or "")[:200] or None,
                                            MAX_USER_AGENTS)})
    with _fresh_session() as session:
        session.execute(statement)
        session.commit()


def search(*, package_id: str | None = None, since: datetime.datetime | None = None,
           until: datetime.datetime | None = None, limit: int = 100, offset: int = 0
           ) -> tuple[int, list[dict[str, Any]]]:
    """Counted refusals, newest hour first: (rows, the page asked for)."""
    t = refusal_table
    query = sa.select(t)
    if package_id:
        query = query.where(t.c.package_id == package_id)
    if since:
        query = query.where(t.c.last_seen >= since)
    if until:
        query = query.where(t.c.window_start < until)
    with _fresh_session() as session:
        total = session.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar() or 0
        rows = session.execute(query.order_by(t.c.window_start.desc(), t.c.count.desc(), t.c.id)
                               .limit(limit).offset(offset)).mappings().all()
        out = []
        for row in rows:
            item = dict(row)
            for key in ("window_start", "first_seen", "last_seen"):
                item[key] = item[key].astimezone(datetime.UTC).isoformat()
            out.append(item)
    return total, out
