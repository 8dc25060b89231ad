"""Admission: a process takes on only the requests it can finish soon, and says 503 to the rest at once.

Each request holds a worker thread and a database connection while it runs; past that many at
once, more requests only wait in line for them, and a line that grows without bound is how a
server freezes (every request waiting, none answered, health checks timing out). So requests run
at most ``active`` at a time, at most ``queued`` wait for a turn, and one that waited
``queue_timeout_s`` without starting is answered 503 with ``Retry-After``: the operations centre's
screens retry, and the server recovers the moment the burst is over.

Live streams (server-sent events) hold a connection for hours but a thread for milliseconds, so
they are counted apart, up to ``max_streams``.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Receive, Scope, Send

from peacewatch.core.problems import unavailable_response

EXEMPT_PATHS = frozenset({"/healthz"})  # liveness must answer whatever the load


@dataclass
class AdmissionCounters:
    admitted: int = 0
    shed: int = 0
    streams: int = 0
    waiting: int = 0
    longest_wait_s: float = 0.0
    by_reason: dict[str, int] = field(default_factory=dict)


class Admission:
    """ASGI middleware bounding the requests a process works on and the line in front of them."""

    def __init__(self, app: ASGIApp, *, active: int, queued: int, queue_timeout_s: float, max_streams: int,
                 counters: AdmissionCounters) -> None:
        self.app = app
        self.active = active
        self.queued = queued
        self.queue_timeout_s = queue_timeout_s
        self.max_streams = max_streams
        self.counters = counters
        self._slots: asyncio.Semaphore | None = None  # made in the serving loop, on the first request

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        if scope["path"].endswith("/stream"):
            await self._stream(scope, receive, send)
            return
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.active)
        counters = self.counters
        if self._slots.locked() and counters.waiting >= self.queued:
            await self._shed(scope, send, "queue full", "the server is busy; try again shortly")
            return
        counters.waiting += 1
        began = time.monotonic()
        try:
            await asyncio.wait_for(self._slots.acquire(), self.queue_timeout_s)
        except TimeoutError:
            await self._shed(scope, send, "waited too long", "the server is busy; try again shortly")
            return
        finally:
            counters.waiting -= 1
            counters.longest_wait_s = max(counters.longest_wait_s, time.monotonic() - began)
        counters.admitted += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self._slots.release()

    async def _stream(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.counters.streams >= self.max_streams:
            await self._shed(scope, send, "streams", "too many live streams are open on this server; try again shortly")
            return
        self.counters.streams += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.counters.streams -= 1

    async def _shed(self, scope: Scope, send: Send, reason: str, detail: str) -> None:
        self.counters.shed += 1
        self.counters.by_reason[reason] = self.counters.by_reason.get(reason, 0) + 1
        response = unavailable_response(detail, scope["path"], retry_after_s=1)

        async def nothing() -> dict[str, object]:
            return {"type": "http.disconnect"}

        await response(scope, nothing, send)
