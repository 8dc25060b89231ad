"""Layer files as GIS and mapping tools write them (written for these tests, shaped after QGIS 3 / GDAL's
LIBKML and KML drivers, Google Earth Pro and ArcGIS): imported through the API and the command line."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.bodies import upload
from tests.gdal import gdal_tool

KML = "application/vnd.google-earth.kml+xml"
KMZ = "application/vnd.google-earth.kmz"

# QGIS 3 "Save Features As... KML" (GDAL's KML driver): a Schema, SchemaData/SimpleData, its own fid field
QGIS_POSTS = b"""<?xml version="1.0" encoding="utf-8" ?>
<kml xmlns="http://www.opengis.net/kml/2.2">
<Document id="root_doc">
<Schema name="posts" id="posts">
\t<SimpleField name="fid" type="int"></SimpleField>
\t<SimpleField name="code" type="string"></SimpleField>
\t<SimpleField name="zone_code" type="string"></SimpleField>
\t<SimpleField name="opened_on" type="string"></SimpleField>
\t<SimpleField name="pw_visibility" type="string"></SimpleField>
</Schema>
<Folder><name>posts</name>
  <Placemark>
\t<name>Ridge post</name>
\t<description>Manned by the 2nd company; water resupply every 3 days</description>
\t<visibility>0</visibility>
\t<Style><LineStyle><color>ff0000ff</color></LineStyle></Style>
\t<ExtendedData><SchemaData schemaUrl="#posts">
\t\t<SimpleData name="fid">41</SimpleData>
\t\t<SimpleData name="code">N-41</SimpleData>
\t\t<SimpleData name="zone_code">north</SimpleData>
\t\t<SimpleData name="opened_on">2020-11-25</SimpleData>
\t\t<SimpleData name="pw_visibility">public</SimpleData>
\t</SchemaData></ExtendedData>
      <Point><coordinates>46.71,40.11</coordinates></Point>
  </Placemark>
</Folder>
</Document></kml>
"""


def google_earth_areas() -> bytes:
    """Google Earth Pro's "Save Place As... KMZ": doc.kml with nested folders, styles and 3D coordinates, plus an icon."""
    placemark = """<Placemark><name>{name}</name><description><![CDATA[<b>{note}</b>]]></description><styleUrl>#m_ylw-pushpin</styleUrl>
<ExtendedData><Data name="code"><value>{code}</value></Data></ExtendedData>{geometry}</Placemark>"""
    square = ("<Polygon><tessellate>1</tessellate><altitudeMode>clampToGround</altitudeMode><outerBoundaryIs><LinearRing><coordinates>"
              "{x0},{y0},0 {x1},{y0},0 {x1},{y1},0 {x0},{y1},0 {x0},{y0},0 </coordinates></LinearRing></outerBoundaryIs></Polygon>")
    placemarks = [
        placemark.format(name="Market square", note="no weapons", code="RZ-MARKET",
                         geometry=square.format(x0=46.75, y0=39.81, x1=46.76, y1=39.82)),
        placemark.format(name="Two fields", note="mined in 1994", code="RZ-FIELDS", geometry="<MultiGeometry>"
                         + square.format(x0=46.70, y0=39.70, x1=46.71, y1=39.71)
                         + square.format(x0=46.72, y0=39.70, x1=46.73, y1=39.71) + "</MultiGeometry>"),
        placemark.format(name="Cut short", note="", code="RZ-CUT",
                         geometry="<LineString><coordinates>46.7,39.8,0</coordinates></LineString>"),
        placemark.format(name="Nothing drawn", note="", code="RZ-EMPTY",
                         geometry="<Polygon><outerBoundaryIs><LinearRing><coordinates> </coordinates></LinearRing></outerBoundaryIs></Polygon>"),
        placemark.format(name="Drive", note="", code="RZ-TRACK", geometry='<gx:Track><when>2020-11-14T08:00:00Z</when>'
                         '<gx:coord>46.7 39.8 0</gx:coord></gx:Track>'),
        "<Placemark><name>Note to self</name><description>check the bridge</description></Placemark>",
        placemark.format(name="Bad part", note="", code="RZ-PARTS", geometry="<MultiGeometry>"
                         + square.format(x0=46.70, y0=39.72, x1=46.71, y1=39.73)
                         + "<LineString><coordinates>46.70,39.72 46.71;39.73</coordinates></LineString></MultiGeometry>"),
    ]
    doc = ('<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2" '
           'xmlns:kml="http://www.opengis.net/kml/2.2" xmlns:atom="http://www.w3.org/2005/Atom"><Document><name>Restricted.kmz</name>'
           '<StyleMap id="m_ylw-pushpin"><Pair><key>normal</key><styleUrl>#s_ylw-pushpin</styleUrl></Pair></StyleMap>'
           f'<Folder><name>Zones</name><open>1</open><Folder><name>Town</name>{"".join(placemarks)}</Folder></Folder></Document></kml>')
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("doc.kml", doc)
        archive.writestr("files/ylw-pushpin.png", b"\x89PNG\r\n\x1a\n" + bytes(64))
    return buffer.getvalue()


@pytest.mark.usefixtures("scenario")
class TestFilesFromTools:
    def test_a_qgis_kml_is_read_with_its_schema_data_description_and_own_fields_ignored(self, client: TestClient, auth: Any) -> None:
        response = upload(client, auth, "posts", "posts.kml", QGIS_POSTS, KML)
        assert response.status_code == 200, response.text
        assert response.json()["created"] == 1 and response.json()["ignored_properties"] == ["fid"]
        post = next(f for f in client.get("/api/v1/posts", params={"on": "2020-11-25"}).json()["features"]
                    if f["properties"]["code"] == "N-41")
        assert post["properties"]["notes"] == "Manned by the 2nd company; water resupply every 3 days"
        assert post["properties"]["visibility"] == "public"  # from pw_visibility, not KML's own <visibility>0</visibility>

    def test_a_layer_round_tripped_through_qgis_imports_back_unchanged(self, client: TestClient, auth: Any) -> None:
        exported = client.get("/api/v1/layers/posts", params={"format": "kml"}).text
        assert "<visibility>" not in exported and '<Data name="pw_visibility">' in exported
        # what QGIS writes back: each <Data name=k><value>v</value></Data> as <SimpleData name=k>v</SimpleData>
        qgis = re.sub(r'<Data name="([^"]+)">\s*<value>(.*?)</value>\s*</Data>', r'<SimpleData name="\1">\2</SimpleData>', exported,
                      flags=re.DOTALL)
        qgis = qgis.replace("<ExtendedData>", '<ExtendedData><SchemaData schemaUrl="#posts">').replace(
            "</ExtendedData>", "</SchemaData></ExtendedData>")
        assert "<SimpleData" in qgis and "<Data " not in qgis
        response = upload(client, auth, "posts", "posts.kml", qgis.encode(), KML)
        assert response.status_code == 200, response.text
        assert (response.json()["created"], response.json()["updated"], response.json()["refused"]) == (0, 30, [])
        without_ids = lambda text: re.sub(r'(id="|#)pw-\d+', "", text)  # noqa: E731 - simplekml numbers elements afresh
        assert without_ids(client.get("/api/v1/layers/posts", params={"format": "kml"}).text) == without_ids(exported)

    def test_a_google_earth_kmz_imports_what_it_can_and_names_every_placemark_it_refuses(self, client: TestClient, auth: Any) -> None:
        response = upload(client, auth, "restricted-zones", "Restricted.kmz", google_earth_areas(), KMZ)
        assert response.status_code == 200, response.text
        report = response.json()
        assert report["codes"] == ["RZ-MARKET", "RZ-FIELDS"] and report["created"] == 2
        assert [(r["index"], r["name"]) for r in report["refused"]] == [
            (2, "Cut short"), (3, "Nothing drawn"), (4, "Drive"), (5, "Note to self"), (6, "Bad part")]
        reasons = [r["reason"] for r in report["refused"]]  # each says which geometry it could not read
        assert reasons[0] == "LineString: a line needs at least two points"
        assert reasons[1] == "Polygon: the outer boundary: no coordinates"
        assert reasons[2] == "Track: unsupported geometry" and reasons[3] == "no geometry"
        assert reasons[4] == "MultiGeometry part 2 (LineString): coordinate '46.71;39.73' is not lon,lat[,alt]"
        zones = {f["properties"]["code"]: f for f in client.get("/api/v1/restricted-zones", headers=auth("ops")).json()["features"]}
        assert zones["RZ-FIELDS"]["geometry"]["type"] == "MultiPolygon"  # the MultiGeometry, as GDAL reads it
        assert zones["RZ-MARKET"]["properties"]["notes"] == "<b>no weapons</b>"

    def test_a_file_of_which_nothing_can_be_imported_is_refused_whole(self, client: TestClient, auth: Any) -> None:
        kml = (b'<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><name>A</name><Point><coordinates></coordinates>'
               b"</Point></Placemark><Placemark><name>B</name></Placemark></Document></kml>")
        response = upload(client, auth, "posts", "empty.kml", kml, KML)
        assert response.status_code == 422 and "nothing imported" in response.json()["detail"]
        assert [e["field"] for e in response.json()["errors"]] == ["features[0].geometry", "features[1].geometry"]

    @pytest.mark.parametrize(("entries", "fragment"), [
        ({"../../etc/cron.d/evil.kml": "<kml/>"}, "points outside the archive"),
        ({"files/icon.png": "png"}, "no KML document"),
    ])
    def test_a_kmz_is_read_safely(self, client: TestClient, auth: Any, entries: dict[str, str], fragment: str) -> None:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, content in entries.items():
                archive.writestr(name, content)
        response = upload(client, auth, "areas", "x.kmz", buffer.getvalue(), KMZ)
        assert response.status_code == 422 and fragment in response.json()["detail"]

    def test_the_command_line_imports_a_kmz_and_says_what_it_refused(self, tmp_path: Path, database_url: str,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
        from typer.testing import CliRunner

        from peacewatch.cli import app
        from tests.conftest import CUSTODY, SECRET

        for name, value in (("DATABASE_URL", database_url), ("DATA_DIR", str(tmp_path / "data")), ("SECRET_KEY", SECRET),
                            ("CUSTODY_KEY", CUSTODY)):
            monkeypatch.setenv(f"PEACEWATCH_{name}", value)
        path = tmp_path / "Restricted.kmz"
        path.write_bytes(google_earth_areas())
        result = CliRunner().invoke(app, ["import", "restricted-zones", str(path)])
        assert result.exit_code == 0, result.output
        assert "2 created, 0 updated, 5 refused" in result.output
        assert "features[2] Cut short: LineString: a line needs at least two points" in result.output
        qgis = tmp_path / "posts.kml"
        qgis.write_bytes(QGIS_POSTS)
        result = CliRunner().invoke(app, ["import", "posts", str(qgis)])
        assert result.exit_code == 0 and "properties ignored (not in the layer): fid" in result.output


@pytest.mark.usefixtures("scenario")
@pytest.mark.parametrize(("driver", "suffix"), [("KML", "kml"), ("LIBKML", "kml"), ("LIBKML", "kmz")])
def test_a_layer_rewritten_by_gdal_imports_back_unchanged(client: TestClient, auth: Any, tmp_path: Path, driver: str, suffix: str) -> None:
    """The real thing: PeaceWatch's KML, read and written again by GDAL (as QGIS's "Save Features As" does)."""
    import subprocess

    exported = tmp_path / "posts.kml"
    exported.write_bytes(client.get("/api/v1/layers/posts", params={"format": "kml"}).content)
    rewritten = tmp_path / f"posts-{driver.lower()}.{suffix}"
    subprocess.run([gdal_tool("ogr2ogr"), "-f", driver, str(rewritten), str(exported)], check=True, capture_output=True, timeout=60)
    before = client.get("/api/v1/posts", headers=auth("ops")).json()
    response = upload(client, auth, "posts", rewritten.name, rewritten.read_bytes(), "application/octet-stream")
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["created"], report["updated"], report["refused"]) == (0, 30, []), report
    assert client.get("/api/v1/posts", headers=auth("ops")).json() == before  # nothing changed: not a name, a date, a visibility


@pytest.mark.usefixtures("scenario")
def test_a_refused_feature_names_its_field_once(client: TestClient, auth: Any) -> None:
    """GDAL's GeoJSON of posts with a code too long: the refusal says where once, then why."""
    geojson = ('{"type": "FeatureCollection", "name": "posts", "features": [{"type": "Feature", "properties": '
               '{"code": "' + "X" * 80 + '", "name": "Long", "zone_code": "north", "opened_on": "2020-11-25"}, '
               '"geometry": {"type": "Point", "coordinates": [46.71, 40.11]}}]}').encode()
    partial = upload(client, auth, "posts", "posts.geojson", geojson, "application/geo+json")
    assert partial.status_code == 422, partial.text  # nothing importable: refused whole, each feature said
    error = partial.json()["errors"][0]
    assert error["field"] == "features[0].properties.code"
    assert error["message"].count("features[0]") == 0 and error["message"].startswith("Long: ")
