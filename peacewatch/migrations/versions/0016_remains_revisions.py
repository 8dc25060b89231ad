"""a revision per row of the records the remains matching reads

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 00:20:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = '0016'
down_revision: Union[str, Sequence[str], None] = '0015'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

TABLES = ('recoveries', 'bodies', 'missing_persons')


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('revision', sa.BigInteger(), server_default=sa.text('0'), nullable=False,
                                       comment='A new random number at each change of the row'))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column('revision')
