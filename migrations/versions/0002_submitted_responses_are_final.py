"""Submitted responses are final, enforced by the database itself

A submitted response's ratings and comments cannot be inserted, changed or deleted, and a
submitted response cannot go back to draft. The app checks this too; the triggers make sure
no code path (or hand-written SQL) can get round it. Deleting a whole response (retention
purge, cascade from its cycle) is still allowed.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE = "this response has been submitted and can no longer be changed"
CHILD_TABLES = ("rating", "comment")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in CHILD_TABLES:
            for when, row in (("INSERT", "NEW"), ("UPDATE", "OLD"), ("DELETE", "OLD")):
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
        return
    op.execute(
        f"""
        CREATE FUNCTION tandem_response_is_final() RETURNS trigger AS $$
        DECLARE rid integer;
        BEGIN
            IF TG_OP = 'DELETE' THEN rid := OLD.response_id; ELSE rid := NEW.response_id; END IF;
            IF (SELECT status FROM response WHERE id = rid) = 'submitted' THEN
                RAISE EXCEPTION '{MESSAGE}';
            END IF;
            IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
            RETURN NEW;
        END $$ LANGUAGE plpgsql
        """
    )
    for table in CHILD_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_final BEFORE INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION tandem_response_is_final()"
        )
    op.execute(
        f"""
        CREATE FUNCTION tandem_response_stays_submitted() RETURNS trigger AS $$
        BEGIN
            IF OLD.status = 'submitted' AND NEW.status <> 'submitted' THEN
                RAISE EXCEPTION '{MESSAGE}';
            END IF;
            RETURN NEW;
        END $$ LANGUAGE plpgsql
        """
    )
    op.execute(
        "CREATE TRIGGER response_final BEFORE UPDATE ON response "
        "FOR EACH ROW EXECUTE FUNCTION tandem_response_stays_submitted()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in CHILD_TABLES:
            for when in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_final_{when}")
        op.execute("DROP TRIGGER IF EXISTS response_final")
        return
    for table in CHILD_TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_final ON {table}")
    op.execute("DROP TRIGGER IF EXISTS response_final ON response")
    op.execute("DROP FUNCTION IF EXISTS tandem_response_is_final()")
    op.execute("DROP FUNCTION IF EXISTS tandem_response_stays_submitted()")
