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


def test_track_points_and_waypoints_become_positions() -> None:
    columns = gpx_columns(gpx_file(), "MP-07")
    assert len(columns) == 6 and columns.alt[0] == 700.0
    assert columns.t_ms[0] == 1605340800000


def test_an_untimed_point_refuses_the_file_naming_it() -> None:
    with pytest.raises(Invalid) as info:
        gpx_columns(gpx_file(untimed=True), "MP-07")
    assert info.value.errors[0].field == "file.waypoints[0].time"


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
    assert first.json()["stored"] == 6
    assert upload().json()["duplicates"] == 6
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
    assert "6 positions stored" in result.output
