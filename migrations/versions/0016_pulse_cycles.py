"""90-day pulse cycles

A pulse is a short cycle that follows one published full cycle (`cycle.kind` = 'pulse',
`cycle.follows_cycle_id`), asking each pairing only its plan's focus dimensions
(`cyclepairing.focus_dimensions`, NULL in a full cycle) and the mirror items.

Revision ID: 0016
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Plain ALTER TABLE on SQLite, never batch mode: batch mode rebuilds the table, and
# dropping `cycle` would cascade to every invitation, response and edition.
KIND_CHECK = "kind IN ('full', 'pulse')"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE cycle ADD COLUMN kind VARCHAR(10) DEFAULT 'full' NOT NULL "
            f"CONSTRAINT ck_cycle_kind CHECK ({KIND_CHECK})"
        )
        op.execute(
            "ALTER TABLE cycle ADD COLUMN follows_cycle_id INTEGER REFERENCES cycle (id)"
        )
    else:
        op.add_column(
            "cycle",
            sa.Column("kind", sa.String(length=10), nullable=False, server_default="full"),
        )
        op.create_check_constraint("ck_cycle_kind", "cycle", KIND_CHECK)
        op.add_column("cycle", sa.Column("follows_cycle_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            "cycle_follows_cycle_id_fkey",
            "cycle",
            "cycle",
            ["follows_cycle_id"],
            ["id"],
        )
    op.add_column("cyclepairing", sa.Column("focus_dimensions", sa.JSON(), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite 3.35 and later drops a column in place, its own CHECK and REFERENCES with it.
        op.execute("ALTER TABLE cyclepairing DROP COLUMN focus_dimensions")
        op.execute("ALTER TABLE cycle DROP COLUMN follows_cycle_id")
        op.execute("ALTER TABLE cycle DROP COLUMN kind")
        return
    op.drop_column("cyclepairing", "focus_dimensions")
    op.drop_constraint("cycle_follows_cycle_id_fkey", "cycle", type_="foreignkey")
    op.drop_column("cycle", "follows_cycle_id")
    op.drop_constraint("ck_cycle_kind", "cycle", type_="check")
    op.drop_column("cycle", "kind")
