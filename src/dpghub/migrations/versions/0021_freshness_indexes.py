"""Indexes for the catalogue's freshness check: before each search one statement reads the
newest change time of datasets, services, published FAQ tickets and resource use; without
these indexes each max() read the whole table (8 ms of a 23 ms search at 10,000 datasets).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 21:18:52.035541
"""

from __future__ import annotations

from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('dataset', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dataset_updated_at'), ['updated_at'], unique=False)
    with op.batch_alter_table('resource_use', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_resource_use_last_used_at'), ['last_used_at'],
                              unique=False)
    with op.batch_alter_table('service', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_updated_at'), ['updated_at'], unique=False)
    with op.batch_alter_table('testbed_ticket', schema=None) as batch_op:
        batch_op.create_index('ix_testbed_ticket_published_updated_at',
                              ['published', 'updated_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('testbed_ticket', schema=None) as batch_op:
        batch_op.drop_index('ix_testbed_ticket_published_updated_at')
    with op.batch_alter_table('service', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_updated_at'))
    with op.batch_alter_table('resource_use', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resource_use_last_used_at'))
    with op.batch_alter_table('dataset', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dataset_updated_at'))
