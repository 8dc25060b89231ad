"""H3 coverage of the areas of responsibility over 24 hours, 7 days and ever."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from h3.api import basic_int as h3


@pytest.fixture
def visits(client: TestClient, auth: Any) -> set[int]:
    """One tracker visiting North: day one at 08:xx, then again three days later; returns the cells of day one."""
    client.post("/api/v1/trackers", json={"code": "MP-07", "bound_users": ["patrol"]}, headers=auth("ops"))
    day_one = [(40.10, 46.60 + i * 0.005) for i in range(20)]  # about 8 km east, several res-8 cells
    fixes = [{"tracker": "MP-07", "t": f"2020-11-14T08:{i:02d}:00Z", "lat": lat, "lon": lon} for i, (lat, lon) in enumerate(day_one)]
    fixes.append({"tracker": "MP-07", "t": "2020-11-17T09:00:00Z", "lat": 40.20, "lon": 46.80})
    fixes.append({"tracker": "MP-07", "t": "2020-11-14T08:30:00Z", "lat": 39.5, "lon": 45.0})  # outside every area
    assert client.post("/api/v1/positions", json={"positions": fixes}, headers=auth("patrol")).status_code == 200
    return {h3.latlng_to_cell(lat, lon, 8) for lat, lon in day_one}


@pytest.mark.usefixtures("scenario")
def test_shares_over_each_window(client: TestClient, auth: Any, visits: set[int]) -> None:
    summary = {c["code"]: c for c in client.get("/api/v1/coverage", params={"at": "2020-11-14T12:00:00Z"}, headers=auth("ops")).json()}
    north, south = summary["north"], summary["south"]
    assert north["cells"] > 2000 and north["resolution"] == 8
    assert north["last_24h"]["visited"] == len(visits) and north["last_7d"]["visited"] == len(visits)
    assert north["last_24h"]["share"] == pytest.approx(len(visits) / north["cells"], abs=1e-4)
    assert south["ever"]["visited"] == 0
    later = {c["code"]: c for c in client.get("/api/v1/coverage", params={"at": "2020-11-17T12:00:00Z"}, headers=auth("ops")).json()}
    assert later["north"]["last_24h"]["visited"] == 1  # only the visit of the 17th
    assert later["north"]["last_7d"]["visited"] == len(visits) + 1
    before = {c["code"]: c for c in client.get("/api/v1/coverage", params={"at": "2020-11-13T00:00:00Z"}, headers=auth("ops")).json()}
    assert before["north"]["ever"]["visited"] == 0


@pytest.mark.usefixtures("scenario")
def test_cells_as_geojson_for_the_map(client: TestClient, auth: Any, visits: set[int]) -> None:
    north = next(c for c in client.get("/api/v1/coverage", headers=auth("ops")).json() if c["code"] == "north")
    visited = client.get(f"/api/v1/coverage/{north['zone_id']}/cells", params={"state": "visited"}, headers=auth("ops"))
    assert visited.headers["content-type"] == "application/geo+json"
    features = visited.json()["features"]
    assert len(features) == len(visits) + 1
    ring = features[0]["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1] and 46 < ring[0][0] < 47 and 39 < ring[0][1] < 41  # closed, (lon, lat)
    unvisited = client.get(f"/api/v1/coverage/{north['zone_id']}/cells", headers=auth("ops")).json()["features"]
    assert len(unvisited) == north["cells"] - len(visits) - 1


@pytest.mark.usefixtures("scenario")
def test_coverage_is_internal(client: TestClient, auth: Any) -> None:
    assert client.get("/api/v1/coverage", headers=auth("liaison-a")).status_code == 403
    assert client.get("/api/v1/coverage").status_code == 401
