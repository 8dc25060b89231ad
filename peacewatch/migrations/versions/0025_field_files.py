"""a file from the field keeps when the device kept it in its outbox ("waited on the device" is kept → arrived,
not the photo's age), and a smaller copy sent first names the original it stands for by its SHA-256

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 04:40:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0025'
down_revision: Union[str, Sequence[str], None] = '0024'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('attachments') as batch:
        batch.add_column(sa.Column('kept_at', sa.DateTime(timezone=True), nullable=True,
                                   comment="When the device kept it in its outbox, by the server's clock"))
        batch.add_column(sa.Column('copy_of_sha256', sa.String(64), nullable=True,
                                   comment="A smaller copy sent first: the SHA-256 of the original it stands for"))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('attachments') as batch:
        batch.drop_column('copy_of_sha256')
        batch.drop_column('kept_at')
