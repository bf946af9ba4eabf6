"""AI: an organization's settings (masking personal data in its prompts).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 14:37:29.315945
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dpghub.core.db

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ai_org_setting',
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('mask_prompts', sa.Boolean(), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('updated_at', dpghub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_ai_org_setting_org_id_organization'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('org_id', name=op.f('pk_ai_org_setting'))
    )


def downgrade() -> None:
    op.drop_table('ai_org_setting')
