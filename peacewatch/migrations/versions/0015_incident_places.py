"""an index on where incidents were reported, for boxes

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 21:30:00

"""
from typing import Sequence, Union

from alembic import op

revision: str = '0015'
down_revision: Union[str, Sequence[str], None] = '0014'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_index('ix_incidents_place', 'incidents', ['lat', 'lon', 'event_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_incidents_place', table_name='incidents')
