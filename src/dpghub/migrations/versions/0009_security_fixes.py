"""security fixes: restricted data needs the owner's approval whatever the plan; derived
data keeps its inputs' access level; sign-ins are throttled instead of accounts locked

Before this revision a development subscription to a restricted dataset was approved at once,
so any app could read every row. Such subscriptions go back to `pending` for the owner to
decide (approved, they now give a sample of the rows only). Derived datasets record the
strictest access of their inputs when their own level is decided (`derivation.access_floor`);
those made before it have none, and their next refresh closes them to their inputs' level.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dpghub.core.db

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

REASON = ("security fix: data that is not open needs its owner's approval, whatever the plan; "
          "this request waits for a decision")


def upgrade() -> None:
    # sign-in throttling by (account, address) and address replaces locking accounts
    op.create_table(
        'sign_in_throttle',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('account', sa.String(length=64), nullable=True),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('last_failure_at', dpghub.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('blocked_until', dpghub.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('key'))
    op.create_index('ix_sign_in_throttle_account', 'sign_in_throttle', ['account'])
    op.execute("UPDATE hub_user SET locked_until = NULL, failed_logins = 0")
    with op.batch_alter_table('derivation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('access_floor', sa.String(length=20), nullable=True))
    op.get_bind().execute(sa.text(
        "UPDATE subscription SET status = 'pending', decided_at = NULL, decided_by = NULL, "
        "reason = :reason "
        "WHERE plan = 'development' AND status = 'approved' AND decided_by IS NULL "
        "AND dataset_id IN (SELECT id FROM dataset WHERE access <> 'open')"),
        {"reason": REASON})
    # gateway processes drop what they cached about apps and subscriptions
    op.execute("UPDATE gateway_state SET generation = generation + 1")


def downgrade() -> None:
    op.drop_table('sign_in_throttle')
    # access that was never the owner's decision is not given back
    with op.batch_alter_table('derivation', schema=None) as batch_op:
        batch_op.drop_column('access_floor')
