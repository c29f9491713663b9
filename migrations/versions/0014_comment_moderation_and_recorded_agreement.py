"""Comment moderation before publication; agreement recorded on a principal's behalf

- `commentmoderation`: staff hid a comment (or an open answer) of a closed cycle, or removed
  words from it, with a reason. It holds no comment text: the rater's words stay untouched
  in `comment` / `openanswer`, so a moderation can be undone until the cycle is published.
- `signoff.recorded_by` and `signoff.note`: who recorded a principal's agreement for them
  (staff, the command line) and their note of how it was given; "" when the principal
  agreed themselves.

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "commentmoderation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("pairing_id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("part", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("spans", sa.JSON(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("moderated_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("moderated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["cycle_id"], ["cycle.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["pairing_id"], ["pairing.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["response_id"], ["response.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("response_id", "part", name="uq_comment_moderation"),
    )
    op.create_index(
        "ix_commentmoderation_cycle_pairing", "commentmoderation", ["cycle_id", "pairing_id"]
    )
    with op.batch_alter_table("signoff") as batch:
        batch.add_column(
            sa.Column(
                "recorded_by",
                sqlmodel.sql.sqltypes.AutoString(length=200),
                nullable=False,
                server_default="",
            )
        )
        batch.add_column(
            sa.Column(
                "note",
                sqlmodel.sql.sqltypes.AutoString(length=500),
                nullable=False,
                server_default="",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("signoff") as batch:
        batch.drop_column("note")
        batch.drop_column("recorded_by")
    op.drop_index("ix_commentmoderation_cycle_pairing", table_name="commentmoderation")
    op.drop_table("commentmoderation")
