"""The council calendar and peer challenge recommendations cited by plan goals

- `councildate`: a council's key dates (budget council, annual council, polling day), with
  an election's pre-election period where it differs from the default (six weeks before
  polling day to polling day).
- `plangoal.peer_challenge_ref` and `plangoal.peer_challenge_text`: the corporate peer
  challenge recommendation a goal answers ("" when none).

Revision ID: 0017
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "councildate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("council_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("falls_on", sa.Date(), nullable=False),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("period_starts_on", sa.Date(), nullable=True),
        sa.Column("period_ends_on", sa.Date(), nullable=True),
        sa.Column("updated_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('budget council', 'annual council', 'election')",
            name="ck_council_date_kind",
        ),
        sa.CheckConstraint(
            "period_starts_on IS NULL OR period_ends_on IS NULL "
            "OR period_starts_on <= period_ends_on",
            name="ck_council_date_period",
        ),
        sa.ForeignKeyConstraint(["council_id"], ["council.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("council_id", "kind", "falls_on", name="uq_council_date"),
    )
    op.create_index("ix_councildate_council_id", "councildate", ["council_id"])
    with op.batch_alter_table("plangoal") as batch:
        batch.add_column(
            sa.Column(
                "peer_challenge_ref",
                sqlmodel.sql.sqltypes.AutoString(length=60),
                nullable=False,
                server_default="",
            )
        )
        batch.add_column(
            sa.Column(
                "peer_challenge_text",
                sqlmodel.sql.sqltypes.AutoString(length=1000),
                nullable=False,
                server_default="",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("plangoal") as batch:
        batch.drop_column("peer_challenge_text")
        batch.drop_column("peer_challenge_ref")
    op.drop_index("ix_councildate_council_id", table_name="councildate")
    op.drop_table("councildate")
