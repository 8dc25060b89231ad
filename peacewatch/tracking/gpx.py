"""GPX files (1.0 and 1.1) as position columns: the timed track points (and, if asked, timed waypoints) of one tracker.

The file is read as a stream (defusedxml's ``iterparse``, DTDs and entities forbidden, so a hostile
file is refused as it is met): each point is turned into numbers and its element dropped at once, so
memory grows with the points kept (about 56 bytes each), not with the file (a 50 MB GPX is about 400,000
points: some 22 MB of columns).

Handheld GPS dumps (Garmin, GPSBabel) mix a timed track log with untimed saved tracks and waypoints.
A point without a time cannot be a position: it is skipped and reported by its place in the file and
its name, and the timed ones are stored. Waypoints are named places a user marked, not where the
device was: by default they are reported, not stored as positions (``waypoints="positions"`` stores
the timed ones as fixes). A file with no timed point at all is refused. Writing GPX is left to gpxpy.
"""

from __future__ import annotations

import io
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, BinaryIO, Literal
from xml.etree import ElementTree

import gpxpy
import gpxpy.gpx
import numpy as np
from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from peacewatch.core.geo import ellipsoidal_heights, heights_above_sea
from peacewatch.core.i18n import N_, Sentence
from peacewatch.core.problems import FieldError, Invalid
from peacewatch.geography.service import MarkedPlace
from peacewatch.tracking.columns import PositionColumns, check

MAX_GPX_BYTES = 200 * 1024 * 1024
SHOWN_SKIPPED = 100
BYTES_PER_POINT = 7 * 8  # the columns kept per point while reading: time, lat, lon, elevation, speed, course (+ slack)


class _Bounded(io.RawIOBase):
    """A file read no further than ``limit`` bytes: the parser gets an error past it, not more memory."""

    def __init__(self, source: BinaryIO, limit: int) -> None:
        self.source, self.limit, self.read_so_far = source, limit, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]  # io.RawIOBase.readinto takes a Buffer; this reader takes what lxml passes it
        chunk = self.source.read(min(len(buffer), 1 << 16))
        self.read_so_far += len(chunk)
        if self.read_so_far > self.limit:
            raise Invalid("GPX file larger than {value} MiB", field="file", value=self.limit // 2**20)
        buffer[: len(chunk)] = chunk
        return len(chunk)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


READ = frozenset({"time", "ele", "geoidheight", "speed", "course", "name", "desc", "cmt"})


def _fields(point: Any) -> dict[str, str | None]:
    """The point's time, elevation, speed, course and name: GPX 1.0 has speed and course as children, GPX 1.1
    writers put them in extensions (Garmin's TrackPointExtension v2 ``gpxtpx:speed``, OsmAnd's ``speed``)."""
    found: dict[str, str | None] = {}
    for child in point.iter():
        name = _local(child.tag)
        if name in READ and name not in found:
            found[name] = child.text
    return found


def _number(text: str | None, where: str) -> float:
    if text is None or not text.strip():
        return float("nan")
    try:
        return float(text)
    except ValueError:
        raise Invalid("{text!r} is not a number", field=f"file.{where}", text=text.strip()[:40]) from None


@dataclass
class SkippedPoint:
    """A point of the file that is not stored as a position, and why."""

    where: str
    name: str
    reason: str


@dataclass
class GpxPoints:
    columns: PositionColumns
    skipped: list[SkippedPoint] = field(default_factory=list)  # the first SHOWN_SKIPPED of them
    skipped_count: int = 0
    heights_dropped: int = 0  # elevations no geoid grid could turn into heights above the ellipsoid
    places: list[MarkedPlace] = field(default_factory=list)  # the waypoints, when kept as named places
    geoid_from_file: int = 0  # points whose height above the ellipsoid the file's own <geoidheight> gave


@dataclass(frozen=True)
class TrackSpan:
    """One ``<trk>`` of the file: its name and the time its timed points span."""

    index: int
    name: str
    first_ms: int
    last_ms: int
    points: int


def overlapping(spans: list[TrackSpan]) -> tuple[TrackSpan, TrackSpan] | None:
    """Two tracks recorded at the same time, if any: several vehicles' tracks, not one device's log cut in parts."""
    ordered = sorted(spans, key=lambda span: (span.first_ms, span.index))
    for before, after in zip(ordered, ordered[1:]):
        if after.first_ms < before.last_ms:
            return before, after
    return None


UNTIMED = N_("no time: not a position")
WAYPOINT = N_("a waypoint: a named place, not a position")
ROUTE = N_("a route point: a planned path, not a position")


Waypoints = Literal["report", "places", "positions"]
Tracks = Literal["one", "by_name"]


def gpx_columns(source: bytes | BinaryIO, tracker: str | None, max_bytes: int = MAX_GPX_BYTES, *,
                waypoints: Waypoints = "report", tracks: Tracks = "one") -> GpxPoints:
    """The timed track points of a GPX file (bytes, or a file read as a stream) as positions.

    ``tracks``: "one" stores every track into ``tracker`` (a device's log, cut into several tracks by day or by
    the unit), and refuses a file whose tracks were recorded at the same time (several vehicles: their points
    would fall on each other); "by_name" stores each track into the tracker its ``<name>`` names (a tracker's
    code or CoT uid), as PeaceWatch's own export writes one track per tracker. Waypoints: "report" lists them
    as skipped, "places" hands them back as named places to keep (``places``), "positions" stores the timed
    ones as fixes of ``tracker``. Every other point is reported as skipped. Heights: a point's ``<geoidheight>``
    (the geoid above the ellipsoid, where the unit knew it) turns its ``<ele>`` into a height above the
    ellipsoid; without it, EGM96 does."""
    if tracks == "one" and not tracker:
        raise Invalid("name the tracker the file's points belong to, or import each track into the tracker its name names "
                      "(tracks=by_name)", field="tracker")
    if tracks == "by_name" and waypoints == "positions":
        raise Invalid("waypoints stored as positions need one tracker: with tracks=by_name, keep them as places or report them",
                      field="waypoints")
    stream = _Bounded(io.BytesIO(source) if isinstance(source, bytes) else source, max_bytes)
    # per kind: time, lat, lon, elevation, speed, course; apart, the few points that carry the file's own geoid height
    # (row, metres), and where each track's timed points begin among the track points (tracks follow one another)
    kept = {kind: (array("q"), array("d"), array("d"), array("d"), array("d"), array("d")) for kind in ("trkpt", "wpt")}
    geoid_rows, geoid_metres = array("q"), array("d")
    track_starts: list[tuple[int, int]] = []  # (track number, first row of its timed points)
    track_names: dict[int, str] = {}
    found = GpxPoints(columns=None)  # type: ignore[arg-type]  # filled below, before it is returned

    def skip(where: str, element: Any, reason: str) -> None:
        found.skipped_count += 1
        if len(found.skipped) < SHOWN_SKIPPED:
            name = next((child.text or "" for child in element if _local(child.tag) == "name"), "")
            found.skipped.append(SkippedPoint(where, name.strip()[:200], reason))

    counters = {"trk": -1, "trkseg": -1, "trkpt": -1, "wpt": -1, "rte": -1, "rtept": -1}
    parents: list[SafeET.Element] = []  # type: ignore[name-defined]  # defusedxml is untyped: its Element is lxml's
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
                elif name == "rte":
                    counters["rte"] += 1
                    counters["rtept"] = -1
                parents.append(element)
                continue
            parents.pop()
            if name == "name" and parents and _local(parents[-1].tag) == "trk":
                track_names[counters["trk"]] = (element.text or "").strip()[:200]
            if name == "rtept":
                counters["rtept"] += 1
                skip(f"routes[{counters['rte']}].points[{counters['rtept']}]", element, ROUTE)
            if name in ("trkpt", "wpt"):
                if name == "trkpt":
                    counters["trkpt"] += 1
                    where = f"tracks[{counters['trk']}].segments[{counters['trkseg']}].points[{counters['trkpt']}]"
                else:
                    counters["wpt"] += 1
                    where = f"waypoints[{counters['wpt']}]"
                fields = _fields(element)
                moment = (fields.get("time") or "").strip()
                if name == "wpt" and waypoints == "places":
                    found.places.append(MarkedPlace(
                        name=(fields.get("name") or "").strip()[:200] or f"waypoint {counters['wpt'] + 1}",
                        lat=_number(element.get("lat"), f"{where}.lat"), lon=_number(element.get("lon"), f"{where}.lon"),
                        elevation=None if fields.get("ele") is None else _number(fields.get("ele"), f"{where}.ele"),
                        notes=(fields.get("desc") or fields.get("cmt") or "").strip()))
                elif name == "wpt" and waypoints == "report":
                    skip(where, element, WAYPOINT)
                elif not moment:
                    skip(where, element, UNTIMED)
                else:
                    try:
                        when = datetime.fromisoformat(moment)
                    except ValueError:
                        raise Invalid("{moment!r} is not an ISO 8601 time", field=f"file.{where}.time", moment=moment[:40]) from None
                    when = when if when.tzinfo else when.replace(tzinfo=UTC)
                    t_ms, lat, lon, alt, speed, course = kept[name]
                    if fields.get("geoidheight") is not None:
                        geoid_rows.append(len(t_ms) if name == "trkpt" else -1 - len(t_ms))  # waypoints' rows counted apart
                        geoid_metres.append(_number(fields.get("geoidheight"), f"{where}.geoidheight"))
                    if name == "trkpt" and (not track_starts or track_starts[-1][0] != counters["trk"]):
                        track_starts.append((counters["trk"], len(t_ms)))
                    t_ms.append(int(when.timestamp() * 1000))
                    lat.append(_number(element.get("lat"), f"{where}.lat"))
                    lon.append(_number(element.get("lon"), f"{where}.lon"))
                    alt.append(_number(fields.get("ele"), f"{where}.ele"))
                    speed.append(_number(fields.get("speed"), f"{where}.speed"))
                    course.append(_number(fields.get("course"), f"{where}.course"))
            if name in ("trkpt", "wpt", "rtept", "trkseg", "trk", "rte", "metadata", "extensions") and parents and not (
                    name == "extensions" and _local(parents[-1].tag) in ("trkpt", "wpt")):  # a point's are read with it
                parents[-1].remove(element)  # read: nothing of it stays in memory
    except DefusedXmlException as exc:
        raise Invalid("refused GPX: {refusal} (DTDs and entities are not accepted)", field="file", refusal=type(exc).__name__) from None
    except SafeET.ParseError as exc:
        raise Invalid("not well-formed XML: {exc}", field="file", exc=exc) from None
    # the track points, then the waypoints: the order the positions are reported in
    track_points = len(kept["trkpt"][0])
    t_ms, lat, lon, alt, speed, course = (
        np.concatenate([np.frombuffer(kept[kind][i], dtype=np.int64 if i == 0 else np.float64) for kind in ("trkpt", "wpt")])
        for i in range(6))
    if not len(t_ms):
        if found.places:  # waypoints kept as places, whatever else the file holds (untimed tracks are reported)
            found.columns = PositionColumns([tracker or ""], np.zeros(0, dtype=np.int32), t_ms, lat, lon, alt, speed, course, alt)
            return found
        if not found.skipped_count:
            raise Invalid("the GPX file holds no track points or waypoints", field="file")
        raise Invalid(
            "none of the file's {skipped_count} point(s) can be a position; nothing stored",
            errors=[FieldError.of(f"file.{point.where}", "{name}: {reason}", name=point.name or "unnamed",
                                  reason=Sentence(point.reason)) for point in found.skipped[:20]], skipped_count=found.skipped_count,
        )
    spans = [(number, start, end) for (number, start), end in
             zip(track_starts, [start for _, start in track_starts[1:]] + [track_points])]
    names, index = _trackers_of(spans, t_ms, len(t_ms), track_names, tracker, tracks)
    # <ele> is above mean sea level (GPS units and GPX readers agree on it); positions keep heights above the
    # ellipsoid, as CoT's hae: the geoid's height is added, the file's own where it gives one (<geoidheight>, the
    # model the unit used), else EGM96 (grids shipped with the package)
    height = ellipsoidal_heights(lon, lat, alt)
    if len(geoid_rows):
        rows = np.frombuffer(geoid_rows, dtype=np.int64)
        rows = np.where(rows >= 0, rows, track_points - 1 - rows)  # a waypoint's row follows the track points
        height[rows] = alt[rows] + np.frombuffer(geoid_metres, dtype=np.float64)
        found.geoid_from_file = int(np.count_nonzero(~np.isnan(alt[rows])))
    found.heights_dropped = int(np.count_nonzero(~np.isnan(alt) & np.isnan(height)))
    found.columns = PositionColumns(
        names, index, t_ms, lat, lon, height, speed, course,
        np.full(len(t_ms), np.nan),  # HDOP is not metres: leave accuracy unknown
    )
    check(found.columns, where="file.points")
    return found


TRACK_NAME_SEPARATOR = " · "  # PeaceWatch's patrol-tracks export names a track "<patrol> · <tracker code>"


def tracker_named(track_name: str) -> str:
    """The tracker a track's name names: the whole name (a code or CoT uid), or what follows the last " · " (the
    patrol-tracks export's "N1 Martakert - Askeran · MP-N1")."""
    return track_name.rpartition(TRACK_NAME_SEPARATOR)[2].strip() or track_name


def _trackers_of(rows: list[tuple[int, int, int]], t_ms: np.ndarray, count: int, track_names: dict[int, str], tracker: str | None,
                 tracks: Tracks) -> tuple[list[str], np.ndarray]:
    """Each point's tracker, as PositionColumns encodes it (the names once, an index per point); ``rows`` are each
    track's (number, first row, end row) among the track points, which come first."""
    spans = [TrackSpan(number, track_names.get(number, ""), int(t_ms[start:end].min()), int(t_ms[start:end].max()), end - start)
             for number, start, end in rows]
    if tracks == "one":
        clash = overlapping(spans)
        if clash is not None:
            first, second = clash
            raise Invalid(
                "tracks[{a}] ({a_name}) and tracks[{b}] ({b_name}) were recorded at the same time: they are two vehicles, not "
                "one tracker's log, and their points would be stored as one. Import each track into the tracker its name "
                "names (tracks=by_name), or one file per tracker", field="tracks", a=first.index, b=second.index,
                a_name=first.name or "unnamed", b_name=second.name or "unnamed")
        return [tracker or ""], np.zeros(count, dtype=np.int32)
    unnamed = [span.index for span in spans if not span.name]
    if unnamed:
        raise Invalid("tracks[{index}] has no <name>: with tracks=by_name each track names its tracker (its code or CoT uid)",
                      field=f"file.tracks[{unnamed[0]}].name", index=unnamed[0])
    names = sorted({tracker_named(span.name) for span in spans})
    position = {name: i for i, name in enumerate(names)}
    index = np.zeros(count, dtype=np.int32)
    for (_number, start, end), span in zip(rows, spans):
        index[start:end] = position[tracker_named(span.name)]
    return names, index


Fix = tuple[int, float, float, float | None, float | None]  # t_ms, lat, lon, alt, speed


TRACKPOINT_EXTENSION = "http://www.garmin.com/xmlschemas/TrackPointExtension/v2"


def write_gpx(name: str, tracks: list[tuple[str, Iterable[Fix]]]) -> str:
    """GPX 1.1 with one <trk> per tracker, for GIS and navigation tools: every point with its time, its
    elevation above mean sea level and, where known, its speed (in Garmin's TrackPointExtension, as GPX 1.1
    has no element of its own for it), so that the file imports back as the same positions."""
    gpx = gpxpy.gpx.GPX()
    gpx.name = name
    gpx.nsmap["gpxtpx"] = TRACKPOINT_EXTENSION
    for code, fixes in tracks:
        rows = list(fixes)
        segment = gpxpy.gpx.GPXTrackSegment()
        if rows:
            lat = np.array([row[1] for row in rows], dtype=np.float64)
            lon = np.array([row[2] for row in rows], dtype=np.float64)
            hae = np.array([np.nan if row[3] is None else row[3] for row in rows], dtype=np.float64)
            above_sea = heights_above_sea(lon, lat, hae).tolist()
        for (t_ms, lat_, lon_, _alt, speed), elevation in zip(rows, above_sea if rows else []):
            point = gpxpy.gpx.GPXTrackPoint(lat_, lon_, elevation=None if elevation != elevation else round(elevation, 2),
                                            time=datetime.fromtimestamp(t_ms / 1000, tz=UTC))
            if speed is not None:
                extension = ElementTree.Element(f"{{{TRACKPOINT_EXTENSION}}}TrackPointExtension")
                ElementTree.SubElement(extension, f"{{{TRACKPOINT_EXTENSION}}}speed").text = f"{speed:g}"
                point.extensions.append(extension)
            segment.points.append(point)
        track = gpxpy.gpx.GPXTrack(name=code)
        track.segments.append(segment)
        gpx.tracks.append(track)
    return gpx.to_xml()
