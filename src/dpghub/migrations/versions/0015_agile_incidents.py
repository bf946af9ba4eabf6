"""Agile: incidents opened by the gateway's error watch (their source, one open per project)
and each project's alert threshold (existing projects get the default, 5 % on 20 calls).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 13:45:47.023559
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('agile_incident', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=20), server_default='team', nullable=False))
        batch_op.create_index('uq_agile_incident_gateway_open', ['project_id'], unique=True, sqlite_where=sa.text("source = 'gateway' AND resolved_at IS NULL"), postgresql_where=sa.text("source = 'gateway' AND resolved_at IS NULL"))

    with op.batch_alter_table('agile_project', schema=None) as batch_op:
        batch_op.add_column(sa.Column('alert_error_rate', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('alert_min_calls', sa.Integer(), server_default='20', nullable=False))
    op.execute("UPDATE agile_project SET alert_error_rate = 0.05")


def downgrade() -> None:
    with op.batch_alter_table('agile_project', schema=None) as batch_op:
        batch_op.drop_column('alert_min_calls')
        batch_op.drop_column('alert_error_rate')

    with op.batch_alter_table('agile_incident', schema=None) as batch_op:
        batch_op.drop_index('uq_agile_incident_gateway_open', sqlite_where=sa.text("source = 'gateway' AND resolved_at IS NULL"), postgresql_where=sa.text("source = 'gateway' AND resolved_at IS NULL"))
        batch_op.drop_column('source')

