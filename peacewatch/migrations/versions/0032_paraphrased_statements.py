"""a statement in the claims register says whether its quote is the speaker's words or the register's summary
(a flag the pages word in the reader's language), no longer "(paraphrase)" written into the quote

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-07 21:20:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0032'
down_revision: Union[str, Sequence[str], None] = '0031'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

COMMENT = "The quote is the register's summary of what was said, not the speaker's own words"
PREFIX = "(paraphrase) "


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('statements') as batch:
        batch.add_column(sa.Column('paraphrase', sa.Boolean(), nullable=False, server_default=sa.false(), comment=COMMENT))
    with op.batch_alter_table('statements') as batch:
        batch.alter_column('paraphrase', server_default=None, existing_type=sa.Boolean(), existing_nullable=False,
                           existing_comment=COMMENT)
    # the register's own marker, written into the quote before the flag existed
    statements = sa.table('statements', sa.column('quote', sa.Text()), sa.column('paraphrase', sa.Boolean()))
    op.execute(statements.update().where(statements.c.quote.like(PREFIX + '%'))
               .values(paraphrase=True, quote=sa.func.substr(statements.c.quote, len(PREFIX) + 1)))


def downgrade() -> None:
    """Downgrade schema."""
    statements = sa.table('statements', sa.column('quote', sa.Text()), sa.column('paraphrase', sa.Boolean()))
    op.execute(statements.update().where(statements.c.paraphrase.is_(True)).values(quote=PREFIX + statements.c.quote))
    with op.batch_alter_table('statements') as batch:
        batch.drop_column('paraphrase')
