"""Rater balance and pairing kinds beyond the English cabinet model

A councillor's political group and side (administration or opposition) and a person's
statutory or special role (monitoring officer, chief finance officer, head of paid service,
scrutiny chair), for the balance warnings at nomination; a council's governance model
(leader and cabinet, mayor and cabinet, committee system) and the pairing kinds that go
with it: elected mayor, convener and committee chair pairings. Scottish and Northern Irish
councils already recorded are set to the committee system.

On SQLite the changed check constraints rebuild the council, person and pairing tables;
migrations/env.py turns foreign keys off while it runs so that nothing referencing them is
touched, and checks them afterwards.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KINDS = "kind IN ('leader–chief executive', 'cabinet–director')"
NEW_KINDS = (
    "kind IN ('leader–chief executive', 'mayor–chief executive', 'convener–chief executive', "
    "'cabinet–director', 'committee chair–director')"
)
GOVERNANCE = "governance IN ('leader and cabinet', 'mayor and cabinet', 'committee system')"
SIDES = "political_side IN ('administration', 'opposition', '')"
ROLES = (
    "special_role IN ('monitoring officer', 'chief finance officer', 'head of paid service', "
    "'scrutiny chair', '')"
)


def upgrade() -> None:
    with op.batch_alter_table("council", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "governance",
                sqlmodel.sql.sqltypes.AutoString(length=30),
                server_default="leader and cabinet",
                nullable=False,
            )
        )
        batch_op.create_check_constraint("ck_council_governance", GOVERNANCE)
    op.execute(
        "UPDATE council SET governance = 'committee system' "
        "WHERE nation IN ('Scotland', 'Northern Ireland')"
    )
    with op.batch_alter_table("person", schema=None) as batch_op:
        for name, length in (("political_group", 100), ("political_side", 20)):
            batch_op.add_column(
                sa.Column(
                    name,
                    sqlmodel.sql.sqltypes.AutoString(length=length),
                    server_default="",
                    nullable=False,
                )
            )
        batch_op.add_column(
            sa.Column(
                "special_role",
                sqlmodel.sql.sqltypes.AutoString(length=30),
                server_default="",
                nullable=False,
            )
        )
        batch_op.create_check_constraint("ck_person_political_side", SIDES)
        batch_op.create_check_constraint("ck_person_special_role", ROLES)
    with op.batch_alter_table("pairing", schema=None) as batch_op:
        batch_op.drop_constraint("ck_pairing_kind", type_="check")
        batch_op.create_check_constraint("ck_pairing_kind", NEW_KINDS)


def downgrade() -> None:
    newer = op.get_bind().execute(
        sa.text(
            "SELECT COUNT(*) FROM pairing "
            "WHERE kind NOT IN ('leader–chief executive', 'cabinet–director')"
        )
    )
    if newer.scalar():
        # Refused rather than deleting pairings (and their answers) to fit the older schema.
        raise RuntimeError(
            "Some pairings are of a kind the older schema does not know (mayor, convener or "
            "committee chair pairings); change or remove them before downgrading."
        )
    with op.batch_alter_table("pairing", schema=None) as batch_op:
        batch_op.drop_constraint("ck_pairing_kind", type_="check")
        batch_op.create_check_constraint("ck_pairing_kind", OLD_KINDS)
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_constraint("ck_person_special_role", type_="check")
        batch_op.drop_constraint("ck_person_political_side", type_="check")
        batch_op.drop_column("special_role")
        batch_op.drop_column("political_side")
        batch_op.drop_column("political_group")
    with op.batch_alter_table("council", schema=None) as batch_op:
        batch_op.drop_constraint("ck_council_governance", type_="check")
        batch_op.drop_column("governance")
