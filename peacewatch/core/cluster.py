"""Work that must happen once per cluster, not once per process: the alert sweeper, recurring patrols.

Every server process runs a :class:`ClusterWork`, and exactly one of them, the leader, runs the
jobs. On PostgreSQL the leader is the process holding a session-level advisory lock on a connection
of its own; the lock is released the moment that connection ends, so when the leader's process dies
(or its machine, once TCP keepalives notice) another process takes over within ``tick_s`` seconds.
A leader checks its connection before each round, so one cut off from the database stops leading
at once. The jobs are written to be harmless if two leaders ever overlapped for a moment: the
database's unique indexes still hold each alert episode and each planned patrol to one row.

SQLite has a single server process (``peacewatch serve`` refuses a second), which always leads.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg
from starlette.concurrency import run_in_threadpool

from peacewatch.core.notify import libpq_url

log = logging.getLogger("peacewatch.cluster")
LEADER_LOCK = 0x5057_1EAD  # an advisory lock key of PostgreSQL's: "PW lead"


@dataclass
class Job:
    name: str
    every_s: float
    run: Callable[[], object]  # blocking; run in a worker thread
    last_started: float | None = None
    runs: int = 0
    failures: int = 0


@dataclass
class ClusterWork:
    url: str
    jobs: list[Job]
    tick_s: float = 1.0
    leading: bool = False
    leader_since: float | None = None
    _connection: psycopg.AsyncConnection | None = field(default=None, repr=False)

    @property
    def shared(self) -> bool:
        return self.url.startswith("postgresql")

    async def run_forever(self) -> None:
        try:
            while True:
                if await self._lead():
                    await self._run_due()
                await asyncio.sleep(self.tick_s)
        finally:
            await self._step_down()

    async def _lead(self) -> bool:
        """Whether this process leads now: keep the lock it holds, or try to take it."""
        if not self.shared:
            self._became_leader()
            return True
        try:
            if self._connection is None or self._connection.closed:
                self._connection = await psycopg.AsyncConnection.connect(
                    libpq_url(self.url), autocommit=True, connect_timeout=5, application_name=f"peacewatch-leader {os.getpid()}",
                    keepalives=1, keepalives_idle=5, keepalives_interval=2, keepalives_count=3)
            if self.leading:
                await self._connection.execute("SELECT 1")  # still connected, so still holding the lock
                return True
            cursor = await self._connection.execute("SELECT pg_try_advisory_lock(%s)", (LEADER_LOCK,))
            row = await cursor.fetchone()
            if row is not None and row[0]:
                self._became_leader()
            return self.leading
        except (psycopg.Error, OSError) as exc:
            if self.leading:
                log.warning("lost the database connection that held the cluster's lead: %s", exc)
            await self._step_down()
            return False

    def _became_leader(self) -> None:
        if not self.leading:
            self.leading, self.leader_since = True, time.monotonic()
            log.info("this process leads the cluster's periodic work")

    async def _step_down(self) -> None:
        self.leading, self.leader_since = False, None
        connection, self._connection = self._connection, None
        if connection is not None and not connection.closed:
            try:
                await connection.close()  # ends the session: PostgreSQL releases the lock
            except (psycopg.Error, OSError):
                pass

    async def _run_due(self) -> None:
        now = time.monotonic()
        for job in self.jobs:
            if job.last_started is not None and now - job.last_started < job.every_s:
                continue
            job.last_started = now
            try:
                await run_in_threadpool(job.run)
                job.runs += 1
            except Exception:
                job.failures += 1
                log.exception("periodic job %s failed", job.name)

    def status(self) -> dict[str, object]:
        return {"leader": self.leading,
                "jobs": {job.name: {"every_s": job.every_s, "runs": job.runs, "failures": job.failures} for job in self.jobs}}
