"""access control: a version per user that every sign-in token carries, so sign-out, a new password or
disabling ends the tokens already issued; alerts internal until an operator shares one; counters of wrong
sign-ins shared by every server process

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 15:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0011'
down_revision: Union[str, Sequence[str], None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'rate_counters',
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('expires_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_rate_counters')),
    )
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('token_version', sa.Integer(), server_default='0', nullable=False))
    # alerts took their patrol's visibility; no operator shared one before this revision
    op.execute("UPDATE alerts SET visibility = 'internal' WHERE visibility <> 'internal'")


def downgrade() -> None:
    op.drop_table('rate_counters')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('token_version')
