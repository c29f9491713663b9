"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 18:46:27.133229
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('auditevent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('entity', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=True),
    sa.Column('council_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('auditevent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auditevent_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_auditevent_council_id'), ['council_id'], unique=False)

    op.create_table('council',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('nation', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('retention_months', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.CheckConstraint("nation IN ('England', 'Scotland', 'Wales', 'Northern Ireland')", name='ck_council_nation'),
    sa.CheckConstraint('retention_months >= 1', name='ck_council_retention'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('frameworkversion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('version', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('checksum', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('loaded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key', 'version', name='uq_framework_key_version')
    )
    op.create_table('cycle',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('council_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('opens_on', sa.Date(), nullable=False),
    sa.Column('closes_on', sa.Date(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('framework_version_id', sa.Integer(), nullable=False),
    sa.Column('anonymity_threshold', sa.Integer(), nullable=False),
    sa.Column('invitation_subject', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('invitation_body', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('reminder_subject', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('reminder_body', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('published_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.CheckConstraint("status IN ('draft', 'open', 'closed', 'published')", name='ck_cycle_status'),
    sa.CheckConstraint('anonymity_threshold >= 2', name='ck_cycle_threshold_min'),
    sa.CheckConstraint('closes_on >= opens_on', name='ck_cycle_dates'),
    sa.ForeignKeyConstraint(['council_id'], ['council.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['framework_version_id'], ['frameworkversion.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('council_id', 'name', name='uq_cycle_council_name')
    )
    with op.batch_alter_table('cycle', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cycle_council_id'), ['council_id'], unique=False)

    op.create_table('dimension',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('framework_version_id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['framework_version_id'], ['frameworkversion.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('framework_version_id', 'code', name='uq_dimension_code')
    )
    with op.batch_alter_table('dimension', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dimension_framework_version_id'), ['framework_version_id'], unique=False)

    op.create_table('person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('council_id', sa.Integer(), nullable=False),
    sa.Column('full_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('portfolio', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('organisation', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('member', 'officer', 'external')", name='ck_person_kind'),
    sa.ForeignKeyConstraint(['council_id'], ['council.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('council_id', 'email', name='uq_person_council_email')
    )
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_council_id'), ['council_id'], unique=False)

    op.create_table('item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('framework_version_id', sa.Integer(), nullable=False),
    sa.Column('dimension_id', sa.Integer(), nullable=True),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('target', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('scale', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('audience', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint("target IN ('member', 'officer', 'partnership')", name='ck_item_target'),
    sa.ForeignKeyConstraint(['dimension_id'], ['dimension.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['framework_version_id'], ['frameworkversion.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('framework_version_id', 'code', name='uq_item_code')
    )
    with op.batch_alter_table('item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_framework_version_id'), ['framework_version_id'], unique=False)

    op.create_table('pairing',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('council_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('portfolio', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('leader–chief executive', 'cabinet–director')", name='ck_pairing_kind'),
    sa.CheckConstraint('member_id <> officer_id', name='ck_pairing_two_people'),
    sa.ForeignKeyConstraint(['council_id'], ['council.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['person.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['officer_id'], ['person.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('council_id', 'member_id', 'officer_id', name='uq_pairing_people')
    )
    with op.batch_alter_table('pairing', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pairing_council_id'), ['council_id'], unique=False)

    op.create_table('publishedreport',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('edition', sa.Integer(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('published_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('published_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycle.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('cycle_id', 'edition', name='uq_published_report_edition')
    )
    with op.batch_alter_table('publishedreport', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_publishedreport_cycle_id'), ['cycle_id'], unique=False)

    op.create_table('useraccount',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('display_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('failed_attempts', sa.Integer(), nullable=False),
    sa.Column('locked_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_sign_in_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.CheckConstraint("role IN ('admin', 'facilitator', 'principal')", name='ck_user_role'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username')
    )
    op.create_table('cyclepairing',
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('pairing_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycle.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['pairing_id'], ['pairing.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('cycle_id', 'pairing_id')
    )
    op.create_table('developmentplan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pairing_id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('carried_from_plan_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.CheckConstraint("status IN ('draft', 'agreed', 'changed since agreed')", name='ck_plan_status'),
    sa.ForeignKeyConstraint(['carried_from_plan_id'], ['developmentplan.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycle.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['pairing_id'], ['pairing.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('pairing_id', 'cycle_id', name='uq_plan_pairing_cycle')
    )
    with op.batch_alter_table('developmentplan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_developmentplan_cycle_id'), ['cycle_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_developmentplan_pairing_id'), ['pairing_id'], unique=False)

    op.create_table('facilitatorcouncil',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('council_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['council_id'], ['council.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['useraccount.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'council_id')
    )
    op.create_table('invitation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('pairing_id', sa.Integer(), nullable=False),
    sa.Column('rater_id', sa.Integer(), nullable=False),
    sa.Column('rater_group', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('token_issued_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('sent_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_reminded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('reminder_count', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.CheckConstraint("rater_group IN ('principal', 'members', 'officers', 'partners')", name='ck_invitation_group'),
    sa.CheckConstraint("status IN ('not started', 'in progress', 'submitted', 'revoked')", name='ck_invitation_status'),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycle.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['pairing_id'], ['pairing.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['rater_id'], ['person.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('cycle_id', 'pairing_id', 'rater_id', name='uq_invitation_rater'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.create_index('ix_invitation_cycle_pairing', ['cycle_id', 'pairing_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitation_rater_id'), ['rater_id'], unique=False)

    op.create_table('messagelog',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('sent_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitation.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('messagelog', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_messagelog_invitation_id'), ['invitation_id'], unique=False)

    op.create_table('plangoal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('dimension_code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('challenge', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.CheckConstraint("challenge IS NULL OR challenge IN ('financial-resilience', 'digital-transformation', 'social-care', 'strategy', 'demand-management', 'capacity-and-change')", name='ck_goal_challenge'),
    sa.ForeignKeyConstraint(['plan_id'], ['developmentplan.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('plangoal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plangoal_plan_id'), ['plan_id'], unique=False)

    op.create_table('planrevision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('summary', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('changed_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('changed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['developmentplan.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('plan_id', 'revision', name='uq_plan_revision')
    )
    with op.batch_alter_table('planrevision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_planrevision_plan_id'), ['plan_id'], unique=False)

    op.create_table('response',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('submitted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.CheckConstraint("status IN ('draft', 'submitted')", name='ck_response_status'),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitation.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('invitation_id')
    )
    op.create_table('signoff',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('plan_revision', sa.Integer(), nullable=False),
    sa.Column('signed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['plan_id'], ['developmentplan.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('plan_id', 'person_id', 'plan_revision', name='uq_signoff')
    )
    with op.batch_alter_table('signoff', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signoff_plan_id'), ['plan_id'], unique=False)

    op.create_table('comment',
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('dimension_id', sa.Integer(), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['dimension_id'], ['dimension.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['response_id'], ['response.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('response_id', 'dimension_id')
    )
    op.create_table('planaction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('goal_id', sa.Integer(), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('success_measure', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.CheckConstraint("owner IN ('member', 'officer', 'joint')", name='ck_action_owner'),
    sa.CheckConstraint("status IN ('not started', 'in progress', 'done', 'dropped')", name='ck_action_status'),
    sa.ForeignKeyConstraint(['goal_id'], ['plangoal.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('planaction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_planaction_goal_id'), ['goal_id'], unique=False)

    op.create_table('rating',
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Integer(), nullable=True),
    sa.CheckConstraint('value BETWEEN 1 AND 5', name='ck_rating_value'),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['response_id'], ['response.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('response_id', 'item_id')
    )
    with op.batch_alter_table('rating', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rating_item_id'), ['item_id'], unique=False)

    op.create_table('checkin',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=True),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('status_from', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('status_to', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('recorded_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['action_id'], ['planaction.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['plan_id'], ['developmentplan.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('checkin', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checkin_plan_id'), ['plan_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('checkin', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checkin_plan_id'))

    op.drop_table('checkin')
    with op.batch_alter_table('rating', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rating_item_id'))

    op.drop_table('rating')
    with op.batch_alter_table('planaction', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_planaction_goal_id'))

    op.drop_table('planaction')
    op.drop_table('comment')
    with op.batch_alter_table('signoff', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signoff_plan_id'))

    op.drop_table('signoff')
    op.drop_table('response')
    with op.batch_alter_table('planrevision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_planrevision_plan_id'))

    op.drop_table('planrevision')
    with op.batch_alter_table('plangoal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plangoal_plan_id'))

    op.drop_table('plangoal')
    with op.batch_alter_table('messagelog', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_messagelog_invitation_id'))

    op.drop_table('messagelog')
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitation_rater_id'))
        batch_op.drop_index('ix_invitation_cycle_pairing')

    op.drop_table('invitation')
    op.drop_table('facilitatorcouncil')
    with op.batch_alter_table('developmentplan', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_developmentplan_pairing_id'))
        batch_op.drop_index(batch_op.f('ix_developmentplan_cycle_id'))

    op.drop_table('developmentplan')
    op.drop_table('cyclepairing')
    op.drop_table('useraccount')
    with op.batch_alter_table('publishedreport', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_publishedreport_cycle_id'))

    op.drop_table('publishedreport')
    with op.batch_alter_table('pairing', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pairing_council_id'))

    op.drop_table('pairing')
    with op.batch_alter_table('item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_framework_version_id'))

    op.drop_table('item')
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_council_id'))

    op.drop_table('person')
    with op.batch_alter_table('dimension', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dimension_framework_version_id'))

    op.drop_table('dimension')
    with op.batch_alter_table('cycle', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cycle_council_id'))

    op.drop_table('cycle')
    op.drop_table('frameworkversion')
    op.drop_table('council')
    with op.batch_alter_table('auditevent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auditevent_council_id'))
        batch_op.drop_index(batch_op.f('ix_auditevent_at'))

    op.drop_table('auditevent')

