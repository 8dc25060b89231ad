"""calls for help: an alert's priority, the call's own id (its repeats and cancel name it) held to one open alert,
who called, and when someone was first told

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 12:20:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0026'
down_revision: Union[str, Sequence[str], None] = '0025'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

OPEN_CALL = sa.text("ended_at IS NULL AND source_uid IS NOT NULL")


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('alerts') as batch:
        batch.add_column(sa.Column('priority', sa.Integer(), nullable=False, server_default=sa.text('2'),
                                   comment="1 emergency, 2 urgent, 3 routine: the lower, the sooner"))
        batch.add_column(sa.Column('source_uid', sa.String(200), nullable=True,
                                   comment="A call for help's own id (a TAK emergency's uid, a field device's call): its "
                                           "repeats and its cancel name it"))
        batch.add_column(sa.Column('raised_by', sa.String(120), nullable=True,
                                   comment="Who called for help (a user), when a person did"))
        batch.add_column(sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True,
                                   comment="When the first person was told of it"))
    op.execute("UPDATE alerts SET priority = 3 WHERE kind IN ('not_back', 'long_stop', 'off_route')")
    op.create_index('uq_alerts_open_call', 'alerts', ['source_uid', 'kind'], unique=True,
                    sqlite_where=OPEN_CALL, postgresql_where=OPEN_CALL)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('uq_alerts_open_call', table_name='alerts')
    with op.batch_alter_table('alerts') as batch:
        batch.drop_column('notified_at')
        batch.drop_column('raised_by')
        batch.drop_column('source_uid')
        batch.drop_column('priority')
