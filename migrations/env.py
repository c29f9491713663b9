"""Alembic environment: the schema of feedback and planning, batch mode for SQLite."""

from alembic import context
from sqlmodel import SQLModel

import feedback.models  # noqa: F401 - registers tables
import planning.models  # noqa: F401 - registers tables
from feedback.db import make_engine

target_metadata = SQLModel.metadata


def run_migrations() -> None:
    engine = context.config.attributes.get("engine") or make_engine()
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,  # SQLite cannot ALTER most things; batch copies the table
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    raise SystemExit("Tandem migrations run online only: use `tandem db upgrade`.")
run_migrations()
