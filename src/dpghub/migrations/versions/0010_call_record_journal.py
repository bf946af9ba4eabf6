"""call records: their hub process's journal and number there

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 21:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('call_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('journal', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('journal_seq', sa.BigInteger(), nullable=True))
        batch_op.create_index('ix_call_record_journal_seq', ['journal', 'journal_seq'],
                              unique=True)


def downgrade() -> None:
    with op.batch_alter_table('call_record', schema=None) as batch_op:
        batch_op.drop_index('ix_call_record_journal_seq')
        batch_op.drop_column('journal_seq')
        batch_op.drop_column('journal')
