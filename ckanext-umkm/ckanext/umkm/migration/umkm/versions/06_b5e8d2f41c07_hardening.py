"""Hardening: refused reads counted outside the hash chain; the resources of
a new version mapped to the released record's, so that ids and URLs stay
stable across versions

Revision ID: b5e8d2f41c07
Revises: a93c6e0f4d18
Create Date: 2026-12-02

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "b5e8d2f41c07"
down_revision = "a93c6e0f4d18"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "umkm_access_refusal",
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
        sa.Column("clients", JSONB, nullable=False, server_default="[]"),
        sa.Column("user_agents", JSONB, nullable=False, server_default="[]"),
        sa.UniqueConstraint("window_start", "actor", "package_id", "resource_id", "path", "reason",
                            name="umkm_access_refusal_key"),
    )
    op.create_index("idx_umkm_access_refusal_package", "umkm_access_refusal", ["package_id", "window_start"])
    op.create_table(
        "umkm_revision_resource",
        # A resource of a new version, and the released record's resource it
        # replaces on release (None: a resource the new version adds).
        sa.Column("resource_id", sa.UnicodeText, primary_key=True),
        sa.Column("revision_id", sa.UnicodeText, nullable=False),
        sa.Column("public_resource_id", sa.UnicodeText),
    )
    op.create_index("idx_umkm_revision_resource_revision", "umkm_revision_resource", ["revision_id"])


def downgrade() -> None:
    op.drop_table("umkm_revision_resource")
    op.drop_table("umkm_access_refusal")
