"""Retention: positions older than a day are removed whole, after what records still need of them is kept.

On PostgreSQL each day of positions is a partition (:mod:`peacewatch.core.partitions`), so pruning
drops whole tables: instant, whatever their size, and the space goes back to the file system at once.
On SQLite the rows are deleted tracker by tracker along the primary key, in chunks of at most
``CHUNK`` rows, each its own short transaction, so ingest waits a fraction of a second at most; then
the freed pages are given back to the file system (``PRAGMA incremental_vacuum``) when the database
was made with ``auto_vacuum=INCREMENTAL`` (every database PeaceWatch creates is).

Evidence first: ``keepers`` (functions of the capabilities whose records refer to positions, such
as the patrols' tracks) copy what they need and commit before a single row is removed. An alert
keeps its own fix. Every prune is audited: who, up to when, how many rows and which partitions.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from peacewatch.core import audit, partitions
from peacewatch.core.partitions import DAY_MS
from peacewatch.core.problems import Invalid
from peacewatch.tracking.models import Tracker
from peacewatch.tracking.service import writer_turn
from peacewatch.tracking.store import POSITIONS

CHUNK = 20_000
VACUUM_PAGES = 2_000  # about 8 MB given back per step
PAUSE_S = 0.1
Keeper = Callable[[Session, int], int]

log = logging.getLogger(__name__)


@dataclass
class PruneReport:
    before: datetime
    positions: int = 0
    partitions: list[str] = field(default_factory=list)
    kept: int = 0
    bytes_freed: int = 0


def prune_positions(session: Session, actor: str, before: datetime, keepers: Sequence[Keeper]) -> PruneReport:
    """Remove every position before ``before`` (the start of a UTC day), once ``keepers`` kept their evidence."""
    before_ms = int(before.timestamp() * 1000)
    if before_ms % DAY_MS:
        raise Invalid("positions are pruned by whole days: give the start of a day (UTC)", field="before")
    report = PruneReport(before=before)
    for keep in keepers:
        report.kept += keep(session, before_ms)
    session.commit()
    connection = session.connection()
    if partitions.is_partitioned(connection):
        _drop_days(session, before_ms, report)
    else:
        _delete_in_chunks(session, before_ms, report)
    audit.record(session, actor, "positions", f"before {before:%Y-%m-%d}", {
        "before": before.isoformat(), "positions": report.positions, "partitions": report.partitions,
        "tracks_kept": report.kept, "bytes_freed": report.bytes_freed}, action=audit.AuditAction.delete)
    session.commit()
    log.info("positions before %s pruned by %s: %d positions, %d partitions, %d tracks kept, %d bytes freed",
             f"{before:%Y-%m-%d}", actor, report.positions, len(report.partitions), report.kept, report.bytes_freed)
    return report


def _drop_days(session: Session, before_ms: int, report: PruneReport) -> None:
    connection = session.connection()
    engine = connection.engine
    old = [(name, start, end) for name, start, end in partitions.partitions(connection, POSITIONS) if end <= before_ms]
    for name, _start, _end in old:
        report.positions += int(connection.exec_driver_sql(f'SELECT count(*) FROM "{name}"').scalar_one())
        report.bytes_freed += int(connection.exec_driver_sql(f"SELECT pg_total_relation_size('\"{name}\"')").scalar_one())
    session.commit()  # no lock held on positions while the partitions are dropped
    for name, _start, _end in old:
        if partitions.drop(engine, POSITIONS, name):
            report.partitions.append(name)


def _delete_in_chunks(session: Session, before_ms: int, report: PruneReport) -> None:
    """Delete along the primary key, tracker after tracker, at most ``CHUNK`` rows a transaction, then
    pause as long as the transaction took (and at least ``PAUSE_S``): writers of this process, and
    those of another process in SQLite's busy wait, get their turn between two chunks."""
    pages_before = _pages(session)
    trackers = list(session.scalars(select(Tracker.id).order_by(Tracker.id)))
    session.commit()
    bound = text("SELECT t_ms FROM positions WHERE tracker_id = :tracker AND t_ms < :before ORDER BY t_ms LIMIT 1 OFFSET :skip")
    delete = text("DELETE FROM positions WHERE tracker_id = :tracker AND t_ms <= :last")
    while trackers:
        budget = CHUNK
        with _turn(session):
            while trackers and budget > 0:
                last = session.execute(bound, {"tracker": trackers[0], "before": before_ms, "skip": budget - 1}).scalar()
                last = before_ms - 1 if last is None else int(last)
                removed = session.execute(delete, {"tracker": trackers[0], "last": last}).rowcount  # type: ignore[attr-defined]  # a DELETE's Result is a CursorResult, which has rowcount
                report.positions += removed
                budget -= removed
                if last == before_ms - 1:  # this tracker is done
                    trackers.pop(0)
            session.commit()
    engine = session.get_bind()
    incremental = session.connection().exec_driver_sql("PRAGMA auto_vacuum").scalar() == 2
    free = session.connection().exec_driver_sql("PRAGMA freelist_count").scalar() or 0
    session.commit()
    while incremental and free:
        raw = engine.raw_connection()  # type: ignore[union-attr]  # the SQLite engine always gives a DBAPI connection; SQLAlchemy types it optional
        try:
            with _turn(session):
                # executescript steps the pragma to its end (one page per step); execute() would free one page
                raw.driver_connection.executescript(f"PRAGMA incremental_vacuum({VACUUM_PAGES});")  # type: ignore[union-attr]  # the SQLite engine always gives a DBAPI connection; SQLAlchemy types it optional
            free = raw.driver_connection.execute("PRAGMA freelist_count").fetchone()[0]  # type: ignore[union-attr]  # the SQLite engine always gives a DBAPI connection; SQLAlchemy types it optional
        finally:
            raw.close()
    report.bytes_freed = max(0, pages_before - _pages(session))
    session.commit()


@contextmanager
def _turn(session: Session) -> Iterator[None]:
    """This process's writers' turn; when done, a pause as long as the turn took (at least ``PAUSE_S``,
    as long as SQLite's busy wait sleeps between tries), so that pruning takes at most half the time."""
    started = time.monotonic()
    with writer_turn(session):
        yield
    time.sleep(max(PAUSE_S, time.monotonic() - started))


def _pages(session: Session) -> int:
    """The database file's size in bytes, as SQLite counts it."""
    connection = session.connection()
    return int(connection.exec_driver_sql("PRAGMA page_count").scalar() or 0) * int(
        connection.exec_driver_sql("PRAGMA page_size").scalar() or 0)


def cutoff(now: datetime, keep_days: int) -> datetime:
    """The start of the UTC day ``keep_days`` whole days before ``now``'s: what a retention of that many days prunes before."""
    today = datetime(now.year, now.month, now.day, tzinfo=UTC)
    return datetime.fromtimestamp(today.timestamp() - keep_days * 86_400, UTC)
