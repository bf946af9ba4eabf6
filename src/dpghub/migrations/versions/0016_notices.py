"""notices: one table in identity for the portal notices of every domain

`testbed_notice`, `programmes_notice` and `agile_notice` had the same columns; their rows move
into `notice` with the domain that left them, in the order they were made, and the three
tables go. Downgrading moves each domain's rows back into its own table.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 13:47:15
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import dpghub.core.db

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

DOMAINS = ("testbed", "programmes", "agile")     # each had the table `<domain>_notice`
COLUMNS = ("user_id", "text", "params", "link", "read_at", "created_at")


def _columns() -> list[sa.Column]:
    return [
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('link', sa.String(length=500), nullable=False),
        sa.Column('read_at', dpghub.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('created_at', dpghub.core.db.UTCDateTime(timezone=True), nullable=False),
    ]


def _table(name: str, *extra: str) -> sa.TableClause:
    """A bare description of a table, enough to copy rows between them."""
    return sa.table(name, *(sa.column(c) for c in ("id", *extra, *COLUMNS)))


def upgrade() -> None:
    op.create_table('notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('domain', sa.String(length=20), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('link', sa.String(length=500), nullable=False),
    sa.Column('read_at', dpghub.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', dpghub.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['hub_user.id'], name=op.f('fk_notice_user_id_hub_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice'))
    )
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_user_id'), ['user_id'], unique=False)

    # every old row, oldest first, so the new ids follow the time they were made
    old = sa.union_all(*(
        sa.select(sa.literal(domain, sa.String(20)).label("domain"), t.c.id.label("old_id"),
                  *(t.c[c] for c in COLUMNS))
        for domain in DOMAINS for t in [_table(f"{domain}_notice")])).subquery()
    notice = _table("notice", "domain")
    op.execute(notice.insert().from_select(
        ["domain", *COLUMNS],
        sa.select(old.c.domain, *(old.c[c] for c in COLUMNS))
        .order_by(old.c.created_at, old.c.domain, old.c.old_id)))

    for domain in DOMAINS:
        with op.batch_alter_table(f'{domain}_notice', schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f'ix_{domain}_notice_user_id'))
        op.drop_table(f'{domain}_notice')


def downgrade() -> None:
    notice = _table("notice", "domain")
    for domain in DOMAINS:
        name = f'{domain}_notice'
        op.create_table(name, *_columns(),
        sa.ForeignKeyConstraint(['user_id'], ['hub_user.id'], name=op.f(f'fk_{name}_user_id_hub_user'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{name}'))
        )
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f'ix_{name}_user_id'), ['user_id'], unique=False)
        op.execute(_table(name).insert().from_select(
            list(COLUMNS), sa.select(*(notice.c[c] for c in COLUMNS))
            .where(notice.c.domain == domain).order_by(notice.c.id)))

    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_user_id'))

    op.drop_table('notice')
