"""Staff previews, and what stands behind each part of an edition

Staff read a closed cycle's results before they are published; each read that shows
something new is kept (`staffpreview`) so that later reads and editions are held against it
and cannot be differenced to recover one rater's answers. Each edition's pairing part gains
a server-side `private` record (which responses stand behind each anonymous cell), never
served. Editions published before this have none; they are compared as before.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staffpreview",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("pairing_id", sa.Integer(), nullable=False),
        sa.Column("taken_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("private", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["cycle_id"], ["cycle.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["pairing_id"], ["pairing.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("staffpreview", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staffpreview_cycle_id"), ["cycle_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_staffpreview_pairing_id"), ["pairing_id"], unique=False
        )
    with op.batch_alter_table("publishedpairingreport", schema=None) as batch_op:
        batch_op.add_column(sa.Column("private", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("publishedpairingreport", schema=None) as batch_op:
        batch_op.drop_column("private")
    with op.batch_alter_table("staffpreview", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staffpreview_pairing_id"))
        batch_op.drop_index(batch_op.f("ix_staffpreview_cycle_id"))
    op.drop_table("staffpreview")
