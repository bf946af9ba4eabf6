"""AI: providers and their models (secrets sealed), monthly budgets, the usage ledger.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 14:26:53.142107
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dpghub.core.db

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ai_ledger',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', dpghub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=False),
    sa.Column('app_id', sa.Integer(), nullable=True),
    sa.Column('org_id', sa.Integer(), nullable=True),
    sa.Column('provider_id', sa.Integer(), nullable=True),
    sa.Column('alias', sa.String(length=100), nullable=False),
    sa.Column('model', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('stream', sa.Boolean(), nullable=False),
    sa.Column('input_tokens', sa.BigInteger(), nullable=False),
    sa.Column('output_tokens', sa.BigInteger(), nullable=False),
    sa.Column('cost_krw', sa.Numeric(precision=16, scale=4), nullable=False),
    sa.Column('latency_ms', sa.Float(), nullable=False),
    sa.Column('ttft_ms', sa.Float(), nullable=True),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=30), nullable=False),
    sa.Column('fault', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ai_ledger'))
    )
    with op.batch_alter_table('ai_ledger', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ai_ledger_app_id'), ['app_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ai_ledger_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ai_ledger_month'), ['month'], unique=False)
        batch_op.create_index(batch_op.f('ix_ai_ledger_org_id'), ['org_id'], unique=False)

    op.create_table('ai_provider',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('base_url', sa.String(length=1000), nullable=False),
    sa.Column('secret_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', dpghub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ai_provider')),
    sa.UniqueConstraint('name', name=op.f('uq_ai_provider_name'))
    )
    op.create_table('ai_budget',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('tokens', sa.BigInteger(), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('granted_by', sa.Integer(), nullable=True),
    sa.Column('updated_at', dpghub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_ai_budget_org_id_organization'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ai_budget')),
    sa.UniqueConstraint('org_id', 'month', name=op.f('uq_ai_budget_org_id'))
    )
    with op.batch_alter_table('ai_budget', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ai_budget_org_id'), ['org_id'], unique=False)

    op.create_table('ai_model',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('alias', sa.String(length=100), nullable=False),
    sa.Column('model', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('context', sa.Integer(), nullable=False),
    sa.Column('price_in', sa.Numeric(precision=12, scale=4), nullable=False),
    sa.Column('price_out', sa.Numeric(precision=12, scale=4), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['ai_provider.id'], name=op.f('fk_ai_model_provider_id_ai_provider'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ai_model')),
    sa.UniqueConstraint('provider_id', 'alias', name=op.f('uq_ai_model_provider_id'))
    )
    with op.batch_alter_table('ai_model', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ai_model_alias'), ['alias'], unique=False)
        batch_op.create_index(batch_op.f('ix_ai_model_provider_id'), ['provider_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('ai_model', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ai_model_provider_id'))
        batch_op.drop_index(batch_op.f('ix_ai_model_alias'))

    op.drop_table('ai_model')
    with op.batch_alter_table('ai_budget', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ai_budget_org_id'))

    op.drop_table('ai_budget')
    op.drop_table('ai_provider')
    with op.batch_alter_table('ai_ledger', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ai_ledger_org_id'))
        batch_op.drop_index(batch_op.f('ix_ai_ledger_month'))
        batch_op.drop_index(batch_op.f('ix_ai_ledger_at'))
        batch_op.drop_index(batch_op.f('ix_ai_ledger_app_id'))

    op.drop_table('ai_ledger')
