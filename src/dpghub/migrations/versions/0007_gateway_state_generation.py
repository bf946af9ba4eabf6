"""gateway state generation

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 08:47:28.124559
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('gateway_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('generation', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gateway_state'))
    )


def downgrade() -> None:
    op.drop_table('gateway_state')
