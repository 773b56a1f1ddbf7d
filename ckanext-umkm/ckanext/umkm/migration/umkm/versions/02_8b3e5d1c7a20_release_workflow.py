"""Release workflow: umkm_release_state and the append-only umkm_release_transition

Revision ID: 8b3e5d1c7a20
Revises: 4f1c2a7d9e10
Create Date: 2026-11-25

"""
import sqlalchemy as sa
from alembic import op

revision = "8b3e5d1c7a20"
down_revision = "4f1c2a7d9e10"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "umkm_release_state",
        sa.Column("package_id", sa.UnicodeText, primary_key=True),
        sa.Column("state", sa.UnicodeText, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("release_at", sa.DateTime(timezone=True)),
        sa.Column("released_at", sa.DateTime(timezone=True)),
        sa.Column("step_started", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due", sa.Date),
        sa.Column("checks", sa.UnicodeText),
    )
    op.create_index("idx_umkm_release_state_state", "umkm_release_state", ["state", "due"])
    op.create_table(
        "umkm_release_transition",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("package_id", sa.UnicodeText, nullable=False),
        sa.Column("transition", sa.UnicodeText, nullable=False),
        sa.Column("from_state", sa.UnicodeText),
        sa.Column("to_state", sa.UnicodeText, nullable=False),
        sa.Column("user_id", sa.UnicodeText),
        sa.Column("user_name", sa.UnicodeText, nullable=False),
        sa.Column("role", sa.UnicodeText, nullable=False),
        sa.Column("note", sa.UnicodeText),
        sa.Column("release_at", sa.DateTime(timezone=True)),
        sa.Column("checks", sa.UnicodeText),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("idx_umkm_release_transition_package", "umkm_release_transition", ["package_id", "id"])
    # The history is immutable: the database itself refuses edits and deletions.
    op.execute("""
        CREATE OR REPLACE FUNCTION umkm_release_transition_immutable() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION 'umkm_release_transition is append-only';
        END;
        $$ LANGUAGE plpgsql;
        CREATE TRIGGER umkm_release_transition_immutable
            BEFORE UPDATE OR DELETE ON umkm_release_transition
            FOR EACH ROW EXECUTE FUNCTION umkm_release_transition_immutable();
    """)
    # Records that existed before the workflow keep their visibility: public
    # ones count as released, the rest start as drafts.
    op.execute("""
        INSERT INTO umkm_release_state (package_id, state, version, released_at, step_started)
        SELECT id, CASE WHEN private THEN 'draft' ELSE 'released' END, 1,
               CASE WHEN private THEN NULL ELSE metadata_modified END, now()
        FROM package
        WHERE state = 'active' AND type IN ('dataset', 'kegiatan', 'variabel', 'indikator')
    """)


def downgrade() -> None:
    op.drop_table("umkm_release_transition")
    op.execute("DROP FUNCTION IF EXISTS umkm_release_transition_immutable()")
    op.drop_table("umkm_release_state")
