"""Admission: a process takes on only the requests it can finish soon, and says 503 to the rest at once.

Each request holds a worker thread and a database connection while it runs; past that many at
once, more requests only wait in line for them, and a line that grows without bound is how a
server freezes (every request waiting, none answered, health checks timing out). So requests run
at most ``active`` at a time, at most ``queued`` wait for a turn, and one that waited
``queue_timeout_s`` without starting is answered 503 with ``Retry-After``: the operations centre's
screens retry, and the server recovers the moment the burst is over.

Live streams (server-sent events) hold a connection for hours but a thread for milliseconds, so
they are counted apart (:class:`StreamSlots`): up to ``total`` in all, with a reserve that only the
operations centre may use, a bounded share for anonymous readers, and bounds per address (anonymous)
and per user, so that no single client, however many connections it opens, keeps the duty officer's
alert stream out. A client over its own bound gets 429, a full server 503. Sign-ins spend most of their time hashing a password
on threads of their own: they take turns in a lane of their own (``sign_in_paths``, as many at a time
as there are hashing threads), so a burst of them never takes the turns of the other requests.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Receive, Scope, Send

from peacewatch.core.problems import too_many_response, unavailable_response

# liveness, readiness (a probe queued behind the load it measures would call a busy process dead for a minute)
# and the figures of an overloaded process answer whatever the load
EXEMPT_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


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


@dataclass(frozen=True)
class StreamCaller:
    """Who opens a stream, as far as its credential shows before it opens."""

    identity: str | None = None  # the user's name; None: anonymous
    address: str = ""
    reserved: bool = False  # the operations centre: may use the reserve


ANONYMOUS = StreamCaller()


@dataclass(frozen=True)
class StreamLimits:
    total: int = 2000
    reserve: int = 200  # of the total, for the operations centre only
    anonymous: int = 500  # all anonymous streams together
    anonymous_per_address: int = 10
    per_identity: int = 20
    per_reserved_identity: int = 200  # an operations centre's account, whose wall screens and maps may share it


class StreamSlots:
    """The streams a process holds open, by address and by user; whether one more may open (a pure count: one
    process's own streams, as each process holds its own connections)."""

    def __init__(self, limits: StreamLimits) -> None:
        self.limits = limits
        self.open = 0
        self.anonymous = 0
        self.by_address: Counter[str] = Counter()
        self.by_identity: Counter[str] = Counter()

    def refusal(self, caller: StreamCaller) -> tuple[int, str, str] | None:
        """(status, reason, what to tell the client) if ``caller`` may not open one more stream now, else None."""
        limits = self.limits
        own = limits.per_reserved_identity if caller.reserved else limits.per_identity
        if caller.identity is not None and self.by_identity[caller.identity] >= own:
            return 429, "streams per user", f"{caller.identity} already has {own} live streams open: close one first"
        if caller.identity is None:
            if self.by_address[caller.address] >= limits.anonymous_per_address:
                return 429, "anonymous streams per address", (f"{limits.anonymous_per_address} anonymous live streams are already "
                                                              "open from this address: sign in, or close one first")
            if self.anonymous >= limits.anonymous:
                return 503, "anonymous streams", "too many anonymous live streams are open on this server; try again shortly"
        if self.open >= limits.total or (not caller.reserved and self.open >= limits.total - limits.reserve):
            return 503, "streams", "too many live streams are open on this server; try again shortly"
        return None

    def take(self, caller: StreamCaller) -> None:
        self.open += 1
        if caller.identity is None:
            self.anonymous += 1
            self.by_address[caller.address] += 1
        else:
            self.by_identity[caller.identity] += 1

    def give_back(self, caller: StreamCaller) -> None:
        self.open -= 1
        counter, key = (self.by_address, caller.address) if caller.identity is None else (self.by_identity, caller.identity)
        if caller.identity is None:
            self.anonymous -= 1
        counter[key] -= 1
        if counter[key] <= 0:
            del counter[key]


class Admission:
    """ASGI middleware bounding the requests a process works on and the line in front of them."""

    def __init__(self, app: ASGIApp, *, active: int, queued: int, queue_timeout_s: float, streams: StreamLimits,
                 counters: AdmissionCounters, sign_in_paths: frozenset[str] = frozenset(), sign_ins_active: int = 2,
                 sign_in_timeout_s: float = 10.0, identify: Callable[[Scope], Awaitable[StreamCaller | None]] | None = None) -> None:
        """``identify``: who opens a stream, from its scope (None: a credential that stands for no one, which the
        endpoint refuses at once); without it every stream is counted as anonymous."""
        self.app = app
        self.main = Lane(active, queued, queue_timeout_s)
        self.sign_in = Lane(sign_ins_active, queued, sign_in_timeout_s)
        self.sign_in_paths = sign_in_paths
        self.streams = StreamSlots(streams)
        self.identify = identify
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
        address = scope["client"][0] if scope.get("client") else "unknown"
        if self.identify is None:
            caller: StreamCaller | None = StreamCaller(address=address)
        else:
            caller = await self.identify(scope)
        if caller is None:  # a credential that stands for no one: the endpoint answers 401 at once, holding nothing
            await self.app(scope, receive, send)
            return
        refused = self.streams.refusal(caller)
        if refused is not None:
            status, reason, detail = refused
            await self._shed(scope, send, reason, detail, status=status)
            return
        self.streams.take(caller)
        self.counters.streams += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.streams.give_back(caller)
            self.counters.streams -= 1

    async def _shed(self, scope: Scope, send: Send, reason: str, detail: str, status: int = 503) -> None:
        self.counters.shed += 1
        self.counters.by_reason[reason] = self.counters.by_reason.get(reason, 0) + 1
        answer = unavailable_response if status == 503 else too_many_response
        response = answer(detail, scope["path"], retry_after_s=1)

        async def nothing() -> dict[str, object]:
            return {"type": "http.disconnect"}

        await response(scope, nothing, send)
