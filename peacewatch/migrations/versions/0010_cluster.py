"""several server processes on one database: one open alert per episode, data versions for caches,
coverage rows only inserted (no visit count to update)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 12:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0010'
down_revision: Union[str, Sequence[str], None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

OPEN_TRACKER_EPISODE = "ended_at IS NULL AND tracker_id IS NOT NULL"
OPEN_PATROL_EPISODE = "ended_at IS NULL AND kind IN ('silent', 'not_back')"


def upgrade() -> None:
    op.create_table(
        'data_versions',
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('token', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_data_versions')),
    )
    # Two processes could open the same episode twice before this release: end every duplicate
    # (all but the first raised) where it began, so the indexes below can hold from now on.
    op.execute(
        "UPDATE alerts SET ended_at = started_at WHERE ended_at IS NULL AND tracker_id IS NOT NULL AND EXISTS ("
        "SELECT 1 FROM alerts AS first WHERE first.tracker_id = alerts.tracker_id AND first.kind = alerts.kind "
        "AND first.ended_at IS NULL AND first.id < alerts.id)"
    )
    op.execute(
        "UPDATE alerts SET ended_at = started_at WHERE ended_at IS NULL AND kind IN ('silent', 'not_back') AND EXISTS ("
        "SELECT 1 FROM alerts AS first WHERE first.patrol_id = alerts.patrol_id AND first.kind = alerts.kind "
        "AND first.ended_at IS NULL AND first.id < alerts.id)"
    )
    op.create_index('uq_alerts_open_tracker_episode', 'alerts', ['tracker_id', 'kind'], unique=True,
                    sqlite_where=sa.text(OPEN_TRACKER_EPISODE), postgresql_where=sa.text(OPEN_TRACKER_EPISODE))
    op.create_index('uq_alerts_open_patrol_episode', 'alerts', ['patrol_id', 'kind'], unique=True,
                    sqlite_where=sa.text(OPEN_PATROL_EPISODE), postgresql_where=sa.text(OPEN_PATROL_EPISODE))


    with op.batch_alter_table('coverage', table_kwargs={'sqlite_with_rowid': False}) as batch:
        batch.drop_column('visits')


def downgrade() -> None:
    with op.batch_alter_table('coverage', table_kwargs={'sqlite_with_rowid': False}) as batch:
        batch.add_column(sa.Column('visits', sa.Integer(), nullable=False, server_default='0'))
    op.drop_index('uq_alerts_open_patrol_episode', table_name='alerts')
    op.drop_index('uq_alerts_open_tracker_episode', table_name='alerts')
    op.drop_table('data_versions')
