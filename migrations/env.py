"""Alembic environment: the schema of feedback and planning, batch mode for SQLite."""

from alembic import context
from sqlmodel import SQLModel

import feedback.models  # noqa: F401 - registers tables
import planning.models  # noqa: F401 - registers tables
from core.db import make_engine

target_metadata = SQLModel.metadata


def run_migrations() -> None:
    engine = context.config.attributes.get("engine") or make_engine()
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite changes a constraint by rebuilding the table, and dropping the old one
            # with foreign keys on would cascade to everything that references it (a
            # council's people, a pairing's invitations and answers). Off for the
            # migration (it must be set outside a transaction), checked before committing.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=True,  # SQLite cannot ALTER most things; batch copies the table
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"The upgrade would break foreign keys: {broken[:5]}")
            connection.commit()
        finally:
            if sqlite:  # the connection goes back to the pool as every other one is
                connection.rollback()
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


if context.is_offline_mode():
    raise SystemExit("Tandem migrations run online only: use `tandem db upgrade`.")
run_migrations()
