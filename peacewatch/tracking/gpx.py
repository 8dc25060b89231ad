"""GPX files (1.0 and 1.1) as position columns: track points and timed waypoints of one tracker.

The file is first read by defusedxml with DTDs forbidden, so a hostile file is refused before
gpxpy sees it. A point without a time cannot be a position: the file is refused, naming the point.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone

import gpxpy
import gpxpy.gpx
import numpy as np

from peacewatch.core.safexml import refuse_hostile_xml
from peacewatch.core.problems import FieldError, Invalid
from peacewatch.tracking.columns import PositionColumns, check

MAX_GPX_BYTES = 200 * 1024 * 1024


def gpx_columns(data: bytes, tracker: str) -> PositionColumns:
    if len(data) > MAX_GPX_BYTES:
        raise Invalid(f"GPX file larger than {MAX_GPX_BYTES // 2**20} MiB", field="file")
    refuse_hostile_xml(data, "GPX")
    try:
        gpx = gpxpy.parse(data.decode("utf-8", errors="strict"))
    except (gpxpy.gpx.GPXException, UnicodeDecodeError, ValueError) as exc:
        raise Invalid(f"not readable GPX: {exc}", field="file") from None

    points: list[tuple[str, gpxpy.gpx.GPXTrackPoint | gpxpy.gpx.GPXWaypoint]] = []
    for t, track in enumerate(gpx.tracks):
        for s, segment in enumerate(track.segments):
            points += [(f"tracks[{t}].segments[{s}].points[{p}]", point) for p, point in enumerate(segment.points)]
    points += [(f"waypoints[{w}]", point) for w, point in enumerate(gpx.waypoints)]
    untimed = [where for where, point in points if point.time is None]
    if untimed:
        raise Invalid(
            f"{len(untimed)} point(s) without a time cannot be positions; nothing stored",
            errors=[FieldError(field=f"file.{where}.time", message="missing") for where in untimed[:20]],
        )
    if not points:
        raise Invalid("the GPX file holds no track points or waypoints", field="file")

    def optional(values: list[float | None]) -> np.ndarray:
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)

    times = [p.time if p.time.tzinfo else p.time.replace(tzinfo=timezone.utc) for _, p in points]  # type: ignore[union-attr]
    columns = PositionColumns(
        [tracker],
        np.zeros(len(points), dtype=np.int32),
        np.array([int(t.timestamp() * 1000) for t in times], dtype=np.int64),
        np.array([p.latitude for _, p in points], dtype=np.float64),
        np.array([p.longitude for _, p in points], dtype=np.float64),
        optional([p.elevation for _, p in points]),
        optional([getattr(p, "speed", None) for _, p in points]),
        optional([getattr(p, "course", None) for _, p in points]),
        optional([p.horizontal_dilution for _, p in points]) * np.nan,  # HDOP is not metres: leave accuracy unknown
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
