"""Layer export and import as GeoJSON and KML, through the API."""

from __future__ import annotations

import io
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.bodies import upload


@pytest.mark.usefixtures("scenario")
class TestLayers:
    def test_posts_export_as_geojson_for_a_date(self, client: TestClient) -> None:
        response = client.get("/api/v1/layers/posts", params={"on": "2020-11-18"})
        assert response.headers["content-type"].startswith("application/geo+json")
        assert "peacewatch-posts-2020-11-18.geojson" in response.headers["content-disposition"]
        assert len(response.json()["features"]) == 23

    def test_kml_export_survives_characters_xml_cannot_carry(self, client: TestClient, auth: Any) -> None:
        # found by schemathesis: a post named with a vertical tab made the KML export a 500
        post = client.get("/api/v1/posts").json()["features"][0]
        patch = {"properties": {"name": "N-01\x0bnorth", "notes": "bad\x1bbyte"}}
        assert client.patch(f"/api/v1/posts/{post['id']}", json=patch, headers=auth("ops")).status_code == 200
        response = client.get("/api/v1/layers/posts?format=kml")
        assert response.status_code == 200
        assert "<name>N-01north</name>" in response.text and "badbyte" in response.text
        # a NUL is refused (PostgreSQL cannot store it) or stored (SQLite): never a 500
        nul = client.patch(f"/api/v1/posts/{post['id']}", json={"properties": {"notes": "a\x00b"}}, headers=auth("ops"))
        assert nul.status_code in (200, 422)
        assert client.get("/api/v1/layers/posts?format=kml").status_code == 200

    def test_kml_export_carries_placemarks_with_their_data(self, client: TestClient) -> None:
        response = client.get("/api/v1/layers/areas", params={"format": "kml"})
        assert response.headers["content-type"].startswith("application/vnd.google-earth.kml+xml")
        assert response.text.count("<Placemark") == 2
        assert '<Data name="code">' in response.text and "<value>north</value>" in response.text

    @pytest.mark.parametrize("fmt", ["geojson", "kml"])
    def test_an_exported_layer_imports_back_unchanged(self, client: TestClient, auth: Any, fmt: str) -> None:
        exported = client.get("/api/v1/layers/posts", params={"format": fmt}).content
        before = client.get("/api/v1/audit", params={"limit": 1000}, headers=auth("admin")).json()
        response = upload(client, auth, "posts", f"posts.{fmt}", exported, "application/octet-stream")
        assert response.status_code == 200, response.text
        assert response.json()["created"] == 0 and response.json()["updated"] == 30
        after = client.get("/api/v1/audit", params={"limit": 1000}, headers=auth("admin")).json()
        assert len(after) == len(before)  # nothing changed, so nothing was logged

    def test_kml_import_creates_new_features(self, client: TestClient, auth: Any) -> None:
        kml = b"""<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><name>Hill post</name>
<ExtendedData><Data name="code"><value>N-40</value></Data><Data name="zone_code"><value>north</value></Data>
<Data name="opened_on"><value>2020-11-25</value></Data><Data name="visibility"><value>public</value></Data></ExtendedData>
<Point><coordinates>46.7,40.1,0</coordinates></Point></Placemark></Document></kml>"""
        response = upload(client, auth, "posts", "new.kml", kml, "application/vnd.google-earth.kml+xml")
        assert response.status_code == 200, response.text
        assert response.json() == {"layer": "posts", "created": 1, "updated": 0, "codes": ["N-40"], "refused": [],
                                   "ignored_properties": []}
        codes = {f["properties"]["code"]: f for f in client.get("/api/v1/posts", params={"on": "2020-11-25"}).json()["features"]}
        assert codes["N-40"]["geometry"]["coordinates"] == [46.7, 40.1]

    def test_hostile_kml_is_refused(self, client: TestClient, auth: Any) -> None:
        bomb = b"""<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>&b;</name></Document></kml>"""
        response = upload(client, auth, "areas", "bomb.kml", bomb, "application/vnd.google-earth.kml+xml")
        assert response.status_code == 422 and "DTDs and entities are not accepted" in response.json()["detail"]

    def test_garbage_is_a_clear_422(self, client: TestClient, auth: Any) -> None:
        response = upload(client, auth, "areas", "x.geojson", b"{not json", "application/geo+json")
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == "file"
        response = upload(client, auth, "areas", "x.geojson", b'{"type": "Point"}', "application/geo+json")
        assert response.status_code == 422 and "FeatureCollection" in response.json()["detail"]

    def test_importing_needs_the_operations_role(self, client: TestClient, auth: Any) -> None:
        response = client.post(
            "/api/v1/layers/areas", files={"file": ("a.geojson", io.BytesIO(b"{}"), "application/geo+json")},
            headers=auth("press"),
        )
        assert response.status_code == 403

    def test_unknown_layer_is_a_422(self, client: TestClient) -> None:
        assert client.get("/api/v1/layers/rivers").status_code == 422
