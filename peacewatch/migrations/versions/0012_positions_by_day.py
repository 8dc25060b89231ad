"""positions laid out for size (whole 10^-7 degrees, no H3 cell, no foreign key, time first); on PostgreSQL
positions partitioned by day and coverage by month; patrols' tracks kept before their positions are pruned

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 18:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

from peacewatch.core.partitions import TimePartitioning

revision: str = '0012'
down_revision: Union[str, Sequence[str], None] = '0011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

POSITIONS = TimePartitioning("positions", "t_ms", "day")
COVERAGE = TimePartitioning("coverage", "hour_ms", "month")
SCALE = 10_000_000


def _positions(name: str, partitioned: bool) -> None:
    op.create_table(
        name,
        sa.Column('t_ms', sa.BigInteger(), nullable=False, comment='UTC, milliseconds since 1970'),
        sa.Column('tracker_id', sa.Integer(), nullable=False),
        sa.Column('lat', sa.Integer(), nullable=False),
        sa.Column('lon', sa.Integer(), nullable=False),
        sa.Column('zone_id', sa.Integer(), nullable=True, comment='Area of responsibility it fell in'),
        sa.Column('alt', sa.Float(), nullable=True),
        sa.Column('speed', sa.Float(), nullable=True, comment='m/s'),
        sa.Column('heading', sa.Float(), nullable=True, comment='degrees from true north'),
        sa.Column('accuracy', sa.Float(), nullable=True, comment='metres, horizontal'),
        sa.PrimaryKeyConstraint('tracker_id', 't_ms', name='pk_positions'),
        sqlite_with_rowid=False,
        **({'postgresql_partition_by': 'RANGE (t_ms)'} if partitioned else {}),
    )


def _partitions_for(spec: TimePartitioning, source: str) -> None:
    """A partition for each period the rows of ``source`` fall in (a mission's days: a few hundred at most)."""
    bind = op.get_bind()
    starts = {spec.start_of(t) for (t,) in bind.exec_driver_sql(f"SELECT DISTINCT {spec.column} / 3600000 * 3600000 FROM {source}")}
    for start in sorted(starts):
        op.execute(f'CREATE TABLE "{spec.name(start)}" PARTITION OF "{spec.table}" '
                   f"FOR VALUES FROM ({start}) TO ({spec.end_of(start)})")


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        'kept_tracks',
        sa.Column('patrol_id', sa.Integer(), nullable=False),
        sa.Column('tracker_id', sa.Integer(), nullable=False),
        sa.Column('kept_until_ms', sa.BigInteger(), nullable=False, comment='Positions before this time were pruned after the copy'),
        sa.Column('fixes', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['patrol_id'], ['patrols.id'], name=op.f('fk_kept_tracks_patrol_id_patrols'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['tracker_id'], ['trackers.id'], name=op.f('fk_kept_tracks_tracker_id_trackers'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('patrol_id', 'tracker_id', name=op.f('pk_kept_tracks')),
    )
    op.rename_table('positions', 'positions_old')
    if postgres:
        op.execute("ALTER TABLE positions_old RENAME CONSTRAINT pk_positions TO pk_positions_old")
    _positions('positions', partitioned=postgres)
    if postgres:
        _partitions_for(POSITIONS, 'positions_old')
    op.execute(f"INSERT INTO positions (t_ms, tracker_id, lat, lon, zone_id, alt, speed, heading, accuracy) "
               f"SELECT t_ms, tracker_id, CAST(round(lat * {SCALE}) AS INTEGER), CAST(round(lon * {SCALE}) AS INTEGER), "
               f"zone_id, alt, speed, heading, accuracy FROM positions_old")
    op.drop_table('positions_old')
    if postgres:
        op.rename_table('coverage', 'coverage_old')
        op.execute("ALTER TABLE coverage_old RENAME CONSTRAINT pk_coverage TO pk_coverage_old")
        op.create_table(
            'coverage',
            sa.Column('zone_id', sa.Integer(), nullable=False),
            sa.Column('hour_ms', sa.BigInteger(), nullable=False, comment='Start of the UTC hour, ms since 1970'),
            sa.Column('cell', sa.BigInteger(), nullable=False),
            sa.PrimaryKeyConstraint('zone_id', 'hour_ms', 'cell', name='pk_coverage'),
            postgresql_partition_by='RANGE (hour_ms)',
        )
        _partitions_for(COVERAGE, 'coverage_old')
        op.execute("INSERT INTO coverage (zone_id, hour_ms, cell) SELECT zone_id, hour_ms, cell FROM coverage_old")
        op.drop_table('coverage_old')


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.drop_table('kept_tracks')
    op.rename_table('positions', 'positions_new')
    if postgres:
        op.execute("ALTER TABLE positions_new RENAME CONSTRAINT pk_positions TO pk_positions_new")
    op.create_table(
        'positions',
        sa.Column('tracker_id', sa.Integer(), nullable=False),
        sa.Column('t_ms', sa.BigInteger(), nullable=False),
        sa.Column('lat', sa.Float(), nullable=False),
        sa.Column('lon', sa.Float(), nullable=False),
        sa.Column('alt', sa.Float(), nullable=True),
        sa.Column('speed', sa.Float(), nullable=True),
        sa.Column('heading', sa.Float(), nullable=True),
        sa.Column('accuracy', sa.Float(), nullable=True),
        sa.Column('cell', sa.BigInteger(), nullable=False),
        sa.Column('zone_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['tracker_id'], ['trackers.id'], name='fk_positions_tracker_id_trackers', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('tracker_id', 't_ms', name='pk_positions'),
        sqlite_with_rowid=False,
    )
    # the H3 cell is not kept any more: 0 marks it unknown
    op.execute(f"INSERT INTO positions (tracker_id, t_ms, lat, lon, alt, speed, heading, accuracy, cell, zone_id) "
               f"SELECT tracker_id, t_ms, lat * 1.0 / {SCALE}, lon * 1.0 / {SCALE}, alt, speed, heading, accuracy, 0, zone_id "
               f"FROM positions_new")
    op.drop_table('positions_new')
