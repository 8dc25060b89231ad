"""GIS clients as the mission's GIS officers run them: OWSLib and GDAL read the OGC API of a running PeaceWatch."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from owslib.ogcapi.features import Features

from tests.clients.conftest import ogrinfo
from tests.live import LiveServer

NORTH_OF_40 = (46.5, 40.0, 47.0, 40.4)  # the North area's posts above 40°N: 9 of them


def test_owslib_lists_the_collections_and_reads_items_in_a_box(server: LiveServer) -> None:
    api = Features(f"{server.url}/ogc")
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in api.conformance()["conformsTo"]
    ids = [c["id"] for c in api.collections()["collections"]]
    assert {"areas", "corridors", "lines-of-contact", "posts", "patrol-tracks", "incidents", "official-map"} <= set(ids)
    posts = api.collection_items("posts", bbox=list(NORTH_OF_40), limit=100)
    codes = sorted(f["properties"]["code"] for f in posts["features"])
    assert codes == [f"N-{n:02d}" for n in range(1, 10)]
    assert all(NORTH_OF_40[1] <= f["geometry"]["coordinates"][1] <= NORTH_OF_40[3] for f in posts["features"])
    assert "status" in api.collection_queryables("incidents")["properties"]


def test_gdal_opens_the_api_and_reads_a_layer_with_a_spatial_filter(server: LiveServer) -> None:
    source = f"OAPIF:{server.url}/ogc"
    layers = subprocess.run([ogrinfo(), "-ro", "-so", source], capture_output=True, text=True, timeout=60, check=True).stdout
    for name, kind in (("areas", "Polygon"), ("posts", "Point"), ("lines-of-contact", "Line String"), ("incidents", "Point")):
        assert re.search(rf"\d+: {name} \(title: .*\) \({kind}\)", layers), layers
    west, south, east, north = NORTH_OF_40
    read = subprocess.run([ogrinfo(), "-ro", "-q", source, "posts", "-spat", str(west), str(south), str(east), str(north)],
                          capture_output=True, text=True, timeout=60, check=True).stdout
    codes = sorted(re.findall(r"^\s+code \(String\) = (\S+)", read, re.MULTILINE))
    assert codes == [f"N-{n:02d}" for n in range(1, 10)], read[:2000]
    points = [(float(x), float(y)) for x, y in re.findall(r"POINT \(([\d.]+) ([\d.]+)\)", read)]
    assert len(points) == 9 and all(west <= x <= east and south <= y <= north for x, y in points)


def test_gdal_opens_the_kml_and_gpx_exports(server: LiveServer, tmp_path: Path) -> None:
    import httpx

    for name, params, layer in (("posts.kml", {"format": "kml"}, "PeaceWatch Observation posts and checkpoints"),
                                ("posts.gpx", {"format": "gpx"}, "waypoints")):
        path = tmp_path / name
        path.write_bytes(httpx.get(f"{server.url}/api/v1/exports/posts", params={**params, "since": "2020-11-14", "until": "2020-11-14"}).content)
        summary = subprocess.run([ogrinfo(), "-ro", "-so", str(path), layer], capture_output=True, text=True, timeout=60, check=True).stdout
        assert re.search(r"Feature Count: 16\b", summary), summary
