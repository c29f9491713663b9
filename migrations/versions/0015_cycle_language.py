"""Cymraeg: the language a cycle runs in, and the language each response was given in

- `cycle.language`: en, cy or both (core.vocabulary.Language); existing cycles run in
  English, as they always did.
- `response.language`: the language the rater last saved answers in (en or cy), so a report
  may say which language a comment was written in, under the rule of
  feedback.results.engine.comment_languages.

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN (never a batch copy of the table: `response` carries the
    # triggers that keep a submitted response final, and a copied table would lose them).
    for table in ("cycle", "response"):
        op.add_column(
            table,
            sa.Column(
                "language",
                sqlmodel.sql.sqltypes.AutoString(length=4),
                nullable=False,
                server_default="en",
            ),
        )


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35+), for the same reason: no copy of `response`.
    for table in ("response", "cycle"):
        op.drop_column(table, "language")
