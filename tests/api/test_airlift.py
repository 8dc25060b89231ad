"""Flights, figures, strength, rotation plans and convoys through the API, on the demo's airlift."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from peacewatch.airlift.models import Flight
from peacewatch.core.audit import AuditEntry
from tests.helpers import problem

Auth = Callable[[str], dict[str, str]]
FIGURES = "/api/v1/airlift/figures"


def flight(**changes: Any) -> dict[str, Any]:
    """An inbound Il-76MD landed at Erebuni on 1 December 2020."""
    values = {
        "aircraft_type": "Il-76MD", "tail_number": "RF-76999", "direction": "inbound", "status": "landed",
        "departure": "UWLW", "arrival": "UDYE",
        "planned_departure": "2020-12-01T06:00:00Z", "planned_arrival": "2020-12-01T10:00:00Z",
        "actual_departure": "2020-12-01T06:10:00Z", "actual_arrival": "2020-12-01T10:05:00Z",
        "personnel": 0, "armoured": 0, "vehicles": 0, "tonnes": 12.5,
    }
    return values | changes


# --- the published figures -------------------------------------------------------------------------

@pytest.mark.parametrize(("at", "flights", "recent"), [
    ("2020-11-14T12:00:00+03:00", 95, 22),  # Moscow time, as the ministry published it
    ("2020-11-14T09:00:00Z", 95, 22),  # the same moment in UTC
    ("2020-11-14T09:00:00", 95, 22),  # without an offset: UTC, as documented
    ("2020-11-14T13:00:00+04:00", 95, 22),  # the same moment in Baku
    ("2020-11-15T12:00:00+03:00", 118, 23),
    ("2020-11-20T12:00:00+03:00", 250, None),  # deployment reported complete after 250 flights
])
def test_the_published_figures_come_from_the_flight_records(client: TestClient, airlift: None, at: str, flights: int,
                                                            recent: int | None) -> None:
    body = client.get(FIGURES, params={"at": at}).json()
    assert body["flights"] == flights
    assert recent is None or body["flights_past_24h"] == recent


def test_the_figures_follow_the_records_not_a_stored_number(client: TestClient, airlift: None, auth: Auth) -> None:
    at = {"at": "2020-11-14T12:00:00+03:00"}
    before = client.get(FIGURES, params=at).json()
    times = dict(planned_departure="2020-11-14T03:00:00Z", planned_arrival="2020-11-14T07:00:00Z",
                 actual_departure="2020-11-14T03:00:00Z", actual_arrival="2020-11-14T08:59:59Z", personnel=0, tonnes=30)
    for tail, visibility in (("RF-76001", "public"), ("RF-76002", "internal")):
        data = flight(tail_number=tail, visibility=visibility, **times)
        assert client.post("/api/v1/flights", json=data, headers=auth("air")).status_code == 201
    after = client.get(FIGURES, params=at).json()
    assert (after["flights"], after["flights_past_24h"]) == (before["flights"] + 1, before["flights_past_24h"] + 1)
    assert after["tonnes_delivered"] == pytest.approx(before["tonnes_delivered"] + 30)
    staff = client.get(FIGURES, params=at, headers=auth("ops")).json()  # the internal flight counts for the mission's staff only
    assert (staff["flights"], staff["tonnes_delivered"]) == (before["flights"] + 2, pytest.approx(before["tonnes_delivered"] + 60))


def test_a_flight_landing_exactly_24_hours_before_is_out_of_the_window(client: TestClient, airlift: None, auth: Auth) -> None:
    at = datetime(2020, 11, 14, 9, tzinfo=UTC)
    before = client.get(FIGURES, params={"at": at.isoformat()}).json()
    for landed in (at - timedelta(hours=24), at):
        left = landed - timedelta(hours=4)
        data = flight(tail_number=f"RF-7{landed:%H}00", planned_departure=left.isoformat(), planned_arrival=landed.isoformat(),
                      actual_departure=left.isoformat(), actual_arrival=landed.isoformat(), visibility="public")
        assert client.post("/api/v1/flights", json=data, headers=auth("air")).status_code == 201
    after = client.get(FIGURES, params={"at": at.isoformat()}).json()
    assert after["flights"] == before["flights"] + 2
    assert after["flights_past_24h"] == before["flights_past_24h"] + 1  # the one landing at the moment itself


def test_days_are_the_missions_reporting_days_and_the_build_up_reaches_the_ceilings(client: TestClient, airlift: None) -> None:
    body = client.get(FIGURES, params={"at": "2020-11-20T19:29:59+04:00"}).json()  # the last second of the reporting day
    days = [d["day"] for d in body["by_day"]]
    assert days[0] == "2020-11-10" and days[-1] == "2020-11-20" and len(days) == 11
    assert sum(d["flights"] for d in body["by_day"]) == body["flights"]
    assert body["by_day"][-1]["strength"] == {"personnel": 1960, "armoured": 90, "vehicles": 380}
    assert body["strength"]["ceilings"] == {"personnel": 1960, "armoured": 90, "vehicles": 380}
    assert all(d["strength"]["personnel"] <= 1960 for d in body["by_day"])
    assert [d["strength"]["personnel"] for d in body["by_day"]] == sorted(d["strength"]["personnel"] for d in body["by_day"])
    assert sum(d["returnees"] for d in body["by_day"]) > 0 and sum(d["convoy_tonnes"] for d in body["by_day"]) > 0
    assert body["by_day"][-1]["strength"] == body["strength"]["in_theatre"]


def test_figures_as_csv_and_chart_and_a_future_moment_refused(client: TestClient, airlift: None) -> None:
    csv = client.get(FIGURES, params={"at": "2020-11-15T12:00:00+03:00", "format": "csv"})
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.splitlines()
    assert lines[0].startswith("day,flights,") and sum(int(line.split(",")[1]) for line in lines[1:]) == 118
    chart = client.get(f"{FIGURES}/chart", params={"at": "2020-11-20T12:00:00+03:00"})
    assert chart.headers["content-type"] == "image/png" and chart.content[:8] == b"\x89PNG\r\n\x1a\n"
    future = client.get(FIGURES, params={"at": "2099-01-01T00:00:00Z"})
    assert problem(future)[:2] == (422, "query.at") and "future" in problem(future)[2]


def test_strength_counts_people_in_the_air_on_the_cautious_side(client: TestClient, airlift: None, auth: Auth) -> None:
    staff = auth("ops")
    mid_flight = client.get("/api/v1/airlift/strength", params={"at": "2020-12-10T08:00:00Z"}, headers=staff).json()
    # the old company took off at 06:00 UTC and lands at 10:00: gone for the minimum, still there for the ceiling
    assert mid_flight["in_theatre"]["personnel"] == 1960 - 105
    assert mid_flight["towards_ceiling"]["personnel"] == 1960
    after = client.get("/api/v1/airlift/strength", params={"at": "2020-12-11T00:00:00Z"}, headers=staff).json()
    assert after["in_theatre"]["personnel"] == 1960 and after["minimum"]["personnel"] == 1800


def test_the_public_strength_counts_public_movements_only_and_not_the_minimum(client: TestClient, airlift: None) -> None:
    # the December rotation's flights are internal: the public sees the build-up's public flights, no rotation, no minimum
    public = client.get("/api/v1/airlift/strength", params={"at": "2020-12-10T08:00:00Z"}).json()
    assert public["in_theatre"]["personnel"] == 1960 and public["towards_ceiling"]["personnel"] == 1960
    assert public["minimum"] is None and public["ceilings"]["personnel"] == 1960
    figures = client.get(FIGURES, params={"at": "2020-12-11T00:00:00Z"}).json()
    assert figures["flights"] == 250 and figures["strength"]["minimum"] is None


# --- refusals -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"actual_arrival": "2020-12-01T06:00:00Z"}, "body.actual_arrival", "not after the actual departure"),
    ({"planned_arrival": "2020-12-01T05:00:00Z"}, "body.planned_arrival", "not after the planned departure"),
    ({"arrival": "ZZZZ"}, "body.arrival", "unknown airfield 'ZZZZ'"),
    ({"actual_arrival": None}, "body.actual_arrival", "required for a landed flight"),
    ({"actual_departure": None}, "body.actual_departure", "required for a landed flight"),
    ({"personnel": -1}, "body.personnel", "Must be 0 or more."),
    ({"tonnes": -0.5}, "body.tonnes", "Must be 0 or more."),
    ({"tonnes": 48}, "body.tonnes", "payload of about 47 t"),
    ({"personnel": 126}, "body.personnel", "capacity of about 125 troops"),
    ({"aircraft_type": "An-124", "tonnes": 121}, "body.tonnes", "An-124's payload of about 120 t"),
    ({"aircraft_type": "Boeing 747"}, "body.aircraft_type", "unknown aircraft type"),
    ({"status": "planned"}, "body.actual_arrival", "must be empty"),
    ({"actual_arrival": "2099-01-01T00:00:00Z"}, "body.actual_arrival", "in the future"),
    ({"direction": "outbound", "departure": "UDYE", "arrival": "UWLW", "personnel": 1961, "aircraft_type": "An-124"},
     "body.personnel", "capacity"),
])
def test_impossible_flights_are_refused_saying_where(client: TestClient, airlift: None, auth: Auth, changes: dict[str, Any],
                                                     field: str, words: str) -> None:
    response = client.post("/api/v1/flights", json=flight(**changes), headers=auth("air"))
    status, where, message = problem(response)
    assert (status, where) == (422, field) and words in message, response.json()


def test_a_departure_of_more_people_than_are_in_theatre_is_refused(client: TestClient, airlift: None, auth: Auth, app: FastAPI) -> None:
    early = flight(direction="outbound", departure="UDYE", arrival="UWLW", personnel=100,
                   planned_departure="2020-11-10T06:00:00Z", planned_arrival="2020-11-10T10:00:00Z",
                   actual_departure="2020-11-10T06:00:00Z", actual_arrival="2020-11-10T10:00:00Z")
    present = client.get("/api/v1/airlift/strength", params={"at": "2020-11-10T06:00:00Z"}, headers=auth("ops")).json()
    assert 0 < present["in_theatre"]["personnel"] < 100
    status, field, message = problem(client.post("/api/v1/flights", json=early, headers=auth("air")))
    assert (status, field) == (422, "body.personnel") and "100 personnel would leave" in message
    assert f"only {present['in_theatre']['personnel']} are in theatre" in message
    with app.state.sessionmaker() as session:
        assert session.scalar(select(func.count()).select_from(Flight)) == 252


def test_a_planned_flight_over_the_ceiling_is_refused_with_the_moment_and_the_figure(client: TestClient, airlift: None, auth: Auth) -> None:
    extra = flight(status="planned", actual_departure=None, actual_arrival=None, personnel=40,
                   planned_departure="2021-01-15T06:00:00Z", planned_arrival="2021-01-15T10:00:00Z")
    status, _, message = problem(client.post("/api/v1/flights", json=extra, headers=auth("air")))
    assert status == 409
    assert "personnel would reach 2,000" in message and "over the ceiling of 1,960" in message
    assert "2021-01-15 10:00 +04" in message and "2021-01-15 06:00 UTC" in message  # counted from take-off
    cargo_only = extra | {"personnel": 0}
    assert client.post("/api/v1/flights", json=cargo_only, headers=auth("air")).status_code == 201


def test_roles_and_visibility(client: TestClient, airlift: None, auth: Auth) -> None:
    assert client.post("/api/v1/flights", json=flight(), headers=auth("press")).status_code == 403
    assert client.post("/api/v1/flights", json=flight()).status_code == 401
    seen = client.get("/api/v1/flights", params={"limit": 1000}, headers=auth("liaison-a")).json()
    assert len(seen) == 250 and {f["visibility"] for f in seen} == {"public"}  # the announced build-up, not the rotation
    rotation = client.get("/api/v1/flights", params={"limit": 1}, headers=auth("ops")).json()[0]
    assert rotation["visibility"] == "internal"
    assert client.get(f"/api/v1/flights/{rotation['id']}", headers=auth("liaison-b")).status_code == 404
    assert client.get(FIGURES, params={"at": "2020-11-14T12:00:00+03:00"}).json()["flights"] == 95  # aggregates are public
    assert client.put("/api/v1/airlift/minimum", json={"personnel": 1, "armoured": 0, "vehicles": 0},
                      headers=auth("air")).status_code == 403


def test_logging_progress_rechecks_the_flight_and_is_audited(client: TestClient, airlift: None, auth: Auth, app: FastAPI) -> None:
    planned = flight(status="planned", actual_departure=None, actual_arrival=None, tonnes=20)
    made = client.post("/api/v1/flights", json=planned, headers=auth("air")).json()
    assert made["local_times"]["planned_departure"] == "2020-12-01 10:00 +04"
    landed_without_times = client.patch(f"/api/v1/flights/{made['id']}", json={"status": "landed"}, headers=auth("air"))
    assert problem(landed_without_times)[:2] == (422, "body.actual_departure")
    landed = client.patch(f"/api/v1/flights/{made['id']}", headers=auth("air"), json={
        "status": "landed", "actual_departure": "2020-12-01T06:05:00Z", "actual_arrival": "2020-12-01T10:02:00+00:00"})
    assert landed.status_code == 200 and landed.json()["status"] == "landed"
    with app.state.sessionmaker() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.entity == "flights",
                                                           AuditEntry.entity_id == str(made["id"]))).all()
    assert [e.action.value for e in entries] == ["create", "update"] and entries[-1].actor == "air"
    twin = client.post("/api/v1/flights", json=planned, headers=auth("air"))
    assert twin.status_code == 409 and "already recorded" in problem(twin)[2]


# --- rotation plans -------------------------------------------------------------------------------

def leg(direction: str, leaves: str, lands: str, personnel: int = 105) -> dict[str, Any]:
    there, home = ("UDYE", "UWLW") if direction == "outbound" else ("UWLW", "UDYE")
    return {"aircraft_type": "Il-76MD", "direction": direction, "departure": there, "arrival": home,
            "planned_departure": leaves, "planned_arrival": lands, "personnel": personnel, "tonnes": 4}


def test_a_rotation_plan_is_accepted_only_if_strength_stays_within_limits(client: TestClient, airlift: None, auth: Auth) -> None:
    overlap = {"name": "South company, new one first", "flights": [
        leg("inbound", "2021-02-01T06:00:00Z", "2021-02-01T10:00:00Z"),
        leg("outbound", "2021-02-01T12:00:00Z", "2021-02-01T16:00:00Z"),
    ]}
    check = client.post("/api/v1/rotation-plans/check", json=overlap, headers=auth("ops")).json()
    assert check["acceptable"] is False and check["breach"]["value"] == 2065 and check["breach"]["above"]
    refused = client.post("/api/v1/rotation-plans", json=overlap, headers=auth("air"))
    assert refused.status_code == 409 and "personnel would reach 2,065" in problem(refused)[2]

    gap = {"name": "South company, two days apart", "flights": [
        leg("outbound", "2021-02-01T06:00:00Z", "2021-02-01T10:00:00Z", 100),
        leg("outbound", "2021-02-01T06:00:00Z", "2021-02-01T10:00:00Z", 100),
        leg("inbound", "2021-02-03T06:00:00Z", "2021-02-03T10:00:00Z", 100),
        leg("inbound", "2021-02-03T07:00:00Z", "2021-02-03T11:00:00Z", 100),
    ]}
    short = client.post("/api/v1/rotation-plans", json=gap, headers=auth("air"))
    assert short.status_code == 409 and "below the minimum of 1,800" in problem(short)[2] and "1,760" in problem(short)[2]

    swap = {"name": "South company, one for one", "flights": [
        leg("outbound", "2021-02-01T06:00:00Z", "2021-02-01T10:00:00Z"),
        leg("inbound", "2021-02-01T10:00:00Z", "2021-02-01T14:00:00Z"),  # takes off as the old company lands
    ]}
    check = client.post("/api/v1/rotation-plans/check", json=swap, headers=auth("ops")).json()
    assert check == {"acceptable": True, "breach": None, "lowest_personnel": 1855, "highest_personnel": 1960}
    plan = client.post("/api/v1/rotation-plans", json=swap, headers=auth("air"))
    assert plan.status_code == 201 and [f["status"] for f in plan.json()["flights"]] == ["planned", "planned"]
    again = client.post("/api/v1/rotation-plans", json=swap | {"name": "twice"}, headers=auth("air"))
    assert again.status_code == 409  # the same swap on top of the first brings 105 more in
    withdrawn = client.post(f"/api/v1/rotation-plans/{plan.json()['id']}/withdraw", json={"reason": "weather"}, headers=auth("air"))
    assert [f["status"] for f in withdrawn.json()["flights"]] == ["cancelled", "cancelled"]
    assert client.post("/api/v1/rotation-plans", json=swap | {"name": "after withdrawal"}, headers=auth("air")).status_code == 201


def test_a_plan_must_hold_planned_flights_with_known_airfields(client: TestClient, airlift: None, auth: Auth) -> None:
    flown = {"name": "x", "flights": [leg("outbound", "2021-02-01T06:00:00Z", "2021-02-01T10:00:00Z") | {"status": "landed"}]}
    assert problem(client.post("/api/v1/rotation-plans", json=flown, headers=auth("air")))[:2] == (422, "body.flights.0.status")
    nowhere = {"name": "x", "flights": [leg("outbound", "2021-02-01T06:00:00Z", "2021-02-01T10:00:00Z") | {"arrival": "XXXX"}]}
    assert problem(client.post("/api/v1/rotation-plans", json=nowhere, headers=auth("air")))[:2] == (422, "body.flights.0.arrival")


# --- the flight log import --------------------------------------------------------------------------

HEADER = ("aircraft_type,tail_number,direction,status,departure,arrival,planned_departure,planned_arrival,"
          "actual_departure,actual_arrival,personnel,tonnes\n")


def test_a_flight_log_import_stores_the_good_rows_and_reports_the_bad_ones_by_line(client: TestClient, airlift: None, auth: Auth) -> None:
    log = HEADER + "\n".join([
        "Il-76MD,RF-76801,inbound,landed,UWLW,UDYE,2020-12-02T06:00Z,2020-12-02T10:00Z,2020-12-02T06:00Z,2020-12-02T10:00Z,0,20",
        "Il-76MD,RF-76802,inbound,landed,UWLW,UDYE,2020-12-02T06:00Z,2020-12-02T10:00Z,2020-12-02T06:00Z,,0,20",
        "Il-76MD,RF-76803,inbound,landed,UWLW,XXXX,2020-12-02T06:00Z,2020-12-02T10:00Z,2020-12-02T06:00Z,2020-12-02T10:00Z,0,20",
        "Il-76MD,RF-76804,inbound,landed,UWLW,UDYE,2020-12-02T06:00Z,2020-12-02T10:00Z,2020-12-02T06:00Z,2020-12-02T10:00Z,0,-3",
        "Il-76MD,RF-76805,inbound,landed,UWLW,UDYE,2020-12-02T06:00Z,2020-12-02T10:00Z,2020-12-02T09:00Z,2020-12-02T08:00Z,0,20",
        "Il-76MD,RF-76806,inbound,landed,UWLW,UDYE,not a time,2020-12-02T10:00Z,2020-12-02T06:00Z,2020-12-02T10:00Z,0,20",
        "An-124,RF-82101,inbound,landed,UWLW,UDYE,2020-12-02T07:00Z,2020-12-02T11:00Z,2020-12-02T07:00Z,2020-12-02T11:00Z,0,110",
    ]) + "\n"
    headers = auth("air") | {"Content-Type": "text/csv"}
    report = client.post("/api/v1/flights/import", content=log, headers=headers).json()
    assert report["stored"] == 2 and report["already_recorded"] == 0
    assert [(r["line"], r["field"]) for r in report["rejected"]] == [
        (3, "actual_arrival"), (4, "arrival"), (5, "tonnes"), (6, "actual_arrival"), (7, "planned_departure")]
    again = client.post("/api/v1/flights/import", content=log, headers=headers).json()
    assert (again["stored"], again["already_recorded"], len(again["rejected"])) == (0, 2, 5)
    # sent as curl -F file=@log.csv sends it: read as its file, not as CSV whose first column is the boundary
    form = client.post("/api/v1/flights/import", files={"file": ("log.csv", log.encode(), "text/csv")}, headers=auth("air"))
    assert form.status_code == 200, form.text
    assert (form.json()["stored"], form.json()["already_recorded"], len(form.json()["rejected"])) == (0, 2, 5)
    no_file = client.post("/api/v1/flights/import", files={"note": (None, "no file")}, headers=auth("air"))  # a form, no file
    assert no_file.status_code == 422 and "the form holds no file" in no_file.json()["detail"]


def test_an_all_or_nothing_import_stores_nothing_when_a_row_is_bad(client: TestClient, airlift: None, auth: Auth, app: FastAPI) -> None:
    log = HEADER + ("Il-76MD,RF-76801,inbound,landed,UWLW,UDYE,2020-12-02T06:00Z,2020-12-02T10:00Z,2020-12-02T06:00Z,2020-12-02T10:00Z,0,20\n"
                    "Il-76MD,RF-76802,inbound,landed,UWLW,UDYE,2020-12-02T06:00Z,2020-12-02T10:00Z,2020-12-02T06:00Z,,0,20\n")
    report = client.post("/api/v1/flights/import", params={"all_or_nothing": True}, content=log,
                         headers=auth("air") | {"Content-Type": "text/csv"}).json()
    assert report["stored"] == 0 and report["stored_ids"] == [] and len(report["rejected"]) == 1
    with app.state.sessionmaker() as session:
        assert session.scalar(select(func.count()).select_from(Flight)) == 252


@pytest.mark.parametrize(("log", "words"), [
    ("", "empty"),
    ("aircraft,tail\nIl-76MD,RF-1\n", "unknown column 'aircraft'"),
    (b"\xff\xfe\x00", "not UTF-8"),
    ("\r\u00d6", "empty"),  # a lone carriage return ends a line, as in old Mac files
    ("aircraft_type\n" + "x" * 200_000 + "\n", "not a readable CSV file"),  # a cell past the csv module's limit
])
def test_a_log_that_is_not_a_flight_log_is_refused_whole(client: TestClient, airlift: None, auth: Auth, log: Any, words: str) -> None:
    response = client.post("/api/v1/flights/import", content=log, headers=auth("air") | {"Content-Type": "text/csv"})
    assert response.status_code == 422 and words in problem(response)[2]


def test_a_row_with_more_cells_than_columns_is_rejected(client: TestClient, airlift: None, auth: Auth) -> None:
    log = "aircraft_type,direction\nIl-76MD,inbound,extra\n"
    report = client.post("/api/v1/flights/import", content=log, headers=auth("air") | {"Content-Type": "text/csv"}).json()
    assert report["rejected"] == [{"line": 2, "field": "row", "message": "has more cells than the header has columns"}]


def test_exported_flights_import_again_as_already_recorded(client: TestClient, airlift: None, auth: Auth) -> None:
    exported = client.get("/api/v1/flights", params={"format": "csv", "limit": 20}, headers=auth("air"))
    assert exported.status_code == 200 and exported.text.startswith("aircraft_type,tail_number,")
    report = client.post("/api/v1/flights/import", content=exported.text,
                         headers=auth("air") | {"Content-Type": "text/csv"}).json()
    assert (report["stored"], report["already_recorded"], report["rejected"]) == (0, 20, [])


def test_a_formula_in_a_note_is_quoted_in_the_export_and_imported_back_as_written(client: TestClient, airlift: None,
                                                                                  auth: Auth) -> None:
    note = '=HYPERLINK("http://example.org","click")'
    made = client.post("/api/v1/flights", json=flight(notes=note, callsign="@RFF7021"), headers=auth("air"))
    assert made.status_code == 201, made.text
    day = {"since": "2020-12-01T00:00:00Z", "until": "2020-12-02T00:00:00Z"}
    exported = client.get("/api/v1/flights", params=day | {"format": "csv"}, headers=auth("air")).text
    assert "'=HYPERLINK" in exported and "'@RFF7021" in exported and ",=HYPERLINK" not in exported
    again = exported.replace("RF-76999", "RF-76998")  # the same flight under another tail: a new record
    report = client.post("/api/v1/flights/import", content=again, headers=auth("air") | {"Content-Type": "text/csv"}).json()
    assert (report["stored"], report["rejected"]) == (1, [])
    stored = client.get(f"/api/v1/flights/{report['stored_ids'][0]}", headers=auth("air")).json()
    assert (stored["notes"], stored["callsign"]) == (note, "@RFF7021")


# --- convoys -------------------------------------------------------------------------------------

def test_convoys_are_counted_per_day_and_force_convoys_in_strength(client: TestClient, airlift: None, auth: Auth) -> None:
    at = {"at": "2020-12-05T12:00:00Z"}
    before = client.get("/api/v1/airlift/strength", params=at, headers=auth("ops")).json()["in_theatre"]
    engineers = {"kind": "force", "direction": "outbound", "route": "Stepanakert - Lachin - Goris",
                 "departed_at": "2020-12-05T06:00:00Z", "arrived_at": "2020-12-05T10:00:00Z",
                 "personnel": 30, "vehicles": 6, "escort_unit_id": 3}
    assert client.post("/api/v1/convoys", json=engineers, headers=auth("ops")).status_code == 201
    after = client.get("/api/v1/airlift/strength", params=at, headers=auth("ops")).json()["in_theatre"]
    assert after == {"personnel": before["personnel"] - 30, "armoured": before["armoured"], "vehicles": before["vehicles"] - 6}
    cargo = {"kind": "humanitarian", "direction": "inbound", "route": "Goris - Lachin - Stepanakert",
             "departed_at": "2020-12-05T06:00:00Z", "tonnes": 44}
    made = client.post("/api/v1/convoys", json=cargo, headers=auth("ops")).json()
    assert client.post(f"/api/v1/convoys/{made['id']}/arrival", json={"arrived_at": "2020-12-05T05:00:00Z"},
                       headers=auth("ops")).status_code == 422
    assert client.post(f"/api/v1/convoys/{made['id']}/arrival", json={"arrived_at": "2020-12-05T11:00:00Z"},
                       headers=auth("ops")).status_code == 200
    day = client.get(FIGURES, params={"at": "2020-12-05T15:00:00Z"}, headers=auth("ops")).json()["by_day"][-1]
    assert (day["day"], day["convoys"], day["convoy_personnel"], day["convoy_tonnes"]) == ("2020-12-05", 2, 30, 44.0)
    too_many = engineers | {"personnel": 5000}
    assert problem(client.post("/api/v1/convoys", json=too_many, headers=auth("ops")))[:2] == (422, "body.personnel")
    assert client.post("/api/v1/convoys", json=cargo, headers=auth("press")).status_code == 403


def test_the_flight_log_template_imports_as_it_is(client: TestClient, airlift: None, auth: Auth) -> None:
    """The template names the import's columns and holds one example flight, which the import stores as it is."""
    template = client.get("/api/v1/flights/import-template", headers=auth("air"))
    assert template.status_code == 200 and template.headers["content-type"].startswith("text/csv")
    assert 'filename="flight-log-template.csv"' in template.headers["content-disposition"]
    header, example = template.text.splitlines()[:2]
    assert header.split(",")[:4] == ["aircraft_type", "tail_number", "callsign", "direction"] and "RA-78830" in example
    report = client.post("/api/v1/flights/import", content=template.text, headers=auth("air") | {"Content-Type": "text/csv"}).json()
    assert (report["stored"], report["rejected"]) == (1, [])
    assert client.get("/api/v1/flights/import-template", headers=auth("liaison-a")).status_code == 403
