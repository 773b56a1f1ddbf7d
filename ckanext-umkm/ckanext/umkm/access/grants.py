"""Grants of access to restricted data.

A grant names its holder (an agency, i.e. an organization, or one user), the
dataset (none: standing access to every restricted dataset within the
agency's scope), an optional narrower scope (region and/or sector prefixes),
the purpose and a validity window. Walidata creates, renews and revokes
grants; the request services will create them from approved requests through
the same action. A grant works from ``valid_from`` until ``valid_until`` or
its revocation, checked on every request.
"""

from __future__ import annotations

import datetime
import json
import uuid
from typing import Any

import ckan.model as model
import sqlalchemy as sa

from ckanext.umkm.access import scope as access_scope
from ckanext.umkm.release.workflow import now

# Not CKAN's metadata: CKAN's test resets must not touch these tables.
metadata = sa.MetaData()

grant_table = sa.Table(
    "umkm_access_grant", metadata,
    sa.Column("id", sa.UnicodeText, primary_key=True),
    sa.Column("organization_id", sa.UnicodeText),
    sa.Column("user_id", sa.UnicodeText),
    sa.Column("package_id", sa.UnicodeText),
    sa.Column("regions", sa.UnicodeText),
    sa.Column("sectors", sa.UnicodeText),
    sa.Column("purpose", sa.UnicodeText, nullable=False),
    sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
    sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
    sa.Column("request_id", sa.UnicodeText),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", sa.UnicodeText, nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
    sa.Column("revoked_by", sa.UnicodeText),
    sa.Column("revoke_reason", sa.UnicodeText),
    # Deliveries of whole files or extracts this grant allows (None: no
    # limit), and those made; a grant at its limit is no longer in force.
    sa.Column("download_limit", sa.Integer),
    sa.Column("downloads", sa.Integer, nullable=False, server_default="0"),
)


def serialise(row: Any) -> dict[str, Any]:
    out = dict(row)
    for key in ("valid_from", "valid_until", "created", "revoked_at"):
        out[key] = out[key].isoformat() if out.get(key) else None
    out["regions"] = json.loads(out["regions"]) if out.get("regions") else []
    out["sectors"] = json.loads(out["sectors"]) if out.get("sectors") else []
    moment = now()
    out["active"] = (row["revoked_at"] is None and row["valid_from"] <= moment < row["valid_until"]
                     and (row["download_limit"] is None or row["downloads"] < row["download_limit"]))
    return out


def insert(*, organization_id: str | None, user_id: str | None, package_id: str | None, regions: list[str],
           sectors: list[str], purpose: str, valid_from: datetime.datetime, valid_until: datetime.datetime,
           created_by: str, request_id: str | None = None, download_limit: int | None = None) -> dict[str, Any]:
    grant_id = str(uuid.uuid4())
    model.Session.execute(grant_table.insert().values(
        id=grant_id, organization_id=organization_id, user_id=user_id, package_id=package_id,
        regions=json.dumps(sorted(regions)) if regions else None,
        sectors=json.dumps(sorted(sectors)) if sectors else None, purpose=purpose, valid_from=valid_from,
        valid_until=valid_until, request_id=request_id, created=now(), created_by=created_by,
        download_limit=download_limit, downloads=0))
    return get(grant_id) or {}


def get(grant_id: str, for_update: bool = False) -> dict[str, Any] | None:
    query = sa.select(grant_table).where(grant_table.c.id == grant_id)
    if for_update:
        query = query.with_for_update()
    row = model.Session.execute(query).mappings().first()
    return serialise(row) if row else None


def update(grant_id: str, **values: Any) -> dict[str, Any] | None:
    model.Session.execute(grant_table.update().where(grant_table.c.id == grant_id).values(**values))
    return get(grant_id)


def listing(*, organization_id: str | None = None, user_id: str | None = None, package_id: str | None = None,
            active_only: bool = False) -> list[dict[str, Any]]:
    query = sa.select(grant_table)
    if organization_id:
        query = query.where(grant_table.c.organization_id == organization_id)
    if user_id:
        query = query.where(grant_table.c.user_id == user_id)
    if package_id:
        query = query.where(sa.or_(grant_table.c.package_id == package_id, grant_table.c.package_id.is_(None)))
    if active_only:
        query = query.where(in_force())
    rows = model.Session.execute(query.order_by(grant_table.c.created.desc())).mappings().all()
    return [serialise(r) for r in rows]


def in_force() -> Any:
    """The condition of a grant in force now."""
    moment = now()
    return sa.and_(grant_table.c.revoked_at.is_(None), grant_table.c.valid_from <= moment,
                   grant_table.c.valid_until > moment,
                   sa.or_(grant_table.c.download_limit.is_(None),
                          grant_table.c.downloads < grant_table.c.download_limit))


def count_download(grant_ids: list[str]) -> None:
    """One more delivery of a file or an extract under these grants."""
    if grant_ids:
        model.Session.execute(grant_table.update().where(grant_table.c.id.in_(grant_ids)).values(
            downloads=grant_table.c.downloads + 1))


def active_for(user_id: str, organization_ids: list[str], package_id: str) -> list[dict[str, Any]]:
    """Grants in force now for this user (directly or through an agency) on
    this dataset (or standing grants of the agency)."""
    holder = grant_table.c.user_id == user_id
    if organization_ids:
        holder = sa.or_(holder, grant_table.c.organization_id.in_(organization_ids))
    query = sa.select(grant_table).where(
        holder, sa.or_(grant_table.c.package_id == package_id, grant_table.c.package_id.is_(None)), in_force())
    return [serialise(r) for r in model.Session.execute(query.order_by(grant_table.c.created)).mappings()]


def scope_of(grant: dict[str, Any]) -> access_scope.Scope:
    return access_scope.grant_scope(grant.get("regions"), grant.get("sectors"))
