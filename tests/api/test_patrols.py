"""Patrols: planning, the life cycle, check-ins, tracks, recurring plans and visibility."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

ROUTE = {"type": "LineString", "coordinates": [[46.60, 40.10], [46.80, 40.10], [46.80, 40.20]]}


@pytest.fixture
def refs(client: TestClient, auth: Any) -> dict[str, int]:
    units = {u["name"]: u["id"] for u in client.get("/api/v1/units", headers=auth("ops")).json()}
    zones = {f["properties"]["code"]: f["id"] for f in client.get("/api/v1/areas").json()["features"]}
    corridor = client.get("/api/v1/corridors").json()["features"][0]["id"]
    client.post("/api/v1/trackers", json={"code": "MP-07", "bound_users": ["patrol"]}, headers=auth("ops"))
    return {"unit": units["Military Police Company North"], "north": zones["north"], "corridor": corridor}


def plan(refs: dict[str, int], **extra: Any) -> dict[str, Any]:
    return {
        "name": "North morning patrol", "unit_id": refs["unit"], "zone_id": refs["north"], "route": ROUTE,
        "planned_start": "2020-11-14T08:00:00Z", "planned_end": "2020-11-14T12:00:00Z",
        "vehicles": ["BTR-82A 201"], "trackers": ["MP-07"],
    } | extra


def act(client: TestClient, auth: Any, patrol_id: int, action: str, who: str = "patrol", **body: Any) -> Any:
    return client.post(f"/api/v1/patrols/{patrol_id}/{action}", json=body, headers=auth(who))


@pytest.mark.usefixtures("scenario")
class TestPatrols:
    def test_operations_plans_a_patrol_with_route_vehicles_and_trackers(self, client: TestClient, auth: Any, refs: dict[str, int]) -> None:
        assert client.post("/api/v1/patrols", json=plan(refs), headers=auth("patrol")).status_code == 403
        response = client.post("/api/v1/patrols", json=plan(refs), headers=auth("ops"))
        assert response.status_code == 201, response.text
        patrol = response.json()
        assert patrol["status"] == "planned" and patrol["trackers"] == ["MP-07"] and patrol["route"]["type"] == "LineString"
        assert patrol["max_stop_minutes"] == 20 and patrol["route_tolerance_m"] == 1000

    def test_a_route_leaving_the_area_and_a_patrol_past_its_end_carry_warnings(
        self, client: TestClient, auth: Any, refs: dict[str, int]
    ) -> None:
        inside = client.post("/api/v1/patrols", json=plan(refs), headers=auth("ops")).json()
        assert inside["warnings"] == []
        south = {"type": "LineString", "coordinates": [[46.70, 40.00], [46.75, 39.75]]}  # a North patrol in the South
        away = client.post("/api/v1/patrols", json=plan(refs, route=south), headers=auth("ops"))
        assert away.status_code == 201  # planned all the same: the officer may mean it
        assert any("leaves its area of responsibility" in w for w in away.json()["warnings"])
        assert act(client, auth, inside["id"], "start").status_code == 200  # 2020: long past its planned end
        shown = client.get(f"/api/v1/patrols/{inside['id']}", headers=auth("ops")).json()
        assert shown["warnings"] == ["still under way after its planned end (2020-11-14 12:00 UTC): complete or abort it"]

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"unit_id": 9999}, "body.unit_id"),
            ({"planned_end": "2020-11-14T07:00:00Z"}, "body.planned_end"),
            ({"trackers": ["NOPE"]}, "body.trackers"),
            ({"route": {"type": "LineString", "coordinates": [[46.6, 95.0], [46.7, 40.0]]}}, "body.route"),
        ],
    )
    def test_bad_plans_are_refused_naming_the_field(
        self, client: TestClient, auth: Any, refs: dict[str, int], change: dict[str, Any], field: str
    ) -> None:
        response = client.post("/api/v1/patrols", json=plan(refs, **change), headers=auth("ops"))
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == field

    def test_a_corridor_is_not_an_area_of_responsibility(self, client: TestClient, auth: Any, refs: dict[str, int]) -> None:
        response = client.post("/api/v1/patrols", json=plan(refs, zone_id=refs["corridor"]), headers=auth("ops"))
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == "body.zone_id"

    def test_life_cycle_and_check_ins(self, client: TestClient, auth: Any, refs: dict[str, int]) -> None:
        patrol_id = client.post("/api/v1/patrols", json=plan(refs), headers=auth("ops")).json()["id"]
        assert client.post(f"/api/v1/patrols/{patrol_id}/check-ins", json={}, headers=auth("patrol")).status_code == 409
        started = act(client, auth, patrol_id, "start", at="2020-11-14T08:05:00Z")
        assert started.json()["status"] == "under_way" and started.json()["started_at"].startswith("2020-11-14T08:05")
        assert act(client, auth, patrol_id, "start").status_code == 409
        assert client.patch(f"/api/v1/patrols/{patrol_id}", json={"name": "x"}, headers=auth("ops")).status_code == 409
        check = client.post(f"/api/v1/patrols/{patrol_id}/check-ins",
                            json={"at": "2020-11-14T09:00:00Z", "lat": 40.1, "lon": 46.7, "note": "all quiet"},
                            headers=auth("patrol"))
        assert check.status_code == 201 and check.json()["by"] == "patrol"
        assert client.post(f"/api/v1/patrols/{patrol_id}/check-ins", json={"lat": 40.1}, headers=auth("patrol")).status_code == 422
        assert act(client, auth, patrol_id, "complete", at="2020-11-14T07:00:00Z").status_code == 422
        done = act(client, auth, patrol_id, "complete", at="2020-11-14T11:50:00Z")
        assert done.json()["status"] == "completed"
        assert act(client, auth, patrol_id, "abort", reason="late").status_code == 409
        assert [c["note"] for c in client.get(f"/api/v1/patrols/{patrol_id}/check-ins", headers=auth("ops")).json()] == ["all quiet"]

    def test_an_outbox_sending_again_changes_nothing(self, client: TestClient, auth: Any, refs: dict[str, int]) -> None:
        """A field device that did not hear the answer sends the same step again: the step is not taken twice."""
        patrol_id = client.post("/api/v1/patrols", json=plan(refs), headers=auth("ops")).json()["id"]
        assert act(client, auth, patrol_id, "start", at="2020-11-14T08:05:00Z").status_code == 200
        again = act(client, auth, patrol_id, "start", at="2020-11-14T08:05:00Z")
        assert again.status_code == 200 and again.json()["started_at"].startswith("2020-11-14T08:05")
        assert act(client, auth, patrol_id, "start", at="2020-11-14T08:06:00Z").status_code == 409  # another start: refused
        sent = {"at": "2020-11-14T09:00:00Z", "lat": 40.1, "lon": 46.7, "note": "all quiet", "client_id": "field-7F3A-1"}
        first = client.post(f"/api/v1/patrols/{patrol_id}/check-ins", json=sent, headers=auth("patrol"))
        resent = client.post(f"/api/v1/patrols/{patrol_id}/check-ins", json=sent, headers=auth("patrol"))
        assert first.status_code == 201 and resent.status_code == 201 and resent.json()["id"] == first.json()["id"]
        other = client.post(f"/api/v1/patrols/{patrol_id}/check-ins", json=sent | {"note": "changed"}, headers=auth("patrol"))
        assert other.status_code == 409 and other.json()["errors"][0]["field"] == "body.client_id"
        assert act(client, auth, patrol_id, "complete", at="2020-11-14T11:50:00Z").status_code == 200
        assert act(client, auth, patrol_id, "complete", at="2020-11-14T11:50:00Z").json()["status"] == "completed"
        assert len(client.get(f"/api/v1/patrols/{patrol_id}/check-ins", headers=auth("ops")).json()) == 1

    def test_a_step_or_check_in_dated_ahead_is_refused_and_a_corrected_one_keeps_its_offset(
            self, client: TestClient, auth: Any, refs: dict[str, int]) -> None:
        """A phone two hours ahead, uncorrected, is refused like a report; the field page's corrected times go, with the
        offset it corrected them by (the device's own time is the time minus it)."""
        now = datetime.now(UTC)
        patrol_id = client.post("/api/v1/patrols", json=plan(refs, planned_start=(now - timedelta(hours=1)).isoformat(),
                                                             planned_end=(now + timedelta(hours=3)).isoformat()),
                                headers=auth("ops")).json()["id"]
        ahead = (now + timedelta(hours=2)).isoformat()
        refused = act(client, auth, patrol_id, "start", at=ahead)
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "body.at"
        started = act(client, auth, patrol_id, "start", at=now.isoformat(), clock_offset_s=-7200)
        assert started.status_code == 200 and started.json()["step_clock_offset_s"] == -7200
        early = client.post(f"/api/v1/patrols/{patrol_id}/check-ins", json={"at": ahead}, headers=auth("patrol"))
        assert early.status_code == 422 and early.json()["errors"][0]["field"] == "body.at"
        within = (now + timedelta(minutes=5)).isoformat()  # a clock a little ahead: within the allowed skew
        check = client.post(f"/api/v1/patrols/{patrol_id}/check-ins", json={"at": within, "clock_offset_s": -7200}, headers=auth("patrol"))
        assert check.status_code == 201 and check.json()["clock_offset_s"] == -7200
        assert client.post(f"/api/v1/patrols/{patrol_id}/check-ins", json={"clock_offset_s": 8 * 86400},
                           headers=auth("patrol")).status_code == 422  # more than a week off: not a clock, a mistake

    def test_a_field_device_lists_the_patrols_of_its_unit(self, client: TestClient, auth: Any, refs: dict[str, int]) -> None:
        other = next(u["id"] for u in client.get("/api/v1/units", headers=auth("ops")).json() if u["id"] != refs["unit"])
        ours = client.post("/api/v1/patrols", json=plan(refs), headers=auth("ops")).json()["id"]
        theirs = client.post("/api/v1/patrols", json=plan(refs, unit_id=other, name="Another unit's patrol"), headers=auth("ops")).json()["id"]
        window = {"since": "2020-11-14T00:00:00Z", "until": "2020-11-15T00:00:00Z", "limit": 1000}
        listed = client.get("/api/v1/patrols", params=window | {"unit_id": refs["unit"]}, headers=auth("patrol"))
        ids = {p["id"] for p in listed.json()}
        assert ours in ids and theirs not in ids and all(p["unit_id"] == refs["unit"] for p in listed.json())
        assert int(listed.headers["X-Total-Count"]) == len(ids)
        assert theirs in {p["id"] for p in client.get("/api/v1/patrols", params=window, headers=auth("patrol")).json()}

    def test_abort_needs_a_reason(self, client: TestClient, auth: Any, refs: dict[str, int]) -> None:
        patrol_id = client.post("/api/v1/patrols", json=plan(refs), headers=auth("ops")).json()["id"]
        assert act(client, auth, patrol_id, "abort").status_code == 422
        aborted = act(client, auth, patrol_id, "abort", reason="road mined near Askeran")
        assert aborted.json()["status"] == "aborted" and aborted.json()["abort_reason"] == "road mined near Askeran"

    def test_the_track_measures_distance_and_time_inside_the_area(self, client: TestClient, auth: Any, refs: dict[str, int]) -> None:
        patrol_id = client.post("/api/v1/patrols", json=plan(refs), headers=auth("ops")).json()["id"]
        act(client, auth, patrol_id, "start", at="2020-11-14T08:00:00Z")
        fixes = [{"tracker": "MP-07", "t": f"2020-11-14T08:{m:02d}:00Z", "lat": 40.10, "lon": 46.60 + m * 0.01} for m in range(11)]
        fixes.append({"tracker": "MP-07", "t": "2020-11-14T08:20:00Z", "lat": 39.50, "lon": 45.00})  # far outside
        fixes.append({"tracker": "MP-07", "t": "2020-11-14T13:00:00Z", "lat": 40.10, "lon": 46.60})  # after the patrol
        assert client.post("/api/v1/positions", json={"positions": fixes}, headers=auth("patrol")).status_code == 200
        act(client, auth, patrol_id, "complete", at="2020-11-14T12:00:00Z")
        track = client.get(f"/api/v1/patrols/{patrol_id}/track", headers=auth("ops")).json()["features"][0]
        assert track["properties"]["positions"] == 12
        assert track["properties"]["minutes_inside_area"] == 10.0
        # ten legs of 0.01° of longitude at 40.1°N (about 853 m each), then the long leg outside
        assert track["properties"]["distance_km"] > 8.5 + 100
        import gpxpy

        gpx = gpxpy.parse(client.get(f"/api/v1/patrols/{patrol_id}/track", params={"format": "gpx"}, headers=auth("ops")).text)
        assert gpx.tracks[0].name == "MP-07" and len(gpx.tracks[0].segments[0].points) == 12

    def test_an_area_or_unit_a_patrol_refers_to_cannot_be_deleted(self, client: TestClient, auth: Any, refs: dict[str, int]) -> None:
        client.post("/api/v1/patrols", json=plan(refs), headers=auth("ops"))
        client.post("/api/v1/units", json={"name": "Spare", "unit_type": "medical", "authorised_strength": 1}, headers=auth("ops"))
        for post in client.get("/api/v1/posts", params={"zone_id": refs["north"]}).json()["features"]:
            client.delete(f"/api/v1/posts/{post['id']}", headers=auth("ops"))
        response = client.delete(f"/api/v1/areas/{refs['north']}", headers=auth("ops"))
        assert response.status_code == 409 and "still referenced" in response.json()["detail"]
        assert client.delete(f"/api/v1/units/{refs['unit']}", headers=auth("ops")).status_code == 409

    def test_side_b_patrols_are_hidden_from_side_a(self, client: TestClient, auth: Any, refs: dict[str, int]) -> None:
        patrol_id = client.post("/api/v1/patrols", json=plan(refs, visibility="side_b"), headers=auth("ops")).json()["id"]
        assert client.get(f"/api/v1/patrols/{patrol_id}", headers=auth("liaison-a")).status_code == 404
        assert client.get(f"/api/v1/patrols/{patrol_id}/track", headers=auth("liaison-a")).status_code == 404
        assert client.get(f"/api/v1/patrols/{patrol_id}", headers=auth("liaison-b")).status_code == 200
        assert client.get("/api/v1/patrols", headers=auth("liaison-a")).json() == []


@pytest.mark.usefixtures("scenario")
class TestRecurringPlans:
    def test_a_daily_plan_generates_one_patrol_a_day_once(self, client: TestClient, auth: Any, refs: dict[str, int]) -> None:
        body = {"name": "North daily", "unit_id": refs["unit"], "zone_id": refs["north"], "route": ROUTE,
                "rrule": "FREQ=DAILY", "starts": "2020-11-14T08:00:00Z", "duration_minutes": 240, "trackers": ["MP-07"]}
        plan_id = client.post("/api/v1/patrol-plans", json=body, headers=auth("ops")).json()["id"]
        span = {"since": "2020-11-14T00:00:00Z", "until": "2020-11-17T00:00:00Z"}
        first = client.post(f"/api/v1/patrol-plans/{plan_id}/generate", json=span, headers=auth("ops")).json()
        assert len(first["created"]) == 3 and first["existing"] == 0
        again = client.post(f"/api/v1/patrol-plans/{plan_id}/generate", json=span, headers=auth("ops")).json()
        assert again == {"created": [], "existing": 3}
        patrols = client.get("/api/v1/patrols", headers=auth("ops")).json()
        assert [p["planned_start"][:16] for p in patrols] == ["2020-11-14T08:00", "2020-11-15T08:00", "2020-11-16T08:00"]
        assert {p["planned_end"][11:16] for p in patrols} == {"12:00"} and all(p["trackers"] == ["MP-07"] for p in patrols)

    def test_the_periodic_work_puts_the_next_days_patrols_on_the_board_once(
        self, client: TestClient, auth: Any, refs: dict[str, int], session: Any,
    ) -> None:
        from datetime import datetime

        from peacewatch.patrols.service import generate_ahead

        body = {"name": "South twice a day", "unit_id": refs["unit"], "zone_id": refs["north"], "route": ROUTE,
                "rrule": "FREQ=HOURLY;INTERVAL=12", "starts": "2020-11-14T06:00:00Z", "duration_minutes": 180}
        assert client.post("/api/v1/patrol-plans", json=body, headers=auth("ops")).status_code == 201
        now = datetime(2020, 11, 20, 7, 0, tzinfo=UTC)
        assert generate_ahead(session, now, 24) == 2  # 18:00 today and 06:00 tomorrow
        assert generate_ahead(session, now, 24) == 0  # the next round, or another process's: nothing twice
        starts = [p["planned_start"][:16] for p in client.get("/api/v1/patrols", headers=auth("ops")).json()]
        assert starts == ["2020-11-20T18:00", "2020-11-21T06:00"]

    def test_a_bad_rule_is_refused(self, client: TestClient, auth: Any, refs: dict[str, int]) -> None:
        body = {"name": "Broken", "unit_id": refs["unit"], "zone_id": refs["north"], "route": ROUTE,
                "rrule": "FREQ=SOMETIMES", "starts": "2020-11-14T08:00:00Z", "duration_minutes": 60}
        response = client.post("/api/v1/patrol-plans", json=body, headers=auth("ops"))
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == "body.rrule"
