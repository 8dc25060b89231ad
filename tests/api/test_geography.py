"""Areas, corridor, line of contact and posts through the API, on the reference scenario."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
from fastapi.testclient import TestClient

PROBLEM = "application/problem+json"
NORTH_POINT = [46.70, 40.10]
SOUTH_POINT = [46.80, 39.80]


def post_feature(code: str = "N-99", point: list[float] = NORTH_POINT, **props: Any) -> dict[str, Any]:
    properties = {"code": code, "name": f"Post {code}", "zone_code": "north", "opened_on": "2020-11-20"} | props
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": point}, "properties": properties}


def field_errors(response: Any) -> list[str]:
    assert response.headers["content-type"].startswith(PROBLEM), response.text
    return [e["field"] for e in response.json()["errors"]]


@pytest.mark.usefixtures("scenario")
class TestReadingTheScenario:
    def test_areas_are_north_and_south_as_a_feature_collection(self, client: TestClient) -> None:
        response = client.get("/api/v1/areas")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/geo+json"
        body = response.json()
        assert body["type"] == "FeatureCollection"
        assert sorted(f["properties"]["code"] for f in body["features"]) == ["north", "south"]
        assert all(f["geometry"]["type"] == "Polygon" for f in body["features"])
        assert all(f["properties"]["area_km2"] > 100 for f in body["features"])

    @pytest.mark.parametrize(
        ("day", "total", "by_zone"),
        [
            ("2020-11-14", 16, {"north": 6, "south": 6, "lachin": 4}),
            ("2020-11-15", 25, {"north": 9, "south": 9, "lachin": 7}),
            ("2020-11-18", 23, {"north": 11, "south": 12}),
        ],
    )
    def test_posts_open_on_a_date_follow_the_published_counts(
        self, client: TestClient, day: str, total: int, by_zone: dict[str, int]
    ) -> None:
        features = client.get("/api/v1/posts", params={"on": day}).json()["features"]
        assert len(features) == total
        assert Counter(f["properties"]["zone_code"] for f in features) == by_zone
        assert {f["properties"]["status"] for f in features} == {"open"}

    def test_status_is_worked_out_for_the_date_asked(self, client: TestClient) -> None:
        features = client.get("/api/v1/posts", params={"on": "2020-11-18"}).json()["features"]
        post_id = next(f["id"] for f in features if f["properties"]["code"] == "N-11")
        assert client.get(f"/api/v1/posts/{post_id}", params={"on": "2020-11-14"}).json()["properties"]["status"] == "planned"
        temporary = client.get("/api/v1/posts", params={"on": "2020-11-15"}).json()["features"]
        c1 = next(f for f in temporary if f["properties"]["code"] == "C-01")
        assert client.get(f"/api/v1/posts/{c1['id']}", params={"on": "2020-11-18"}).json()["properties"]["status"] == "closed"

    def test_bbox_limits_posts_to_the_window(self, client: TestClient) -> None:
        south_only = client.get("/api/v1/posts", params={"on": "2020-11-18", "bbox": "46.5,39.6,47.3,39.895"}).json()
        assert Counter(f["properties"]["zone_code"] for f in south_only["features"]) == {"south": 12}
        areas = client.get("/api/v1/areas", params={"bbox": "46.4,40.2,46.6,40.3"}).json()["features"]
        assert [a["properties"]["code"] for a in areas] == ["north"]

    def test_every_post_carries_its_mgrs_reference(self, client: TestClient) -> None:
        features = client.get("/api/v1/posts").json()["features"]
        assert len(features) == 30
        # latitude band S below 40°N, T above it; 1 m precision is ten digits
        assert all(re.fullmatch(r"38[ST][A-Z]{2}\d{10}", f["properties"]["mgrs"]) for f in features)

    def test_corridor_is_five_kilometres_wide(self, client: TestClient) -> None:
        corridor = client.get("/api/v1/corridors").json()["features"][0]["properties"]
        assert corridor["width_m"] == 5000
        # about 48 km of road: a 5 km strip around it covers roughly 240 km² (plus round ends)
        assert 200 < corridor["area_km2"] < 300

    @pytest.mark.parametrize(
        ("bbox", "fragment"),
        [("1,2,3", "four numbers"), ("a,b,c,d", "numbers"), ("10,10,5,5", "greater"), ("0,0,200,10", "range")],
    )
    def test_bad_bbox_is_a_422_naming_the_parameter(self, client: TestClient, bbox: str, fragment: str) -> None:
        response = client.get("/api/v1/posts", params={"bbox": bbox})
        assert response.status_code == 422
        assert field_errors(response) == ["bbox"]
        assert fragment in response.json()["detail"]


@pytest.mark.usefixtures("scenario")
class TestWritingGeography:
    def test_names_in_russian_travel_with_the_records(self, client: TestClient, auth: Any) -> None:
        """Areas, posts, places and units carry their Russian names beside their names: in the scenario, given on
        a new post, corrected, and in the official map's layers."""
        areas = {f["properties"]["code"]: f["properties"]["name_ru"] for f in client.get("/api/v1/areas").json()["features"]}
        assert areas == {"north": "Северная зона ответственности", "south": "Южная зона ответственности"}
        places = {f["properties"]["name"]: f["properties"]["name_ru"] for f in client.get("/api/v1/places").json()["features"]}
        assert places["Stepanakert"] == "Степанакерт" and places["Sarsang reservoir"] == "Сарсангское водохранилище"
        units = {u["name"]: u["name_ru"] for u in client.get("/api/v1/units", headers=auth("ops")).json()}
        assert units["Military Police Company North"] == "Рота военной полиции «Север»"
        made = client.post("/api/v1/posts", json=post_feature(name_ru="Пост N-99"), headers=auth("ops"))
        assert made.status_code == 201 and made.json()["properties"]["name_ru"] == "Пост N-99"
        fixed = client.patch(f"/api/v1/posts/{made.json()['id']}", json={"properties": {"name_ru": "Пост «Мост»"}}, headers=auth("ops"))
        assert fixed.status_code == 200 and fixed.json()["properties"]["name_ru"] == "Пост «Мост»"
        official = client.get("/api/v1/official-map", params={"on": "2020-11-18"})
        assert official.status_code == 200, official.text
        assert {f["properties"]["name_ru"] for f in official.json()["features"]} >= {"Лачинский коридор", "Наблюдательный пост N-01"}

    def test_a_marker_put_on_the_map_is_shared_only_as_its_visibility_says(self, client: TestClient, auth: Any) -> None:
        """A watch officer marks a crossing for side A's liaison: A's officer sees it, B's never learns of it
        (not in the list, not in its count, not by its number), and sharing it otherwise is one change."""
        marker = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [46.7561, 39.8177]},
                  "properties": {"name": "Crossing for the handover", "name_ru": "Переход для передачи", "visibility": "side_a"}}
        made = client.post("/api/v1/places", json=marker, headers=auth("ops"))
        assert made.status_code == 201, made.text
        place = made.json()
        assert place["properties"]["mgrs"].startswith("38S") and place["properties"]["source"] == "marked on the map by ops"

        def names(user: str) -> tuple[set[str], str]:
            answer = client.get("/api/v1/places", headers=auth(user))
            return {f["properties"]["name"] for f in answer.json()["features"]}, answer.headers["x-total-count"]

        seen_a, count_a = names("liaison-a")
        seen_b, count_b = names("liaison-b")
        assert "Crossing for the handover" in seen_a and "Crossing for the handover" not in seen_b
        assert int(count_a) == int(count_b) + 1
        hidden = client.patch(f"/api/v1/places/{place['id']}", json={"properties": {"name": "x"}}, headers=auth("liaison-b"))
        assert hidden.status_code == 403  # a liaison writes no marker, and the refusal says nothing of the place
        assert "Crossing" not in hidden.text
        assert client.post("/api/v1/places", json=marker, headers=auth("ops")).status_code == 409  # the same name, the same spot
        moved = client.patch(f"/api/v1/places/{place['id']}", headers=auth("ops"),
                             json={"geometry": {"type": "Point", "coordinates": [46.76, 39.82]}, "properties": {"visibility": "side_b"}})
        assert moved.status_code == 200 and moved.json()["geometry"]["coordinates"] == [46.76, 39.82]
        assert "Crossing for the handover" in names("liaison-b")[0] and "Crossing for the handover" not in names("liaison-a")[0]
        bad = client.post("/api/v1/places", json=marker | {"properties": {"name": ""}}, headers=auth("ops"))
        assert bad.status_code == 422 and "body.properties.name" in field_errors(bad)
        assert client.delete(f"/api/v1/places/{place['id']}", headers=auth("ops")).status_code == 204
        assert "Crossing for the handover" not in names("liaison-b")[0]

    def test_operations_creates_a_post_inside_its_area(self, client: TestClient, auth: Any) -> None:
        response = client.post("/api/v1/posts", json=post_feature(), headers=auth("ops"))
        assert response.status_code == 201, response.text
        props = response.json()["properties"]
        assert props["zone_code"] == "north" and props["outside_zone_override"] is False
        assert re.fullmatch(r"38T[A-Z]{2}\d{10}", props["mgrs"])

    def test_post_outside_its_area_is_refused(self, client: TestClient, auth: Any) -> None:
        response = client.post("/api/v1/posts", json=post_feature(point=SOUTH_POINT), headers=auth("ops"))
        assert response.status_code == 422
        assert field_errors(response) == ["body.geometry"]
        assert "outside zone north" in response.json()["detail"]
        assert len(client.get("/api/v1/posts", params={"on": "2020-11-20"}).json()["features"]) == 23

    def test_override_needs_a_reason_and_is_audited(self, client: TestClient, auth: Any) -> None:
        without_reason = post_feature(point=SOUTH_POINT, override_outside_zone=True)
        response = client.post("/api/v1/posts", json=without_reason, headers=auth("ops"))
        assert response.status_code == 422
        assert field_errors(response) == ["body.properties.override_reason"]

        with_reason = post_feature(point=SOUTH_POINT, override_outside_zone=True, override_reason="hilltop view over both")
        response = client.post("/api/v1/posts", json=with_reason, headers=auth("ops"))
        assert response.status_code == 201
        post_id = response.json()["id"]
        entries = client.get("/api/v1/audit", params={"entity": "posts", "entity_id": str(post_id)}, headers=auth("ops")).json()
        assert len(entries) == 1
        assert entries[0]["actor"] == "ops" and entries[0]["action"] == "create"
        assert entries[0]["after"]["outside_zone_override"] is True
        assert entries[0]["after"]["override_reason"] == "hilltop view over both"

    def test_closing_before_opening_is_refused(self, client: TestClient, auth: Any) -> None:
        response = client.post("/api/v1/posts", json=post_feature(closed_on="2020-11-19"), headers=auth("ops"))
        assert response.status_code == 422
        assert field_errors(response) == ["body.properties.closed_on"]

    def test_unknown_zone_is_refused(self, client: TestClient, auth: Any) -> None:
        response = client.post("/api/v1/posts", json=post_feature(zone_code="west"), headers=auth("ops"))
        assert response.status_code == 422
        assert field_errors(response) == ["body.properties.zone_code"]
        response = client.post("/api/v1/posts", json=post_feature(zone_code=None, zone_id=99999), headers=auth("ops"))
        assert field_errors(response) == ["body.properties.zone_id"]

    def test_duplicate_code_is_a_conflict(self, client: TestClient, auth: Any) -> None:
        response = client.post("/api/v1/posts", json=post_feature(code="N-01"), headers=auth("ops"))
        assert response.status_code == 409
        assert field_errors(response) == ["body.properties.code"]

    @pytest.mark.parametrize(
        ("coordinates", "fragment"),
        [
            ([[[46.0, 40.0], [47.0, 41.0], [47.0, 40.0], [46.0, 41.0], [46.0, 40.0]]], "Self-intersection"),
            ([[[46.0, 40.0], [47.0, 95.0], [47.0, 40.0], [46.0, 40.0]]], "latitude out of range"),
            ([[[46.0, 40.0], [190.0, 41.0], [47.0, 40.0], [46.0, 40.0]]], "longitude out of range"),
        ],
    )
    def test_invalid_area_polygons_are_refused(
        self, client: TestClient, auth: Any, coordinates: list[Any], fragment: str
    ) -> None:
        feature = {
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": coordinates},
            "properties": {"code": "east", "name": "East"},
        }
        response = client.post("/api/v1/areas", json=feature, headers=auth("ops"))
        assert response.status_code == 422
        assert field_errors(response) == ["body.geometry"]
        assert fragment in response.json()["detail"]

    def test_unclosed_ring_is_refused_by_the_schema(self, client: TestClient, auth: Any) -> None:
        feature = {
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": [[[46.0, 40.0], [47.0, 40.0], [47.0, 41.0], [46.5, 41.0]]]},
            "properties": {"code": "east", "name": "East"},
        }
        response = client.post("/api/v1/areas", json=feature, headers=auth("ops"))
        assert response.status_code == 422
        assert any(f.startswith("body.geometry") for f in field_errors(response))

    def test_a_line_is_not_an_area(self, client: TestClient, auth: Any) -> None:
        feature = {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[46, 40], [47, 40]]},
                   "properties": {"code": "east", "name": "East"}}
        response = client.post("/api/v1/areas", json=feature, headers=auth("ops"))
        assert response.status_code == 422
        assert "expected Polygon or MultiPolygon" in response.json()["detail"]

    def test_reshaping_an_area_may_not_leave_its_posts_outside(self, client: TestClient, auth: Any) -> None:
        north = client.get("/api/v1/areas").json()["features"][0]
        tiny = {"geometry": {"type": "Polygon", "coordinates": [[[46.4, 40.2], [46.5, 40.2], [46.5, 40.3], [46.4, 40.2]]]}}
        response = client.patch(f"/api/v1/areas/{north['id']}", json=tiny, headers=auth("ops"))
        assert response.status_code == 422
        assert "outside zone north" in response.json()["detail"]
        unchanged = client.get(f"/api/v1/areas/{north['id']}").json()
        assert unchanged["geometry"] == north["geometry"]

    def test_patching_a_post_moves_it_and_logs_before_and_after(self, client: TestClient, auth: Any) -> None:
        post = client.get("/api/v1/posts", params={"on": "2020-11-18"}).json()["features"][0]
        response = client.patch(
            f"/api/v1/posts/{post['id']}", json={"geometry": {"type": "Point", "coordinates": NORTH_POINT}}, headers=auth("ops")
        )
        assert response.status_code == 200, response.text
        assert response.json()["geometry"]["coordinates"] == NORTH_POINT
        entry = client.get("/api/v1/audit", params={"entity": "posts", "action": "update"}, headers=auth("admin")).json()[0]
        assert entry["before"]["geometry"]["coordinates"] == post["geometry"]["coordinates"]
        assert entry["after"]["geometry"]["coordinates"] == NORTH_POINT

    def test_a_zone_with_posts_cannot_be_deleted(self, client: TestClient, auth: Any) -> None:
        north = client.get("/api/v1/areas").json()["features"][0]
        response = client.delete(f"/api/v1/areas/{north['id']}", headers=auth("ops"))
        assert response.status_code == 409
        assert client.get(f"/api/v1/areas/{north['id']}").status_code == 200

    def test_a_corridor_can_be_given_as_its_centreline(self, client: TestClient, auth: Any) -> None:
        feature = {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[46.0, 40.0], [46.1, 40.0]]},
                   "properties": {"code": "test-corridor", "name": "Test", "width_m": 2000}}
        response = client.post("/api/v1/corridors", json=feature, headers=auth("ops"))
        assert response.status_code == 201, response.text
        # 8.5 km at 40°N by 2 km, plus two half-discs of 1 km radius
        assert response.json()["properties"]["area_km2"] == pytest.approx(8.52 * 2 + 3.14, rel=0.02)
        no_width = feature | {"properties": {"code": "other", "name": "Other"}}
        response = client.post("/api/v1/corridors", json=no_width, headers=auth("ops"))
        assert field_errors(response) == ["body.properties.width_m"]
