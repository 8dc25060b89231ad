"""The Cursor-on-Target listeners (TCP, UDP, TLS with client certificates) feeding the position store.

A connection is read as fast as the client sends: its bytes are only cut into events on the event
loop, and the events wait, as raw bytes, for the next store. Every ``cot_flush_ms`` milliseconds
(sooner when FLUSH_BYTES have gathered), a worker thread parses what gathered from all connections
and commits it through the same :class:`~peacewatch.live.ingest.Ingest` as HTTP batches.

Why read at once rather than when there is room: a TAK client that hangs up without reading what
the server sent it makes its kernel reset the connection, and a reset throws away whatever the
client's kernel had not yet delivered and the server had not yet read. So connections are read
promptly, and the feed (:mod:`feed`) sends a client nothing while it is sending: a client that
sends and hangs up has nothing unread, closes cleanly, and loses nothing. Only when
MAX_PENDING_BYTES wait unstored (the database far behind) do TCP connections stop being read until
there is room (TCP flow control then slows the senders); and a client that sends without a pause
for longer than the feed holds back (HOLD_MAX_S), then hangs up without reading, can lose what sat
in the two sockets' buffers at that moment (a few MB at most).
UDP has no flow control, so datagrams arriving then are shed and counted. CoT has no acknowledgement:
what a crash of the server can lose is what waited for the next flush.
Events from unregistered uids are counted and listed for an operator, not stored.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from peacewatch.alerts.calls import CallForHelp, cancel_call, may_call, raise_call
from peacewatch.alerts.models import AlertKind
from peacewatch.core.admission import StreamCaller, StreamLimits, StreamSlots
from peacewatch.core.audit import record
from peacewatch.core.auth import OPERATIONS_CENTRE_ROLES, admits
from peacewatch.core.db import transaction, utcnow
from peacewatch.core.notify import Notifier
from peacewatch.core.problems import Problem
from peacewatch.core.settings import Settings
from peacewatch.duty.delivery import take_chat
from peacewatch.live.feed import AuthRefused, Feed, Subscriber, read_auth
from peacewatch.live.ingest import Ingest
from peacewatch.tracking.columns import PositionColumns, bad_rows, encode
from peacewatch.tracking.cot import KEPT, CotError, CotFix, CotOther, EventSplitter, StreamCounters, parse_event
from peacewatch.tracking.geochat import ChatLine
from peacewatch.tracking.models import TakReport, UnregisteredUid
from peacewatch.tracking.service import tracker_ids, tracker_sources
from peacewatch.tracking.sources import ANONYMOUS, LIAISON, refusal
from peacewatch.tracking.tak_alarms import TakAlarm

log = logging.getLogger("peacewatch.cot")
ACTOR = "cot"
READ_BYTES = 256 * 1024
FLUSH_BYTES = 2 * 2**20  # about 7,000 events: store now rather than at the next tick
MAX_PENDING_BYTES = 128 * 2**20  # about 250,000 ATAK position reports waiting: beyond, stop reading TCP until there is room
MAX_UNSTORED = 500_000  # fixes kept through a database outage before the listeners stop reading


def fixes_to_columns(fixes: list[CotFix]) -> PositionColumns:
    """The fixes as columns, in one pass over them."""
    uid, t_ms, lat, lon, alt, speed, heading, accuracy = [], [], [], [], [], [], [], []
    nan = float("nan")
    for fix in fixes:
        uid.append(fix.uid)
        t_ms.append(fix.t_ms)
        lat.append(fix.lat)
        lon.append(fix.lon)
        alt.append(nan if fix.alt is None else fix.alt)
        speed.append(nan if fix.speed is None else fix.speed)
        heading.append(nan if fix.heading is None else fix.heading)
        accuracy.append(nan if fix.accuracy is None else fix.accuracy)
    floats = (np.array(column, dtype=np.float64) for column in (lat, lon, alt, speed, heading, accuracy))
    return PositionColumns(*encode(uid), np.array(t_ms, dtype=np.int64), *floats)


class CotListener:
    def __init__(self, settings: Settings, factory: sessionmaker[Session], ingest: Ingest,
                 notifier: Notifier | None = None) -> None:
        self.settings = settings
        self.ingest = ingest
        self.factory = factory
        self.counters = StreamCounters()
        self.pending: list[tuple[bytes, Subscriber]] = []  # raw events, and the connection (or UDP sender) each came on
        self.pending_bytes = 0
        self.unstored: list[tuple[CotFix, Subscriber]] = []  # parsed, not yet committed (the database was away)
        self.placed: list[tuple[CotOther, str]] = []  # markers and spot reports of signed-in users, and who sent them
        self.alarms: list[tuple[TakAlarm, Subscriber]] = []  # emergencies, cancels and CASEVAC requests, and who sent them
        self.chat: list[tuple[ChatLine, str]] = []  # chat lines and receipts of signed-in users, and who sent them
        self.servers: list[asyncio.AbstractServer] = []
        self.transports: list[asyncio.BaseTransport] = []
        self.flusher: asyncio.Task[None] | None = None
        self.ports: dict[str, int] = {}
        self.room = asyncio.Event()  # set while pending has room; TCP readers wait on it
        self.room.set()
        self.wake = asyncio.Event()  # set when enough events gathered to flush early
        self.feed = Feed(settings, factory, notifier)  # signs clients in; sends them the picture when cot_feed is on
        self.feeding = settings.cot_feed
        self.udp_senders: OrderedDict[str, Subscriber] = OrderedDict()  # UDP has no connection: one anonymous sender an address
        self.slots = StreamSlots(StreamLimits(total=settings.cot_connections, reserve=0, anonymous=settings.cot_connections,
                                              anonymous_per_address=settings.cot_connections_per_address,
                                              per_identity=settings.streams_per_user,
                                              per_reserved_identity=settings.operations_streams_per_user))

    # --- life ----------------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind the listeners. Several server processes on one machine share the ports (SO_REUSEPORT):
        the kernel spreads new connections among them, and each process stores what it reads."""
        s = self.settings
        loop = asyncio.get_running_loop()
        if s.cot_tcp:
            server = await asyncio.start_server(self._serve_stream, s.cot_host, s.cot_port, limit=READ_BYTES, reuse_port=True)
            self.servers.append(server)
            self.ports["tcp"] = server.sockets[0].getsockname()[1]
        if s.cot_udp:
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _Datagrams(self), local_addr=(s.cot_host, self.ports.get("tcp", s.cot_port)), reuse_port=True
            )
            self.transports.append(transport)
            self.ports["udp"] = transport.get_extra_info("sockname")[1]
        context = tls_context(s)
        if context is not None:
            server = await asyncio.start_server(self._serve_stream, s.cot_host, s.cot_tls_port, ssl=context, limit=READ_BYTES,
                                                reuse_port=True)
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
        """Read a client's events; on the same connection, send it the picture its user may see (:mod:`feed`).

        Connections are bounded like live streams (core.admission): in all, per address while anonymous, per user
        once signed in; one over its bound is closed at once, and counted."""
        peer = writer.get_extra_info("peername")
        slot = StreamCaller(address=str(peer[0]) if peer else "unknown")
        if not self._admit(slot):
            writer.close()
            return
        splitter = EventSplitter()
        loop = asyncio.get_running_loop()
        subscriber = Subscriber(hang_up=lambda: loop.call_soon_threadsafe(writer.close))
        sender = None
        try:
            await loop.run_in_executor(None, self.feed.identify_certificate, subscriber, writer)
            if subscriber.credential is not None:
                slot = self._move(slot, subscriber)
        except AuthRefused:
            self.slots.give_back(slot)
            writer.close()
            return
        subscriber.slot = slot
        if self.feeding:
            sender = asyncio.create_task(self.feed.serve(writer, subscriber))
        try:
            while chunk := await reader.read(READ_BYTES):
                subscriber.last_heard = time.monotonic()
                for event in splitter.feed(chunk, self.counters):
                    if event.startswith(b"<auth"):
                        await self._sign_in(subscriber, event)
                        continue
                    self.accept(event, subscriber)
                if not self.room.is_set():
                    await self.room.wait()  # the store is far behind: leave the rest in the socket
                if subscriber.ended:
                    raise AuthRefused(f"the sign-in of {subscriber.who} was ended")
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, AuthRefused) as exc:
            log.info("CoT connection closed: %s", exc)
        finally:
            self.slots.give_back(subscriber.slot)
            if sender is not None:
                sender.cancel()
            writer.close()

    def _admit(self, slot: StreamCaller) -> bool:
        refused = self.slots.refusal(slot)
        if refused is not None:
            self.counters.connections_refused[refused[1]] = self.counters.connections_refused.get(refused[1], 0) + 1
            return False
        self.slots.take(slot)
        return True

    def _move(self, slot: StreamCaller, subscriber: Subscriber) -> StreamCaller:
        """The connection's place, moved from its address to its user once it is signed in; refused (the connection
        closes) when the user already holds as many as a user may."""
        signed_in = StreamCaller(identity=subscriber.who, address=slot.address,
                                 reserved=subscriber.role is not None and admits(OPERATIONS_CENTRE_ROLES, subscriber.role))
        if signed_in == slot:
            return slot
        self.slots.give_back(slot)
        if not self._admit(signed_in):
            self.slots.take(slot)
            raise AuthRefused(f"{subscriber.who} already holds as many connections as a user may")
        return signed_in

    async def _sign_in(self, subscriber: Subscriber, message: bytes) -> None:
        username, password, uid = read_auth(message)
        subscriber.device_uid = uid or subscriber.device_uid
        await asyncio.get_running_loop().run_in_executor(None, self.feed.identify, subscriber, username, password)
        subscriber.slot = self._move(subscriber.slot, subscriber)
        log.info("CoT client signed in as %s", subscriber.who)

    def accept(self, event: bytes, subscriber: Subscriber) -> None:
        """Queue an event for the next store (parsed there, off the event loop)."""
        self.counters.events += 1
        self.pending.append((event, subscriber))
        self.pending_bytes += len(event)
        if self.pending_bytes >= FLUSH_BYTES:
            self.wake.set()
        if self.pending_bytes >= MAX_PENDING_BYTES:
            self.room.clear()

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
            except Exception:
                log.exception("CoT flush failed; %d fixes kept for the next try", len(self.unstored))

    async def flush(self) -> None:
        if not self.pending and not self.unstored:
            return
        batch, self.pending, self.pending_bytes = self.pending, [], 0
        if len(self.unstored) < MAX_UNSTORED:
            self.room.set()  # read on while this batch is stored: at most twice MAX_PENDING_BYTES in memory
        loop = asyncio.get_running_loop()
        self.unstored += await loop.run_in_executor(None, self._parse, batch)
        try:
            await loop.run_in_executor(None, self._store, self.unstored)
        except Problem as exc:  # the data was refused: retrying cannot help, and must not block the stream
            self.counters.malformed += len(self.unstored)
            log.warning("CoT batch of %d fixes refused: %s", len(self.unstored), exc.detail)
        except Exception:  # the database is away: keep the fixes for the next flush, and stop reading if too many wait
            if len(self.unstored) >= MAX_UNSTORED:
                self.room.clear()
            raise
        self.unstored = []
        if self.pending_bytes < MAX_PENDING_BYTES:
            self.room.set()

    def _store(self, unstored: list[tuple[CotFix, Subscriber]]) -> None:
        """Store the registered uids' fixes that their senders may send and that pass the range rules, and the
        markers and spot reports of signed-in users; then note the strangers and audit the refusals (after, so a
        failed store retried later does not count them twice)."""
        with self.factory() as session:
            if self.placed:
                keep_placed(session, self.placed)
                self.placed = []
            if self.alarms:  # each is raised or followed idempotently: a store retried after an outage takes them again
                self._take_alarms(session, self.alarms)
                self.alarms = []
            if self.chat:  # receipts and replies: an acknowledgement is a conditional update, taken once
                take_chat(session, self.chat)
                self.chat = []
            known = tracker_ids(session, [fix.uid for fix, _ in unstored])
            allowed, refused, refusals = self._allowed(session, [(fix, via) for fix, via in unstored if fix.uid in known], known)
            strangers = [fix for fix, _ in unstored if fix.uid not in known]
            if allowed:
                columns = fixes_to_columns(allowed)
                bad = bad_rows(columns, now_ms=int(utcnow().timestamp() * 1000))
                if bad.any():
                    self.counters.malformed += int(bad.sum())
                    columns = columns.take(~bad)
                if len(columns):
                    trackers = np.array([known[name] for name in columns.names], dtype=np.int64)[columns.index]
                    report = self.ingest.record(session, ACTOR, "cot", columns, trackers=trackers)  # resolved once, above
                    self.counters.stored += report.stored
            if strangers:
                self.counters.unregistered += len(strangers)
                note_unregistered(session, strangers)
            for reason, count in refused.items():
                self.counters.refused[reason] = self.counters.refused.get(reason, 0) + count
            if refusals:
                self._audit_refusals(session, refusals)

    def _allowed(self, session: Session, fixes: list[tuple[CotFix, Subscriber]], known: dict[str, int]
                 ) -> tuple[list[CotFix], dict[str, int], list[tuple[Subscriber, str, str]]]:
        """The fixes whose senders may move their trackers (tracking.sources), judged once per connection and
        tracker; how many were refused for each reason; and each (connection, reason) not yet audited, with a
        tracker it was refused for. A connection whose sign-in was ended meanwhile is judged anonymous, and closed."""
        if not fixes:
            return [], {}, []
        sources = tracker_sources(session, sorted({known[fix.uid] for fix, _ in fixes}))
        judged: dict[tuple[int, int], str | None] = {}
        checked: set[int] = set()
        allowed: list[CotFix] = []
        refused: dict[str, int] = {}
        to_audit: dict[tuple[int, str], tuple[Subscriber, str, str]] = {}
        for fix, via in fixes:
            if via.credential is not None and id(via) not in checked:
                checked.add(id(via))
                if not self.feed.still_signed_in(session, via):
                    via.ended = True
                    if via.hang_up is not None:
                        via.hang_up()
            tracker_id = known[fix.uid]
            key = (id(via), tracker_id)
            if key not in judged:
                judged[key] = reason = refusal(sources[tracker_id], via.sender())
                if reason is not None and reason not in via.audited:
                    to_audit.setdefault((id(via), reason), (via, reason, sources[tracker_id].code))
            reason = judged[key]
            if reason is None:
                allowed.append(fix)
                via.own_uids.add(fix.uid)  # its own positions are not sent back to it
                via.device_uid = via.device_uid or fix.uid
            else:
                refused[reason] = refused.get(reason, 0) + 1
        return allowed, refused, list(to_audit.values())

    def _take_alarms(self, session: Session, alarms: list[tuple[TakAlarm, Subscriber]]) -> None:
        """Raise, follow or cancel each call for help whose sender may call (:mod:`alerts.calls`), in the order sent;
        count the others as refused, audited once per connection."""
        devices = tracker_ids(session, [alarm.device_uid for alarm, _ in alarms if alarm.device_uid])
        sources = tracker_sources(session, sorted(set(devices.values()))) if devices else {}
        refusals: dict[tuple[int, str], tuple[Subscriber, str, str]] = {}
        for alarm, via in alarms:
            tracker_id = devices.get(alarm.device_uid)
            signed_in = via.credential is not None and not via.ended
            if signed_in and may_call(via.role):
                caller: str | None = via.who
            elif tracker_id is not None and refusal(sources[tracker_id], via.sender()) is None:
                caller = via.sender().username  # a device that may move its own tracker may call for help for it
            else:
                why = refusal(sources[tracker_id], via.sender()) if tracker_id is not None else None
                reason = "call: " + (why or (LIAISON if signed_in else ANONYMOUS))
                self.counters.refused[reason] = self.counters.refused.get(reason, 0) + 1
                if reason not in via.audited:
                    refusals.setdefault((id(via), reason), (via, reason, alarm.device_uid or alarm.uid))
                continue
            self.counters.calls += 1
            kind = AlertKind.casevac if alarm.kind == "casevac" else AlertKind.emergency
            if alarm.cancel:
                cancel_call(session, ACTOR, alarm.uid, kind, caller)
                continue
            now = utcnow()
            at = min(datetime.fromtimestamp(alarm.t_ms / 1000, UTC), now) if alarm.t_ms is not None else now
            raise_call(session, ACTOR, CallForHelp(
                source_uid=alarm.uid, kind=kind, at=at, lat=alarm.lat, lon=alarm.lon, raised_by=caller, via="tak",
                emergency_type=alarm.emergency_type, callsign=alarm.callsign, label=alarm.label, remarks=alarm.remarks,
                device_uid=alarm.device_uid, tracker_id=tracker_id, nine_line=alarm.nine_line))
        if refusals:
            self._audit_refusals(session, list(refusals.values()))

    def udp_sender(self, address: str) -> Subscriber:
        """The anonymous sender of an address's datagrams (UDP proves nobody's identity): one for the last 4,096
        addresses heard, so its refusals are audited once, as a connection's are."""
        sender = self.udp_senders.get(address)
        if sender is None:
            sender = self.udp_senders[address] = Subscriber(address=address, transport="udp")
            while len(self.udp_senders) > 4096:
                self.udp_senders.popitem(last=False)
        else:
            self.udp_senders.move_to_end(address)
        return sender

    def _audit_refusals(self, session: Session, refusals: list[tuple[Subscriber, str, str]]) -> None:
        """One audit entry per connection and reason, whatever the number of events refused."""
        with transaction(session, ACTOR):
            for via, reason, code in refusals:
                sender = via.sender()
                record(session, ACTOR, "cot_refusals", f"{via.transport}:{via.address}"[:64],
                       {"reason": reason, "tracker": code, "sender": sender.who, "address": via.address,
                        "transport": via.transport, "certificate": sender.certificate})
        for via, reason, _ in refusals:
            via.audited.add(reason)

    def _parse(self, batch: list[tuple[bytes, Subscriber]]) -> list[tuple[CotFix, Subscriber]]:
        """The batch's positions, each with the connection it came on; bad events are counted."""
        fixes = []
        for event, subscriber in batch:
            try:
                fix = parse_event(event)
            except CotError as exc:
                setattr(self.counters, exc.kind, getattr(self.counters, exc.kind) + 1)
                continue
            if isinstance(fix, ChatLine):  # chat and its receipts: a signed-in user's may acknowledge an alert (duty.delivery)
                self.counters.ignored += 1
                self.counters.count_type(fix.cot_type)
                if subscriber.credential is not None and not subscriber.ended:
                    self.chat.append((fix, subscriber.who))
                continue
            if isinstance(fix, TakAlarm):
                self.counters.count_type(fix.cot_type)
                self.alarms.append((fix, subscriber))
                continue
            if isinstance(fix, CotOther):
                self.counters.ignored += 1
                self.counters.count_type(fix.type)
                if fix.what in KEPT and subscriber.credential is not None and not subscriber.ended and fix.uid \
                        and fix.lat is not None and fix.t_ms is not None:
                    self.placed.append((fix, subscriber.who))
                continue
            self.counters.fixes += 1
            fixes.append((fix, subscriber))
        return fixes

    def status(self) -> dict[str, Any]:
        counters = {k: (dict(v) if isinstance(v, dict) else v) for k, v in vars(self.counters).items()}
        feed = {"feed_clients": self.feed.clients, "feed_sent": self.feed.sent} if self.feeding else {}
        return {"ports": dict(self.ports), "pending": len(self.pending) + len(self.unstored), **counters, **feed}


class _Datagrams(asyncio.DatagramProtocol):
    """UDP: each datagram holds one event (or several back to back)."""

    def __init__(self, listener: CotListener) -> None:
        self.listener = listener

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        sender = self.listener.udp_sender(str(addr[0]))
        for event in EventSplitter().feed(data, self.listener.counters):
            if not self.listener.room.is_set():
                self.listener.counters.shed += 1  # no flow control on UDP: shed, and say so
                continue
            self.listener.accept(event, sender)


def keep_placed(session: Session, placed: list[tuple[CotOther, str]]) -> None:
    """Keep markers and spot reports by their sender and uid: a marker moved or edited on a TAK client replaces its
    earlier version, and nobody else's client, sending the same uid, replaces it (one statement whatever the number,
    the same on SQLite and PostgreSQL)."""
    newest = {(who, other.uid): (other, who) for other, who in placed}  # the last version of each in the batch
    now = utcnow()
    rows = [{"uid": o.uid, "cot_type": o.type[:64], "what": o.what, "callsign": o.callsign, "remarks": o.remarks, "lat": o.lat,
             "lon": o.lon, "at": datetime.fromtimestamp((o.t_ms or 0) / 1000, UTC), "received_at": now, "sent_by": who}
            for o, who in newest.values()]
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(TakReport).values(rows)
    session.execute(statement.on_conflict_do_update(
        index_elements=["sent_by", "uid"], set_={name: statement.excluded[name] for name in rows[0] if name not in ("uid", "sent_by")}))
    session.commit()


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
    # TLS 1.3 servers send session tickets after the handshake; a client that sends its events and hangs up
    # without reading them makes its kernel reset the connection, which can throw away events not yet read
    context.num_tickets = 0
    return context
