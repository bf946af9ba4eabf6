"""analysis

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 06:08:50.299005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dpghub.core.db

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('query_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('sql', sa.Text(), nullable=False),
    sa.Column('datasets', sa.JSON(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('elapsed_ms', sa.Float(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', dpghub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_query_record'))
    )
    with op.batch_alter_table('query_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_query_record_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_query_record_user_id'), ['user_id'], unique=False)

    op.create_table('saved_query',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('sql', sa.Text(), nullable=False),
    sa.Column('created_at', dpghub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['hub_user.id'], name=op.f('fk_saved_query_user_id_hub_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_query'))
    )
    with op.batch_alter_table('saved_query', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_saved_query_user_id'), ['user_id'], unique=False)

    op.create_table('derivation',
    sa.Column('dataset_id', sa.Integer(), nullable=False),
    sa.Column('sql', sa.Text(), nullable=False),
    sa.Column('inputs', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', dpghub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('refreshed_at', dpghub.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['dataset_id'], ['dataset.id'], name=op.f('fk_derivation_dataset_id_dataset'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('dataset_id', name=op.f('pk_derivation'))
    )


def downgrade() -> None:
    op.drop_table('derivation')
    with op.batch_alter_table('saved_query', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_saved_query_user_id'))

    op.drop_table('saved_query')
    with op.batch_alter_table('query_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_query_record_user_id'))
        batch_op.drop_index(batch_op.f('ix_query_record_created_at'))

    op.drop_table('query_record')
