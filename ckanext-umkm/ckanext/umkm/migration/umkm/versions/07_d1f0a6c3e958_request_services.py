"""Request services: requests (data, account, data sharing), their steps,
and grants' download limits

Revision ID: d1f0a6c3e958
Revises: b5e8d2f41c07
Create Date: 2026-12-02

"""
import sqlalchemy as sa
from alembic import op

revision = "d1f0a6c3e958"
down_revision = "b5e8d2f41c07"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "umkm_request",
        sa.Column("id", sa.UnicodeText, primary_key=True),
        sa.Column("number", sa.UnicodeText, nullable=False, unique=True),
        sa.Column("kind", sa.UnicodeText, nullable=False),
        sa.Column("state", sa.UnicodeText, nullable=False),
        sa.Column("step", sa.UnicodeText, nullable=False),
        sa.Column("step_started", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pauses", sa.UnicodeText, nullable=False, server_default="[]"),
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
        sa.Column("documents", sa.UnicodeText, nullable=False, server_default="{}"),
        sa.Column("decision", sa.UnicodeText),
        sa.Column("outcome", sa.UnicodeText, nullable=False, server_default="{}"),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed", sa.DateTime(timezone=True)),
        sa.Column("report_due", sa.Date),
        sa.Column("report_filed", sa.DateTime(timezone=True)),
        sa.Column("report_reminded", sa.Date),
    )
    op.create_index("idx_umkm_request_requester", "umkm_request", ["requester_id"])
    op.create_index("idx_umkm_request_state", "umkm_request", ["kind", "state"])
    op.create_table(
        "umkm_request_step",
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
    op.create_index("idx_umkm_request_step_request", "umkm_request_step", ["request_id", "id"])
    # History is appended, never rewritten (as the release workflow's transitions).
    op.execute("""
        CREATE OR REPLACE FUNCTION umkm_request_step_append_only() RETURNS trigger AS $$
        BEGIN RAISE EXCEPTION 'umkm_request_step is append-only'; END; $$ LANGUAGE plpgsql;
        CREATE TRIGGER umkm_request_step_no_change BEFORE UPDATE OR DELETE ON umkm_request_step
        FOR EACH ROW EXECUTE FUNCTION umkm_request_step_append_only();
    """)
    op.add_column("umkm_access_grant", sa.Column("download_limit", sa.Integer))
    op.add_column("umkm_access_grant", sa.Column("downloads", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    op.drop_column("umkm_access_grant", "downloads")
    op.drop_column("umkm_access_grant", "download_limit")
    op.execute("DROP TRIGGER IF EXISTS umkm_request_step_no_change ON umkm_request_step; "
               "DROP FUNCTION IF EXISTS umkm_request_step_append_only();")
    op.drop_table("umkm_request_step")
    op.drop_table("umkm_request")
