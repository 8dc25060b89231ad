"""The Cursor-on-Target listeners (TCP, UDP, TLS with client certificates) feeding the position store.

Fixes from all connections are gathered and committed together at least every
``cot_flush_ms`` milliseconds (sooner when FLUSH_AT have gathered), through the same
:func:`record_positions` as HTTP batches. When the store falls behind, TCP connections stop
being read until there is room, so TCP flow control slows the senders and nothing is dropped;
UDP has no flow control, so datagrams arriving then are shed and counted. CoT has no
acknowledgement, so what a crash can lose is bounded by the flush interval.
Events from unregistered uids are counted and listed for an operator, not stored.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from peacewatch.core.db import utcnow
from peacewatch.core.notify import Notifier
from peacewatch.core.settings import Settings
from peacewatch.core.problems import Problem
from peacewatch.tracking.columns import PositionColumns, bad_rows, encode
from peacewatch.tracking.cot import CotError, CotFix, EventSplitter, StreamCounters, parse_event
from peacewatch.tracking.feed import AuthRefused, Feed, Subscriber, read_auth
from peacewatch.tracking.models import UnregisteredUid
from peacewatch.tracking.service import record_positions, tracker_ids

log = logging.getLogger("peacewatch.cot")
ACTOR = "cot"
READ_BYTES = 64 * 1024
FLUSH_AT = 5_000
MAX_PENDING = 50_000


def fixes_to_columns(fixes: list[CotFix]) -> PositionColumns:
    def column(name: str) -> np.ndarray:
        return np.array([np.nan if getattr(f, name) is None else getattr(f, name) for f in fixes], dtype=np.float64)

    return PositionColumns(
        *encode([f.uid for f in fixes]), np.array([f.t_ms for f in fixes], dtype=np.int64),
        column("lat"), column("lon"), column("alt"), column("speed"), column("heading"), column("accuracy"),
    )


class CotListener:
    def __init__(self, settings: Settings, factory: sessionmaker[Session], notifier: Notifier | None = None) -> None:
        self.settings = settings
        self.notifier = notifier
        self.factory = factory
        self.counters = StreamCounters()
        self.pending: list[CotFix] = []
        self.servers: list[asyncio.AbstractServer] = []
        self.transports: list[asyncio.BaseTransport] = []
        self.flusher: asyncio.Task[None] | None = None
        self.ports: dict[str, int] = {}
        self.room = asyncio.Event()  # set while pending has room; TCP readers wait on it
        self.room.set()
        self.wake = asyncio.Event()  # set when enough fixes gathered to flush early
        self.feed = Feed(settings, factory, notifier) if settings.cot_feed else None

    # --- life ----------------------------------------------------------------------------------

    async def start(self) -> None:
        s = self.settings
        loop = asyncio.get_running_loop()
        if s.cot_tcp:
            server = await asyncio.start_server(self._serve_stream, s.cot_host, s.cot_port, limit=READ_BYTES)
            self.servers.append(server)
            self.ports["tcp"] = server.sockets[0].getsockname()[1]
        if s.cot_udp:
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _Datagrams(self), local_addr=(s.cot_host, self.ports.get("tcp", s.cot_port))
            )
            self.transports.append(transport)
            self.ports["udp"] = transport.get_extra_info("sockname")[1]
        context = tls_context(s)
        if context is not None:
            server = await asyncio.start_server(self._serve_stream, s.cot_host, s.cot_tls_port, ssl=context, limit=READ_BYTES)
            self.servers.append(server)
            self.ports["tls"] = server.sockets[0].getsockname()[1]
        self.flusher = asyncio.create_task(self._flush_forever())
        log.info("CoT listening on %s %s", s.cot_host, self.ports)

    async def stop(self) -> None:
        for server in self.servers:
            server.close()
        for transport in self.transports:
            transport.close()
        if self.flusher is not None:
            self.flusher.cancel()
        await self.flush()

    # --- input ---------------------------------------------------------------------------------

    async def _serve_stream(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Read a client's events; on the same connection, send it the picture its user may see (:mod:`feed`)."""
        splitter = EventSplitter()
        subscriber = Subscriber()
        sender = None
        if self.feed is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.feed.identify_certificate, subscriber, writer)
            sender = asyncio.create_task(self.feed.serve(writer, subscriber))
        try:
            while chunk := await reader.read(READ_BYTES):
                for event in splitter.feed(chunk, self.counters):
                    if event.lstrip().startswith(b"<auth"):
                        await self._sign_in(subscriber, event)
                        continue
                    uid = self.accept(event)
                    if uid is not None:
                        subscriber.own_uids.add(uid)
                if not self.room.is_set():
                    await self.room.wait()  # back-pressure: leave the rest in the socket
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, AuthRefused) as exc:
            log.info("CoT connection closed: %s", exc)
        finally:
            if sender is not None:
                sender.cancel()
            writer.close()

    async def _sign_in(self, subscriber: Subscriber, message: bytes) -> None:
        if self.feed is None:
            return
        username, password = read_auth(message)
        await asyncio.get_running_loop().run_in_executor(None, self.feed.identify, subscriber, username, password)
        log.info("CoT client signed in as %s", subscriber.who)

    def accept(self, event: bytes) -> str | None:
        """Queue the event's position for the store; its uid, or None when it carried none."""
        self.counters.events += 1
        try:
            fix = parse_event(event)
        except CotError as exc:
            setattr(self.counters, exc.kind, getattr(self.counters, exc.kind) + 1)
            return None
        if fix is None:
            self.counters.ignored += 1
            return None
        self.counters.fixes += 1
        self.pending.append(fix)
        if len(self.pending) >= FLUSH_AT:
            self.wake.set()
        if len(self.pending) >= MAX_PENDING:
            self.room.clear()
        return fix.uid

    # --- output --------------------------------------------------------------------------------

    async def _flush_forever(self) -> None:
        interval = self.settings.cot_flush_ms / 1000
        while True:
            try:
                await asyncio.wait_for(self.wake.wait(), interval)
            except TimeoutError:
                pass
            self.wake.clear()
            try:
                await self.flush()
            except Exception:  # noqa: BLE001 - the listener must outlive a failing database
                log.exception("CoT flush failed; %d fixes kept for the next try", len(self.pending))

    async def flush(self) -> None:
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        self.room.set()
        try:
            await asyncio.get_running_loop().run_in_executor(None, self._store, batch)
        except Problem as exc:  # the data was refused: retrying cannot help, and must not block the stream
            self.counters.malformed += len(batch)
            log.warning("CoT batch of %d fixes refused: %s", len(batch), exc.detail)
        except Exception:  # the database is away: keep the fixes for the next flush
            self.pending = batch + self.pending
            raise

    def _store(self, fixes: list[CotFix]) -> None:
        """Store the registered uids' fixes that pass the range rules; then note the strangers (after,
        so a failed store retried later does not count them twice)."""
        with self.factory() as session:
            known = tracker_ids(session, [f.uid for f in fixes])
            registered = [f for f in fixes if f.uid in known]
            strangers = [f for f in fixes if f.uid not in known]
            if registered:
                columns = fixes_to_columns(registered)
                bad = bad_rows(columns, now_ms=int(utcnow().timestamp() * 1000))
                if bad.any():
                    self.counters.malformed += int(bad.sum())
                    columns = columns.take(~bad)
                if len(columns):
                    report = record_positions(session, ACTOR, "cot", columns, h3_resolution=self.settings.h3_resolution,
                                              rules=self.settings.alert_rules())
                    self.counters.stored += report.stored
                    if self.notifier is not None:  # wake the live map as well as the alerts stream
                        self.notifier.notify()
            if strangers:
                self.counters.unregistered += len(strangers)
                note_unregistered(session, strangers)

    def status(self) -> dict[str, Any]:
        counters = {k: v for k, v in vars(self.counters).items() if k != "by_uid"}
        feed = {} if self.feed is None else {"feed_clients": self.feed.clients, "feed_sent": self.feed.sent}
        return {"ports": dict(self.ports), "pending": len(self.pending), **counters, **feed}


class _Datagrams(asyncio.DatagramProtocol):
    """UDP: each datagram holds one event (or several back to back)."""

    def __init__(self, listener: CotListener) -> None:
        self.listener = listener

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        for event in EventSplitter().feed(data, self.listener.counters):
            if not self.listener.room.is_set():
                self.listener.counters.shed += 1  # no flow control on UDP: shed, and say so
                continue
            self.listener.accept(event)


def note_unregistered(session: Session, fixes: list[CotFix]) -> None:
    """Remember uids that sent positions without being registered, so an operator can register them."""
    now = utcnow()
    by_uid: dict[str, list[CotFix]] = {}
    for fix in fixes:
        by_uid.setdefault(fix.uid, []).append(fix)
    existing = {u.uid: u for u in session.scalars(select(UnregisteredUid).where(UnregisteredUid.uid.in_(list(by_uid))))}
    for uid, seen in by_uid.items():
        last = seen[-1]
        row = existing.get(uid) or UnregisteredUid(uid=uid, first_seen=now, events=0)
        row.events += len(seen)
        row.last_seen, row.last_lat, row.last_lon, row.cot_type = now, last.lat, last.lon, last.type[:64]
        session.add(row)
    session.commit()


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    """Server TLS that demands a client certificate signed by the configured CA, as TAK Server does on 8089."""
    if not (settings.cot_tls_cert and settings.cot_tls_key and settings.cot_tls_ca):
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(settings.cot_tls_ca))
    context.load_cert_chain(str(settings.cot_tls_cert), str(settings.cot_tls_key))
    context.verify_mode = ssl.CERT_REQUIRED
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context
