"""Two-step login (TOTP) for readers of restricted data

Revision ID: a93c6e0f4d18
Revises: e7a1f3b58c92
Create Date: 2026-11-30

"""
import sqlalchemy as sa
from alembic import op

revision = "a93c6e0f4d18"
down_revision = "e7a1f3b58c92"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "umkm_mfa",
        sa.Column("user_id", sa.UnicodeText, sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
        # Encrypted (Fernet, key derived from SECRET_KEY).
        sa.Column("secret", sa.UnicodeText, nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True)),
        sa.Column("last_step", sa.BigInteger, nullable=False, server_default="0"),
        # SHA-256 of the unused recovery codes, as a JSON list.
        sa.Column("recovery", sa.UnicodeText, nullable=False, server_default="[]"),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("umkm_mfa")
