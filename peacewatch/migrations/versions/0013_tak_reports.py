"""markers and spot reports from signed-in TAK users, kept for operations to turn into incident reports

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 19:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = '0013'
down_revision: Union[str, Sequence[str], None] = '0012'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'tak_reports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('uid', sa.String(length=200), nullable=False),
        sa.Column('cot_type', sa.String(length=64), nullable=False),
        sa.Column('what', sa.String(length=16), nullable=False, comment='marker or spot report'),
        sa.Column('callsign', sa.String(length=200), nullable=False),
        sa.Column('remarks', sa.Text(), nullable=False),
        sa.Column('lat', sa.Float(), nullable=False),
        sa.Column('lon', sa.Float(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False, comment='When the TAK client says it was placed'),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_by', sa.String(length=120), nullable=False, comment='The PeaceWatch user the TAK client signed in as'),
        sa.Column('incident_id', sa.Integer(), nullable=True, comment='The incident report made from it'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_tak_reports')),
        sa.UniqueConstraint('uid', name=op.f('uq_tak_reports_uid')),
    )


def downgrade() -> None:
    op.drop_table('tak_reports')
