"""evidence: files attached to records, kept by their SHA-256 (the bytes live in the blob store)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 00:11:15

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0019'
down_revision: Union[str, Sequence[str], None] = '0018'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('attachments',
    sa.Column('record_kind', sa.Enum('incident', 'verification', 'body', 'missing_person', 'recovery', 'handover', name='recordkind', native_enum=False, length=24), nullable=False),
    sa.Column('record_key', sa.String(length=64), nullable=False, comment="The record's id or number, as its API names it"),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('media_type', sa.String(length=64), nullable=False, comment="Told from the file's content, not its name"),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('caption', sa.Text(), nullable=False),
    sa.Column('added_by', sa.String(length=120), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('captured_at', sa.DateTime(timezone=True), nullable=True, comment='When the device says it was taken'),
    sa.Column('client_id', sa.String(length=100), nullable=True, comment="The device's own name for the file"),
    sa.Column('exif_clock', sa.String(length=40), nullable=False, comment="The photo's own clock, as the camera wrote it"),
    sa.Column('exif_taken_at', sa.DateTime(timezone=True), nullable=True, comment='That moment in UTC, if the offset was written'),
    sa.Column('exif_lat', sa.Float(), nullable=True),
    sa.Column('exif_lon', sa.Float(), nullable=True),
    sa.Column('thumbnail_sha256', sa.String(length=64), nullable=True),
    sa.Column('public', sa.Boolean(), nullable=False, comment='May appear in public copies (without EXIF)'),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments')),
    sa.UniqueConstraint('record_kind', 'record_key', 'sha256', name='uq_attachments_record_file')
    )
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachments_sha256'), ['sha256'], unique=False)



def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachments_sha256'))

    op.drop_table('attachments')
