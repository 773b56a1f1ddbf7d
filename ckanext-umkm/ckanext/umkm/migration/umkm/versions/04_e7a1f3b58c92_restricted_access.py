"""Restricted access: grants, confidentiality statements (NDA) and the hash
chain over the audit events

Revision ID: e7a1f3b58c92
Revises: c4d2a9e61b37
Create Date: 2026-11-30

"""
import sqlalchemy as sa
from alembic import op

revision = "e7a1f3b58c92"
down_revision = "c4d2a9e61b37"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "umkm_access_grant",
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
        sa.CheckConstraint("(organization_id IS NULL) <> (user_id IS NULL)", name="umkm_access_grant_holder"),
        sa.CheckConstraint("valid_until > valid_from", name="umkm_access_grant_window"),
    )
    op.create_index("idx_umkm_access_grant_org", "umkm_access_grant", ["organization_id"])
    op.create_index("idx_umkm_access_grant_user", "umkm_access_grant", ["user_id"])
    op.create_index("idx_umkm_access_grant_package", "umkm_access_grant", ["package_id"])

    op.create_table(
        "umkm_nda_template",
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("title", sa.UnicodeText, nullable=False),
        sa.Column("body", sa.UnicodeText, nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.UnicodeText, nullable=False),
    )
    op.create_table(
        "umkm_nda_signature",
        sa.Column("id", sa.UnicodeText, primary_key=True),
        sa.Column("user_id", sa.UnicodeText, nullable=False),
        sa.Column("template_version", sa.Integer, sa.ForeignKey("umkm_nda_template.version"), nullable=False),
        sa.Column("method", sa.UnicodeText, nullable=False),
        sa.Column("full_name", sa.UnicodeText, nullable=False),
        sa.Column("nip_nik", sa.UnicodeText, nullable=False),
        sa.Column("agency", sa.UnicodeText, nullable=False),
        sa.Column("position", sa.UnicodeText, nullable=False),
        sa.Column("controller_duties", sa.Boolean, nullable=False),
        sa.Column("ip", sa.UnicodeText),
        sa.Column("user_agent", sa.UnicodeText),
        sa.Column("file_path", sa.UnicodeText),
        sa.Column("file_sha256", sa.UnicodeText),
        sa.Column("status", sa.UnicodeText, nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed_by", sa.UnicodeText),
        sa.Column("reviewed_at", sa.DateTime(timezone=True)),
    )
    op.create_index("idx_umkm_nda_signature_user", "umkm_nda_signature", ["user_id", "template_version"])

    # Authenticity and integrity (Lampiran I): the SHA-256 of every uploaded
    # file, re-verified by a job.
    op.create_table(
        "umkm_file_hash",
        sa.Column("resource_id", sa.UnicodeText, primary_key=True),
        sa.Column("sha256", sa.UnicodeText, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("source_modified", sa.UnicodeText),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True)),
        sa.Column("status", sa.UnicodeText, nullable=False),
    )

    # Each audit event (ckanext-event-audit's table) gets a link in a hash
    # chain; the chain itself is append-only.
    op.create_table(
        "umkm_audit_chain",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.UnicodeText, nullable=False, unique=True),
        sa.Column("prev_hash", sa.UnicodeText, nullable=False),
        sa.Column("hash", sa.UnicodeText, nullable=False),
    )
    op.execute("""
        CREATE OR REPLACE FUNCTION umkm_audit_chain_immutable() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION 'umkm_audit_chain is append-only';
        END;
        $$ LANGUAGE plpgsql;
        CREATE TRIGGER umkm_audit_chain_immutable
            BEFORE UPDATE OR DELETE ON umkm_audit_chain
            FOR EACH ROW EXECUTE FUNCTION umkm_audit_chain_immutable();
        CREATE TRIGGER umkm_audit_chain_no_truncate
            BEFORE TRUNCATE ON umkm_audit_chain
            FOR EACH STATEMENT EXECUTE FUNCTION umkm_audit_chain_immutable();
    """)


def downgrade() -> None:
    op.drop_table("umkm_audit_chain")
    op.execute("DROP FUNCTION IF EXISTS umkm_audit_chain_immutable()")
    op.drop_table("umkm_file_hash")
    op.drop_table("umkm_nda_signature")
    op.drop_table("umkm_nda_template")
    op.drop_table("umkm_access_grant")
