"""facts about the installation every process reads from the database: first, where the pages open when the
records are a scenario or an archive (the demo's 20 November 2020), so the map and the reports agree on the day

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07 20:20:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0030'
down_revision: Union[str, Sequence[str], None] = '0029'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'installation_facts',
        sa.Column('name', sa.String(64), nullable=False),
        sa.Column('moment', sa.DateTime(timezone=True), nullable=True),
        sa.Column('text', sa.String(500), nullable=False),
        sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_installation_facts')),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('installation_facts')
