"""The position store: one idempotent bulk insert, the same call on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

COLUMNS = ("tracker_id", "t_ms", "lat", "lon", "alt", "speed", "heading", "accuracy", "cell", "zone_id")
_INSERT = (
    f"INSERT INTO positions ({', '.join(COLUMNS)}) VALUES ({', '.join(['?'] * len(COLUMNS))}) "
    "ON CONFLICT (tracker_id, t_ms) DO NOTHING"
)


def insert_positions(session: Session, rows: Iterable[tuple[Any, ...]]) -> int:
    """Insert rows not yet stored; return how many were new (a resend of (tracker, time) is ignored).

    Goes to the driver's executemany directly: building ORM objects or SQLAlchemy parameter
    dicts would cost more than the insert itself at 100,000 rows a second.
    """
    connection = session.connection()
    dbapi = connection.connection.driver_connection
    cursor = dbapi.cursor()  # type: ignore[union-attr]
    try:
        if connection.dialect.name == "postgresql":
            cursor.executemany(_INSERT.replace("?", "%s"), rows)
        else:
            cursor.executemany(_INSERT, rows)
        return max(int(cursor.rowcount), 0)  # -1 when nothing was executed
    finally:
        cursor.close()


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
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(sql.replace("?", "%s") if connection.dialect.name == "postgresql" else sql, rows)
    finally:
        cursor.close()


def track_coordinates(session: Session, tracker: int, since_ms: int, until_ms: int) -> list[tuple[float, float]]:
    """The tracker's fixes in [since, until] as (lon, lat), oldest first, straight from the driver: a map's
    refresh reads thousands of them, and any object made per fix would cost more than the query."""
    connection = session.connection()
    sql = "SELECT lon, lat FROM positions WHERE tracker_id = ? AND t_ms >= ? AND t_ms <= ? ORDER BY t_ms"
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql.replace("?", "%s") if connection.dialect.name == "postgresql" else sql, (tracker, since_ms, until_ms))
        return cursor.fetchall()  # type: ignore[no-any-return]
    finally:
        cursor.close()


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
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(sql.replace("?", "%s") if connection.dialect.name == "postgresql" else sql, rows)
    finally:
        cursor.close()
