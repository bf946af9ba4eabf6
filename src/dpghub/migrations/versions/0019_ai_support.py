"""AI support programme: consulting and education sessions with the organizations that
attended, and public lead cases (공공 선도 적용).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 14:36:35.643713
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dpghub.core.db

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ai_support_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('topics', sa.JSON(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('hours', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.Column('attendees', sa.Integer(), nullable=False),
    sa.Column('materials', sa.JSON(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', dpghub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ai_support_session'))
    )
    with op.batch_alter_table('ai_support_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ai_support_session_held_on'), ['held_on'], unique=False)

    op.create_table('ai_support_attendance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_ai_support_attendance_org_id_organization'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['session_id'], ['ai_support_session.id'], name=op.f('fk_ai_support_attendance_session_id_ai_support_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ai_support_attendance')),
    sa.UniqueConstraint('session_id', 'org_id', name=op.f('uq_ai_support_attendance_session_id'))
    )
    with op.batch_alter_table('ai_support_attendance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ai_support_attendance_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ai_support_attendance_session_id'), ['session_id'], unique=False)

    op.create_table('ai_lead_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=False),
    sa.Column('public', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', dpghub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', dpghub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['organization.id'], name=op.f('fk_ai_lead_case_agency_id_organization'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_ai_lead_case_service_id_service'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['supplier_id'], ['organization.id'], name=op.f('fk_ai_lead_case_supplier_id_organization'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ai_lead_case'))
    )
    with op.batch_alter_table('ai_lead_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ai_lead_case_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ai_lead_case_supplier_id'), ['supplier_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ai_lead_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ai_lead_case_supplier_id'))
        batch_op.drop_index(batch_op.f('ix_ai_lead_case_agency_id'))

    op.drop_table('ai_lead_case')
    with op.batch_alter_table('ai_support_attendance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ai_support_attendance_session_id'))
        batch_op.drop_index(batch_op.f('ix_ai_support_attendance_org_id'))

    op.drop_table('ai_support_attendance')
    with op.batch_alter_table('ai_support_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ai_support_session_held_on'))

    op.drop_table('ai_support_session')
