"""gateway apps keys subscriptions calls

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 08:34:57.805895
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dpghub.core.db

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('call_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', dpghub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=False),
    sa.Column('app_id', sa.Integer(), nullable=True),
    sa.Column('consumer_org_id', sa.Integer(), nullable=True),
    sa.Column('service_id', sa.Integer(), nullable=True),
    sa.Column('provider_org_id', sa.Integer(), nullable=True),
    sa.Column('subscription_id', sa.Integer(), nullable=True),
    sa.Column('operation', sa.String(length=200), nullable=False),
    sa.Column('method', sa.String(length=10), nullable=False),
    sa.Column('path', sa.String(length=2000), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('request_bytes', sa.BigInteger(), nullable=False),
    sa.Column('response_bytes', sa.BigInteger(), nullable=False),
    sa.Column('upstream_ms', sa.Float(), nullable=False),
    sa.Column('hub_ms', sa.Float(), nullable=False),
    sa.Column('outcome', sa.String(length=30), nullable=False),
    sa.Column('fault', sa.String(length=100), nullable=False),
    sa.Column('request_sha256', sa.String(length=64), nullable=False),
    sa.Column('response_sha256', sa.String(length=64), nullable=False),
    sa.Column('audit_seq', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_record'))
    )
    with op.batch_alter_table('call_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_record_app_id'), ['app_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_record_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_record_provider_org_id'), ['provider_org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_record_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_record_service_id'), ['service_id'], unique=False)

    op.create_table('app',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', dpghub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_app_org_id_organization'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_app')),
    sa.UniqueConstraint('org_id', 'name', name=op.f('uq_app_org_id'))
    )
    with op.batch_alter_table('app', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_app_org_id'), ['org_id'], unique=False)

    op.create_table('app_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('app_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('expires_at', dpghub.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', dpghub.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', dpghub.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', dpghub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['app_id'], ['app.id'], name=op.f('fk_app_key_app_id_app'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_app_key')),
    sa.UniqueConstraint('digest', name=op.f('uq_app_key_digest'))
    )
    with op.batch_alter_table('app_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_app_key_app_id'), ['app_id'], unique=False)

    op.create_table('subscription',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('app_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=True),
    sa.Column('dataset_id', sa.Integer(), nullable=True),
    sa.Column('provider_org_id', sa.Integer(), nullable=False),
    sa.Column('plan', sa.String(length=20), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('rate_per_second', sa.Float(), nullable=False),
    sa.Column('daily_quota', sa.BigInteger(), nullable=False),
    sa.Column('expires_at', dpghub.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('requested_by', sa.Integer(), nullable=True),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', dpghub.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', dpghub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', dpghub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['app_id'], ['app.id'], name=op.f('fk_subscription_app_id_app'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['dataset_id'], ['dataset.id'], name=op.f('fk_subscription_dataset_id_dataset'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provider_org_id'], ['organization.id'], name=op.f('fk_subscription_provider_org_id_organization')),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_subscription_service_id_service'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscription'))
    )
    with op.batch_alter_table('subscription', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subscription_app_id'), ['app_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_subscription_dataset_id'), ['dataset_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_subscription_provider_org_id'), ['provider_org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_subscription_service_id'), ['service_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('subscription', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subscription_service_id'))
        batch_op.drop_index(batch_op.f('ix_subscription_provider_org_id'))
        batch_op.drop_index(batch_op.f('ix_subscription_dataset_id'))
        batch_op.drop_index(batch_op.f('ix_subscription_app_id'))

    op.drop_table('subscription')
    with op.batch_alter_table('app_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_app_key_app_id'))

    op.drop_table('app_key')
    with op.batch_alter_table('app', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_app_org_id'))

    op.drop_table('app')
    with op.batch_alter_table('call_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_record_service_id'))
        batch_op.drop_index(batch_op.f('ix_call_record_request_id'))
        batch_op.drop_index(batch_op.f('ix_call_record_provider_org_id'))
        batch_op.drop_index(batch_op.f('ix_call_record_at'))
        batch_op.drop_index(batch_op.f('ix_call_record_app_id'))

    op.drop_table('call_record')
