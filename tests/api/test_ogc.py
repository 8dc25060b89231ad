"""OGC API - Features at /ogc: the resources, the parameters, the filters, the CRS, and who sees what."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

Auth = Callable[[str], dict[str, str]]
OGC = "/ogc"
EPSG4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"


def rels(body: dict[str, Any]) -> dict[str, str]:
    return {link["rel"]: link["href"] for link in body["links"]}


def test_the_landing_page_leads_to_everything_a_client_needs(client: TestClient, scenario: None) -> None:
    body = client.get(OGC).json()
    assert {"self", "alternate", "service-desc", "service-doc", "conformance", "data"} <= set(rels(body))
    assert client.get(OGC + "/").status_code == 200  # with the slash some clients add
    conformance = client.get(rels(body)["conformance"]).json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conformance
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in conformance
    definition = client.get(rels(body)["service-desc"])
    assert definition.headers["content-type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert definition.json()["openapi"].startswith("3.0") and "/collections/{collectionId}/items" in definition.json()["paths"]
    ids = [c["id"] for c in client.get(rels(body)["data"]).json()["collections"]]
    assert ids == ["areas", "corridors", "lines-of-contact", "posts", "patrol-tracks", "incidents", "official-map"]


@pytest.mark.parametrize(("headers", "params", "expected"), [
    ({}, {}, "application/json"),
    ({"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}, {}, "text/html"),  # a browser
    ({"Accept": "application/json"}, {}, "application/json"),
    ({"Accept": "text/html"}, {"f": "json"}, "application/json"),  # f wins
    ({}, {"f": "html"}, "text/html"),
    ({"Accept": "*/*"}, {}, "application/json"),  # curl, GDAL
    ({"Accept": "text/html;q=0.5, application/geo+json"}, {}, "application/json"),  # the higher quality wins
    ({"Accept": "application/xhtml+xml"}, {}, "text/html"),
    ({"Accept": "not a media type;;q=x"}, {}, "application/json"),  # unreadable: no preference
])
def test_the_representation_follows_f_then_accept(client: TestClient, scenario: None, headers: dict[str, str],
                                                  params: dict[str, str], expected: str) -> None:
    for path in ("", "/collections", "/collections/posts", "/conformance"):
        response = client.get(OGC + path, headers=headers, params=params)
        assert response.status_code == 200 and response.headers["content-type"].startswith(expected), path
    items = client.get(OGC + "/collections/posts/items", headers=headers, params=params)
    assert items.headers["content-type"].startswith("application/geo+json" if expected == "application/json" else expected)


@pytest.mark.parametrize(("path", "params", "words"), [
    ("/collections/posts/items", {"foo": "1"}, "unknown query parameter 'foo'"),
    ("/collections", {"limit": "3"}, "unknown query parameter 'limit'"),
    ("/collections/posts/items", {"bbox": "1,2,3"}, "four numbers"),
    ("/collections/posts/items", {"bbox": "46,39,a,40"}, "must be numbers"),
    ("/collections/posts/items", {"bbox": "46,41,47,40"}, "lower latitude is above"),
    ("/collections/posts/items", {"datetime": "yesterday"}, "not an RFC 3339"),
    ("/collections/posts/items", {"datetime": "2020-11-15/2020-11-14"}, "ends before it starts"),
    ("/collections/posts/items", {"limit": "0"}, "between 1 and 10,000"),
    ("/collections/posts/items", {"limit": "ten"}, "not a whole number"),
    ("/collections/posts/items", {"crs": "EPSG:3857"}, "not offered"),
    ("/collections/posts/items", {"f": "kml"}, "not offered"),
    ("/collections/posts/items", {"filter": "status ==== 'open'"}, "not CQL2 text"),
    ("/collections/posts/items", {"filter": "colour = 'red'"}, "'colour' is not a queryable"),
    ("/collections/posts/items", {"filter": "status = 'open'", "filter-lang": "cql2-json"}, "use cql2-text"),
    ("/collections/incidents/items", {"event_count": "many"}, "not a number"),
])
def test_bad_parameters_are_answered_400_naming_them(client: TestClient, scenario: None, path: str, params: dict[str, str],
                                                    words: str) -> None:
    response = client.get(OGC + path, params=params)
    assert response.status_code == 400 and words in response.json()["detail"], response.text


def test_an_unknown_collection_or_feature_is_404(client: TestClient, scenario: None) -> None:
    assert client.get(OGC + "/collections/tanks").status_code == 404
    assert client.get(OGC + "/collections/tanks/items").status_code == 404
    assert client.get(OGC + "/collections/posts/items/999999").status_code == 404


def test_items_by_box_and_day_paged_with_links(client: TestClient, scenario: None) -> None:
    north = client.get(OGC + "/collections/posts/items", params={"bbox": "46.5,40.0,47.0,40.4", "limit": 100}).json()
    assert north["numberMatched"] == north["numberReturned"] == 9  # the posts of the North area above 40°N
    assert all(40.0 <= f["geometry"]["coordinates"][1] <= 40.4 for f in north["features"])
    on_14 = client.get(OGC + "/collections/posts/items", params={"datetime": "2020-11-14", "limit": 100}).json()
    assert on_14["numberMatched"] == 16  # the first official map's posts
    first = client.get(OGC + "/collections/posts/items", params={"limit": 5}).json()
    assert first["numberReturned"] == 5 and "prev" not in rels(first)
    second = client.get(rels(first)["next"]).json()
    assert "prev" in rels(second) and {f["id"] for f in first["features"]}.isdisjoint(f["id"] for f in second["features"])
    ids, page = [], first
    while True:
        ids += [f["id"] for f in page["features"]]
        if "next" not in rels(page):
            break
        page = client.get(rels(page)["next"]).json()
    assert len(ids) == len(set(ids)) == first["numberMatched"]


def test_one_feature_with_its_links(client: TestClient, scenario: None) -> None:
    post = client.get(OGC + "/collections/posts/items", params={"limit": 1}).json()["features"][0]
    one = client.get(OGC + f"/collections/posts/items/{post['id']}")
    assert one.headers["content-type"] == "application/geo+json" and one.json()["properties"]["code"] == post["properties"]["code"]
    assert {"self", "alternate", "collection"} <= set(rels(one.json()))
    assert "Observation post" in client.get(OGC + f"/collections/posts/items/{post['id']}", params={"f": "html"}).text


def test_epsg_4326_puts_latitude_first_in_answers_and_boxes(client: TestClient, scenario: None) -> None:
    plain = client.get(OGC + "/collections/posts/items", params={"limit": 1})
    swapped = client.get(OGC + "/collections/posts/items", params={"limit": 1, "crs": EPSG4326})
    assert plain.headers["content-crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    assert swapped.headers["content-crs"] == f"<{EPSG4326}>"
    lon, lat = plain.json()["features"][0]["geometry"]["coordinates"]
    assert swapped.json()["features"][0]["geometry"]["coordinates"] == [lat, lon]
    by_lat = client.get(OGC + "/collections/posts/items", params={"bbox": "40.0,46.5,40.4,47.0", "bbox-crs": EPSG4326, "limit": 100})
    assert by_lat.json()["numberMatched"] == 9


def test_queryables_and_cql2_filters(client: TestClient, demo: None, auth: Auth) -> None:
    schema = client.get(OGC + "/collections/incidents/queryables")
    assert schema.headers["content-type"] == "application/schema+json"
    assert {"status", "type", "started_at", "geometry"} <= set(schema.json()["properties"])
    staff = auth("observer")
    everything = client.get(OGC + "/collections/incidents/items", params={"limit": 10000}, headers=staff).json()["features"]

    def count(**params: str) -> int:
        return int(client.get(OGC + "/collections/incidents/items", params={**params, "limit": 10000}, headers=staff).json()["numberMatched"])

    confirmed = [f for f in everything if f["properties"]["status"] == "confirmed"]
    assert confirmed and count(filter="status = 'confirmed'") == len(confirmed) == count(status="confirmed")
    busy = [f for f in everything if f["properties"]["event_count"] >= 3 and f["properties"]["status"] in ("confirmed", "reported")]
    assert count(filter="event_count >= 3 AND (status = 'confirmed' OR status = 'reported')") == len(busy)
    on_15 = [f for f in everything if f["properties"]["started_at"] < "2020-11-16" and f["properties"]["ended_at"] >= "2020-11-15"]
    assert count(filter="T_INTERSECTS(INTERVAL(started_at, ended_at), INTERVAL('2020-11-15T00:00:00Z', '2020-11-16T00:00:00Z'))") == len(on_15)
    assert count(filter="NOT (status = 'confirmed')") == len(everything) - len(confirmed)
    assert 0 < count(filter="S_INTERSECTS(geometry, BBOX(46.9, 39.6, 47.3, 39.9))") < len(everything)


def test_each_reader_sees_the_features_of_their_scope(client: TestClient, demo: None, auth: Auth) -> None:
    def ids(headers: dict[str, str] | None = None) -> set[int]:
        return {f["id"] for f in client.get(OGC + "/collections/incidents/items", params={"limit": 10000}, headers=headers).json()["features"]}

    public, side_a, staff = ids(), ids(auth("liaison-a")), ids(auth("observer"))
    assert public and public < side_a < staff
    hidden = next(iter(staff - side_a))
    assert client.get(OGC + f"/collections/incidents/items/{hidden}", headers=auth("liaison-a")).status_code == 404
    assert client.get(OGC + f"/collections/incidents/items/{hidden}", headers=auth("observer")).status_code == 200
    for odd in ("²", "１２", "9" * 30, "-1"):  # digits Python reads as digits but int() does not, and ids out of range
        assert client.get(OGC + f"/collections/incidents/items/{odd}").status_code == 404
    token = client.post("/api/v1/api-tokens", json={"name": "QGIS at the operations centre", "username": "observer"},
                        headers=auth("admin"))
    assert token.status_code == 201, token.text
    assert ids({"X-API-Key": token.json()["token"]}) == staff  # a GIS client that can set a header but not a bearer token
    assert client.get(OGC + "/collections/incidents/items", headers={"X-API-Key": "pwk_not-a-key"}).status_code == 401
    public_posts = client.get(OGC + "/collections/posts/items", params={"limit": 1}).json()["features"][0]["properties"]
    assert "notes" not in public_posts and "visibility" not in public_posts  # what the official map shows of a record
    # patrol tracks: a track is shown only to a reader who may see the tracker that made it
    assert client.get(OGC + "/collections/patrol-tracks/items").json()["numberMatched"] == 0
    tracks = client.get(OGC + "/collections/patrol-tracks/items", headers=auth("observer")).json()
    assert tracks["numberMatched"] == 4 and all(f["geometry"]["type"] == "MultiLineString" for f in tracks["features"])


def test_head_answers_like_get_without_a_body(client: TestClient, scenario: None) -> None:
    head = client.head(OGC + "/collections/posts/items")
    assert head.status_code == 200 and head.headers["content-type"] == "application/geo+json"
    assert 'rel="http://www.opengis.net/def/rel/ogc/1.0/queryables"' in head.headers["link"] and head.content == b""


# --- exports -----------------------------------------------------------------------------------------------

EXPORTS = "/api/v1/exports"


def test_exports_in_every_format_follow_the_filters_and_the_scope(client: TestClient, demo: None, auth: Auth) -> None:
    import csv
    import io

    import gpxpy

    from peacewatch.geography.formats import kml_problems

    staff = auth("observer")
    everything = client.get(OGC + "/collections/incidents/items", params={"limit": 10000}, headers=staff).json()["features"]
    south_violations = [f for f in everything if f["properties"]["area"] == "South area of responsibility"
                        and f["properties"]["type"] == "ceasefire_violation"]
    rows = list(csv.DictReader(io.StringIO(client.get(EXPORTS + "/incidents", headers=staff,
                                                      params={"format": "csv", "area": "south", "type": "ceasefire_violation"}).text)))
    assert len(rows) == len(south_violations) > 0 and {r["area"] for r in rows} == {"South area of responsibility"}
    assert all(r["lon"] and r["lat"] and r["wkt"].startswith("POINT") for r in rows)
    acled = list(csv.DictReader(io.StringIO(client.get(EXPORTS + "/incidents", params={"format": "acled", "since": "2020-11-14",
                                                                                       "until": "2020-11-14"}, headers=staff).text)))
    assert acled and {r["event_date"][:10] for r in acled} <= {"2020-11-13", "2020-11-14"} and "event_id_cnty" in acled[0]
    public = client.get(EXPORTS + "/incidents", params={"format": "geojson"})
    assert 0 < int(public.headers["x-feature-count"]) < len(everything)  # anonymous: the public events only
    kml = client.get(EXPORTS + "/posts", params={"format": "kml", "area": "north", "since": "2020-11-18", "until": "2020-11-18"})
    assert kml.headers["content-type"] == "application/vnd.google-earth.kml+xml" and kml_problems(kml.content) == []
    assert kml.headers["x-feature-count"] == "11"
    for collection in ("areas", "lines-of-contact", "official-map", "patrol-tracks"):
        assert kml_problems(client.get(EXPORTS + f"/{collection}", params={"format": "kml"}, headers=staff).content) == [], collection
    tracks = gpxpy.parse(client.get(EXPORTS + "/patrol-tracks", params={"format": "gpx"}, headers=staff).text)
    assert len(tracks.tracks) == 4 and all(t.get_points_no() > 10 for t in tracks.tracks)
    assert all(p.time is not None for t in tracks.tracks for s in t.segments for p in s.points)  # GPS tracks: every point timed
    routes = gpxpy.parse(client.get(EXPORTS + "/lines-of-contact", params={"format": "gpx"}, headers=staff).text)
    assert routes.routes and not routes.tracks  # a line drawn on a map is a route, not where a device went
    waypoints = gpxpy.parse(client.get(EXPORTS + "/posts", params={"format": "gpx", "since": "2020-11-14", "until": "2020-11-14"}).text)
    assert len(waypoints.waypoints) == 16


@pytest.mark.parametrize(("path", "params", "status", "words"), [
    ("/areas", {"format": "gpx"}, 422, "GPX holds"),
    ("/posts", {"format": "acled"}, 422, "for incidents only"),
    ("/posts", {"area": "atlantis"}, 422, "no area of responsibility or corridor 'atlantis'"),
    ("/posts", {"since": "2020-11-15", "until": "2020-11-14"}, 422, "until is before since"),
    ("/posts", {"format": "shp"}, 422, ""),
    ("/tanks", {}, 404, "no collection 'tanks'"),
])
def test_bad_export_requests_say_why(client: TestClient, scenario: None, path: str, params: dict[str, str], status: int,
                                     words: str) -> None:
    response = client.get(EXPORTS + path, params=params)
    assert response.status_code == status and words in response.json()["detail"]


def test_the_events_kept_for_paging_follow_a_change_to_a_report(client: TestClient, scenario: None, auth: Auth) -> None:
    report = {"type": "ceasefire_violation", "subtype": "explosion", "started_at": "2020-11-14T16:00:00Z",
              "ended_at": "2020-11-14T16:20:00Z", "lat": 39.795, "lon": 47.113, "source": "media", "event_count": 3,
              "observed_by": ["heard"], "narrative": "Explosions near Martuni.", "visibility": "public"}
    made = client.post("/api/v1/incidents", json=report, headers=auth("ops")).json()
    first = client.get(OGC + f"/collections/incidents/items/{made['event_id']}").json()
    assert first["properties"]["event_count"] == 3
    assert client.patch(f"/api/v1/incidents/{made['id']}", json={"event_count": 7}, headers=auth("ops")).status_code == 200
    assert client.get(OGC + f"/collections/incidents/items/{made['event_id']}").json()["properties"]["event_count"] == 7
    filtered = client.get(OGC + "/collections/incidents/items", params={"filter": "event_count = 7 AND place_name = ''"}).json()
    assert made["event_id"] in [f["id"] for f in filtered["features"]]  # the kept rows were rebuilt, not only the page
    assert client.patch(f"/api/v1/incidents/{made['id']}", json={"visibility": "internal"}, headers=auth("ops")).status_code == 200
    assert client.get(OGC + f"/collections/incidents/items/{made['event_id']}").status_code == 404
