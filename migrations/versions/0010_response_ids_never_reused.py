"""Response ids are never reused (SQLite AUTOINCREMENT)

The hold-back that protects raters compares *which responses* stand behind each figure
(feedback.results.engine.contributors) with every earlier edition and staff preview. SQLite
gives a new row the highest id + 1, so a reply erased (subject access, retention) and a late
reply after it could share an id and look like no change at all. AUTOINCREMENT makes SQLite
hand out ids the way PostgreSQL's sequences already do: never twice.

SQLite can only add AUTOINCREMENT by rebuilding the table, and its triggers name the table,
so the triggers of migrations 0002 and 0009 are dropped first and made again after.

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE = "this response has been submitted and can no longer be changed"
CHILD_TABLES = ("rating", "comment", "openanswer", "dimensionpick")
WHENS = (("INSERT", "NEW"), ("UPDATE", "OLD"), ("DELETE", "OLD"))


def _rebuild(autoincrement: bool) -> None:
    for table in CHILD_TABLES:
        for when, _row in WHENS:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_final_{when.lower()}")
    op.execute("DROP TRIGGER IF EXISTS response_final")
    with op.batch_alter_table(
        "response", recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
    ):
        pass
    for table in CHILD_TABLES:
        for when, row in WHENS:
            op.execute(
                f"""
                CREATE TRIGGER {table}_final_{when.lower()} BEFORE {when} ON {table}
                WHEN (SELECT status FROM response WHERE id = {row}.response_id) = 'submitted'
                BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
                """
            )
    op.execute(
        f"""
        CREATE TRIGGER response_final BEFORE UPDATE OF status ON response
        WHEN OLD.status = 'submitted' AND NEW.status <> 'submitted'
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
        """
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild(autoincrement=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild(autoincrement=False)
