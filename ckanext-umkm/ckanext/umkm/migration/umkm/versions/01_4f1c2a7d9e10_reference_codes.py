"""Reference code lists: umkm_reference_code and umkm_reference_edition

Revision ID: 4f1c2a7d9e10
Revises:
Create Date: 2026-11-24

"""
import sqlalchemy as sa
from alembic import op

revision = "4f1c2a7d9e10"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "umkm_reference_code",
        sa.Column("scheme", sa.UnicodeText, primary_key=True),
        sa.Column("code", sa.UnicodeText, primary_key=True),
        sa.Column("parent", sa.UnicodeText),
        sa.Column("level", sa.UnicodeText, nullable=False),
        sa.Column("name", sa.UnicodeText, nullable=False),
    )
    op.create_index("idx_umkm_reference_code_parent", "umkm_reference_code", ["scheme", "parent"])
    # Prefix search on codes (LIKE '32.7%') without the database's collation.
    op.execute("CREATE INDEX idx_umkm_reference_code_prefix "
               "ON umkm_reference_code (scheme, code text_pattern_ops)")
    op.create_table(
        "umkm_reference_edition",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("scheme", sa.UnicodeText, nullable=False),
        sa.Column("edition", sa.UnicodeText, nullable=False),
        sa.Column("source", sa.UnicodeText, nullable=False),
        sa.Column("checksum", sa.UnicodeText, nullable=False),
        sa.Column("code_count", sa.Integer, nullable=False),
        sa.Column("loaded_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("umkm_reference_edition")
    op.drop_table("umkm_reference_code")
