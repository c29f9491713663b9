"""Tracking in stages and the built-in reminder schedule

Invitations record when they were last exported for a mail merge (Tandem sent nothing) and
when the rater first opened their link; cycles carry a reminder schedule (days before
closing; cycles made before this have none, so upgrading emails nobody); `reminderrun`
holds one claimed row per scheduled reminder, unique per cycle, days and date, so two app
processes and cron never send the same reminder twice.

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE, never batch mode: on SQLite batch mode rebuilds the table, and
# dropping `cycle` or `invitation` would cascade to every row that refers to them.


def upgrade() -> None:
    op.add_column("invitation", sa.Column("exported_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.add_column("invitation", sa.Column("opened_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.add_column(
        "cycle",
        sa.Column(
            "reminder_days",
            sqlmodel.sql.sqltypes.AutoString(length=60),
            server_default="",
            nullable=False,
        ),
    )
    # Mail-merge exports made before this: the latest one recorded for each invitation.
    op.execute(
        """
        UPDATE invitation SET exported_at = (
            SELECT MAX(messagelog.sent_at) FROM messagelog
            WHERE messagelog.invitation_id = invitation.id
              AND messagelog.channel = 'mail-merge'
        )
        """
    )
    op.create_table(
        "reminderrun",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("days_before", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("claimed_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("claimed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("finished_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["cycle_id"], ["cycle.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("cycle_id", "days_before", "due_on", name="uq_reminder_run"),
    )
    op.create_index(op.f("ix_reminderrun_cycle_id"), "reminderrun", ["cycle_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_reminderrun_cycle_id"), table_name="reminderrun")
    op.drop_table("reminderrun")
    for table, column in (
        ("cycle", "reminder_days"),
        ("invitation", "opened_at"),
        ("invitation", "exported_at"),
    ):
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")  # SQLite 3.35 and later
        else:
            op.drop_column(table, column)
