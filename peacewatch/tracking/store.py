"""The position store: one idempotent bulk insert (``INSERT ... ON CONFLICT DO NOTHING`` on SQLite,
binary ``COPY`` on PostgreSQL, into the day's partition), the coverage it adds, and bulk reads for the map."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import chain, repeat
from typing import Any

import numpy as np
import psycopg
from sqlalchemy.orm import Session

from peacewatch.core import partitions
from peacewatch.core.db import FixedDegrees
from peacewatch.core.geo import NO_ZONE
from peacewatch.core.partitions import TimePartitioning
from peacewatch.tracking.pgcopy import Field, binary_copy

POSITIONS = TimePartitioning("positions", "t_ms", "day")
COVERAGE = TimePartitioning("coverage", "hour_ms", "month")
COLUMNS = ("t_ms", "tracker_id", "lat", "lon", "zone_id", "alt", "speed", "heading", "accuracy")
_INSERT = (
    f"INSERT INTO positions ({', '.join(COLUMNS)}) VALUES ({', '.join(['?'] * len(COLUMNS))}) "
    "ON CONFLICT (tracker_id, t_ms) DO NOTHING"
)
_COPY = f"COPY {{table}} ({', '.join(COLUMNS)}) FROM STDIN (FORMAT BINARY)"
_STAGING = "CREATE TEMP TABLE IF NOT EXISTS positions_incoming (LIKE positions) ON COMMIT DELETE ROWS"


@dataclass
class PreparedBatch:
    """A batch ready for the store, sorted by (tracker, time): the store's key order and the alert engine's.

    Key order also makes the insert append to each tracker's run of the B-tree (1.35x faster on SQLite).
    Optional measures are NaN where the device sent none; ``zone`` is ``NO_ZONE`` outside every area.
    """

    tracker: np.ndarray
    t_ms: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    optional: list[np.ndarray]  # alt, speed, heading, accuracy
    cell: np.ndarray
    zone: np.ndarray
    lat_fixed: np.ndarray = field(init=False)
    lon_fixed: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.lat_fixed = np.rint(self.lat * FixedDegrees.SCALE).astype(np.int64)
        self.lon_fixed = np.rint(self.lon * FixedDegrees.SCALE).astype(np.int64)

    def rows(self) -> Iterator[tuple[Any, ...]]:
        """Rows for SQLite's driver, made as it binds them: a list of millions of tuples is never built."""
        zone_ids = [None if z == NO_ZONE else z for z in self.zone.tolist()]
        return zip(self.t_ms.tolist(), self.tracker.tolist(), self.lat_fixed.tolist(), self.lon_fixed.tolist(), zone_ids,
                   *(_nullable(values) for values in self.optional))

    def copy_data(self) -> bytes:
        """The batch in PostgreSQL's binary COPY format, built with array operations."""
        alt, speed, heading, accuracy = self.optional
        return binary_copy(len(self.t_ms), [
            Field(self.t_ms, ">i8"), Field(self.tracker, ">i4"), Field(self.lat_fixed, ">i4"), Field(self.lon_fixed, ">i4"),
            Field(self.zone, ">i4", self.zone == NO_ZONE),
            *(Field(values, ">f8", np.isnan(values)) for values in (alt, speed, heading, accuracy)),
        ])


def _nullable(values: np.ndarray) -> Iterable[float | None]:
    """NaN as NULL; a column with no value at all costs nothing to bind."""
    missing = np.isnan(values)
    if missing.all():
        return repeat(None, len(values))
    if not missing.any():
        return values.tolist()
    return [None if m else v for m, v in zip(missing.tolist(), values.tolist())]


def make_room(session: Session, lo_ms: int, hi_ms: int) -> None:
    """On PostgreSQL, partitions for the days (positions) and months (coverage) from ``lo_ms`` to ``hi_ms``."""
    connection = session.connection()
    if partitions.is_partitioned(connection):
        for spec in (POSITIONS, COVERAGE):
            partitions.ensure(connection, connection.engine, spec, lo_ms, hi_ms)


def insert_positions(session: Session, batch: PreparedBatch) -> int:
    """Insert rows not yet stored; return how many were new (a resend of (tracker, time) is ignored).

    SQLite: the driver's executemany, straight. PostgreSQL: ``COPY`` in binary, straight into the table;
    only if some rows were stored before (a resend) is the batch copied to a staging table and moved
    with ``ON CONFLICT DO NOTHING`` (three times slower, but resends are the exception). The batch's
    trackers are locked by the caller, so no other transaction writes the same keys meanwhile.
    """
    connection = session.connection()
    dbapi = connection.connection.driver_connection
    if connection.dialect.name != "postgresql":
        cursor = dbapi.cursor()  # type: ignore[union-attr]  # a checked-out connection always has its DBAPI connection; SQLAlchemy types it optional
        try:
            cursor.executemany(_INSERT, batch.rows())
            return max(int(cursor.rowcount), 0)  # -1 when nothing was executed
        finally:
            cursor.close()
    if not len(batch.t_ms):
        return 0
    make_room(session, int(batch.t_ms.min()), int(batch.t_ms.max()))
    data = batch.copy_data()
    with dbapi.cursor() as cursor:  # type: ignore[union-attr]  # a checked-out connection always has its DBAPI connection; SQLAlchemy types it optional
        cursor.execute("SAVEPOINT positions_copy")
        try:
            with cursor.copy(_COPY.format(table="positions")) as copy:
                copy.write(data)
            cursor.execute("RELEASE SAVEPOINT positions_copy")
            return len(batch.t_ms)
        except psycopg.errors.UniqueViolation:
            cursor.execute("ROLLBACK TO SAVEPOINT positions_copy")
        cursor.execute(_STAGING)
        with cursor.copy(_COPY.format(table="positions_incoming")) as copy:
            copy.write(data)
        cursor.execute(f"INSERT INTO positions ({', '.join(COLUMNS)}) SELECT {', '.join(COLUMNS)} FROM positions_incoming "
                       "ON CONFLICT (tracker_id, t_ms) DO NOTHING")
        stored = max(int(cursor.rowcount), 0)
        cursor.execute("TRUNCATE positions_incoming")
        return stored


def upsert_rows(
    session: Session, table: str, columns: tuple[str, ...], key: tuple[str, ...], rows: list[tuple[Any, ...]],
    *, only_if: str = "",
) -> None:
    """Insert rows, or overwrite the ones whose ``key`` exists; ``only_if`` (SQL on ``{table}`` and
    ``excluded``) keeps a stored row that fails it unchanged. The same SQL runs on SQLite and PostgreSQL."""
    if not rows:
        return
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
    sql = (f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['?'] * len(columns))}) "
           f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}" + (f" WHERE {only_if}" if only_if else ""))
    connection = session.connection()
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]  # a checked-out connection always has its DBAPI connection; SQLAlchemy types it optional
    try:
        cursor.executemany(sql.replace("?", "%s") if connection.dialect.name == "postgresql" else sql, rows)
    finally:
        cursor.close()


def window_coordinates(session: Session, trackers: list[int], since_ms: int, until_ms: int) -> tuple[np.ndarray, np.ndarray]:
    """The trackers' fixes in [since, until], by tracker then time, as an array of tracker ids and one of
    (lon, lat) rows: one query for a whole map, not one per tracker."""
    if not trackers:
        return np.zeros(0, dtype=np.int64), np.zeros((0, 2))
    connection = session.connection()
    postgres = connection.dialect.name == "postgresql"
    which = "tracker_id = ANY(%s)" if postgres else f"tracker_id IN ({', '.join('?' * len(trackers))})"
    sql = (f"SELECT tracker_id, lon, lat FROM positions WHERE {which} AND t_ms >= {'%s' if postgres else '?'} "
           f"AND t_ms <= {'%s' if postgres else '?'} ORDER BY tracker_id, t_ms")
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]  # a checked-out connection always has its DBAPI connection; SQLAlchemy types it optional
    try:
        cursor.execute(sql, (trackers, since_ms, until_ms) if postgres else (*trackers, since_ms, until_ms))
        found = cursor.fetchall()
    finally:
        cursor.close()
    rows = np.fromiter(chain.from_iterable(found), dtype=np.int64, count=3 * len(found)).reshape(-1, 3)  # 2x np.array's speed
    return rows[:, 0], rows[:, 1:] / FixedDegrees.SCALE


HOUR_MS = 3_600_000


def add_coverage(session: Session, zone: np.ndarray, cell: np.ndarray, t_ms: np.ndarray) -> None:
    """Note the (area, hour, cell) the batch visited: a few hundred rows however large the batch.

    A row is only ever inserted, never updated: batches of many trackers arriving at once (from
    several server processes) would otherwise queue one behind the other on the same rows until
    each commits. Coverage asks only whether a cell was visited in a window.
    """
    inside = zone >= 0
    if not inside.any():
        return
    zone, hour, cell = zone[inside], t_ms[inside] // HOUR_MS * HOUR_MS, cell[inside]
    order = np.lexsort((cell, hour, zone))  # 4x faster than np.unique(axis=0) on the stacked keys
    zone, hour, cell = zone[order], hour[order], cell[order]
    first = np.ones(len(zone), dtype=bool)
    first[1:] = (zone[1:] != zone[:-1]) | (hour[1:] != hour[:-1]) | (cell[1:] != cell[:-1])
    rows = list(zip(zone[first].tolist(), hour[first].tolist(), cell[first].tolist()))
    connection = session.connection()
    sql = "INSERT INTO coverage (zone_id, hour_ms, cell) VALUES (?, ?, ?) ON CONFLICT (zone_id, hour_ms, cell) DO NOTHING"
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]  # a checked-out connection always has its DBAPI connection; SQLAlchemy types it optional
    try:
        cursor.executemany(sql.replace("?", "%s") if connection.dialect.name == "postgresql" else sql, rows)
    finally:
        cursor.close()


@dataclass
class Storage:
    """What the position store holds and what it costs on disk (table and primary key together)."""

    positions: int
    first: str | None
    last: str | None
    bytes: int
    partitions: int

    @property
    def bytes_per_position(self) -> float:
        return self.bytes / self.positions if self.positions else 0.0


def storage(session: Session) -> Storage:
    """Counted exactly (a scan of the key): for an administrator's look, not for a hot path."""
    connection = session.connection()
    count, first, last = connection.exec_driver_sql("SELECT count(*), min(t_ms), max(t_ms) FROM positions").one()
    def day(t_ms: int | None) -> str | None:
        return None if t_ms is None else datetime.fromtimestamp(t_ms / 1000, UTC).date().isoformat()
    if partitions.is_partitioned(connection):
        size, parts = connection.exec_driver_sql(
            "SELECT coalesce(sum(pg_total_relation_size(relid)), 0), count(*) FILTER (WHERE isleaf) "
            "FROM pg_partition_tree('positions')").one()
    else:
        size, parts = connection.exec_driver_sql("SELECT coalesce(sum(pgsize), 0), 0 FROM dbstat WHERE name = 'positions'").one()
    return Storage(int(count), day(first), day(last), int(size), int(parts))
