"""Cursor-on-Target: split a TAK client's stream into events and read positions out of them.

TAK clients send XML events back to back over TCP with no length prefix, so the stream is cut
on ``</event>``. An event holding a DOCTYPE or an ENTITY declaration is refused outright, and the
rest are read by an lxml parser that resolves no entity, loads no DTD and opens no network
connection: entity expansion and external entities never happen (the same protection as
defusedxml, which the KML reader uses, at four times the speed this hot path needs).
Bad input is counted, never raised to the listener.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

from lxml import etree

from peacewatch.tracking.geochat import ChatLine, read_chat
from peacewatch.tracking.tak_alarms import TakAlarm, is_alarm_type, read_alarm

END = b"</event>"
AUTH_END = b"</auth>"  # TAK Server's sign-in message, which a client may send before its events
MAX_EVENT_BYTES = 64 * 1024
MAX_TYPES = 200
UNKNOWN = 9999999.0  # CoT's "not known" for heights and errors
_HOSTILE_MARKERS = (b"<!DOCTYPE", b"<!ENTITY")
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False, remove_comments=True
)


@dataclass
class CotFix:
    uid: str
    t_ms: int
    lat: float
    lon: float
    alt: float | None
    speed: float | None
    heading: float | None
    accuracy: float | None
    type: str


@dataclass
class StreamCounters:
    events: int = 0
    fixes: int = 0
    malformed: int = 0
    oversized: int = 0
    shed: int = 0
    hostile: int = 0
    ignored: int = 0
    unregistered: int = 0
    stored: int = 0
    calls: int = 0  # emergencies, their cancels and CASEVAC requests taken from senders who may call
    by_type: dict[str, int] = field(default_factory=dict)  # events that are not positions, by CoT type
    refused: dict[str, int] = field(default_factory=dict)  # fixes of registered trackers their senders may not move, by reason
    connections_refused: dict[str, int] = field(default_factory=dict)  # connections over a bound (core.admission), by reason

    def count_type(self, cot_type: str) -> None:
        """Count an event that is not a position by its type; past MAX_TYPES kinds, as "other"."""
        key = cot_type if cot_type in self.by_type or len(self.by_type) < MAX_TYPES else "other"
        self.by_type[key] = self.by_type.get(key, 0) + 1


@dataclass
class CotOther:
    """An event that is not a position report of the device sending it: chat, a marker or a shape placed on
    the map, a route, a file transfer, a ping, or a device reporting that it has no GPS fix."""

    uid: str
    type: str
    what: str
    # for a marker or a spot report, what operations need to turn it into an incident report
    lat: float | None = None
    lon: float | None = None
    t_ms: int | None = None
    callsign: str = ""
    remarks: str = ""


KEPT = ("marker", "spot report")  # kept when a signed-in TAK user sends them: operations may make incident reports of them


def _place(root: etree._Element) -> tuple[float | None, float | None, int | None]:
    """An event's point and time, as far as they can be read (None where not)."""
    lat = lon = t_ms = None
    point = root.find("point")
    try:
        if point is not None:
            y, x = float(point.get("lat", "nan")), float(point.get("lon", "nan"))
            if -90 <= y <= 90 and -180 <= x <= 180 and not (y == 0 and x == 0):
                lat, lon = y, x
        t_ms = _time_ms(root.get("start") or root.get("time"))
    except (TypeError, ValueError, OverflowError, CotError):
        pass
    return lat, lon, t_ms


def _placed(root: etree._Element, uid: str, kind: str, what: str) -> CotOther:
    """A marker or spot report with its place, time, callsign and remarks (as far as they can be read)."""
    other = CotOther(uid, kind, what)
    other.lat, other.lon, other.t_ms = _place(root)
    contact = root.find("detail/contact")
    other.callsign = (contact.get("callsign", "") if contact is not None else "")[:200]
    remarks = root.find("detail/remarks")
    other.remarks = ((remarks.text or "") if remarks is not None else "").strip()[:10_000]
    return other


class CotError(ValueError):
    """An event that cannot be read; ``kind`` says which counter it belongs to."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class EventSplitter:
    """Feeds on TCP chunks and yields whole events; a run past MAX_EVENT_BYTES without an end is dropped."""

    def __init__(self, max_bytes: int = MAX_EVENT_BYTES) -> None:
        self.buffer = b""
        self.max_bytes = max_bytes
        self.discarding = False

    def feed(self, chunk: bytes, counters: StreamCounters) -> list[bytes]:
        """The events completed by ``chunk``. Each byte is looked at a bounded number of times: the
        search for the sign-in's end tag stops where the next event ends, so a chunk of many events
        costs time in proportion to its length."""
        buffer = self.buffer + chunk if self.buffer else chunk
        events = []
        start = 0
        while True:
            end = buffer.find(END, start)
            auth = buffer.find(AUTH_END, start, len(buffer) if end < 0 else end)
            if auth >= 0:
                end, closing = auth, AUTH_END
            elif end >= 0:
                closing = END
            else:
                break
            stop = end + len(closing)
            event, start = buffer[start:stop], stop
            if self.discarding:  # the tail of an oversized event
                self.discarding = False
                continue
            if len(event) > self.max_bytes:
                counters.oversized += 1
                continue
            events.append(event.strip())
        self.buffer = buffer[start:]
        if len(self.buffer) > self.max_bytes:
            counters.oversized += 0 if self.discarding else 1
            self.buffer = b""
            self.discarding = True
        return events


def _float(value: str | None, *, optional_sentinel: float | None = None) -> float | None:
    if value is None:
        return None
    number = float(value)
    if not math.isfinite(number) or (optional_sentinel is not None and number == optional_sentinel):
        return None
    return number


def _time_ms(value: str | None) -> int:
    if not value:
        raise CotError("malformed", "event has no time")
    stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return int(stamp.timestamp() * 1000)


def read_xml(data: bytes) -> etree._Element:
    """One message off the wire as XML, refusing DTDs and entity declarations before any parser sees them."""
    if any(marker in data for marker in _HOSTILE_MARKERS):
        raise CotError("hostile", "refused: DTDs and entity declarations are not accepted")
    try:
        return etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise CotError("malformed", f"not XML: {exc}") from None


# what an event that is not its sender's position is, by the start of its type (MIL-STD-2525 atoms are "a-")
_OTHER_KINDS = (("t-", "tasking"), ("b-t-f", "chat"), ("b-f-t", "file transfer"), ("b-m-p-s", "spot report"),
                ("b-m-r", "route"), ("u-d-", "shape"), ("b-a-", "alarm"))


PLACED_HOW = "h-g-i-g-o"  # "human, garbage in, garbage out": how ATAK marks a point a user put on the map


def is_placed_marker(root: etree._Element) -> bool:
    """An atom a user placed on the map (a hostile vehicle, a checkpoint), not a device's own position.

    ATAK marks a placed point ``how="h-g-i-g-o"`` (its icon sets send nothing more, not even a detail), keeps
    it (``<archive/>``) and names its creator as parent (``<link relation="p-p">``). A parent link alone does
    not make a marker: a drone's position from the UAS Tool names its controlling ATAK the same way, but is
    machine-made (``how="m-..."``) and is the drone's own position."""
    how = root.get("how", "")
    if how.startswith(PLACED_HOW):
        return True
    detail = root.find("detail")
    if detail is None:
        return False
    if detail.find("archive") is not None:
        return True
    return how.startswith("h-") and any(link.get("relation") == "p-p" for link in detail.iterfind("link"))


def parse_event(data: bytes) -> CotFix | CotOther | TakAlarm | ChatLine:
    """The sender's position from one event, an emergency or CASEVAC (:mod:`tak_alarms`), a chat line or receipt
    (:mod:`geochat`), or what else the event is.

    Only atoms (``a-...``) that are not markers placed by a user are positions, and only with a fix:
    a point at 0,0 whose error is unknown (``ce`` 9999999) is a device without GPS. CoT marks an
    unknown height or error with 9999999.0; those become missing values. A negative course (drone
    tools send -180...180) is turned into 0-360.
    """
    root = read_xml(data)
    if root.tag != "event":
        raise CotError("malformed", f"root element is <{root.tag}>, not <event>")
    kind = root.get("type", "")
    uid = (root.get("uid") or "")[:200]
    if not kind:
        raise CotError("malformed", "event without a type")
    if is_alarm_type(kind):
        return read_alarm(root, uid, kind, _place(root))
    if kind.startswith("b-t-f"):
        return read_chat(root, uid, kind)
    if not kind.startswith("a-"):
        what = next((name for prefix, name in _OTHER_KINDS if kind.startswith(prefix)), "other")
        return _placed(root, uid, kind, what) if what in KEPT else CotOther(uid, kind, what)
    if is_placed_marker(root):
        return _placed(root, uid, kind, "marker")
    point = root.find("point")
    if point is None or not uid:
        raise CotError("malformed", "event without uid or point")
    try:
        lat, lon = float(point.get("lat", "nan")), float(point.get("lon", "nan"))
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise CotError("malformed", "point out of range")
        accuracy = _float(point.get("ce"), optional_sentinel=UNKNOWN)
        if lat == 0 and lon == 0 and accuracy is None:
            return CotOther(uid, kind, "no fix")
        track = root.find("detail/track")
        course = _float(track.get("course")) if track is not None else None
        return CotFix(
            uid=uid,
            t_ms=_time_ms(root.get("time") or root.get("start")),
            lat=lat,
            lon=lon,
            alt=_float(point.get("hae"), optional_sentinel=UNKNOWN),
            speed=_float(track.get("speed")) if track is not None else None,
            heading=None if course is None else course % 360.0,
            accuracy=accuracy,
            type=kind,
        )
    except (TypeError, ValueError, OverflowError) as exc:
        if isinstance(exc, CotError):
            raise
        raise CotError("malformed", f"bad number or time: {exc}") from None


def _cot_time(t_ms: int) -> str:
    return datetime.fromtimestamp(t_ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def cot_event(uid: str, cot_type: str, t_ms: int, lat: float, lon: float, *, stale_s: int = 120, how: str = "m-g",
              callsign: str = "", speed: float | None = None, course: float | None = None, remarks: str = "",
              link_uid: str | None = None, now_ms: int | None = None) -> bytes:
    """One CoT event: ``time`` is when it was sent (``now_ms``), ``start`` when it was true (``t_ms``), ``stale`` after that."""
    sent = t_ms if now_ms is None else now_ms
    root = etree.Element("event", version="2.0", uid=uid, type=cot_type, how=how, time=_cot_time(sent),
                         start=_cot_time(t_ms), stale=_cot_time(max(t_ms, sent) + stale_s * 1000))
    etree.SubElement(root, "point", lat=f"{lat:.7f}", lon=f"{lon:.7f}", hae="9999999.0", ce="10.0", le="9999999.0")
    detail = etree.SubElement(root, "detail")
    if callsign:
        etree.SubElement(detail, "contact", callsign=callsign)
    if speed is not None or course is not None:
        etree.SubElement(detail, "track", speed=f"{speed or 0:.2f}", course=f"{course or 0:.1f}")
    if remarks:
        etree.SubElement(detail, "remarks").text = remarks
    if link_uid:
        etree.SubElement(detail, "link", uid=link_uid, relation="p-p", type="a-f-G-U-C-I")
    return etree.tostring(root)


def position_event(uid: str, t_ms: int, lat: float, lon: float, *, callsign: str = "", speed: float | None = None,
                   course: float | None = None, cot_type: str = "a-f-G-U-U-L-M", stale_s: int = 120) -> bytes:
    """A CoT position event as TAK clients send it (military police unit by default)."""
    return cot_event(uid, cot_type, t_ms, lat, lon, stale_s=stale_s, callsign=callsign, speed=speed, course=course)
