"""events kept as rows per scope, for GIS clients

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 22:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = '0015'
down_revision: Union[str, Sequence[str], None] = '0014'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'incident_event_rows',
        sa.Column('scope', sa.String(length=64), nullable=False, comment="'all', or the visibilities readable"),
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False, comment='The event\'s name in scope'),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('type', sa.String(length=64), nullable=False),
        sa.Column('subtype', sa.String(length=64), nullable=True),
        sa.Column('place_name', sa.String(length=200), nullable=False),
        sa.Column('lon', sa.Float(), nullable=False),
        sa.Column('lat', sa.Float(), nullable=False),
        sa.Column('zone_id', sa.Integer(), nullable=True),
        sa.Column('district_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=32), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('event_count', sa.Integer(), nullable=False),
        sa.Column('area', sa.String(length=200), nullable=True),
        sa.Column('district', sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint('scope', 'id', name=op.f('pk_incident_event_rows')),
    )
    op.create_index('ix_incident_event_rows_place', 'incident_event_rows', ['scope', 'lat', 'lon'], unique=False)
    op.create_table(
        'incident_event_rows_built',
        sa.Column('scope', sa.String(length=64), nullable=False),
        sa.Column('versions', sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint('scope', name=op.f('pk_incident_event_rows_built')),
    )


def downgrade() -> None:
    op.drop_table('incident_event_rows_built')
    op.drop_index('ix_incident_event_rows_place', table_name='incident_event_rows')
    op.drop_table('incident_event_rows')
