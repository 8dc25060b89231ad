"""Tables partitioned by time on PostgreSQL: a partition per day (or month), made before it is needed,
dropped whole when its data ages out.

PostgreSQL has no partition for a row until someone creates it, so every writer asks
:func:`ensure` for the span of its batch: a catalogue look-up that finds them all present, except
for a backfill of days long past or the first batch after midnight when the periodic work
(:func:`make_ahead`) did not run. A partition is created on a connection of its own, outside the
writer's transaction (which holds no lock on the table yet, so cannot deadlock with it), under an
advisory lock so that two processes do not race, and with a lock timeout so that a busy table
makes the creator retry instead of queueing every other writer behind it.

SQLite tables are not partitioned: every function here does nothing there.
"""

from __future__ import annotations

import re
import time
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import OperationalError

DAY_MS = 86_400_000
LOCK_TIMEOUT = "1s"
ATTEMPTS = 30


@dataclass(frozen=True)
class TimePartitioning:
    """``table`` is partitioned by range of ``column`` (milliseconds since 1970, UTC), a partition per ``period``."""

    table: str
    column: str
    period: Literal["day", "month"]

    def start_of(self, t_ms: int) -> int:
        """Start of the period holding ``t_ms``."""
        if self.period == "day":
            return t_ms // DAY_MS * DAY_MS
        moment = datetime.fromtimestamp(t_ms / 1000, UTC)
        return int(datetime(moment.year, moment.month, 1, tzinfo=UTC).timestamp() * 1000)

    def end_of(self, start_ms: int) -> int:
        """End (exclusive) of the period starting at ``start_ms``."""
        if self.period == "day":
            return start_ms + DAY_MS
        moment = datetime.fromtimestamp(start_ms / 1000, UTC)
        year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
        return int(datetime(year, month, 1, tzinfo=UTC).timestamp() * 1000)

    def name(self, start_ms: int) -> str:
        moment = datetime.fromtimestamp(start_ms / 1000, UTC)
        return f"{self.table}_p{moment:%Y%m%d}" if self.period == "day" else f"{self.table}_p{moment:%Y%m}"

    def spans(self, lo_ms: int, hi_ms: int) -> list[tuple[int, int]]:
        """The periods, as [start, end), that rows from ``lo_ms`` to ``hi_ms`` (inclusive) fall in."""
        spans, start = [], self.start_of(lo_ms)
        while start <= hi_ms:
            end = self.end_of(start)
            spans.append((start, end))
            start = end
        return spans


def is_partitioned(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


def missing(connection: Connection, spec: TimePartitioning, lo_ms: int, hi_ms: int) -> list[tuple[int, int]]:
    """The periods from ``lo_ms`` to ``hi_ms`` that have no partition yet (one catalogue query)."""
    if not is_partitioned(connection):
        return []
    spans = spec.spans(lo_ms, hi_ms)
    names = [spec.name(start) for start, _ in spans]
    absent = set(connection.execute(text("SELECT n FROM unnest(CAST(:names AS text[])) AS n WHERE to_regclass(n) IS NULL"),
                                    {"names": names}).scalars())
    return [span for span, name in zip(spans, names) if name in absent]


def ensure(connection: Connection, engine: Engine, spec: TimePartitioning, lo_ms: int, hi_ms: int) -> list[str]:
    """Make sure every row from ``lo_ms`` to ``hi_ms`` has a partition to go to; the names created.

    ``connection`` only looks (it may be a writer's, inside its transaction); creation goes through
    ``engine`` on a connection of its own."""
    spans = missing(connection, spec, lo_ms, hi_ms)
    return create(engine, spec, spans) if spans else []


def create(engine: Engine, spec: TimePartitioning, spans: list[tuple[int, int]]) -> list[str]:
    created = []
    for start, end in spans:
        name = spec.name(start)
        sql = (f'CREATE TABLE IF NOT EXISTS "{name}" PARTITION OF "{spec.table}" '
               f"FOR VALUES FROM ({start}) TO ({end})")
        if _with_table_lock(engine, spec.table, sql):
            created.append(name)
    return created


def make_ahead(engine: Engine, spec: TimePartitioning, now_ms: int, periods: int) -> list[str]:
    """The partitions from the current period to ``periods`` ahead (run by the cluster's periodic work),
    so that writers at the turn of a day find theirs made."""
    if engine.dialect.name != "postgresql":
        return []
    start = spec.start_of(now_ms)
    end = start
    for _ in range(periods):
        end = spec.end_of(end)
    with engine.connect() as connection:
        spans = missing(connection, spec, start, end)
    return create(engine, spec, spans)


def partitions(connection: Connection, spec: TimePartitioning) -> list[tuple[str, int, int]]:
    """Each partition of the table as (name, start, end), oldest first."""
    if not is_partitioned(connection):
        return []
    rows = connection.execute(text(
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = CAST(:table AS regclass)"), {"table": spec.table}).all()
    found = []
    for name, bound in rows:  # FOR VALUES FROM ('1605312000000') TO ('1605398400000')
        start, end = (int(number) for number in re.findall(r"\d+", bound))
        found.append((name, start, end))
    return sorted(found, key=lambda row: row[1])


def drop(engine: Engine, spec: TimePartitioning, name: str) -> bool:
    """Drop one partition whole (its rows with it): a moment's exclusive lock on the table, taken
    only when no writer holds it for long."""
    return _with_table_lock(engine, spec.table, f'DROP TABLE IF EXISTS "{name}"')


def _with_table_lock(engine: Engine, table: str, sql: str) -> bool:
    """Run DDL that locks ``table`` exclusively: one process at a time (advisory lock on the table's
    name), giving up on the lock after a second and trying again, so writers wait at most that long."""
    key = zlib.crc32(f"peacewatch partitions {table}".encode())
    for attempt in range(ATTEMPTS):
        try:
            with engine.connect() as connection, connection.begin():
                connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
                connection.exec_driver_sql(sql)
            return True
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) != "55P03" or attempt == ATTEMPTS - 1:  # lock_not_available
                raise
            time.sleep(0.05 * (attempt + 1))
    return False
