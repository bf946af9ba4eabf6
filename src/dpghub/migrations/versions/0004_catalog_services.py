"""catalog services

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 06:40:40.967226
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dpghub.core.db

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('service',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('title_ko', sa.String(length=300), nullable=False),
    sa.Column('title_en', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('upstream_url', sa.String(length=1000), nullable=False),
    sa.Column('openapi', sa.JSON(), nullable=False),
    sa.Column('original', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', dpghub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', dpghub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_service_org_id_organization'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service')),
    sa.UniqueConstraint('org_id', 'slug', name=op.f('uq_service_org_id'))
    )
    with op.batch_alter_table('service', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_org_id'), ['org_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('service', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_org_id'))

    op.drop_table('service')
