"""AI usage per organization and month, kept beside the ledger by its writer (the credit check
reads one row instead of summing a month of calls); filled from the ledger's rows so far.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 17:22:25.364906
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ai_usage_month',
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('tokens', sa.BigInteger(), nullable=False),
    sa.Column('calls', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('org_id', 'month', name=op.f('pk_ai_usage_month'))
    )
    op.execute("INSERT INTO ai_usage_month (org_id, month, tokens, calls) "
               "SELECT org_id, month, SUM(input_tokens + output_tokens), COUNT(*) "
               "FROM ai_ledger WHERE org_id IS NOT NULL GROUP BY org_id, month")


def downgrade() -> None:
    op.drop_table('ai_usage_month')
