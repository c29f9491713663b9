"""A second top pairing at a council needs a named exception

A council has one top pairing (leader, elected mayor or convener with the chief executive):
the one the national comparison describes. A second is refused unless a reason is stored
with it ("joint chief executive shared with …"), which the Pairings page shows.

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# A plain ALTER TABLE, never batch mode: on SQLite batch mode rebuilds the table, and
# dropping `pairing` would cascade to every row that refers to a pairing.


def upgrade() -> None:
    op.add_column(
        "pairing",
        sa.Column("top_exception", sa.String(length=300), nullable=False, server_default=""),
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE pairing DROP COLUMN top_exception")  # SQLite 3.35 and later
    else:
        op.drop_column("pairing", "top_exception")
