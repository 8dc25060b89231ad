"""GPX files as the tools write them, second pass: several vehicles' tracks in one file (PeaceWatch's own export),
a GDAL/GPSBabel file carrying its own geoid heights, a Garmin dump of waypoints only, a line's grid reference."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from peacewatch.core.problems import Invalid
from peacewatch.tracking.gpx import gpx_columns, write_gpx

START = datetime(2020, 12, 18, 6, 15, 50, tzinfo=UTC)


def fleet_export() -> bytes:
    """Two patrols' tracks over the same hour, as PeaceWatch's own patrol-tracks export writes them: one <trk> per tracker."""
    def track(lat: float) -> list[tuple[int, float, float, float | None, float | None]]:
        return [(int((START + timedelta(seconds=10 * i)).timestamp() * 1000), lat + i * 1e-4, 46.75, 720.0, 8.0) for i in range(30)]

    return write_gpx("patrol tracks", [("MP-N1", track(40.10)), ("MP-S1", track(39.80))]).encode()


def test_one_trackers_file_of_several_vehicles_is_refused_clearly_and_each_track_goes_to_its_named_tracker() -> None:
    with pytest.raises(Invalid) as refused:
        gpx_columns(fleet_export(), "MP-N1")
    assert refused.value.errors[0].field == "tracks"
    assert "tracks[0] (MP-N1) and tracks[1] (MP-S1) were recorded at the same time" in refused.value.detail
    by_name = gpx_columns(fleet_export(), None, tracks="by_name")
    assert by_name.columns.names == ["MP-N1", "MP-S1"] and len(by_name.columns) == 60
    assert [by_name.columns.name_of(0), by_name.columns.name_of(59)] == ["MP-N1", "MP-S1"]
    with pytest.raises(Invalid) as nameless:
        gpx_columns(fleet_export().replace(b"<name>MP-S1</name>", b""), None, tracks="by_name")
    assert nameless.value.errors[0].field == "file.tracks[1].name"


def test_one_devices_log_cut_into_daily_tracks_is_one_trackers() -> None:
    days = "".join(f'<trk><name>ACTIVE LOG: {day} DEC 2020</name><trkseg>'
                   + "".join(f'<trkpt lat="40.1{i}" lon="46.7"><ele>700</ele><time>2020-12-{day}T08:00:0{i}Z</time></trkpt>' for i in range(5))
                   + "</trkseg></trk>" for day in (17, 18))
    points = gpx_columns(f'<gpx xmlns="http://www.topografix.com/GPX/1/1" version="1.1" creator="eTrex 32x">{days}</gpx>'.encode(),
                         "MP-07")
    assert len(points.columns) == 10 and points.columns.names == ["MP-07"]


def test_the_files_own_geoid_height_makes_the_height_above_the_ellipsoid() -> None:
    """GDAL's GPX driver and GPSBabel write <geoidheight> where the unit gave it: the unit's geoid, not EGM96, is used."""
    points = (f'<trkpt lat="39.8162" lon="46.7533"><ele>610.0</ele><time>2020-12-18T06:15:5{i}Z</time>'
              f'{"<geoidheight>13.5</geoidheight>" if i < 2 else ""}</trkpt>' for i in range(3))
    gpx = ('<?xml version="1.0"?><gpx version="1.1" creator="GDAL 3.6.2" xmlns="http://www.topografix.com/GPX/1/1">'
           f'<trk><name>MP-07</name><trkseg>{"".join(points)}</trkseg></trk></gpx>').encode()
    found = gpx_columns(gpx, "MP-07")
    assert found.geoid_from_file == 2
    assert found.columns.alt[:2].tolist() == [623.5, 623.5]
    assert found.columns.alt[2] == pytest.approx(610.0 + 13.825, abs=0.01)  # EGM96 (13.8 m there) where the file says nothing


def test_a_garmin_dump_of_waypoints_and_an_untimed_saved_track_keeps_its_waypoints_as_places() -> None:
    gpx = (b'<gpx xmlns="http://www.topografix.com/GPX/1/1" creator="GPSMAP 66i" version="1.1">'
           b'<wpt lat="39.81620" lon="46.75330"><ele>610.2</ele><name>OP-3</name><sym>Flag, Blue</sym></wpt>'
           b'<wpt lat="39.82000" lon="46.76000"><name>BRIDGE</name></wpt>'
           b'<trk><name>SAVED ROUTE</name><trkseg><trkpt lat="39.9" lon="46.75"><ele>810</ele></trkpt></trkseg></trk></gpx>')
    found = gpx_columns(gpx, "MP-07", waypoints="places")
    assert [p.name for p in found.places] == ["OP-3", "BRIDGE"] and len(found.columns) == 0
    assert [(p.where, p.reason) for p in found.skipped] == [("tracks[0].segments[0].points[0]", "no time: not a position")]


def test_the_api_imports_a_fleet_export_into_each_tracker_by_name(client: TestClient, auth: Any, scenario: None) -> None:
    for code in ("MP-N1", "MP-S1"):
        assert client.post("/api/v1/trackers", json={"code": code}, headers=auth("ops")).status_code == 201
    refused = client.post("/api/v1/positions/gpx", data={"tracker": "MP-N1"}, headers=auth("ops"),
                          files={"file": ("tracks.gpx", fleet_export(), "application/gpx+xml")})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "tracks"
    stored = client.post("/api/v1/positions/gpx", data={"tracks": "by_name"}, headers=auth("ops"),
                         files={"file": ("tracks.gpx", fleet_export(), "application/gpx+xml")})
    assert stored.status_code == 200, stored.text
    assert (stored.json()["stored"], stored.json()["duplicates"], stored.json()["trackers"]) == (60, 0, ["MP-N1", "MP-S1"])
    unknown = client.post("/api/v1/positions/gpx", data={"tracks": "by_name"}, headers=auth("ops"),
                          files={"file": ("tracks.gpx", fleet_export().replace(b"MP-S1", b"MP-S9"), "application/gpx+xml")})
    assert unknown.status_code == 422 and "MP-S9" in unknown.text
    assert client.post("/api/v1/positions/gpx", headers=auth("ops"),
                       files={"file": ("tracks.gpx", fleet_export(), "application/gpx+xml")}).json()["errors"][0]["field"] == "tracker"
