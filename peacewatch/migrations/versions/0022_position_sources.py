"""a tracker's positions come only from the sources bound to it (users, device tokens, TAK certificates), the roles
allowed to report for it, or anonymous CoT when it takes it; a drone's controller reports for it. TAK markers are
kept by sender and uid, so nobody's client replaces another's marker.

Trackers registered before this revision keep taking the positions of patrol devices (report roles operations and
patrol): an upgrade strands no field device. Bind each device, then take patrol out of the roles.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 09:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0022'
down_revision: Union[str, Sequence[str], None] = '0021'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('trackers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bound_users', sa.JSON(), nullable=False, server_default='[]',
                                      comment='Usernames whose devices report for it'))
        batch_op.add_column(sa.Column('bound_tokens', sa.JSON(), nullable=False, server_default='[]',
                                      comment='Device API tokens (ids) that report for it'))
        batch_op.add_column(sa.Column('bound_certificates', sa.JSON(), nullable=False, server_default='[]',
                                      comment='TAK client certificates (SHA-256) that report for it'))
        batch_op.add_column(sa.Column('report_roles', sa.JSON(), nullable=False, server_default='["operations", "patrol"]',
                                      comment='Roles that may report for it, whoever is bound'))
        batch_op.add_column(sa.Column('anonymous_input', sa.Boolean(), nullable=False, server_default=sa.false(),
                                      comment='Takes positions from anonymous CoT (TCP, UDP)'))
        batch_op.add_column(sa.Column('controller_id', sa.Integer(), nullable=True,
                                      comment="The device that controls it (a drone's ATAK): its sources report for it too"))
        batch_op.create_foreign_key(batch_op.f('fk_trackers_controller_id_trackers'), 'trackers', ['controller_id'], ['id'],
                                    ondelete='SET NULL')
    with op.batch_alter_table('trackers', schema=None) as batch_op:  # the defaults were for the rows already there
        for column in ('bound_users', 'bound_tokens', 'bound_certificates', 'report_roles', 'anonymous_input'):
            batch_op.alter_column(column, server_default=None)
    with op.batch_alter_table('tak_reports', schema=None) as batch_op:
        batch_op.drop_constraint('uq_tak_reports_uid', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_tak_reports_sent_by'), ['sent_by', 'uid'])


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('tak_reports', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_tak_reports_sent_by'), type_='unique')
        batch_op.create_unique_constraint('uq_tak_reports_uid', ['uid'])
    with op.batch_alter_table('trackers', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_trackers_controller_id_trackers'), type_='foreignkey')
        for column in ('controller_id', 'anonymous_input', 'report_roles', 'bound_certificates', 'bound_tokens', 'bound_users'):
            batch_op.drop_column(column)
