"""Dates at the calendar's ends (year 1, year 9999), as fuzzers and mistyped forms send them: an answer, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.helpers import page_sign_in

EARLIEST, LATEST = "0001-01-01", "9999-12-31"


@pytest.mark.usefixtures("scenario")
@pytest.mark.parametrize("at", [f"{EARLIEST}T00:00:00Z", f"{LATEST}T23:59:59Z"])
def test_coverage_at_the_calendar_ends(client: TestClient, auth: Any, at: str) -> None:
    summary = client.get("/api/v1/coverage", params={"at": at}, headers=auth("ops"))
    assert summary.status_code == 200, summary.text
    now = {area["code"]: area["ever"] for area in client.get("/api/v1/coverage", headers=auth("ops")).json()}
    expected = {code: 0 for code in now} if at.startswith("0001") else {code: ever["visited"] for code, ever in now.items()}
    assert {area["code"]: area["ever"]["visited"] for area in summary.json()} == expected
    zone_id = summary.json()[0]["zone_id"]
    for window in ("24h", "7d", "ever"):
        cells = client.get(f"/api/v1/coverage/{zone_id}/cells", params={"at": at, "window": window}, headers=auth("ops"))
        assert cells.status_code == 200, cells.text


@pytest.mark.usefixtures("scenario")
def test_reporting_days_from_year_one(client: TestClient, auth: Any) -> None:
    everything = client.get("/api/v1/incident-events", headers=auth("ops"))
    since_year_one = client.get("/api/v1/incident-events", params={"since": EARLIEST}, headers=auth("ops"))
    assert since_year_one.status_code == 200, since_year_one.text
    assert since_year_one.json() == everything.json()
    for path in ("/api/v1/incident-figures", "/api/v1/incident-events/export"):
        assert client.get(path, params={"since": EARLIEST}, headers=auth("ops")).status_code == 200


@pytest.mark.parametrize("page", ["/patrols", "/incidents"])
def test_pages_filtered_to_the_last_day(browser: TestClient, page: str) -> None:
    page_sign_in(browser)
    answer = browser.get(page, params={"since": EARLIEST, "until": LATEST})
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("day", [EARLIEST, LATEST])
def test_pages_asked_about_the_calendar_ends(browser: TestClient, day: str) -> None:
    page_sign_in(browser)
    moment = f"{day}T00:00" if day == EARLIEST else f"{day}T23:59"
    for page, params in (("/map", {"on": day}), ("/map", {"at": moment}), ("/public/map", {"on": day}),
                         ("/airlift", {"at": moment}), ("/reports", {"date": day}), ("/reports", {"date": day, "kind": "sitrep"})):
        answer = browser.get(page, params=params)
        assert answer.status_code == 200, (page, params, answer.status_code)


@pytest.mark.usefixtures("scenario")
@pytest.mark.parametrize("day", [EARLIEST, LATEST])
def test_reports_and_official_map_on_the_calendar_ends(client: TestClient, auth: Any, day: str) -> None:
    for path in ("/api/v1/reports/bulletin", "/api/v1/reports/sitrep"):
        for params in ({"date": day}, {"since": day, "until": day}, {"since": EARLIEST, "until": LATEST}):
            answer = client.get(path, params=params, headers=auth("ops"))
            assert answer.status_code < 500, (path, params, answer.text)
    assert client.get("/api/v1/official-map", params={"on": day}).status_code < 500


@pytest.mark.usefixtures("scenario")
@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59Z",
                                    "9999-12-31T23:59:59-12:00"])
def test_every_read_with_a_moment_or_day_answers_at_the_calendar_ends(client: TestClient, auth: Any, moment: str) -> None:
    """Each GET of the OpenAPI document that takes a date or date-time in its query, given one at an end of the calendar."""
    schema = client.get("/openapi.json").json()
    tried = 0
    for path, operations in schema["paths"].items():
        get = operations.get("get")
        if get is None or "{" in path:
            continue
        params = {}
        for param in get.get("parameters", []):
            if param["in"] != "query":
                continue
            kinds = [param["schema"]] + param["schema"].get("anyOf", [])
            formats = {kind.get("format") for kind in kinds}
            if "date-time" in formats:
                params[param["name"]] = moment
            elif "date" in formats:
                params[param["name"]] = moment[:10]
        if not params:
            continue
        tried += 1
        answer = client.get(path, params=params, headers=auth("ops"))
        assert answer.status_code < 500, (path, params, answer.text)
    assert tried >= 8
