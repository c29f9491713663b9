"""Failed sign-ins with usernames that have no account

They grow the same lock as an account's failures, so the sign-in page cannot be used to find
out which usernames exist. Both kinds of failure are forgotten a day after the last one,
which needs the time of an account's last failure.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "signinfailure",
        sa.Column("username", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("last_failed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("username"),
    )
    with op.batch_alter_table("signinfailure", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_signinfailure_last_failed_at"), ["last_failed_at"], unique=False
        )
    with op.batch_alter_table("useraccount", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("last_failed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("useraccount", schema=None) as batch_op:
        batch_op.drop_column("last_failed_at")
    with op.batch_alter_table("signinfailure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signinfailure_last_failed_at"))
    op.drop_table("signinfailure")
