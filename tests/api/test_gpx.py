"""GPX uploads through the API and the CLI: tracks and waypoints, untimed points, hostile files."""

from __future__ import annotations

import io
from datetime import UTC
from pathlib import Path
from typing import Any

import gpxpy.gpx
import pytest
from fastapi.testclient import TestClient

from peacewatch.core.problems import Invalid
from peacewatch.tracking.gpx import gpx_columns


def gpx_file(points: int = 5, untimed: bool = False) -> bytes:
    from datetime import datetime, timedelta

    gpx = gpxpy.gpx.GPX()
    track, segment = gpxpy.gpx.GPXTrack(name="MP-07"), gpxpy.gpx.GPXTrackSegment()
    start = datetime(2020, 11, 14, 8, tzinfo=UTC)
    for i in range(points):
        segment.points.append(gpxpy.gpx.GPXTrackPoint(40.1 + i / 1000, 46.7, elevation=700.0, time=start + timedelta(seconds=5 * i)))
    track.segments.append(segment)
    gpx.tracks.append(track)
    gpx.waypoints.append(gpxpy.gpx.GPXWaypoint(40.2, 46.8, time=None if untimed else start + timedelta(hours=1), name="halt"))
    return gpx.to_xml().encode()


def test_track_points_become_positions_and_waypoints_named_places() -> None:
    points = gpx_columns(gpx_file(), "MP-07")
    # <ele> 700 m above sea level is 713.16 m above the WGS84 ellipsoid there (EGM96), as CoT's hae would say
    assert len(points.columns) == 5 and points.columns.alt[0] == pytest.approx(713.157, abs=0.01)
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
    client.post("/api/v1/trackers", json={"code": "MP-07", "bound_users": ["patrol"]}, headers=auth("ops"))
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


@pytest.mark.usefixtures("scenario")
def test_a_garmin_dumps_waypoints_can_be_kept_as_named_places(client: TestClient, auth: Any) -> None:
    client.post("/api/v1/trackers", json={"code": "MP-07", "bound_users": ["patrol"]}, headers=auth("ops"))

    def upload() -> Any:
        return client.post("/api/v1/positions/gpx", data={"tracker": "MP-07", "waypoints": "places"}, headers=auth("patrol"),
                           files={"file": ("Current.gpx", io.BytesIO(garmin_dump()), "application/gpx+xml")})

    first = upload().json()
    assert (first["stored"], first["places_created"], first["skipped"]) == (296, 6, 4)  # the saved track's 4 untimed points
    assert (upload().json()["places_created"], upload().json()["places_known"]) == (0, 6)  # kept once
    places = client.get("/api/v1/places", headers=auth("ops")).json()["features"]
    from_the_gps = [p for p in places if p["properties"]["source"] != "reference scenario gazetteer"]
    assert sorted(p["properties"]["name"] for p in from_the_gps) == ["001", "002", "BRIDGE", "CAMP", "CHECKPOINT", "OP-3"]
    op3 = next(p for p in places if p["properties"]["name"] == "OP-3")
    assert op3["geometry"]["coordinates"] == [46.8, 40.0] and op3["properties"]["elevation"] == 750.2
    assert op3["properties"]["source"] == "Current.gpx from patrol"
    anonymous = client.get("/api/v1/places").json()["features"]  # the GPS's marks are for the mission's staff only
    assert all(p["properties"]["source"] == "reference scenario gazetteer" for p in anonymous)
    bad = client.post("/api/v1/positions/gpx", data={"tracker": "MP-07", "waypoints": "shops"}, headers=auth("patrol"),
                      files={"file": ("Current.gpx", io.BytesIO(garmin_dump()), "application/gpx+xml")})
    assert bad.status_code == 422 and "waypoints" in bad.text
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
    kept = runner.invoke(app, ["gpx", str(path), "--tracker", "MP-07", "--waypoints", "places"])
    assert kept.exit_code == 0 and "6 waypoint(s) kept as places, 0 already known" in kept.output, kept.output
    wrong = runner.invoke(app, ["gpx", str(path), "--tracker", "MP-07", "--waypoints", "shops"])
    assert wrong.exit_code != 0 and "--waypoints must be report, places or positions" in wrong.output


def test_heights_above_sea_level_are_stored_above_the_ellipsoid_and_written_back_above_sea_level() -> None:
    import numpy as np

    from peacewatch.core.geo import ellipsoidal_heights, heights_above_sea

    lon, lat = np.array([46.75, 46.75, 46.75]), np.array([39.82, 39.82, 39.82])
    above = ellipsoidal_heights(lon, lat, np.array([1000.0, np.nan, 0.0]))
    assert above[0] == pytest.approx(1013.849, abs=0.01) and np.isnan(above[1])
    assert heights_above_sea(lon, lat, above)[[0, 2]].tolist() == pytest.approx([1000.0, 0.0])


@pytest.mark.usefixtures("scenario")
def test_a_track_exported_as_gpx_imports_back_as_the_same_positions(client: TestClient, auth: Any) -> None:
    """Times, speeds (Garmin's TrackPointExtension) and heights survive the trip out and back."""
    client.post("/api/v1/trackers", json={"code": "MP-07", "bound_users": ["patrol"]}, headers=auth("ops"))
    client.post("/api/v1/trackers", json={"code": "MP-08", "bound_users": ["patrol"]}, headers=auth("ops"))
    fixes = [{"tracker": "MP-07", "t": f"2020-11-14T08:00:{s:02d}Z", "lat": 40.1 + s / 1e4, "lon": 46.7, "alt": 713.16,
              "speed": 8.5 + s, "heading": 90} for s in range(5)]
    assert client.post("/api/v1/positions", json={"positions": fixes}, headers=auth("patrol")).status_code == 200
    trackers = {t["code"]: t["id"] for t in client.get("/api/v1/trackers", headers=auth("ops")).json()}
    gpx = client.get(f"/api/v1/trackers/{trackers['MP-07']}/track", params={"format": "gpx"}, headers=auth("ops")).text
    assert "<gpxtpx:speed>8.5</gpxtpx:speed>" in gpx and "<ele>700.0</ele>" in gpx
    back = client.post("/api/v1/positions/gpx", data={"tracker": "MP-08"}, headers=auth("patrol"),
                       files={"file": ("MP-07.gpx", io.BytesIO(gpx.encode()), "application/gpx+xml")})
    assert back.status_code == 200 and back.json()["stored"] == 5, back.text
    again = client.get(f"/api/v1/trackers/{trackers['MP-08']}/track", params={"format": "gpx"}, headers=auth("ops")).text
    assert again.replace("MP-08", "MP-07") == gpx
