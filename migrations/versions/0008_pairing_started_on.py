"""When a pairing started

A pairing under 12 months old is reported apart from established ones in the comparison
with the national Solace figures ("still developing" is a stage a new pairing is in by
design). Pairings recorded before this have no date (counted as established).

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# A plain ALTER TABLE, never batch mode: on SQLite batch mode rebuilds the table, and
# dropping `pairing` would cascade to every row that refers to a pairing.


def upgrade() -> None:
    op.add_column("pairing", sa.Column("started_on", sa.Date(), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE pairing DROP COLUMN started_on")  # SQLite 3.35 and later
    else:
        op.drop_column("pairing", "started_on")
