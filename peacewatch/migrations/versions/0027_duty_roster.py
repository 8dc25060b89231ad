"""the duty roster and the escalation of alerts: shifts, policies, the steps taken for each alert (once each), the
delivery outbox of notices, webhooks; a user's e-mail address and language for the messages sent to them

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 13:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0027'
down_revision: Union[str, Sequence[str], None] = '0026'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('email', sa.String(254), nullable=True, comment="Where alerts reach this person by e-mail (duty roster)"))
        batch.add_column(sa.Column('language', sa.String(8), nullable=True,
                                   comment="The language of the messages sent to this person (en, ru)"))
    op.create_table(
        'duty_shifts',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('username', sa.String(64), sa.ForeignKey('users.username', ondelete='CASCADE'), nullable=False),
        sa.Column('duty', sa.String(32), nullable=False),
        sa.Column('post_id', sa.Integer(), sa.ForeignKey('posts.id', ondelete='CASCADE'), nullable=True),
        sa.Column('starts_at', UTC, nullable=False),
        sa.Column('ends_at', UTC, nullable=False),
        sa.Column('note', sa.String(500), nullable=False),
        sa.CheckConstraint('ends_at > starts_at', name='shift_ends_after_it_starts'),
        sa.CheckConstraint("(duty = 'post_commander') = (post_id IS NOT NULL)", name='post_commander_has_post'),
    )
    op.create_index('ix_duty_shifts_username', 'duty_shifts', ['username'])
    op.create_index('ix_duty_shifts_when', 'duty_shifts', ['starts_at', 'ends_at'])
    op.create_table(
        'escalation_policies',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('name', sa.String(120), nullable=False, unique=True),
        sa.Column('rank', sa.Integer(), nullable=False, comment="The lower, the sooner it is tried against an alert"),
        sa.Column('kinds', sa.JSON(), nullable=False, comment="Alert kinds it covers; none: every kind"),
        sa.Column('max_priority', sa.Integer(), nullable=False, comment="Alerts of this priority or more urgent (1 is the most)"),
        sa.Column('steps', sa.JSON(), nullable=False),
        sa.Column('repeat_every_s', sa.Integer(), nullable=True, comment="The last step again, this often, until acknowledged"),
        sa.Column('active', sa.Boolean(), nullable=False),
    )
    op.create_table(
        'alert_steps',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('alert_id', sa.Integer(), sa.ForeignKey('alerts.id', ondelete='CASCADE'), nullable=False),
        sa.Column('policy_id', sa.Integer(), sa.ForeignKey('escalation_policies.id', ondelete='SET NULL'), nullable=True),
        sa.Column('step', sa.Integer(), nullable=False),
        sa.Column('round', sa.Integer(), nullable=False, comment="0 the first time; 1, 2... each repeat of the last step"),
        sa.Column('due_at', UTC, nullable=False),
        sa.Column('taken_at', UTC, nullable=False),
        sa.Column('told', sa.JSON(), nullable=False, comment="Who this step told (usernames), as the roster said then"),
        sa.UniqueConstraint('alert_id', 'step', 'round', name='uq_alert_steps_once'),
    )
    op.create_index('ix_alert_steps_alert_id', 'alert_steps', ['alert_id'])
    op.create_table(
        'notices',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('alert_id', sa.Integer(), sa.ForeignKey('alerts.id', ondelete='CASCADE'), nullable=False),
        sa.Column('step_id', sa.Integer(), sa.ForeignKey('alert_steps.id', ondelete='CASCADE'), nullable=False),
        sa.Column('recipient', sa.String(120), nullable=False, comment="A username, or a webhook's name"),
        sa.Column('channel', sa.String(16), nullable=False),
        sa.Column('address', sa.String(500), nullable=False, comment="The e-mail address or webhook URL it went to"),
        sa.Column('status', sa.String(16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', UTC, nullable=False),
        sa.Column('claimed_until', UTC, nullable=True),
        sa.Column('last_error', sa.Text(), nullable=False),
        sa.Column('message_uid', sa.String(200), nullable=False,
                  comment="The message's own id: GeoChat's messageId (its receipts name it), the e-mail's Message-ID"),
        sa.Column('created_at', UTC, nullable=False),
        sa.Column('sent_at', UTC, nullable=True),
        sa.Column('delivered_at', UTC, nullable=True),
        sa.Column('read_at', UTC, nullable=True),
        sa.UniqueConstraint('step_id', 'recipient', 'channel', name='uq_notices_once'),
    )
    op.create_index('ix_notices_alert_id', 'notices', ['alert_id'])
    op.create_index('ix_notices_due', 'notices', ['status', 'channel', 'next_attempt_at'])
    op.create_index('ix_notices_message_uid', 'notices', ['message_uid'])
    op.create_table(
        'webhooks',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('name', sa.String(120), nullable=False, unique=True),
        sa.Column('url', sa.String(500), nullable=False),
        sa.Column('secret', sa.String(200), nullable=False),
        sa.Column('kinds', sa.JSON(), nullable=False, comment="Alert kinds it is sent; none: every kind"),
        sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.text('true')),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('webhooks')
    op.drop_table('notices')
    op.drop_table('alert_steps')
    op.drop_table('escalation_policies')
    op.drop_table('duty_shifts')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('language')
        batch.drop_column('email')
