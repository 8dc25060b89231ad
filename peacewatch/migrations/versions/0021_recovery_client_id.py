"""recoveries keep the field device's id, so that a resend from an outbox numbers no body twice; files are
found by when they arrived (the operations map's layer of files from the field)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 04:30:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0021'
down_revision: Union[str, Sequence[str], None] = '0020'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('recoveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('client_id', sa.String(length=64), nullable=True, comment="The field device's id: a resend is not a new recovery"))
        batch_op.add_column(sa.Column('client_digest', sa.String(length=64), nullable=True, comment='Hash of what the device sent with client_id'))
        batch_op.create_unique_constraint('uq_recoveries_client_id', ['recorded_by', 'client_id'])
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachments_added_at'), ['added_at'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachments_added_at'))
    with op.batch_alter_table('recoveries', schema=None) as batch_op:
        batch_op.drop_constraint('uq_recoveries_client_id', type_='unique')
        batch_op.drop_column('client_digest')
        batch_op.drop_column('client_id')
