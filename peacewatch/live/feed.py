"""Cursor-on-Target out: each connected TAK client is sent what its user may see, on its own connection.

As on a TAK server, the connection a client sends its positions on also carries the picture back:
the posts open today (military police, ``a-f-G-U-U-L-M``), the latest positions of the patrols'
trackers (``a-f-G-U-C-I``) and the alerts (``b-a-g`` for a geofence broken, ``b-a-o-tbl`` for
trouble), first as a snapshot, then as they change. A client is anonymous, and sees public records,
until it identifies itself: with TAK Server's ``<auth><cot username=".." password=".."/></auth>``
message, the password being a PeaceWatch API token (``peacewatch token create``) of that user, or
over TLS with a client certificate whose common name is a PeaceWatch username. A wrong token closes
the connection. A client is never sent its own positions back.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import logging
import ssl
import struct
import termios
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from peacewatch.alerts.models import Alert, AlertKind, AlertStatus
from peacewatch.core.admission import StreamCaller
from peacewatch.core.auth import ACCESS_TABLES, Role, User, api_token_id, user_for_token
from peacewatch.core.changes import versions
from peacewatch.core.db import utcnow
from peacewatch.core.notify import Notifier
from peacewatch.core.settings import Settings
from peacewatch.core.visibility import Scope, readable_visibilities, where_visible
from peacewatch.duty.channels import tak_text
from peacewatch.duty.delivery import claim_due, mark_failed, mark_sent
from peacewatch.duty.models import Channel, tak_message_id
from peacewatch.geography.service import list_posts
from peacewatch.tracking.cot import CotError, cot_event, read_xml
from peacewatch.tracking.geochat import chat_message
from peacewatch.tracking.service import latest_fixes
from peacewatch.tracking.sources import Sender

log = logging.getLogger("peacewatch.cot")
PUBLIC = readable_visibilities(internal=False, side=None)
MAX_AGE_MS = 60 * 60_000  # positions older than this are not news
POSTS_EVERY_S = 300.0  # posts are resent so a client that missed them (or let them go stale) gets them back
ALERTS_SINCE = timedelta(hours=24)  # the snapshot's alerts: open ones raised in the last day
SEND_TIMEOUT_S = 15.0
MIN_INTERVAL_S = 1.0  # a client that reads nothing for this long is dropped, not waited for
PATROL, MILITARY_POLICE = "a-f-G-U-C-I", "a-f-G-U-U-L-M"
FEED_TABLES = frozenset({"positions", "alerts", "posts", "notices"})  # what a feed shows: a commit to one of them wakes it
NOTICES_PER_ROUND = 200
NOTICE_ATTEMPTS = 8  # a TAK notice put back this often (connections closing under it) fails for good
GEOFENCE = {AlertKind.left_area, AlertKind.near_line_of_contact, AlertKind.in_restricted_zone, AlertKind.off_route}


class AuthRefused(Exception):
    pass


def read_auth(data: bytes) -> tuple[str, str, str]:
    """``(username, password, uid)`` out of TAK Server's ``<auth><cot username=".." password=".." uid=".."/></auth>``."""
    try:
        root = read_xml(data)
    except CotError as exc:
        raise AuthRefused(str(exc)) from None
    cot = root.find("cot") if root.tag == "auth" else None
    if cot is None or not cot.get("password"):
        raise AuthRefused("an <auth> message needs <cot username=.. password=../>")
    return cot.get("username", ""), cot.get("password", ""), cot.get("uid", "")[:200]


def tracker_uid(tracker: Any) -> str:
    return tracker.cot_uid or f"PeaceWatch.tracker.{tracker.code}"


@dataclass
class Subscriber:
    """One connection's view: whose scope it has, what it was already sent."""

    readable: Scope = PUBLIC
    who: str = "anonymous"
    own_uids: set[str] = field(default_factory=set)
    sent_fixes: dict[int, int] = field(default_factory=dict)
    posts_at: float | None = None  # monotonic time the posts were last sent; None: never
    last_alert: int | None = None  # None until the snapshot's alerts are sent
    scope: int = 0  # counts sign-ins: a round collected in an earlier scope is thrown away
    last_heard: float = 0.0  # monotonic time the client's last bytes were read
    credential: str | None = None  # the API token it signed in with, or "cert:<username>" for a client certificate
    access: tuple[int, ...] | None = None  # the versions of users and API tokens when the sign-in was last checked
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)  # a sign-in and a round's bookkeeping, one at a time
    # who sends on this connection, for the trackers' rule on sources (tracking.sources)
    role: Role | None = None
    token_id: int | None = None
    certificate: str | None = None  # the TLS client certificate's SHA-256 fingerprint
    address: str = ""
    transport: str = "tcp"
    audited: set[str] = field(default_factory=set)  # the refusals already written to the audit log for this connection
    ended: bool = False  # its sign-in was ended (disabled, revoked): the connection is closed
    hang_up: Callable[[], None] | None = field(default=None, repr=False)  # closes the connection, from any thread
    slot: StreamCaller = field(default_factory=StreamCaller)  # its place among the process's connections (core.admission)
    device_uid: str = ""  # the TAK client's own uid (its sign-in's, or its first own position's): GeoChat is addressed to it
    notices: list[int] = field(default_factory=list)  # TAK notices claimed for the next write to this connection

    def rescope(self, user: User) -> None:
        """A new scope starts a new picture: everything is sent again."""
        with self.lock:
            self.readable, self.who, self.role = user.readable, user.username, user.role
            self.sent_fixes.clear()
            self.posts_at, self.last_alert = None, None
            self.scope += 1

    def sender(self) -> Sender:
        """Who sends on this connection; nobody once its sign-in ended (its certificate included: a disabled user's
        device moves no tracker, even one bound to that certificate)."""
        signed_in = self.credential is not None and not self.ended
        return Sender(username=self.who if signed_in else None, role=self.role if signed_in else None,
                      token_id=self.token_id if signed_in else None, certificate=None if self.ended else self.certificate,
                      address=self.address)


def _cot_alert(alert: Alert, uid: str | None, now_ms: int) -> bytes | None:
    if alert.lat is None or alert.lon is None:
        return None
    kind = "b-a-g" if alert.kind in GEOFENCE else "b-a-o-tbl"
    return cot_event(f"PeaceWatch.alert.{alert.id}", kind, int(alert.started_at.timestamp() * 1000), alert.lat, alert.lon,
                     stale_s=3600, how="m-g", callsign=f"Alert {alert.id}: {alert.kind.value}", remarks=alert.message,
                     link_uid=uid, now_ms=now_ms)


def collect(session: Session, subscriber: Subscriber) -> list[bytes]:
    """What the subscriber has not been sent yet, in its scope: posts (now and then), new positions, new alerts.

    The connection may sign in while this runs (in a worker thread): then nothing is sent or noted,
    and the next round collects in the new scope.
    """
    scope, readable = subscriber.scope, subscriber.readable
    now = utcnow()
    now_ms = int(now.timestamp() * 1000)
    out: list[bytes] = []
    posts_due = subscriber.posts_at is None or time.monotonic() - subscriber.posts_at >= POSTS_EVERY_S
    if posts_due:
        for post in list_posts(session, readable, on=now.date(), limit=100_000):
            point = post.geometry
            out.append(cot_event(f"PeaceWatch.post.{post.code}", MILITARY_POLICE, now_ms, point.y, point.x, stale_s=3600,
                                 how="h-g-i-g-o", callsign=post.name, remarks=f"{post.kind.value.replace('_', ' ')} {post.code}"))
    trackers: dict[int, Any] = {}
    sent: dict[int, int] = {}
    for tracker, fix in latest_fixes(session, readable, now_ms, MAX_AGE_MS):
        trackers[tracker.id] = tracker
        uid = tracker_uid(tracker)
        if subscriber.sent_fixes.get(tracker.id) == fix.t_ms or uid in subscriber.own_uids:
            continue
        sent[tracker.id] = fix.t_ms
        out.append(cot_event(uid, PATROL, fix.t_ms, fix.lat, fix.lon, stale_s=300, how="m-g", callsign=tracker.name or tracker.code,
                             speed=fix.speed, course=fix.heading, now_ms=now_ms))
    last_alert = subscriber.last_alert
    query = select(Alert).order_by(Alert.id)
    query = where_visible(query, Alert.visibility, readable)
    if last_alert is None:  # the snapshot: what is still open from the last day
        query = query.where(Alert.status != AlertStatus.closed, Alert.raised_at >= now - ALERTS_SINCE)
    else:
        query = query.where(Alert.id > last_alert)
    newest = last_alert or 0
    for alert in session.scalars(query):
        newest = max(newest, alert.id)
        known = trackers.get(alert.tracker_id or 0)
        event = _cot_alert(alert, None if known is None else tracker_uid(known), now_ms)
        if event is not None:
            out.append(event)
    claimed = claim_due(session, [Channel.tak], now, recipient=subscriber.who, limit=NOTICES_PER_ROUND) \
        if subscriber.credential is not None and not subscriber.ended else []
    for notice in claimed:  # GeoChat to this client's user, from the duty roster's escalation (duty.delivery)
        out.append(chat_message(tak_message_id(notice.notice_id), subscriber.device_uid or subscriber.who, subscriber.who,
                                tak_text(notice), now_ms=now_ms, lat=notice.lat or 0.0, lon=notice.lon or 0.0))
    with subscriber.lock:  # a sign-in between the look at the scope and the notes would find its picture marked as sent
        if subscriber.scope != scope:
            for notice in claimed:  # another user now: theirs go to a connection of theirs
                mark_failed(session, notice.notice_id, "the connection signed in as someone else", NOTICE_ATTEMPTS)
            return []
        subscriber.notices += [notice.notice_id for notice in claimed]
        subscriber.sent_fixes.update(sent)
        subscriber.last_alert = newest
        if posts_due:
            subscriber.posts_at = time.monotonic()
    return out


QUIET_S = 0.25  # the feed speaks to a client only after it has been silent this long, with nothing unread
HOLD_MAX_S = 10.0  # ... or when it has held the client's picture back this long (a client that never pauses)


def _unread_bytes(writer: asyncio.StreamWriter) -> int:
    """Bytes the client sent that sit in this end's socket, not yet read (0 if the socket cannot say)."""
    sock = writer.get_extra_info("socket")
    try:
        return struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.FIONREAD, b"\0\0\0\0"))[0]
    except (AttributeError, OSError, ValueError):
        return 0


async def _until_quiet(writer: asyncio.StreamWriter, subscriber: Subscriber) -> None:
    """Wait for a pause in what the client sends before sending it anything.

    A client that closes its connection with unread data makes its kernel reset the connection,
    and a reset throws away what the client had sent and this end had not read yet. A client that
    sends a burst and hangs up without reading (a gateway, a script replaying a log) is therefore
    sent nothing while it sends, and loses nothing. ATAK and other TAK clients pause between
    reports, and get the picture in the pauses.
    """
    held = time.monotonic()
    while time.monotonic() - held < HOLD_MAX_S and not writer.is_closing():
        if time.monotonic() - subscriber.last_heard >= QUIET_S and not _unread_bytes(writer):
            return
        await asyncio.sleep(QUIET_S / 5)


def _active_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username, User.active.is_(True)))


class Feed:
    """Sends each connection its picture, woken by every commit of positions or alerts in this process."""

    def __init__(self, settings: Settings, factory: sessionmaker[Session], notifier: Notifier | None) -> None:
        self.settings = settings
        self.factory = factory
        self.notifier = notifier
        self.sent = 0
        self.clients = 0

    def identify(self, subscriber: Subscriber, username: str, password: str) -> None:
        """Take the scope of the user whose API token the client gave; refuse a token that is no one's, or another's."""
        with self.factory() as session:
            user = user_for_token(session, password, self.settings.resolved_secret_key)
            if user is None or (username and username != user.username):
                raise AuthRefused(f"the token given for '{username or '?'}' is not valid")
            subscriber.rescope(user)
            subscriber.credential, subscriber.access = password, versions(session, *ACCESS_TABLES)
            subscriber.token_id = api_token_id(session, password)

    def identify_certificate(self, subscriber: Subscriber, writer: asyncio.StreamWriter) -> None:
        """Over TLS, the client certificate's common name, when it is a PeaceWatch user, gives that user's scope;
        its fingerprint is kept either way (a tracker may be bound to the certificate itself)."""
        peername = writer.get_extra_info("peername")
        subscriber.address = str(peername[0]) if peername else ""
        ssl_object = writer.get_extra_info("ssl_object")
        if not isinstance(ssl_object, ssl.SSLObject):
            return
        subscriber.transport = "tls"
        der = ssl_object.getpeercert(binary_form=True)
        subscriber.certificate = hashlib.sha256(der).hexdigest() if der else None
        peer = ssl_object.getpeercert()
        names = [value for rdn in (peer or {}).get("subject", ()) for key, value in rdn if key == "commonName"]
        if not names:
            return
        with self.factory() as session:
            user = _active_user(session, names[0])
            if user is not None:
                subscriber.rescope(user)
                subscriber.credential, subscriber.access = f"cert:{user.username}", versions(session, *ACCESS_TABLES)

    def still_signed_in(self, session: Session, subscriber: Subscriber) -> bool:
        """Whether the connection's sign-in still holds: looked at again only when users or API tokens changed."""
        if subscriber.credential is None:
            return True
        now = versions(session, *ACCESS_TABLES)
        if now == subscriber.access:
            return True
        if subscriber.credential.startswith("cert:"):
            user = _active_user(session, subscriber.credential.removeprefix("cert:"))
        else:
            user = user_for_token(session, subscriber.credential, self.settings.resolved_secret_key)
        if user is None or user.username != subscriber.who or user.readable != subscriber.readable:
            return False  # disabled, token revoked, or another scope now: the client signs in again
        subscriber.access = now
        return True

    async def serve(self, writer: asyncio.StreamWriter, subscriber: Subscriber) -> None:
        """Until the connection closes: collect what is new for it, send it, sleep until something is committed."""
        loop = asyncio.get_running_loop()
        self.clients += 1
        try:
            while not writer.is_closing():
                asked = time.monotonic()
                events = await loop.run_in_executor(None, self._collect, subscriber)
                if events:
                    await _until_quiet(writer, subscriber)
                    writer.write(b"".join(events))
                    await asyncio.wait_for(writer.drain(), SEND_TIMEOUT_S)
                    self.sent += len(events)
                    if subscriber.notices:
                        sent, subscriber.notices = subscriber.notices, []
                        await loop.run_in_executor(None, self._sent, sent)
                if self.notifier is not None:
                    await self.notifier.wait(2.0, FEED_TABLES.union(ACCESS_TABLES))
                else:
                    await asyncio.sleep(2.0)
                # under heavy ingest every flush wakes every client: one look a second each is enough for a map
                await asyncio.sleep(max(0.0, MIN_INTERVAL_S - (time.monotonic() - asked)))
        except (ConnectionError, TimeoutError, ssl.SSLError, AuthRefused) as exc:
            log.info("CoT client %s dropped: %s", subscriber.who, exc or type(exc).__name__)
            writer.close()
        finally:
            self.clients -= 1
            if subscriber.notices:  # claimed, never written: tried again, on this or another of the user's connections
                unsent, subscriber.notices = subscriber.notices, []
                await loop.run_in_executor(None, self._unsent, unsent)

    def _sent(self, notice_ids: list[int]) -> None:
        with self.factory() as session:
            for notice_id in notice_ids:
                mark_sent(session, notice_id, tak_message_id(notice_id))

    def _unsent(self, notice_ids: list[int]) -> None:
        with self.factory() as session:
            for notice_id in notice_ids:
                mark_failed(session, notice_id, "the TAK connection closed before it was written", NOTICE_ATTEMPTS)

    def _collect(self, subscriber: Subscriber) -> list[bytes]:
        with self.factory() as session:
            if not self.still_signed_in(session, subscriber):
                raise AuthRefused(f"the sign-in of {subscriber.who} was ended")
            return collect(session, subscriber)
