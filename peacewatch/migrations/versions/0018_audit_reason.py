"""the reason a user gave for an irreversible step, kept with its audit entries

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 06:30:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = '0018'
down_revision: Union[str, Sequence[str], None] = '0017'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('audit_log') as batch:
        batch.add_column(sa.Column('reason', sa.String(length=2000), nullable=True,
                                   comment='Why the user took the step, as they said it when confirming'))


def downgrade() -> None:
    with op.batch_alter_table('audit_log') as batch:
        batch.drop_column('reason')
