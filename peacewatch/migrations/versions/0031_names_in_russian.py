"""names in Russian beside the names: zones, posts, places and units, so a Russian reader's map, lists and
reports name them in Cyrillic (empty where the name serves in both languages)

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-07 20:40:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0031'
down_revision: Union[str, Sequence[str], None] = '0030'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

TABLES = ("zones", "posts", "places", "units")
COMMENT = "The name in Russian, where it differs (Cyrillic); empty: the name serves"


def upgrade() -> None:
    """Upgrade schema."""
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('name_ru', sa.String(200), nullable=False, server_default='', comment=COMMENT))
        with op.batch_alter_table(table) as batch:
            batch.alter_column('name_ru', server_default=None, existing_type=sa.String(200), existing_nullable=False,
                               existing_comment=COMMENT)


def downgrade() -> None:
    """Downgrade schema."""
    for table in reversed(TABLES):
        with op.batch_alter_table(table) as batch:
            batch.drop_column('name_ru')
