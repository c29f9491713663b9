"""Each pairing's part of a published edition in its own row

Opening one pairing's report used to read and parse the whole council's edition (every
pairing's tables). Each pairing's part now lives in `publishedpairingreport`; the edition
row keeps the council overview and the cut-offs. Existing editions are moved over
unchanged, and the downgrade puts them back.

Revision ID: 0003
Revises: 0002
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_editions = sa.table(
    "publishedreport",
    sa.column("id", sa.Integer),
    sa.column("content", sa.JSON),
)
_parts = sa.table(
    "publishedpairingreport",
    sa.column("report_id", sa.Integer),
    sa.column("pairing_id", sa.Integer),
    sa.column("content", sa.JSON),
)


def _content(value: object) -> dict:
    return json.loads(value) if isinstance(value, str) else dict(value or {})


def upgrade() -> None:
    op.create_table(
        "publishedpairingreport",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("pairing_id", sa.Integer(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["report_id"], ["publishedreport.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["pairing_id"], ["pairing.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("report_id", "pairing_id", name="uq_published_pairing_report"),
    )
    with op.batch_alter_table("publishedpairingreport", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_publishedpairingreport_report_id"), ["report_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_publishedpairingreport_pairing_id"), ["pairing_id"], unique=False
        )

    bind = op.get_bind()
    # One edition at a time: a national install may hold many large editions.
    ids = bind.execute(sa.select(_editions.c.id).order_by(_editions.c.id)).scalars().all()
    for report_id in ids:
        raw = bind.execute(
            sa.select(_editions.c.content).where(_editions.c.id == report_id)
        ).scalar_one()
        content = _content(raw)
        sections = content.pop("pairings", None) or {}
        if sections:
            bind.execute(
                _parts.insert(),
                [
                    {"report_id": report_id, "pairing_id": int(key), "content": section}
                    for key, section in sections.items()
                ],
            )
        bind.execute(
            _editions.update().where(_editions.c.id == report_id).values(content=content)
        )


def downgrade() -> None:
    bind = op.get_bind()
    # One edition at a time: a national install may hold many large editions.
    ids = bind.execute(sa.select(_editions.c.id).order_by(_editions.c.id)).scalars().all()
    for report_id in ids:
        raw = bind.execute(
            sa.select(_editions.c.content).where(_editions.c.id == report_id)
        ).scalar_one()
        content = _content(raw)
        content["pairings"] = {
            str(pairing_id): _content(part)
            for pairing_id, part in bind.execute(
                sa.select(_parts.c.pairing_id, _parts.c.content).where(
                    _parts.c.report_id == report_id
                )
            ).all()
        }
        bind.execute(
            _editions.update().where(_editions.c.id == report_id).values(content=content)
        )
    with op.batch_alter_table("publishedpairingreport", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_publishedpairingreport_pairing_id"))
        batch_op.drop_index(batch_op.f("ix_publishedpairingreport_report_id"))
    op.drop_table("publishedpairingreport")
