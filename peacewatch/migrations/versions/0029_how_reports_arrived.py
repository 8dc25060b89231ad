"""how and when an incident report reached the mission: its channel (field app, TAK, radio, telephone, in person,
in writing, media monitoring, a courier file, entered by the source) and the time it was received, apart from
the user who typed it in and when it was stored

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 19:40:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0029'
down_revision: Union[str, Sequence[str], None] = '0028'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

CHANNEL = "How it reached the mission; null: not stated"
RECEIVED = "When it reached the mission (default: when it was stored)"


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('incidents') as batch:
        batch.add_column(sa.Column('channel', sa.Enum('field_app', 'tak_marker', 'radio', 'telephone', 'in_person', 'written',
                                                      'media_monitoring', 'courier_file', 'source_entry',
                                                      name='channel', native_enum=False, length=24),
                                   nullable=True, comment=CHANNEL))
        batch.add_column(sa.Column('received_at', sa.DateTime(timezone=True), nullable=True, comment=RECEIVED))
    # what is known of the reports already kept: each arrived when it was stored; a device's id marks the field app
    op.execute("UPDATE incidents SET received_at = created_at")
    op.execute("UPDATE incidents SET channel = 'field_app' WHERE client_id IS NOT NULL AND client_id NOT LIKE 'web-%' "
               "AND client_id NOT LIKE 'demo-%'")
    with op.batch_alter_table('incidents') as batch:
        batch.alter_column('received_at', existing_type=sa.DateTime(timezone=True), nullable=False, existing_comment=RECEIVED)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('incidents') as batch:
        batch.drop_column('received_at')
        batch.drop_column('channel')
