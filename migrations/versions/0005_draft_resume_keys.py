"""A draft opens only in the browser that began it

Each draft response stores the SHA-256 of its browser's resume key. Drafts begun before
this change have none, so no link opens them any more (the rater may start again).

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN, not a batch copy: copying the table on SQLite would drop the
    # triggers of migration 0002 that keep submitted responses final.
    op.add_column(
        "response",
        sa.Column("resume_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("response", "resume_hash")
