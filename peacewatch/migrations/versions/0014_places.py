"""named places (GPS waypoints kept as what they are)

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 19:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = '0014'
down_revision: Union[str, Sequence[str], None] = '0013'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'places',
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('lat', sa.Float(), nullable=False),
        sa.Column('lon', sa.Float(), nullable=False),
        sa.Column('elevation', sa.Float(), nullable=True, comment='Metres above mean sea level, as marked'),
        sa.Column('notes', sa.Text(), nullable=False),
        sa.Column('source', sa.String(length=200), nullable=False, comment='Where it came from: the file and who sent it'),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('visibility', sa.Enum('internal', 'side_a', 'side_b', 'public', name='visibility', native_enum=False, length=16), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_places')),
        sa.UniqueConstraint('name', 'lat', 'lon', name='uq_places_name_lat_lon'),
    )
    with op.batch_alter_table('places') as batch:
        batch.create_index(batch.f('ix_places_visibility'), ['visibility'], unique=False)


def downgrade() -> None:
    op.drop_table('places')
