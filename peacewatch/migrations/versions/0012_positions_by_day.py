"""positions laid out for size (whole 10^-7 degrees, no H3 cell, no foreign key, time first); on PostgreSQL
positions partitioned by day and coverage by month; patrols' tracks kept before their positions are pruned

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 18:00:00

"""
from typing import Sequence, Union

import time

from alembic import op
import sqlalchemy as sa

from peacewatch.core.online_copy import OnlineCopy
from peacewatch.core.partitions import TimePartitioning

revision: str = '0012'
down_revision: Union[str, Sequence[str], None] = '0011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

POSITIONS = TimePartitioning("positions", "t_ms", "day")
COVERAGE = TimePartitioning("coverage", "hour_ms", "month")
SCALE = 10_000_000


def _positions(name: str) -> None:
    """The positions table of SQLite (one machine: rebuilt in one statement while its one process is stopped)."""
    op.create_table(name, *_position_columns(), sa.PrimaryKeyConstraint('tracker_id', 't_ms', name='pk_positions'),
                    sqlite_with_rowid=False)


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
    if postgres:
        with op.get_context().autocommit_block():  # what came before is committed; the copy commits batch by batch
            with op.get_bind().engine.connect() as connection:
                _online(connection)
        return
    # SQLite: one machine, one server process, stopped while it upgrades
    op.rename_table('positions', 'positions_old')
    _positions('positions')
    op.execute(f"INSERT INTO positions (t_ms, tracker_id, lat, lon, zone_id, alt, speed, heading, accuracy) "
               f"SELECT t_ms, tracker_id, CAST(round(lat * {SCALE}) AS INTEGER), CAST(round(lon * {SCALE}) AS INTEGER), "
               f"zone_id, alt, speed, heading, accuracy FROM positions_old")
    op.drop_table('positions_old')


def _online(connection: sa.Connection) -> None:
    """PostgreSQL: the new tables beside the old, filled while ingest goes on writing the old ones (a trigger repeats
    each new row), swapped in at the end in a transaction of a moment (core/online_copy). Run again after a failure,
    it starts each table afresh, or skips one already swapped."""
    now_ms = int(time.time() * 1000)
    positions = OnlineCopy('positions', 'positions_new',
                           ['t_ms', 'tracker_id', 'lat', 'lon', 'zone_id', 'alt', 'speed', 'heading', 'accuracy'],
                           ['$row.t_ms', '$row.tracker_id', f'CAST(round($row.lat * {SCALE}) AS INTEGER)',
                            f'CAST(round($row.lon * {SCALE}) AS INTEGER)', '$row.zone_id', '$row.alt', '$row.speed', '$row.heading',
                            '$row.accuracy'], key=['tracker_id', 't_ms'])
    coverage = OnlineCopy('coverage', 'coverage_new', ['zone_id', 'hour_ms', 'cell'], ['$row.zone_id', '$row.hour_ms', '$row.cell'],
                          key=['zone_id', 'hour_ms', 'cell'])
    tables = [
        (positions, POSITIONS, sa.Table('positions_new', sa.MetaData(), *_position_columns(),
                                        sa.PrimaryKeyConstraint('tracker_id', 't_ms', name='pk_positions_new'),
                                        postgresql_partition_by='RANGE (t_ms)')),
        (coverage, COVERAGE, sa.Table('coverage_new', sa.MetaData(),
                                      sa.Column('zone_id', sa.Integer(), nullable=False),
                                      sa.Column('hour_ms', sa.BigInteger(), nullable=False, comment='Start of the UTC hour, ms since 1970'),
                                      sa.Column('cell', sa.BigInteger(), nullable=False),
                                      sa.PrimaryKeyConstraint('zone_id', 'hour_ms', 'cell', name='pk_coverage_new'),
                                      postgresql_partition_by='RANGE (hour_ms)')),
    ]
    for copy, spec, table in tables:
        if copy.swapped(connection):
            continue
        table.create(connection)
        _partitions(connection, spec, copy.target, copy.source, now_ms)
        connection.commit()
        copy.mirror(connection)
        copy.copy(connection)
        copy.swap(connection, [f"ALTER TABLE {copy.source}_old RENAME CONSTRAINT pk_{copy.source} TO pk_{copy.source}_old",
                               f"ALTER TABLE {copy.target} RENAME CONSTRAINT pk_{copy.target} TO pk_{copy.source}"],
                  place_pending=lambda c, spec=spec, copy=copy: _partitions(c, spec, copy.target, copy.pending, None))


def _position_columns() -> list[sa.Column[object]]:
    return [
        sa.Column('t_ms', sa.BigInteger(), nullable=False, comment='UTC, milliseconds since 1970'),
        sa.Column('tracker_id', sa.Integer(), nullable=False),
        sa.Column('lat', sa.Integer(), nullable=False),
        sa.Column('lon', sa.Integer(), nullable=False),
        sa.Column('zone_id', sa.Integer(), nullable=True, comment='Area of responsibility it fell in'),
        sa.Column('alt', sa.Float(), nullable=True),
        sa.Column('speed', sa.Float(), nullable=True, comment='m/s'),
        sa.Column('heading', sa.Float(), nullable=True, comment='degrees from true north'),
        sa.Column('accuracy', sa.Float(), nullable=True, comment='metres, horizontal'),
    ]


def _partitions(connection: sa.Connection, spec: TimePartitioning, table: str, source: str, now_ms: int | None) -> None:
    """A partition of ``table`` for each period the rows of ``source`` fall in (a mission's days: a few hundred at
    most), and for the days around ``now_ms`` that ingest writes while the copy runs; those that exist are kept."""
    column = spec.column
    starts = {spec.start_of(t) for (t,) in connection.exec_driver_sql(f"SELECT DISTINCT {column} / 3600000 * 3600000 FROM {source}")}
    if now_ms is not None:
        starts |= {spec.start_of(now_ms + day * 86_400_000) for day in (-1, 0, 1, 2)}
    for start in sorted(starts):
        connection.exec_driver_sql(f'CREATE TABLE IF NOT EXISTS "{spec.name(start)}" PARTITION OF "{table}" '
                                   f"FOR VALUES FROM ({start}) TO ({spec.end_of(start)})")


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
