"""Framework 2026.2: open answers and the dimensions that matter most

Two tables owned by a response, final once it is submitted like its ratings and comments
(the triggers of migration 0002, extended to them).

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE = "this response has been submitted and can no longer be changed"
TABLES = ("openanswer", "dimensionpick")


def upgrade() -> None:
    op.create_table(
        "openanswer",
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("question", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(["response_id"], ["response.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("response_id", "question"),
    )
    op.create_table(
        "dimensionpick",
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("dimension_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["dimension_id"], ["dimension.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["response_id"], ["response.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("response_id", "dimension_id"),
    )
    if op.get_bind().dialect.name == "sqlite":
        for table in TABLES:
            for when, row in (("INSERT", "NEW"), ("UPDATE", "OLD"), ("DELETE", "OLD")):
                op.execute(
                    f"""
                    CREATE TRIGGER {table}_final_{when.lower()} BEFORE {when} ON {table}
                    WHEN (SELECT status FROM response WHERE id = {row}.response_id) = 'submitted'
                    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
                    """
                )
        return
    for table in TABLES:  # the function comes from migration 0002
        op.execute(
            f"CREATE TRIGGER {table}_final BEFORE INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION tandem_response_is_final()"
        )


def downgrade() -> None:
    op.drop_table("dimensionpick")
    op.drop_table("openanswer")
