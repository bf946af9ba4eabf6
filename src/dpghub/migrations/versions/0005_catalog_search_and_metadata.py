"""catalog search and metadata

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 07:57:36.915823
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dpghub.core.db

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('resource_use',
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('ref_id', sa.Integer(), nullable=False),
    sa.Column('uses', sa.BigInteger(), nullable=False),
    sa.Column('last_used_at', dpghub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'ref_id', name=op.f('pk_resource_use'))
    )
    op.create_table('text_vector',
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('vector', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', dpghub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('digest', name=op.f('pk_text_vector'))
    )
    with op.batch_alter_table('dataset', schema=None) as batch_op:
        batch_op.add_column(sa.Column('theme', sa.String(length=30), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('update_frequency', sa.String(length=20), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('spatial', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('temporal_start', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('temporal_end', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('contact_name', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('contact_email', sa.String(length=200), nullable=False, server_default=''))
        batch_op.create_index(batch_op.f('ix_dataset_theme'), ['theme'], unique=False)

    with op.batch_alter_table('service', schema=None) as batch_op:
        batch_op.add_column(sa.Column('theme', sa.String(length=30), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('keywords', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('access', sa.String(length=20), nullable=False, server_default='approval'))

    # Licences written as Korean labels become the registry's codes.
    for label, code in (("공공누리 제1유형", "KOGL-1"), ("공공누리 제2유형", "KOGL-2"),
                        ("공공누리 제3유형", "KOGL-3"), ("공공누리 제4유형", "KOGL-4")):
        op.execute(sa.text("UPDATE dataset SET license = :code WHERE license = :label")
                   .bindparams(code=code, label=label))



def downgrade() -> None:
    with op.batch_alter_table('service', schema=None) as batch_op:
        batch_op.drop_column('access')
        batch_op.drop_column('keywords')
        batch_op.drop_column('theme')

    with op.batch_alter_table('dataset', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dataset_theme'))
        batch_op.drop_column('contact_email')
        batch_op.drop_column('contact_name')
        batch_op.drop_column('temporal_end')
        batch_op.drop_column('temporal_start')
        batch_op.drop_column('spatial')
        batch_op.drop_column('update_frequency')
        batch_op.drop_column('theme')

    op.drop_table('text_vector')
    op.drop_table('resource_use')
