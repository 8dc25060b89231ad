"""One look at the database per committed change, shared by every live stream of a process.

A live stream used to ask the database for itself, every second and at every change: two hundred
open maps meant two hundred queries per change, and a busy morning's positions kept the database
answering the same question for each. A :class:`Topic` asks once, when the tables it watches change
(or every ``poll_s`` in case a change was missed), and hands the answer to each subscriber's inbox;
a subscriber keeps what its reader may see. An inbox that fills up (a client that stopped reading)
ends that subscription, whose client reconnects and starts again from a snapshot: memory stays
bounded whatever the clients do.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Generic, TypeVar

from starlette.concurrency import run_in_threadpool

from peacewatch.core.notify import Notifier

T = TypeVar("T")
log = logging.getLogger("peacewatch.streams")


class Lagging(Exception):
    """The subscriber fell so far behind that its inbox overflowed."""


class Subscription(Generic[T]):
    def __init__(self, size: int) -> None:
        self.inbox: asyncio.Queue[T] = asyncio.Queue(size)
        self.lagging = False

    def offer(self, found: T) -> None:
        try:
            self.inbox.put_nowait(found)
        except asyncio.QueueFull:
            self.lagging = True

    async def next(self, timeout: float) -> T | None:
        """What the next look found, or None after ``timeout``."""
        if self.lagging:
            raise Lagging
        if not self.inbox.empty():
            return self.inbox.get_nowait()
        try:
            async with asyncio.timeout(timeout):
                return await self.inbox.get()
        except TimeoutError:
            return None


class Topic(Generic[T]):
    """Publishes what ``fetch`` finds (run in a worker thread; nothing when falsy) each time ``tables`` change,
    the same object to every subscriber: what every subscriber would compute alike can be cached on it."""

    def __init__(self, notifier: Notifier, tables: frozenset[str], fetch: Callable[[], T], *,
                 poll_s: float = 2.0, min_interval_s: float = 0.1, inbox_size: int = 1000) -> None:
        self.notifier = notifier
        self.tables = tables
        self.fetch = fetch
        self.poll_s = poll_s
        self.min_interval_s = min_interval_s
        self.inbox_size = inbox_size
        self.subscribers: set[Subscription[T]] = set()
        self.task: asyncio.Task[None] | None = None
        self._starting = asyncio.Lock()
        self.rounds = 0

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[Subscription[T]]:
        """Subscribe, then read a snapshot: nothing committed after the snapshot can be missed.

        The first subscriber starts the topic; its first look only sets where it starts from
        (what is there already is in each subscriber's snapshot).
        """
        async with self._starting:
            if self.task is None or self.task.done():
                await run_in_threadpool(self.fetch)
                self.task = asyncio.get_running_loop().create_task(self._run())
        subscription: Subscription[T] = Subscription(self.inbox_size)
        self.subscribers.add(subscription)
        try:
            yield subscription
        finally:
            self.subscribers.discard(subscription)

    async def _run(self) -> None:
        while self.subscribers:
            began = time.monotonic()
            await self.notifier.wait(self.poll_s, self.tables)
            await asyncio.sleep(max(0.0, self.min_interval_s - (time.monotonic() - began)))  # coalesce a burst of commits
            try:
                found = await run_in_threadpool(self.fetch)
            except Exception:
                log.warning("live stream refresh failed", exc_info=True)
                await asyncio.sleep(self.poll_s)
                continue
            self.rounds += 1
            if found:
                for subscription in list(self.subscribers):
                    subscription.offer(found)
        self.task = None

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
