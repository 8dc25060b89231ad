"""Every main list of the API also as CSV: the same records and fields as its JSON, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

Auth = Callable[[str], dict[str, str]]
LISTS = ["/api/v1/patrols", "/api/v1/alerts", "/api/v1/incidents", "/api/v1/units", "/api/v1/convoys", "/api/v1/trackers",
         "/api/v1/statements", "/api/v1/returns", "/api/v1/clearances"]  # flights: in the flight log's own columns


@pytest.mark.parametrize("path", LISTS)
def test_a_list_as_csv_holds_the_records_of_its_json(client: TestClient, demo: None, auth: Auth, path: str) -> None:
    staff = auth("observer")
    records = client.get(path, params={"limit": 1000}, headers=staff).json()
    answer = client.get(path, params={"limit": 1000, "format": "csv"}, headers=staff)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert len(rows) == len(records) > 0, path
    assert [str(r["id"]) for r in records] == [row["id"] for row in rows]
    assert set(rows[0]) >= {k for k in records[0] if k not in ("departure", "arrival", "local_times")}, path


def test_a_cell_a_spreadsheet_would_run_is_quoted_and_lists_are_joined(client: TestClient, scenario: None, auth: Auth) -> None:
    made = client.post("/api/v1/incidents", headers=auth("ops"), json={
        "type": "ceasefire_violation", "subtype": "explosion", "started_at": "2020-11-14T16:00:00Z", "ended_at": "2020-11-14T16:20:00Z",
        "lat": 39.795, "lon": 47.113, "source": "media", "event_count": 3, "observed_by": ["heard", "seen"],
        "narrative": "=HYPERLINK(\"http://example.org\")", "alleged_actors": ["side_a"]})
    assert made.status_code == 201, made.text
    row = next(csv.DictReader(io.StringIO(client.get("/api/v1/incidents", params={"format": "csv"}, headers=auth("ops")).text)))
    assert row["narrative"].startswith("'=") and row["observed_by"] == "heard;seen" and row["started_at"].startswith("2020-11-14T16:00")
