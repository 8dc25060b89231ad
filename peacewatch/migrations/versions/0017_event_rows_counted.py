"""each scope's count of event rows, so a page with no filter is counted without a scan

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 00:40:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = '0017'
down_revision: Union[str, Sequence[str], None] = '0016'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('incident_event_rows_built') as batch:
        batch.add_column(sa.Column('events', sa.Integer(), server_default=sa.text('0'), nullable=False,
                                   comment='How many rows the scope has: a page with no filter is counted without a scan'))
    op.execute("DELETE FROM incident_event_rows_built")  # every scope rebuilt, and counted, by its next reader


def downgrade() -> None:
    with op.batch_alter_table('incident_event_rows_built') as batch:
        batch.drop_column('events')
