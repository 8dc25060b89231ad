"""Incidents: reporting, refusals, idempotent resends, verification, history, merging, figures and exports."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient

from peacewatch.incidents.acled import COLUMNS
from tests.bodies import report


@pytest.fixture
def post_id(client: TestClient) -> int:
    return int(client.get("/api/v1/posts").json()["features"][0]["id"])


def post(client: TestClient, auth: Any, who: str = "ops", **extra: Any) -> Any:
    return client.post("/api/v1/incidents", json=report(**extra), headers=auth(who))


@pytest.mark.usefixtures("scenario")
class TestReporting:
    def test_a_report_is_stored_with_its_area_district_and_own_event(self, client: TestClient, auth: Any) -> None:
        response = post(client, auth, casualties={"wounded_civilian": {"min": 1, "max": 3}})
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["status"] == "reported" and body["reported_by"] == "ops" and body["visibility"] == "internal"
        assert body["casualties"]["wounded_civilian"] == {"min": 1, "max": 3}
        assert body["casualties"]["killed_military"] == {"min": 0, "max": 0}
        zones = {f["id"]: f["properties"]["code"] for f in client.get("/api/v1/areas").json()["features"]}
        districts = {f["id"]: f["properties"]["code"] for f in client.get("/api/v1/districts").json()["features"]}
        assert zones[body["zone_id"]] == "south" and districts[body["district_id"]] == "district-martuni"
        assert body["mgrs"].startswith("38S") and body["event_id"] >= 1

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"ended_at": "2020-11-14T15:00:00Z"}, "body.ended_at"),
            ({"started_at": "2099-01-01T00:00:00Z", "ended_at": "2099-01-01T00:10:00Z"}, "body.started_at"),
            ({"lat": 55.0, "lon": 37.6}, "body.lat"),
            ({"casualties": {"killed_civilian": {"min": -1}}}, "body.casualties.killed_civilian.min"),
            ({"casualties": {"killed_civilian": {"min": 3, "max": 1}}}, "body.casualties.killed_civilian"),
            ({"subtype": None}, "body.subtype"),
            ({"type": "movement_of_forces"}, "body.subtype"),
            ({"source": "patrol"}, "body.patrol_id"),
            ({"source": "observation_post", "post_id": 99999}, "body.post_id"),
            ({"place_precision": "near_place"}, "body.place_name"),
            ({"type": "restriction_of_movement", "subtype": None}, "body.restriction"),
            ({"event_count": 0}, "body.event_count"),
        ],
    )
    def test_bad_reports_are_refused_naming_the_field(self, client: TestClient, auth: Any, change: dict[str, Any], field: str) -> None:
        response = post(client, auth, **change)
        assert response.status_code == 422, response.text
        assert field in [e["field"] for e in response.json()["errors"]]
        assert client.get("/api/v1/incidents", headers=auth("ops")).json() == []

    def test_how_and_when_a_report_came_in(self, client: TestClient, auth: Any, post_id: int) -> None:
        """Who told (the source), how it reached the mission (the channel), when it came in, and who typed it in are
        four facts: the operations centre says a call came in before it was typed; a patrol's device is the field
        app and cannot back-date its arrival; a liaison officer enters the side's own report."""
        called = post(client, auth, channel="telephone", received_at="2020-11-14T21:05:00+04:00", source="side_b")
        assert called.status_code == 201, called.text
        assert called.json()["channel"] == "telephone" and called.json()["received_at"] == "2020-11-14T17:05:00Z"
        assert called.json()["reported_by"] == "ops" and called.json()["created_at"] > "2026"
        unstated = post(client, auth).json()
        assert unstated["channel"] is None and unstated["received_at"] >= unstated["created_at"][:19]
        device = post(client, auth, "patrol", client_id="tab-9:0001", source="observation_post", post_id=post_id)
        assert device.json()["channel"] == "field_app"
        side = client.post("/api/v1/incidents", json=report(source="side_a", visibility="side_a"), headers=auth("liaison-a"))
        assert side.status_code == 201, side.text
        assert side.json()["channel"] == "source_entry"
        for who, change, reason in (
            ("patrol", {"received_at": "2020-11-14T17:00:00Z"}, "only the operations centre"),
            ("ops", {"received_at": "2020-11-14T15:00:00Z"}, "after the event begins"),
            ("ops", {"received_at": "2099-01-01T00:00:00Z"}, "in the future"),
            ("ops", {"channel": "pigeon"}, ""),
        ):
            refused = post(client, auth, who, source="observation_post", post_id=post_id, **change)
            assert refused.status_code == 422, refused.text
            assert refused.json()["errors"][0]["field"] == f"body.{next(iter(change))}"
            assert reason in refused.json()["detail"]

    def test_a_report_stored_before_the_channel_existed_is_resent_as_it_was(self, client: TestClient, auth: Any, post_id: int) -> None:
        """A device that sent a report before the upgrade and resends it after gets its first copy back, not a 409:
        fields added later count in the resend's fingerprint only when given."""
        from peacewatch.core.db import resend_digest
        from peacewatch.incidents.schemas import IncidentIn

        body = report(client_id="tab-7:0099", source="observation_post", post_id=post_id)
        data = IncidentIn.model_validate(body)
        old = __import__("hashlib").sha256(data.model_dump_json(exclude={"client_id", "channel", "received_at"}).encode()).hexdigest()
        assert resend_digest(data) == old
        assert resend_digest(IncidentIn.model_validate(body | {"channel": "radio"})) != old

    def test_a_place_outside_the_area_of_interest_needs_the_flag(self, client: TestClient, auth: Any) -> None:
        response = post(client, auth, lat=40.18, lon=44.51, outside_area_of_interest=True, place_name="Yerevan")
        assert response.status_code == 201 and response.json()["zone_id"] is None

    def test_a_resend_with_the_same_client_id_returns_the_first_copy(self, client: TestClient, auth: Any, post_id: int) -> None:
        first = post(client, auth, "patrol", client_id="tab-7:0042", source="observation_post", post_id=post_id)
        again = post(client, auth, "patrol", client_id="tab-7:0042", source="observation_post", post_id=post_id)
        assert first.status_code == 201 and again.status_code == 200 and again.json()["id"] == first.json()["id"]
        changed = post(client, auth, "patrol", client_id="tab-7:0042", source="observation_post", post_id=post_id, event_count=9)
        assert changed.status_code == 409 and changed.json()["errors"][0]["field"] == "body.client_id"
        assert changed.json()["type"] == "urn:peacewatch:problem:client-id-taken"  # a device tells it from a resend
        other_user = post(client, auth, "ops", client_id="tab-7:0042")
        assert other_user.status_code == 201
        assert len(client.get("/api/v1/incidents", headers=auth("ops")).json()) == 2

    def test_a_resend_racing_the_first_copy_gets_that_copy_back(self, client: TestClient, auth: Any, post_id: int,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
        """Two tabs (or two processes) send the same report at once: the other commits between this one's look and
        its insert; the unique index refuses the second row, and the sender is given the first copy, not a 409."""
        from peacewatch.incidents import report_records

        first = post(client, auth, "patrol", client_id="tab-8:0001", source="observation_post", post_id=post_id)
        looks: list[object] = []
        real = report_records.first_copy

        def late(*args: Any) -> Any:
            looks.append(args)
            return None if len(looks) == 1 else real(*args)  # the look before the insert misses the other's row

        monkeypatch.setattr(report_records, "first_copy", late)
        again = post(client, auth, "patrol", client_id="tab-8:0001", source="observation_post", post_id=post_id)
        assert len(looks) == 2 and again.status_code == 200, again.text
        assert again.json()["id"] == first.json()["id"]
        assert len(client.get("/api/v1/incidents", headers=auth("ops")).json()) == 1

    def test_roles_and_sides(self, client: TestClient, auth: Any) -> None:
        assert post(client, auth, "observer").status_code == 403
        assert post(client, auth, "press").status_code == 403
        assert client.post("/api/v1/incidents", json=report()).status_code == 401
        mine = post(client, auth, "liaison-a", source="side_a")
        assert mine.status_code == 201 and mine.json()["visibility"] == "side_a"
        assert post(client, auth, "liaison-a", source="side_b").json()["errors"][0]["field"] == "body.source"
        by_ops_for_b = post(client, auth, "ops", source="side_b").json()
        assert by_ops_for_b["visibility"] == "side_b"
        internal = post(client, auth, "ops").json()
        seen_by_a = [i["id"] for i in client.get("/api/v1/incidents", headers=auth("liaison-a")).json()]
        assert seen_by_a == [mine.json()["id"]]
        assert client.get(f"/api/v1/incidents/{by_ops_for_b['id']}", headers=auth("liaison-a")).status_code == 404
        assert client.get(f"/api/v1/incidents/{internal['id']}", headers=auth("liaison-b")).status_code == 404
        assert client.get(f"/api/v1/incidents/{by_ops_for_b['id']}", headers=auth("liaison-b")).status_code == 200
        assert client.get("/api/v1/incident-figures", headers=auth("liaison-a")).status_code == 403
        assert client.get("/api/v1/incident-events/export", headers=auth("liaison-a")).status_code == 403


@pytest.mark.usefixtures("scenario")
class TestVerification:
    def test_workflow_with_who_why_and_the_checking_post(self, client: TestClient, auth: Any, post_id: int) -> None:
        incident = post(client, auth, "liaison-a", source="side_a").json()
        url = f"/api/v1/incidents/{incident['id']}/verification"
        assert client.post(url, json={"status": "confirmed", "reason": "x"}, headers=auth("ops")).status_code == 409
        assert client.post(url, json={"status": "under_investigation", "reason": "x"}, headers=auth("patrol")).status_code == 403
        step = client.post(url, json={"status": "under_investigation", "reason": "Post N-01 to check"}, headers=auth("ops"))
        assert step.status_code == 200 and step.json()["status"] == "under_investigation"
        assert client.post(url, json={"status": "confirmed", "reason": ""}, headers=auth("ops")).status_code == 422
        done = client.post(url, json={"status": "confirmed", "reason": "Craters found", "post_id": post_id}, headers=auth("ops"))
        assert done.json()["status"] == "confirmed"
        steps = client.get(url, headers=auth("ops")).json()
        assert [(s["from_status"], s["to_status"], s["by"]) for s in steps] == [
            ("reported", "under_investigation", "ops"), ("under_investigation", "confirmed", "ops")]
        assert steps[1]["post_id"] == post_id and steps[1]["reason"] == "Craters found"
        # the reporting side sees the status of its report, not the internal workings
        assert client.get(f"/api/v1/incidents/{incident['id']}", headers=auth("liaison-a")).json()["status"] == "confirmed"
        assert client.get(url, headers=auth("liaison-a")).status_code == 403

    def test_history_keeps_every_change(self, client: TestClient, auth: Any) -> None:
        incident = post(client, auth).json()
        url = f"/api/v1/incidents/{incident['id']}"
        corrected = client.patch(url, json={"event_count": 35, "subtype": "heavy_weapons"}, headers=auth("ops"))
        assert corrected.status_code == 200 and corrected.json()["event_count"] == 35
        assert client.patch(url, json={"ended_at": "2020-11-14T10:00:00Z"}, headers=auth("ops")).status_code == 422
        assert client.patch(url, json={"event_count": 1}, headers=auth("patrol")).status_code == 403
        client.post(f"{url}/verification", json={"status": "rejected", "reason": "duplicate of a media rumour"}, headers=auth("ops"))
        history = client.get(f"{url}/history", headers=auth("ops")).json()
        assert [h["action"] for h in history] == ["create", "update", "update"]
        assert history[1]["changes"]["event_count"] == [3, 35] and history[1]["changes"]["subtype"] == ["explosion", "heavy_weapons"]
        assert history[2]["changes"]["status"] == ["reported", "rejected"]
        assert client.get(url, headers=auth("ops")).json()["event_count"] == 35


def three_sources(client: TestClient, auth: Any, post_id: int) -> list[int]:
    """One shelling reported by a post, by side A and by side B: a few hundred metres and minutes apart."""
    ids = [
        post(client, auth, source="observation_post", post_id=post_id, subtype="heavy_weapons", event_count=35).json()["id"],
        post(client, auth, source="side_a", lat=39.797, lon=47.118, started_at="2020-11-14T16:05:00Z",
             ended_at="2020-11-14T16:25:00Z", event_count=20).json()["id"],
        post(client, auth, source="side_b", lat=39.790, lon=47.109, place_precision="near_place", place_name="Martuni",
             started_at="2020-11-14T15:50:00Z", ended_at="2020-11-14T16:10:00Z",
             casualties={"wounded_civilian": {"min": 1, "max": 2}}).json()["id"],
    ]
    return ids


@pytest.mark.usefixtures("scenario")
class TestMerging:
    def test_reports_of_one_event_are_proposed_as_they_arrive_and_accepted(self, client: TestClient, auth: Any, post_id: int) -> None:
        ids = three_sources(client, auth, post_id)
        open_ = client.get("/api/v1/merge-proposals?status=open", headers=auth("ops")).json()
        assert len(open_) == 1 and open_[0]["incident_ids"] == sorted(ids) and len(open_[0]["event_ids"]) == 3
        superseded = client.get("/api/v1/merge-proposals?status=superseded", headers=auth("ops")).json()
        assert len(superseded) == 1 and len(superseded[0]["incident_ids"]) == 2  # the pair proposed before the third came
        assert client.get("/api/v1/incident-figures?since=2020-11-15&until=2020-11-15", headers=auth("ops")).json()["days"][0]["events"] == 3
        assert client.post(f"/api/v1/merge-proposals/{open_[0]['id']}/accept", json={}, headers=auth("patrol")).status_code == 403
        accepted = client.post(f"/api/v1/merge-proposals/{open_[0]['id']}/accept", json={"reason": "same shelling"}, headers=auth("ops"))
        assert accepted.status_code == 200 and accepted.json()["status"] == "accepted" and len(accepted.json()["event_ids"]) == 1
        assert client.post(f"/api/v1/merge-proposals/{open_[0]['id']}/accept", json={}, headers=auth("ops")).status_code == 409
        events = client.get("/api/v1/incident-events", headers=auth("ops")).json()
        assert len(events) == 1 and sorted(events[0]["incident_ids"]) == sorted(ids)
        assert events[0]["sources"] == ["observation_post", "side_a", "side_b"] and events[0]["event_count"] == 35
        assert events[0]["subtype"] == "heavy_weapons"  # the post's own account speaks for the event
        # 16:00Z is 20:00 in Baku: after 19:30, so the reporting day of the 15th
        day = client.get("/api/v1/incident-figures?since=2020-11-15&until=2020-11-15", headers=auth("ops")).json()["days"][0]
        assert day["events"] == 1 and day["reports"] == 3 and day["effects"] == 35
        assert day["casualties"]["wounded_civilian"] == {"min": 1, "max": 2}
        # running the whole history again proposes nothing new
        run = client.post("/api/v1/merge-proposals/run", headers=auth("ops")).json()
        assert run["reports"] == 3 and run["clusters"] == 1 and run["proposed"] == 0

    def test_a_proposal_can_be_split_and_is_not_proposed_again(self, client: TestClient, auth: Any, post_id: int) -> None:
        ids = three_sources(client, auth, post_id)
        proposal = client.get("/api/v1/merge-proposals?status=open", headers=auth("ops")).json()[0]
        bad = client.post(f"/api/v1/merge-proposals/{proposal['id']}/split", json={"groups": [[ids[0], 99999]]}, headers=auth("ops"))
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "body.groups"
        done = client.post(f"/api/v1/merge-proposals/{proposal['id']}/split", json={"groups": [ids[:2]], "reason": "B's is another"},
                           headers=auth("ops"))
        assert done.status_code == 200 and done.json()["status"] == "split" and len(done.json()["event_ids"]) == 2
        events = {tuple(sorted(e["incident_ids"])) for e in client.get("/api/v1/incident-events", headers=auth("ops")).json()}
        assert events == {tuple(sorted(ids[:2])), (ids[2],)}
        assert client.post("/api/v1/merge-proposals/run", headers=auth("ops")).json()["proposed"] == 0

    @pytest.mark.parametrize(
        "change",
        [
            {"lat": 39.95, "lon": 46.85},  # 25 km away
            {"type": "ceasefire_violation", "subtype": "drone_overflight"},  # another kind of event
            {"started_at": "2020-11-14T20:00:00Z", "ended_at": "2020-11-14T20:10:00Z"},  # hours later
            {"source": "media"},  # the same source does not report one event twice
        ],
    )
    def test_reports_that_must_not_be_merged(self, client: TestClient, auth: Any, change: dict[str, Any]) -> None:
        post(client, auth)
        post(client, auth, **({"source": "side_a", "started_at": "2020-11-14T16:05:00Z"} | change))
        assert client.get("/api/v1/merge-proposals", headers=auth("ops")).json() == []
        assert client.post("/api/v1/merge-proposals/run", headers=auth("ops")).json()["clusters"] == 0


@pytest.mark.usefixtures("scenario")
class TestFiguresAndExports:
    def test_reporting_day_ends_at_1930_local_and_restrictions_count_apart(self, client: TestClient, auth: Any) -> None:
        # 15:29Z is 19:29 in Baku (day of the 14th); 15:31Z is 19:31 (day of the 15th)
        post(client, auth, started_at="2020-11-14T15:29:00Z", ended_at="2020-11-14T15:29:00Z", event_count=35)
        post(client, auth, started_at="2020-11-14T15:31:00Z", ended_at="2020-11-14T15:31:00Z", subtype="small_arms_fire",
             lat=40.2, lon=46.8, alleged_actors=["side_b"], event_count=1)
        post(client, auth, type="restriction_of_movement", subtype=None, restriction="denial", denied="Road to Martakert",
             restricted_by="Armed men at a roadblock", started_at="2020-11-15T08:00:00Z", ended_at="2020-11-15T08:30:00Z",
             lat=40.1, lon=46.8)
        rejected = post(client, auth, started_at="2020-11-15T09:00:00Z", ended_at="2020-11-15T09:00:00Z", lat=39.6, lon=46.6).json()
        client.post(f"/api/v1/incidents/{rejected['id']}/verification", json={"status": "rejected", "reason": "no trace"}, headers=auth("ops"))
        result = client.get("/api/v1/incident-figures?since=2020-11-13&until=2020-11-16", headers=auth("ops")).json()
        assert result["reporting_day_ends"] == "19:30 Asia/Baku"
        days = {d["day"]: d for d in result["days"]}
        assert list(days) == ["2020-11-13", "2020-11-14", "2020-11-15", "2020-11-16"]
        assert days["2020-11-14"]["events"] == 1 and days["2020-11-14"]["effects"] == 35
        assert days["2020-11-14"]["by_type"] == {"ceasefire_violation/explosion": {"events": 1, "effects": 35}}
        assert days["2020-11-14"]["by_district"] == {"Martuni district": {"events": 1, "effects": 35}}
        assert days["2020-11-14"]["by_area"] == {"South area of responsibility": {"events": 1, "effects": 35}}
        d15 = days["2020-11-15"]
        assert d15["events"] == 1 and d15["change"] == 0 and d15["running_total"] == 2
        assert d15["by_actor"] == {"side_b": {"events": 1, "effects": 1}}
        assert d15["by_area"] == {"North area of responsibility": {"events": 1, "effects": 1}}
        assert d15["restrictions"] == {"events": 1, "running_total": 1, "by_kind": {"denial": 1}}  # not a violation
        d16 = days["2020-11-16"]
        assert d16["events"] == 0 and d16["change"] == -1 and d16["running_total"] == 2
        assert d16["restrictions"] == {"events": 0, "running_total": 1, "by_kind": {}}
        text = client.get("/api/v1/incident-figures?since=2020-11-14&until=2020-11-15&format=csv", headers=auth("ops")).text
        rows = list(csv.DictReader(io.StringIO(text)))
        assert {"day": "2020-11-14", "dimension": "type", "key": "ceasefire_violation/explosion", "events": "1", "effects": "35",
                "min": "", "max": ""} in rows
        png = client.get("/api/v1/incident-figures/chart?since=2020-11-13&until=2020-11-16", headers=auth("press"))
        assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
        bad = client.get("/api/v1/incident-figures?since=2020-11-16&until=2020-11-13", headers=auth("ops"))
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.until"
        ancient = client.get("/api/v1/incident-figures?since=0420-10-10&format=csv", headers=auth("ops"))  # found by fuzzing: a timeout
        assert ancient.status_code == 422 and ancient.json()["errors"][0]["field"] == "query.since"

    def test_acled_and_geojson_exports(self, client: TestClient, auth: Any) -> None:
        post(client, auth, place_name="=SUM(1)", casualties={"killed_military": {"min": 2, "max": 4}},
             alleged_actors=["side_a", "side_b"])
        post(client, auth, type="civil_unrest", subtype=None, lat=39.815, lon=46.752, place_precision="near_place",
             place_name="Stepanakert", source="media")
        text = client.get("/api/v1/incident-events/export?format=acled", headers=auth("ops")).text
        rows = list(csv.DictReader(io.StringIO(text)))
        assert tuple(rows[0]) == COLUMNS and len(rows) == 2
        shelling, protest = rows
        assert shelling["event_id_cnty"].startswith("PKF") and shelling["event_date"] == "2020-11-14" and shelling["year"] == "2020"
        assert (shelling["disorder_type"], shelling["event_type"], shelling["sub_event_type"]) == (
            "Political violence", "Explosions/Remote violence", "Shelling/artillery/missile attack")
        assert shelling["fatalities"] == "2" and shelling["interaction"] == "11" and shelling["admin2"] == "Martuni"
        assert shelling["notes"].startswith("On 14 November 2020") and shelling["location"] == "'=SUM(1)"  # not a formula
        assert (protest["event_type"], protest["sub_event_type"], protest["inter1"]) == ("Protests", "Peaceful protest", "6")
        assert protest["geo_precision"] == "2" and protest["location"] == "Stepanakert" and protest["country"] == "Azerbaijan"
        geo = client.get("/api/v1/incident-events/export?format=geojson&since=2020-11-15&until=2020-11-15", headers=auth("ops"))
        assert geo.headers["content-type"] == "application/geo+json"
        features = geo.json()["features"]
        assert len(features) == 2 and features[0]["geometry"]["coordinates"] == [47.113, 39.795]
        assert features[0]["properties"]["casualties"]["killed_military"] == {"min": 2, "max": 4}
        assert client.get("/api/v1/incident-events/export?until=2020-11-14", headers=auth("ops")).json()["features"] == []
