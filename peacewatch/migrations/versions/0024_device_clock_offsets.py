"""a field record keeps the offset of its device's clock: its times are corrected by it, the device's own time is
the time minus it (incidents, check-ins, recoveries; a patrol the offset of its last step)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 02:30:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0024'
down_revision: Union[str, Sequence[str], None] = '0023'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

KEPT = "Seconds the device's clock was behind the server's when it was kept: its times are corrected by it"
STEP = "Seconds the device's clock was behind the server's when the last step was kept: its times are corrected by it"
TABLES = ("incidents", "check_ins", "recoveries")


def upgrade() -> None:
    """Upgrade schema."""
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('clock_offset_s', sa.Integer(), nullable=True, comment=KEPT))
    with op.batch_alter_table('patrols') as batch:
        batch.add_column(sa.Column('step_clock_offset_s', sa.Integer(), nullable=True, comment=STEP))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('patrols') as batch:
        batch.drop_column('step_clock_offset_s')
    for table in reversed(TABLES):
        with op.batch_alter_table(table) as batch:
            batch.drop_column('clock_offset_s')
