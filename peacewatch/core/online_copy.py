"""Rebuilding a table that grows while its writers go on writing (PostgreSQL): the migrations' online copy.

Copying a year of positions into a new layout in one statement holds the table for as long as the copy
takes, and every batch of fixes waits behind it. Instead, as the PostgreSQL community does it (pg_repack,
pgroll, GitLab's batched background migrations):

1. the new table is made beside the old one, and a trigger on the old one repeats every row written from
   then on into the new one (converted the same way);
2. what was there before is copied in batches along the primary key, each batch a transaction of its own,
   so a writer never waits for more than one batch's locks, and those take no lock a writer needs;
3. at the end, one short transaction takes the old table, drops the trigger and swaps the names.

Every lock a writer could queue behind is asked for with a ``lock_timeout`` of ``LOCK_WAIT``: if it is not
granted at once, the migration backs off and asks again, so writers never wait behind it for longer than that.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError

log = logging.getLogger("peacewatch.migrations")

LOCK_WAIT = "500ms"
Step = str | Callable[[Connection], None]  # a statement, or a function running its own in the transaction
BATCH_ROWS = 20_000


@dataclass(frozen=True)
class OnlineCopy:
    """``source`` rebuilt as ``target`` (already made, empty, with its partitions): ``columns`` of the target, and for
    each the SQL expression that makes it from a source row (``s.`` names the source row in the copy, ``NEW.`` in
    the trigger); ``key``: the source's primary key, along which batches go."""

    source: str
    target: str
    columns: Sequence[str]
    expressions: Sequence[str]
    key: Sequence[str]

    def _select(self, row: str) -> str:
        return ", ".join(expression.replace("$row", row) for expression in self.expressions)

    @property
    def trigger(self) -> str:
        return f"{self.source}_to_{self.target}"

    @property
    def pending(self) -> str:
        """Rows the trigger could not place (a partitioned target with no partition for them yet)."""
        return f"{self.target}_pending"

    def swapped(self, connection: Connection) -> bool:
        """Whether an earlier run got as far as the swap (the source is then the partitioned new table); what a run
        that stopped before left behind (trigger, new and pending tables, the old table) is dropped either way,
        so a failed upgrade is simply run again."""
        done = connection.exec_driver_sql(
            f"SELECT relkind = 'p' FROM pg_class WHERE relname = '{self.source}' AND relnamespace = 'public'::regnamespace").scalar()
        statements = [f"DROP TABLE IF EXISTS {self.source}_old"] if done else [
            f"DROP TRIGGER IF EXISTS {self.trigger} ON {self.source}", f"DROP FUNCTION IF EXISTS {self.trigger}()",
            f"DROP TABLE IF EXISTS {self.pending}", f"DROP TABLE IF EXISTS {self.target}"]
        with_lock_wait(connection, *statements)
        return bool(done)

    def mirror(self, connection: Connection) -> None:
        """The trigger that repeats every row written into the source from now on into the target."""
        columns = ", ".join(self.columns)
        key = " AND ".join(f"{column} = OLD.{column}" for column in self.key)
        connection.exec_driver_sql(f"CREATE TABLE {self.pending} (LIKE {self.target} INCLUDING DEFAULTS)")
        connection.exec_driver_sql(f"""
            CREATE OR REPLACE FUNCTION {self.trigger}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'DELETE' THEN
                    DELETE FROM {self.target} WHERE {key};
                    RETURN OLD;
                END IF;
                BEGIN
                    INSERT INTO {self.target} ({columns}) VALUES ({self._select("NEW")}) ON CONFLICT DO NOTHING;
                EXCEPTION WHEN check_violation THEN  -- no partition for its period yet: kept aside until the swap
                    INSERT INTO {self.pending} ({columns}) VALUES ({self._select("NEW")});
                END;
                RETURN NEW;
            END $$""")
        with_lock_wait(connection, f"CREATE TRIGGER {self.trigger} AFTER INSERT OR DELETE ON {self.source} "
                                   f"FOR EACH ROW EXECUTE FUNCTION {self.trigger}()")

    def copy(self, connection: Connection, batch_rows: int | None = None) -> int:
        """Copy every row the source held before the trigger, a batch (one transaction) at a time; the rows copied."""
        batch_rows = batch_rows or BATCH_ROWS
        key = ", ".join(self.key)
        total = connection.exec_driver_sql(f"SELECT count(*) FROM {self.source}").scalar_one()
        columns = ", ".join(self.columns)
        last: tuple[object, ...] | None = None
        copied, reported = 0, 0
        while True:
            after = f"WHERE ({key}) > ({', '.join(['%s'] * len(self.key))})" if last is not None else ""
            bound = connection.exec_driver_sql(
                f"SELECT {key} FROM {self.source} {after} ORDER BY {key} OFFSET {batch_rows - 1} LIMIT 1", last or ()).first()
            upper = f"({key}) <= ({', '.join(['%s'] * len(self.key))})" if bound is not None else "TRUE"
            where = " AND ".join(part for part in (after.removeprefix("WHERE "), upper) if part)
            connection.exec_driver_sql(
                f"INSERT INTO {self.target} ({columns}) SELECT {self._select('s')} FROM {self.source} AS s WHERE {where} "
                "ON CONFLICT DO NOTHING", (*(last or ()), *(tuple(bound) if bound is not None else ())))
            connection.commit()
            copied = min(total, copied + batch_rows)
            if total and copied * 10 // total > reported:
                reported = copied * 10 // total
                log.info("%s: %d of about %d rows copied into the new layout", self.source, copied, total)
            if bound is None:
                return total
            last = tuple(bound)

    def swap(self, connection: Connection, renames: Sequence[str] = (),
             place_pending: Callable[[Connection], None] | None = None) -> None:
        """In one short transaction: the source taken (as soon as no writer holds it), its trigger dropped, the rows
        kept aside placed (``place_pending`` makes their partitions, in that transaction), the target given its name;
        ``renames``: further statements of that transaction (constraints' names)."""
        columns = ", ".join(self.columns)
        statements: list[Step] = [f"LOCK TABLE {self.source} IN ACCESS EXCLUSIVE MODE", f"DROP TRIGGER {self.trigger} ON {self.source}",
                      f"DROP FUNCTION {self.trigger}()", *([place_pending] if place_pending else []),
                      f"INSERT INTO {self.target} ({columns}) SELECT {columns} FROM {self.pending} ON CONFLICT DO NOTHING",
                      f"DROP TABLE {self.pending}", f"ALTER TABLE {self.source} RENAME TO {self.source}_old",
                      *renames, f"ALTER TABLE {self.target} RENAME TO {self.source}"]
        with_lock_wait(connection, *statements)
        with_lock_wait(connection, f"DROP TABLE {self.source}_old")  # its foreign key's lock on the referenced table too


def with_lock_wait(connection: Connection, *statements: Step, attempts: int = 600,
                   pause: Callable[[int], float] = lambda attempt: min(2.0, 0.05 * 2 ** min(attempt, 6))) -> None:
    """Run ``statements`` in one transaction whose locks are each waited for at most ``LOCK_WAIT``; when one is not
    granted in time (a long transaction holds the table), roll back, pause, and try again: the writers queued
    behind the request go on meanwhile."""
    for attempt in range(attempts):
        try:
            connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_WAIT}'")
            for statement in statements:
                if isinstance(statement, str):
                    connection.exec_driver_sql(statement)
                else:
                    statement(connection)
            connection.commit()
            return
        except OperationalError as exc:
            connection.rollback()
            if "lock timeout" not in str(exc):
                raise
            log.info("waiting for the writers before: %s (attempt %d)", str(statements[0])[:60], attempt + 1)
            time.sleep(pause(attempt))
    raise TimeoutError(f"could not take the lock for {str(statements[0])[:60]} in {attempts} attempts")
