"""restricted data needs the owner's approval, whatever the plan

Before this revision a development subscription to a restricted dataset was approved at once,
so any app could read every row. Such subscriptions go back to `pending` for the owner to
decide (approved, they now give a sample of the rows only).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

REASON = ("security fix: data that is not open needs its owner's approval, whatever the plan; "
          "this request waits for a decision")


def upgrade() -> None:
    op.get_bind().execute(sa.text(
        "UPDATE subscription SET status = 'pending', decided_at = NULL, decided_by = NULL, "
        "reason = :reason "
        "WHERE plan = 'development' AND status = 'approved' AND decided_by IS NULL "
        "AND dataset_id IN (SELECT id FROM dataset WHERE access <> 'open')"),
        {"reason": REASON})
    # gateway processes drop what they cached about apps and subscriptions
    op.execute("UPDATE gateway_state SET generation = generation + 1")


def downgrade() -> None:
    pass  # access that was never the owner's decision is not given back
