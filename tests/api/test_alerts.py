"""Alert rules, once per episode; handling alerts; the sweeper; the live stream; visibility."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from peacewatch.alerts.service import sweep
from tests.bodies import INSIDE, OFF_ROUTE, OUTSIDE, moving, send
from tests.helpers import wait_for

ROUTE = {"type": "LineString", "coordinates": [[46.60, 40.10], [46.80, 40.10]]}
@pytest.fixture
def patrol(client: TestClient, auth: Any) -> dict[str, Any]:
    units = {u["name"]: u["id"] for u in client.get("/api/v1/units", headers=auth("ops")).json()}
    north = next(f["id"] for f in client.get("/api/v1/areas").json()["features"] if f["properties"]["code"] == "north")
    client.post("/api/v1/trackers", json={"code": "MP-07", "bound_users": ["patrol"]}, headers=auth("ops"))
    body = {"name": "North test patrol", "unit_id": units["Military Police Company North"], "zone_id": north,
            "route": ROUTE, "planned_start": "2020-11-14T08:00:00Z", "planned_end": "2020-11-14T12:00:00Z",
            "trackers": ["MP-07"], "max_stop_minutes": 10, "silence_minutes": 15, "route_tolerance_m": 2000}
    created = client.post("/api/v1/patrols", json=body, headers=auth("ops")).json()
    client.post(f"/api/v1/patrols/{created['id']}/start", json={"at": "2020-11-14T08:00:00Z"}, headers=auth("patrol"))
    return created


def alerts(client: TestClient, auth: Any, who: str = "ops", **params: Any) -> list[dict[str, Any]]:
    return client.get("/api/v1/alerts", params=params, headers=auth(who)).json()


@pytest.mark.usefixtures("scenario", "patrol")
class TestRules:
    def test_leaving_the_area_raises_one_alert_per_episode(self, client: TestClient, auth: Any) -> None:
        send(client, auth, moving(0, 3) + [(3, OUTSIDE), (4, OUTSIDE), (5, INSIDE)])
        send(client, auth, [(6, OUTSIDE), (7, OUTSIDE)])
        send(client, auth, [(8, OUTSIDE)])
        left = alerts(client, auth, kind="left_area")
        assert len(left) == 2  # two exits, not five points
        second, first = left
        assert first["started_at"].startswith("2020-11-14T08:03") and first["ended_at"].startswith("2020-11-14T08:05")
        assert second["started_at"].startswith("2020-11-14T08:06") and second["ended_at"] is None
        assert "MP-07 left its area" in first["message"] and first["patrol_id"] is not None

    def test_a_resend_raises_nothing_new(self, client: TestClient, auth: Any) -> None:
        batch = moving(0, 2) + [(2, OUTSIDE)]
        assert send(client, auth, batch)["alerts"] >= 1
        before = len(alerts(client, auth))
        assert send(client, auth, batch)["alerts"] == 0
        assert len(alerts(client, auth)) == before

    def test_straying_from_the_route(self, client: TestClient, auth: Any) -> None:
        send(client, auth, moving(0, 2) + [(2, OFF_ROUTE), (3, (OFF_ROUTE[0], OFF_ROUTE[1] + 0.01)), (4, INSIDE)])
        [off] = alerts(client, auth, kind="off_route")
        assert off["started_at"].startswith("2020-11-14T08:02") and off["ended_at"].startswith("2020-11-14T08:04")

    def test_a_long_stop_away_from_posts_alerts_once(self, client: TestClient, auth: Any) -> None:
        send(client, auth, moving(0, 2) + [(m, INSIDE) for m in range(2, 10)])
        assert alerts(client, auth, kind="long_stop") == []  # 8 minutes: allowed
        send(client, auth, [(m, INSIDE) for m in range(10, 20)] + moving(20, 2))
        [stop] = alerts(client, auth, kind="long_stop")
        assert stop["started_at"].startswith("2020-11-14T08:13")  # standing since 08:02, 10 minutes allowed
        assert stop["ended_at"] is not None

    def test_a_stop_at_an_open_post_is_not_an_alert(self, client: TestClient, auth: Any) -> None:
        post = client.get("/api/v1/posts", params={"on": "2020-11-14", "zone_id": 1}).json()["features"][0]
        lon, lat = post["geometry"]["coordinates"]
        send(client, auth, [(m, (lat, lon)) for m in range(0, 30)])
        assert alerts(client, auth, kind="long_stop") == []

    def test_coming_near_the_line_of_contact(self, client: TestClient, auth: Any) -> None:
        near = (40.33, 46.915)  # about 300 m from the line of contact's northern leg
        send(client, auth, moving(0, 2) + [(2, near), (3, (near[0], near[1] + 0.0001)), (4, INSIDE)])
        [loc] = alerts(client, auth, kind="near_line_of_contact")
        assert loc["started_at"].startswith("2020-11-14T08:02") and loc["ended_at"].startswith("2020-11-14T08:04")

    def test_entering_a_restricted_zone(self, client: TestClient, auth: Any) -> None:
        square = [[46.69, 40.09], [46.71, 40.09], [46.71, 40.11], [46.69, 40.11], [46.69, 40.09]]
        zone = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [square]},
                "properties": {"code": "minefield-1", "name": "Suspected minefield"}}
        assert client.post("/api/v1/restricted-zones", json=zone, headers=auth("ops")).status_code == 201
        send(client, auth, [(0, (40.10, 46.65)), (1, INSIDE), (2, (40.10, 46.75))])
        [inside] = alerts(client, auth, kind="in_restricted_zone")
        assert inside["started_at"].startswith("2020-11-14T08:01") and inside["ended_at"].startswith("2020-11-14T08:02")


@pytest.mark.usefixtures("scenario")
class TestSweeper:
    def test_a_silent_patrol_and_one_not_back_in_time(self, client: TestClient, auth: Any, patrol: dict[str, Any], session: Session) -> None:
        send(client, auth, moving(0, 2))
        assert sweep(session, datetime(2020, 11, 14, 8, 10, tzinfo=UTC)) == []
        [silent] = sweep(session, datetime(2020, 11, 14, 8, 20, tzinfo=UTC))
        assert silent.kind.value == "silent" and silent.patrol_id == patrol["id"]
        assert sweep(session, datetime(2020, 11, 14, 8, 25, tzinfo=UTC)) == []  # once per episode
        client.post(f"/api/v1/patrols/{patrol['id']}/check-ins", json={"at": "2020-11-14T08:26:00Z"}, headers=auth("patrol"))
        sweep(session, datetime(2020, 11, 14, 8, 27, tzinfo=UTC))
        [ended] = alerts(client, auth, kind="silent")
        assert ended["ended_at"].startswith("2020-11-14T08:26")
        late = sweep(session, datetime(2020, 11, 14, 12, 5, tzinfo=UTC))
        assert {a.kind.value for a in late} == {"not_back", "silent"}
        assert sweep(session, datetime(2020, 11, 14, 13, 0, tzinfo=UTC), patrol_ids=[patrol["id"] + 1]) == []
        assert all(a["ended_at"] is None for a in alerts(client, auth) if a["kind"] == "not_back")  # other patrols untouched
        client.post(f"/api/v1/patrols/{patrol['id']}/complete", json={"at": "2020-11-14T12:10:00Z"}, headers=auth("patrol"))
        sweep(session, datetime(2020, 11, 14, 12, 11, tzinfo=UTC))
        assert all(a["ended_at"] for a in alerts(client, auth))


@pytest.mark.usefixtures("scenario", "patrol")
class TestHandling:
    def test_acknowledge_then_close(self, client: TestClient, auth: Any) -> None:
        send(client, auth, moving(0, 2) + [(2, OUTSIDE)])
        alert_id = alerts(client, auth)[0]["id"]
        assert client.post(f"/api/v1/alerts/{alert_id}/acknowledge", json={}, headers=auth("patrol")).status_code == 403
        ack = client.post(f"/api/v1/alerts/{alert_id}/acknowledge", json={"note": "calling MP-07"}, headers=auth("ops")).json()
        assert ack["status"] == "acknowledged" and ack["acknowledged_by"] == "ops"
        assert client.post(f"/api/v1/alerts/{alert_id}/acknowledge", json={}, headers=auth("ops")).status_code == 409
        closed = client.post(f"/api/v1/alerts/{alert_id}/close", json={"note": "back on route"}, headers=auth("ops")).json()
        assert closed["status"] == "closed" and closed["note"] == "back on route"
        history = client.get("/api/v1/audit", params={"entity": "alerts", "entity_id": str(alert_id)}, headers=auth("ops")).json()
        assert [e["action"] for e in history] == ["update", "update", "create"]

    def test_alerts_follow_the_patrols_visibility(self, client: TestClient, auth: Any) -> None:
        send(client, auth, moving(0, 2) + [(2, OUTSIDE)])
        assert alerts(client, auth, who="liaison-a") == []
        alert_id = alerts(client, auth)[0]["id"]
        assert client.get(f"/api/v1/alerts/{alert_id}", headers=auth("liaison-a")).status_code == 404

    def test_a_new_alert_arrives_on_the_live_stream(self, client: TestClient, auth: Any) -> None:
        received: list[tuple[dict[str, Any], float]] = []

        def listen() -> None:
            with client.stream("GET", "/api/v1/alerts/stream", params={"after": 0}, headers=auth("ops")) as stream:
                for line in stream.iter_lines():
                    if line.startswith("data:"):
                        received.append((json.loads(line[5:]), time.perf_counter()))
                        if len(received) == 2:
                            return

        send(client, auth, moving(0, 2) + [(2, OUTSIDE)])  # a first exit, replayed to the stream as it opens
        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        wait_for(lambda: received, 5, "the replayed alert: the stream is past its catch-up and listening")
        sent = time.perf_counter()
        send(client, auth, [(3, INSIDE), (4, OUTSIDE)])  # a second exit, pushed to the open stream
        listener.join(timeout=5)
        (first, _), (pushed, _) = received
        assert first["kind"] == "left_area" and pushed["id"] > first["id"]  # a new alert, not the replay again
        assert received[1][1] - sent < 2.0


@pytest.mark.usefixtures("scenario", "patrol")
def test_the_database_itself_holds_an_episode_to_one_open_alert(client: TestClient, auth: Any, session: Session) -> None:
    """Whatever process raises it: a second open alert for the same tracker and rule, or for the same patrol's silence, is refused."""
    from peacewatch.alerts.models import Alert, AlertKind
    from peacewatch.core.db import transaction, utcnow
    from peacewatch.core.problems import Conflict
    from peacewatch.core.visibility import Visibility

    send(client, auth, moving(0, 2) + [(2, OUTSIDE)])
    [raised] = alerts(client, auth, kind="left_area")
    twice = {"kind": AlertKind.left_area, "tracker_id": raised["tracker_id"], "patrol_id": raised["patrol_id"],
             "started_at": utcnow(), "message": "again", "visibility": Visibility.internal, "details": {}}
    for values in (twice, twice | {"kind": AlertKind.silent, "tracker_id": None}):
        with pytest.raises(Conflict):
            with transaction(session, "test"):
                session.add(Alert(**values))
                if values["kind"] is AlertKind.silent:
                    session.add(Alert(**values))
    closed = twice | {"ended_at": utcnow()}
    with transaction(session, "test"):
        session.add(Alert(**closed))  # an episode that has ended is no obstacle
    assert len(alerts(client, auth, kind="left_area")) == 2
