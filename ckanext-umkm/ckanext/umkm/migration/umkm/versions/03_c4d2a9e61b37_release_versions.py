"""Release versions: a released record's new version is a private revision
record linked to it (umkm_release_state.revision_of)

Revision ID: c4d2a9e61b37
Revises: 8b3e5d1c7a20
Create Date: 2026-11-25

"""
import sqlalchemy as sa
from alembic import op

revision = "c4d2a9e61b37"
down_revision = "8b3e5d1c7a20"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("umkm_release_state", sa.Column("revision_of", sa.UnicodeText))
    op.add_column("umkm_release_state", sa.Column("release_number", sa.Integer, nullable=False,
                                                  server_default="0"))
    op.execute("UPDATE umkm_release_state SET release_number = 1 WHERE state = 'released'")
    op.create_index("idx_umkm_release_state_revision_of", "umkm_release_state", ["revision_of"])


def downgrade() -> None:
    op.drop_index("idx_umkm_release_state_revision_of", "umkm_release_state")
    op.drop_column("umkm_release_state", "release_number")
    op.drop_column("umkm_release_state", "revision_of")
