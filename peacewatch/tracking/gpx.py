"""GPX files (1.0 and 1.1) as position columns: track points and timed waypoints of one tracker.

The file is read as a stream (defusedxml's ``iterparse``, DTDs and entities forbidden, so a hostile
file is refused as it is met): each point is turned into numbers and its element dropped at once, so
memory grows with the points kept (about 56 bytes each), not with the file (a 50 MB GPX is about 400,000
points: some 22 MB of columns). A point without a time cannot be a position: the file is refused, naming
the point. Writing GPX is left to gpxpy.
"""

from __future__ import annotations

import io
from array import array
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import BinaryIO

import gpxpy
import gpxpy.gpx
import numpy as np
from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from peacewatch.core.problems import FieldError, Invalid
from peacewatch.tracking.columns import PositionColumns, check

MAX_GPX_BYTES = 200 * 1024 * 1024
BYTES_PER_POINT = 7 * 8  # the columns kept per point while reading: time, lat, lon, elevation, speed, course (+ slack)
SHOWN_UNTIMED = 20


class _Bounded(io.RawIOBase):
    """A file read no further than ``limit`` bytes: the parser gets an error past it, not more memory."""

    def __init__(self, source: BinaryIO, limit: int) -> None:
        self.source, self.limit, self.read_so_far = source, limit, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        chunk = self.source.read(min(len(buffer), 1 << 16))
        self.read_so_far += len(chunk)
        if self.read_so_far > self.limit:
            raise Invalid(f"GPX file larger than {self.limit // 2**20} MiB", field="file")
        buffer[: len(chunk)] = chunk
        return len(chunk)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _number(text: str | None, where: str) -> float:
    if text is None or not text.strip():
        return float("nan")
    try:
        return float(text)
    except ValueError:
        raise Invalid(f"{text.strip()[:40]!r} is not a number", field=f"file.{where}") from None


def gpx_columns(source: bytes | BinaryIO, tracker: str, max_bytes: int = MAX_GPX_BYTES) -> PositionColumns:
    """Every track point and waypoint of a GPX file (bytes, or a file read as a stream) as one tracker's positions."""
    stream = _Bounded(io.BytesIO(source) if isinstance(source, bytes) else source, max_bytes)
    kept = {kind: (array("q"), array("d"), array("d"), array("d"), array("d"), array("d")) for kind in ("trkpt", "wpt")}
    untimed: list[str] = []
    untimed_count = 0
    counters = {"trk": -1, "trkseg": -1, "trkpt": -1, "wpt": -1}
    parents: list[SafeET.Element] = []  # type: ignore[name-defined]
    try:
        for event, element in SafeET.iterparse(io.BufferedReader(stream), events=("start", "end"), forbid_dtd=True):
            name = _local(element.tag)
            if event == "start":
                if name == "trk":
                    counters["trk"] += 1
                    counters["trkseg"] = -1
                elif name == "trkseg":
                    counters["trkseg"] += 1
                    counters["trkpt"] = -1
                parents.append(element)
                continue
            parents.pop()
            if name in ("trkpt", "wpt"):
                if name == "trkpt":
                    counters["trkpt"] += 1
                    where = f"tracks[{counters['trk']}].segments[{counters['trkseg']}].points[{counters['trkpt']}]"
                else:
                    counters["wpt"] += 1
                    where = f"waypoints[{counters['wpt']}]"
                fields = {_local(child.tag): child.text for child in element}
                moment = (fields.get("time") or "").strip()
                if not moment:
                    untimed_count += 1
                    if len(untimed) < SHOWN_UNTIMED:
                        untimed.append(where)
                else:
                    try:
                        when = datetime.fromisoformat(moment)
                    except ValueError:
                        raise Invalid(f"{moment[:40]!r} is not an ISO 8601 time", field=f"file.{where}.time") from None
                    when = when if when.tzinfo else when.replace(tzinfo=timezone.utc)
                    t_ms, lat, lon, alt, speed, course = kept[name]
                    t_ms.append(int(when.timestamp() * 1000))
                    lat.append(_number(element.get("lat"), f"{where}.lat"))
                    lon.append(_number(element.get("lon"), f"{where}.lon"))
                    alt.append(_number(fields.get("ele"), f"{where}.ele"))
                    speed.append(_number(fields.get("speed"), f"{where}.speed"))
                    course.append(_number(fields.get("course"), f"{where}.course"))
            if name in ("trkpt", "wpt", "rtept", "trkseg", "trk", "rte", "metadata", "extensions") and parents:
                parents[-1].remove(element)  # read: nothing of it stays in memory
    except DefusedXmlException as exc:
        raise Invalid(f"refused GPX: {type(exc).__name__} (DTDs and entities are not accepted)", field="file") from None
    except SafeET.ParseError as exc:
        raise Invalid(f"not well-formed XML: {exc}", field="file") from None
    if untimed_count:
        raise Invalid(
            f"{untimed_count} point(s) without a time cannot be positions; nothing stored",
            errors=[FieldError(field=f"file.{where}.time", message="missing") for where in untimed],
        )
    # the track points, then the waypoints: the order the positions are reported in
    t_ms, lat, lon, alt, speed, course = (
        np.concatenate([np.frombuffer(kept[kind][i], dtype=np.int64 if i == 0 else np.float64) for kind in ("trkpt", "wpt")])
        for i in range(6))
    if not len(t_ms):
        raise Invalid("the GPX file holds no track points or waypoints", field="file")
    columns = PositionColumns(
        [tracker], np.zeros(len(t_ms), dtype=np.int32), t_ms, lat, lon, alt, speed, course,
        np.full(len(t_ms), np.nan),  # HDOP is not metres: leave accuracy unknown
    )
    check(columns, where="file.points")
    return columns


Fix = tuple[int, float, float, float | None, float | None]  # t_ms, lat, lon, alt, speed


def write_gpx(name: str, tracks: list[tuple[str, Iterable[Fix]]]) -> str:
    """GPX 1.1 with one <trk> per tracker, for GIS and navigation tools."""
    gpx = gpxpy.gpx.GPX()
    gpx.name = name
    for code, fixes in tracks:
        segment = gpxpy.gpx.GPXTrackSegment()
        for t_ms, lat, lon, alt, speed in fixes:
            segment.points.append(gpxpy.gpx.GPXTrackPoint(
                lat, lon, elevation=alt, time=datetime.fromtimestamp(t_ms / 1000, tz=timezone.utc), speed=speed))
        track = gpxpy.gpx.GPXTrack(name=code)
        track.segments.append(segment)
        gpx.tracks.append(track)
    return gpx.to_xml()
