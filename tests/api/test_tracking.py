"""Trackers and positions over HTTP: bulk batches, idempotent resends, whole-batch refusal, tracks."""

from __future__ import annotations

from typing import Any

import gpxpy
import pytest
from fastapi.testclient import TestClient
from h3.api import basic_int as h3
from sqlalchemy import select
from sqlalchemy.orm import Session

from peacewatch.tracking.models import CoverageCell, Position
from tests.helpers import wait_for

NORTH = (40.10, 46.70)  # lat, lon
OUTSIDE = (39.50, 45.00)


def fix(tracker: str, second: int, lat: float, lon: float, **extra: Any) -> dict[str, Any]:
    return {"tracker": tracker, "t": f"2020-11-14T08:00:{second:02d}Z", "lat": lat, "lon": lon} | extra


@pytest.fixture
def device(client: TestClient, auth: Any) -> dict[str, str]:
    """Two registered trackers and a device token acting for the patrol user."""
    for code, visibility in (("MP-07", "internal"), ("MP-08", "side_b")):
        response = client.post("/api/v1/trackers", json={"code": code, "visibility": visibility, "bound_users": ["patrol"]},
                               headers=auth("ops"))
        assert response.status_code == 201, response.text
    token = client.post("/api/v1/api-tokens", json={"name": "MP-07 box", "username": "patrol"}, headers=auth("admin"))
    return {"Authorization": f"Bearer {token.json()['token']}"}


def send(client: TestClient, headers: dict[str, str], positions: list[dict[str, Any]]) -> Any:
    return client.post("/api/v1/positions", json={"positions": positions}, headers=headers)


@pytest.mark.usefixtures("scenario")
class TestPositions:
    def test_a_batch_is_stored_with_its_area_and_its_h3_cell_counted_in_coverage(self, client: TestClient, device: dict[str, str],
                                                                                 session: Session) -> None:
        batch = [fix("MP-07", s, NORTH[0] + s * 1e-4, NORTH[1], speed=8.5, heading=90) for s in range(10)]
        batch.append(fix("MP-07", 30, *OUTSIDE))
        response = send(client, device, batch)
        assert response.status_code == 200, response.text
        assert response.json() | {"batch_id": 0} == {"received": 11, "stored": 11, "duplicates": 0, "batch_id": 0, "alerts": 0}
        rows = session.scalars(select(Position).order_by(Position.t_ms)).all()
        north_id = client.get("/api/v1/areas").json()["features"][0]["id"]
        assert [r.zone_id for r in rows] == [north_id] * 10 + [None]
        assert h3.latlng_to_cell(NORTH[0], NORTH[1], 8) in set(session.scalars(select(CoverageCell.cell)))
        assert rows[0].speed == 8.5 and rows[0].alt is None
        assert [(r.lat, r.lon) for r in rows] == [(round(b["lat"], 7), round(b["lon"], 7)) for b in batch]  # to 1 cm

    def test_resending_is_idempotent(self, client: TestClient, device: dict[str, str]) -> None:
        batch = [fix("MP-07", s, *NORTH) for s in range(5)]
        assert send(client, device, batch).json()["stored"] == 5
        again = send(client, device, batch + [fix("MP-07", 9, *NORTH)]).json()
        assert (again["stored"], again["duplicates"]) == (1, 5)

    def test_an_unknown_tracker_refuses_the_whole_batch(self, client: TestClient, device: dict[str, str], session: Session) -> None:
        response = send(client, device, [fix("MP-07", 1, *NORTH), fix("GHOST-1", 2, *NORTH)])
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "body.positions[1].tracker"
        assert "GHOST-1" in response.json()["detail"]
        assert session.scalars(select(Position)).all() == []

    @pytest.mark.parametrize(
        ("bad", "field"),
        [
            ({"lat": 91}, "lat"), ({"lon": -181}, "lon"), ({"lat": "x"}, "lat"), ({"lat": None}, "lat"),
            ({"t": "2020-11-14T08:00:00"}, "t"), ({"t": "yesterday"}, "t"), ({"t": "2999-01-01T00:00:00Z"}, "t"),
            ({"speed": -1}, "speed"), ({"heading": 400}, "heading"), ({"tracker": ""}, "tracker"),
            ({"tracker": {}}, "tracker"), ({"tracker": ["MP-07"]}, "tracker"), ({"t": 1605340800}, "t"),
        ],
    )
    def test_bad_values_are_named_and_nothing_is_stored(
        self, client: TestClient, device: dict[str, str], session: Session, bad: dict[str, Any], field: str
    ) -> None:
        response = send(client, device, [fix("MP-07", 1, *NORTH), fix("MP-07", 2, *NORTH) | bad])
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == f"body.positions[1].{field}"
        assert session.scalars(select(Position)).all() == []

    def test_malformed_bodies_are_422(self, client: TestClient, device: dict[str, str]) -> None:
        assert client.post("/api/v1/positions", content=b"{nope", headers=device).status_code == 422
        assert client.post("/api/v1/positions", json={"fixes": []}, headers=device).status_code == 422
        assert client.post("/api/v1/positions", json={"positions": [1, 2]}, headers=device).status_code == 422

    def test_positions_need_a_reporting_role(self, client: TestClient, device: dict[str, str], auth: Any) -> None:
        assert send(client, {}, [fix("MP-07", 1, *NORTH)]).status_code == 401
        assert send(client, auth("press"), [fix("MP-07", 1, *NORTH)]).status_code == 403

    def test_track_as_geojson_and_gpx_in_time_order(self, client: TestClient, device: dict[str, str], auth: Any) -> None:
        batch = [fix("MP-07", s, NORTH[0] + s * 1e-3, NORTH[1]) for s in (5, 1, 3)]
        send(client, device, batch)
        tracker_id = client.get("/api/v1/trackers", headers=auth("ops")).json()[0]["id"]
        track = client.get(f"/api/v1/trackers/{tracker_id}/track", headers=auth("ops"))
        assert track.headers["content-type"] == "application/geo+json"
        body = track.json()
        assert body["geometry"]["type"] == "LineString"
        assert [c[1] for c in body["geometry"]["coordinates"]] == pytest.approx([40.101, 40.103, 40.105])
        assert body["properties"]["times"][0] == "2020-11-14T08:00:01Z"
        gpx = gpxpy.parse(client.get(f"/api/v1/trackers/{tracker_id}/track", params={"format": "gpx"}, headers=auth("ops")).text)
        assert len(gpx.tracks[0].segments[0].points) == 3
        window = client.get(f"/api/v1/trackers/{tracker_id}/track", params={"since": "2020-11-14T08:00:02Z"}, headers=auth("ops"))
        assert window.json()["properties"]["count"] == 2
        assert body["properties"]["truncated"] is False

    def test_a_track_longer_than_the_limit_says_so(self, client: TestClient, device: dict[str, str], session: Session) -> None:
        from peacewatch.tracking.models import Tracker
        from peacewatch.tracking.service import track

        send(client, device, [fix("MP-07", s, *NORTH) for s in range(5)])
        tracker = session.scalars(select(Tracker).where(Tracker.code == "MP-07")).one()
        fixes, truncated = track(session, tracker, None, None, limit=3)
        assert len(fixes) == 3 and truncated is True
        assert track(session, tracker, None, None, limit=5)[1] is False

    def test_a_side_b_tracker_and_its_track_are_hidden_from_side_a(self, client: TestClient, device: dict[str, str], auth: Any) -> None:
        send(client, device, [fix("MP-08", 1, *NORTH)])
        mp08 = next(t for t in client.get("/api/v1/trackers", headers=auth("ops")).json() if t["code"] == "MP-08")
        assert client.get(f"/api/v1/trackers/{mp08['id']}/track", headers=auth("liaison-a")).status_code == 404
        assert client.get(f"/api/v1/trackers/{mp08['id']}/track", headers=auth("liaison-b")).status_code == 200
        assert "MP-08" not in {t["code"] for t in client.get("/api/v1/trackers", headers=auth("liaison-a")).json()}


@pytest.mark.usefixtures("scenario")
class TestTrackers:
    def test_registering_needs_operations_and_a_unique_code(self, client: TestClient, auth: Any) -> None:
        assert client.post("/api/v1/trackers", json={"code": "V-1"}, headers=auth("patrol")).status_code == 403
        assert client.post("/api/v1/trackers", json={"code": "V-1", "cot_uid": "ANDROID-1"}, headers=auth("ops")).status_code == 201
        again = client.post("/api/v1/trackers", json={"code": "V-2", "cot_uid": "ANDROID-1"}, headers=auth("ops"))
        assert again.status_code == 409 and again.json()["errors"][0]["field"] == "body.cot_uid"
        unit = client.post("/api/v1/trackers", json={"code": "V-3", "unit_id": 9999}, headers=auth("ops"))
        assert unit.status_code == 422 and unit.json()["errors"][0]["field"] == "body.unit_id"

    def test_a_tak_client_reports_under_its_cot_uid(self, client: TestClient, auth: Any) -> None:
        client.post("/api/v1/trackers", json={"code": "TAK-1", "kind": "tak_client", "cot_uid": "ANDROID-abc", "bound_users": ["patrol"]},
                    headers=auth("ops"))
        response = send(client, auth("patrol"), [fix("ANDROID-abc", 1, *NORTH)])
        assert response.status_code == 200 and response.json()["stored"] == 1


@pytest.mark.usefixtures("scenario")
def test_the_live_stream_sends_a_snapshot_then_every_new_fix_in_the_readers_scope(client: TestClient, auth: Any) -> None:
    """The live map draws each tracker's track from the stream: no fix may go missing, none may leak across sides."""
    import contextlib
    import json
    import threading
    from datetime import timedelta

    from peacewatch.core.db import utcnow

    for code, visibility in (("MP-51", "side_a"), ("MP-52", "internal")):
        assert client.post("/api/v1/trackers", json={"code": code, "visibility": visibility, "bound_users": ["patrol"]},
                           headers=auth("ops")).status_code == 201
    start = utcnow().replace(microsecond=0) - timedelta(minutes=10)
    moment = lambda i: (start + timedelta(seconds=i)).isoformat().replace("+00:00", "Z")  # noqa: E731

    def post(i: int) -> None:
        batch = [{"tracker": code, "t": moment(i), "lat": NORTH[0] + i / 1000, "lon": NORTH[1]} for code in ("MP-51", "MP-52")]
        assert send(client, auth("patrol"), batch).status_code == 200

    post(0)
    seen: dict[str, list[tuple[str, str]]] = {"ops": [], "liaison-a": [], "liaison-b": []}

    def listen(who: str) -> None:
        with contextlib.suppress(Exception), client.stream("GET", "/api/v1/positions/stream", headers=auth(who)) as stream:
            for line in stream.iter_lines():
                if line.startswith("data:"):
                    seen[who] += [(f["properties"]["code"], f["properties"]["time"]) for f in json.loads(line[5:])["features"]]
                if len(seen[who]) >= {"ops": 12, "liaison-a": 6, "liaison-b": 99}[who]:
                    return

    listeners = [threading.Thread(target=listen, args=(who,), daemon=True) for who in seen]
    for listener in listeners:
        listener.start()
    wait_for(lambda: len(seen["ops"]) >= 2 and seen["liaison-a"], 10, "both streams' snapshots")
    for i in range(1, 6):
        post(i)
    for listener in listeners[:2]:
        listener.join(timeout=10)
    expected = [(code, moment(i)) for i in range(6) for code in ("MP-51", "MP-52")]
    assert sorted(seen["ops"], key=lambda s: (s[1], s[0])) == expected  # the snapshot, then each fix once, none lost
    assert seen["liaison-a"] == [("MP-51", moment(i)) for i in range(6)]  # side A's tracker only, in order
    assert seen["liaison-b"] == []


@pytest.mark.usefixtures("scenario")
def test_open_live_streams_hold_no_database_connection(settings: Any, auth: Any) -> None:
    """A map keeps its streams open for hours: with more streams open than the pool has connections,
    requests are still served at once."""
    import contextlib
    import threading

    from peacewatch.app import create_app

    app = create_app(settings.model_copy(update={"db_pool_size": 2, "db_max_overflow": 0, "db_pool_timeout_s": 2}))
    opened = threading.Semaphore(0)
    with TestClient(app) as client:
        def hold(path: str) -> None:
            with contextlib.suppress(Exception), client.stream("GET", path, headers=auth("ops")) as stream:
                opened.release()
                for _ in stream.iter_lines():
                    pass

        for n in range(6):
            threading.Thread(target=hold, args=(("/api/v1/positions/stream", "/api/v1/alerts/stream")[n % 2],), daemon=True).start()
        for _ in range(6):
            assert opened.acquire(timeout=10)
        answer = client.get("/api/v1/alerts", headers=auth("ops"))
        assert answer.status_code == 200, answer.text
    app.state.engine.dispose()


@pytest.mark.usefixtures("scenario")
def test_the_maps_recent_tracks_are_each_trackers_own_thinned_and_within_the_readers_scope(client: TestClient, device: dict[str, str],
                                                                                        auth: Any) -> None:
    """MP-07 (internal) reports 1,200 times, MP-08 (side B) 3 times, in the hour: one line each, MP-07's thinned to
    every 3rd fix and its last; a side A liaison sees neither, a side B one only MP-08."""
    fixes = [{"tracker": "MP-07", "t": f"2020-11-14T08:{s // 20:02d}:{s % 20 * 3:02d}Z", "lat": 40.1 + s * 1e-5, "lon": 46.7}
             for s in range(1200)]
    fixes += [fix("MP-08", s, 40.2 + s / 100, 46.8) for s in range(3)]
    assert send(client, device, fixes).status_code == 200
    params = {"until": "2020-11-14T09:00:00Z", "hours": 1}
    lines = {f["properties"]["code"]: f for f in client.get("/api/v1/positions/tracks", params=params, headers=auth("ops")).json()["features"]}
    assert set(lines) == {"MP-07", "MP-08"}
    seven = lines["MP-07"]["geometry"]["coordinates"]
    assert len(seven) == 401 and seven[0] == [46.7, 40.1] and seven[-1] == [46.7, round(40.1 + 1199 * 1e-5, 7)]
    assert seven[1] == [46.7, round(40.1 + 3 * 1e-5, 7)]
    assert lines["MP-08"]["geometry"]["coordinates"] == [[46.8, 40.2], [46.8, 40.21], [46.8, 40.22]]
    assert client.get("/api/v1/positions/tracks", params=params, headers=auth("liaison-a")).json()["features"] == []
    side_b = client.get("/api/v1/positions/tracks", params=params, headers=auth("liaison-b")).json()["features"]
    assert [f["properties"]["code"] for f in side_b] == ["MP-08"]
