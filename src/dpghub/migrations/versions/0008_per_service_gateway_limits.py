"""per service gateway limits

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 09:33:56.424536
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('service', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timeout_seconds', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('max_body_mb', sa.Integer(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('service', schema=None) as batch_op:
        batch_op.drop_column('max_body_mb')
        batch_op.drop_column('timeout_seconds')

