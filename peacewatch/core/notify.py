"""Wakes the live streams of one process when something new was committed, from any thread.

Streams also poll the database every second, so changes committed by another process (the
CLI, a second server) arrive too; the notifier only makes the common case immediate.
"""

from __future__ import annotations

import asyncio


class Notifier:
    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.waiters: set[asyncio.Event] = set()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def notify(self) -> None:
        """Safe from worker threads: the wake-up is scheduled on the event loop."""
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._wake)

    def _wake(self) -> None:
        for event in self.waiters:
            event.set()

    async def wait(self, timeout: float) -> None:
        event = asyncio.Event()
        self.waiters.add(event)
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            pass
        finally:
            self.waiters.discard(event)
