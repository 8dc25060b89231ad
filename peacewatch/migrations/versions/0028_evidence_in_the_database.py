"""evidence files kept in the database (PEACEWATCH_EVIDENCE_STORE=database): each file by its hash, its bytes in
chunks, so every process of every machine reaches them and they are replicated and backed up with the records

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 16:10:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0028'
down_revision: Union[str, Sequence[str], None] = '0027'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'evidence_blobs',
        sa.Column('name', sa.String(80), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('kept_at', sa.DateTime(timezone=True), nullable=False,
                  comment="Kept, or kept again: the sweep spares a file this recent"),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_evidence_blobs')),
    )
    op.create_table(
        'evidence_blob_chunks',
        sa.Column('name', sa.String(80), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['name'], ['evidence_blobs.name'], name=op.f('fk_evidence_blob_chunks_name_evidence_blobs'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('name', 'seq', name=op.f('pk_evidence_blob_chunks')),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('evidence_blob_chunks')
    op.drop_table('evidence_blobs')
