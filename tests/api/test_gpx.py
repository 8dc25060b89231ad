"""GPX uploads through the API and the CLI: tracks and waypoints, untimed points, hostile files."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import gpxpy.gpx
import pytest
from fastapi.testclient import TestClient

from peacewatch.core.problems import Invalid
from peacewatch.tracking.gpx import gpx_columns


def gpx_file(points: int = 5, untimed: bool = False) -> bytes:
    from datetime import datetime, timedelta, timezone

    gpx = gpxpy.gpx.GPX()
    track, segment = gpxpy.gpx.GPXTrack(name="MP-07"), gpxpy.gpx.GPXTrackSegment()
    start = datetime(2020, 11, 14, 8, tzinfo=timezone.utc)
    for i in range(points):
        segment.points.append(gpxpy.gpx.GPXTrackPoint(40.1 + i / 1000, 46.7, elevation=700.0, time=start + timedelta(seconds=5 * i)))
    track.segments.append(segment)
    gpx.tracks.append(track)
    gpx.waypoints.append(gpxpy.gpx.GPXWaypoint(40.2, 46.8, time=None if untimed else start + timedelta(hours=1), name="halt"))
    return gpx.to_xml().encode()


def test_track_points_become_positions_and_waypoints_named_places() -> None:
    points = gpx_columns(gpx_file(), "MP-07")
    assert len(points.columns) == 5 and points.columns.alt[0] == 700.0
    assert points.columns.t_ms[0] == 1605340800000
    assert [(p.where, p.name) for p in points.skipped] == [("waypoints[0]", "halt")]
    assert len(gpx_columns(gpx_file(), "MP-07", waypoints="positions").columns) == 6  # when asked, timed waypoints are fixes


def garmin_dump() -> bytes:
    """Shaped as an eTrex or GPSMAP writes its memory (written for this test): the day's timed track log,
    a saved track without times, and waypoints without times."""
    log = "".join(f'<trkpt lat="{40.1 + i * 1e-4:.6f}" lon="{46.7 + i * 1e-4:.6f}"><ele>{700 + i % 7}.{i % 10}</ele>'
                  f"<time>2020-11-15T{8 + i // 720:02d}:{i // 12 % 60:02d}:{i % 12 * 5:02d}Z</time></trkpt>" for i in range(296))
    saved = "".join(f'<trkpt lat="{39.9 + i * 1e-3:.6f}" lon="46.75"><ele>810.0</ele></trkpt>' for i in range(4))
    marks = "".join(f'<wpt lat="{40.0 + i / 100:.5f}" lon="46.8"><ele>750.2</ele><name>{name}</name><cmt>{name}</cmt>'
                    f"<sym>Flag, Blue</sym></wpt>" for i, name in enumerate(["OP-3", "CHECKPOINT", "BRIDGE", "001", "002", "CAMP"]))
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="no" ?><gpx xmlns="http://www.topografix.com/GPX/1/1" '
            f'creator="GPSMAP 66i" version="1.1"><metadata><link href="http://www.garmin.com"><text>Garmin International</text>'
            f'</link><time>2020-11-14T19:02:11Z</time></metadata>{marks}<trk><name>ACTIVE LOG 14 NOV</name><trkseg>{log}</trkseg>'
            f'</trk><trk><name>SAVED ROUTE NORTH</name><trkseg>{saved}</trkseg></trk></gpx>').encode()


def test_a_garmin_dump_stores_its_timed_log_and_names_what_it_does_not_store() -> None:
    points = gpx_columns(garmin_dump(), "MP-07")
    assert len(points.columns) == 296
    assert points.skipped_count == 10
    assert [p.name for p in points.skipped if p.where.startswith("waypoints")] == ["OP-3", "CHECKPOINT", "BRIDGE", "001", "002", "CAMP"]
    assert {p.reason for p in points.skipped if p.where.startswith("tracks[1]")} == {"no time: not a position"}


def test_a_file_with_no_timed_point_is_refused_naming_its_points() -> None:
    with pytest.raises(Invalid, match="none of the file's 1 point") as info:
        gpx_columns(gpx_file(points=0), "MP-07")
    assert info.value.errors[0].field == "file.waypoints[0]"


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b'<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]><gpx>&b;</gpx>', "DTDs and entities"),
        (b"<gpx><trk>", "well-formed"),
        (b'<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"></gpx>', "no track points"),
    ],
)
def test_hostile_and_empty_files_are_refused(data: bytes, fragment: str) -> None:
    with pytest.raises(Invalid, match=fragment):
        gpx_columns(data, "MP-07")


@pytest.mark.usefixtures("scenario")
def test_upload_through_the_api_is_idempotent(client: TestClient, auth: Any) -> None:
    client.post("/api/v1/trackers", json={"code": "MP-07"}, headers=auth("ops"))
    upload = lambda: client.post(  # noqa: E731
        "/api/v1/positions/gpx", data={"tracker": "MP-07"},
        files={"file": ("day.gpx", io.BytesIO(gpx_file()), "application/gpx+xml")}, headers=auth("patrol"),
    )
    first = upload()
    assert first.status_code == 200, first.text
    assert (first.json()["stored"], first.json()["skipped"]) == (5, 1)
    assert first.json()["skipped_points"] == [{"where": "waypoints[0]", "name": "halt", "reason": "a waypoint: a named place, not a position"}]
    assert upload().json()["duplicates"] == 5
    garmin = client.post("/api/v1/positions/gpx", data={"tracker": "MP-07"}, headers=auth("patrol"),
                         files={"file": ("Current.gpx", io.BytesIO(garmin_dump()), "application/gpx+xml")})
    assert garmin.status_code == 200 and (garmin.json()["stored"], garmin.json()["skipped"]) == (296, 10), garmin.text
    unknown = client.post("/api/v1/positions/gpx", data={"tracker": "NOPE"},
                          files={"file": ("d.gpx", io.BytesIO(gpx_file()), "application/gpx+xml")}, headers=auth("patrol"))
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "file.points[0].tracker"


@pytest.mark.usefixtures("scenario")
def test_upload_from_the_cli(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from peacewatch.cli import app
    from tests.conftest import CUSTODY, SECRET

    monkeypatch.setenv("PEACEWATCH_DATABASE_URL", database_url)
    monkeypatch.setenv("PEACEWATCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PEACEWATCH_SECRET_KEY", SECRET)
    monkeypatch.setenv("PEACEWATCH_CUSTODY_KEY", CUSTODY)
    runner = CliRunner()
    path = tmp_path / "day.gpx"
    path.write_bytes(gpx_file())
    missing = runner.invoke(app, ["gpx", str(path), "--tracker", "MP-07"])
    assert missing.exit_code == 1 and "unregistered" in missing.output
    from peacewatch.app import create_app
    from peacewatch.core.settings import Settings
    from peacewatch.tracking.schemas import TrackerIn
    from peacewatch.tracking.service import create_tracker

    application = create_app(Settings())
    with application.state.sessionmaker() as session:
        create_tracker(session, "test", TrackerIn(code="MP-07"))
    application.state.engine.dispose()
    result = runner.invoke(app, ["gpx", str(path), "--tracker", "MP-07"])
    assert result.exit_code == 0, result.output
    assert "5 positions stored, 0 already known, 1 point(s) not stored" in result.output
    assert "waypoints[0] halt: a waypoint: a named place, not a position" in result.output
    path.write_bytes(garmin_dump())
    dump = runner.invoke(app, ["gpx", str(path), "--tracker", "MP-07"])
    assert dump.exit_code == 0 and "296 positions stored" in dump.output and "tracks[1].segments[0].points[3]" in dump.output
