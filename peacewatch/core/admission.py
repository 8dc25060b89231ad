"""Admission: a process takes on only the requests it can finish soon, and says 503 to the rest at once.

Each request holds a worker thread and a database connection while it runs; past that many at
once, more requests only wait in line for them, and a line that grows without bound is how a
server freezes (every request waiting, none answered, health checks timing out). So requests run
at most ``active`` at a time, at most ``queued`` wait for a turn, and one that waited
``queue_timeout_s`` without starting is answered 503 with ``Retry-After``: the operations centre's
screens retry, and the server recovers the moment the burst is over.

Live streams (server-sent events) hold a connection for hours but a thread for milliseconds, so
they are counted apart, up to ``max_streams``. Sign-ins spend most of their time hashing a password
on threads of their own: they take turns in a lane of their own (``sign_in_paths``, as many at a time
as there are hashing threads), so a burst of them never takes the turns of the other requests.
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


@dataclass
class Lane:
    """Requests taking turns: at most ``active`` at a time, at most ``queued`` waiting, each ``timeout_s`` at most."""

    active: int
    queued: int
    timeout_s: float
    waiting: int = 0
    slots: asyncio.Semaphore | None = None  # made in the serving loop, on the first request


class Admission:
    """ASGI middleware bounding the requests a process works on and the line in front of them."""

    def __init__(self, app: ASGIApp, *, active: int, queued: int, queue_timeout_s: float, max_streams: int,
                 counters: AdmissionCounters, sign_in_paths: frozenset[str] = frozenset(), sign_ins_active: int = 2,
                 sign_in_timeout_s: float = 10.0) -> None:
        self.app = app
        self.main = Lane(active, queued, queue_timeout_s)
        self.sign_in = Lane(sign_ins_active, queued, sign_in_timeout_s)
        self.sign_in_paths = sign_in_paths
        self.max_streams = max_streams
        self.counters = counters

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        if scope["path"].endswith("/stream"):
            await self._stream(scope, receive, send)
            return
        lane = self.sign_in if scope["method"] == "POST" and scope["path"] in self.sign_in_paths else self.main
        if lane.slots is None:
            lane.slots = asyncio.Semaphore(lane.active)
        counters = self.counters
        if lane.slots.locked() and lane.waiting >= lane.queued:
            await self._shed(scope, send, "queue full", "the server is busy; try again shortly")
            return
        lane.waiting += 1
        counters.waiting += 1
        began = time.monotonic()
        try:
            await asyncio.wait_for(lane.slots.acquire(), lane.timeout_s)
        except TimeoutError:
            await self._shed(scope, send, "waited too long", "the server is busy; try again shortly")
            return
        finally:
            lane.waiting -= 1
            counters.waiting -= 1
            counters.longest_wait_s = max(counters.longest_wait_s, time.monotonic() - began)
        counters.admitted += 1
        try:
            await self.app(scope, receive, send)
        finally:
            lane.slots.release()

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
