"""Calls for help from TAK: a signed-in patrol's emergency raises one top-priority alert, its repeats move it, its cancel
ends it; a CASEVAC request carries its 9-line; a stranger or a side's liaison raises nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from peacewatch.alerts.calls import CallForHelp, raise_call
from peacewatch.alerts.models import AlertKind
from peacewatch.app import create_app
from peacewatch.core.db import utcnow
from peacewatch.core.settings import Settings
from tests.helpers import page_sign_in, wait_for
from tests.tak import CASEVAC, EMERGENCY_911, EMERGENCY_CANCEL, GUNSHOT, auth_message, emergency, listen, run


@pytest.fixture
def live(settings: Settings, scenario: None, auth: Any) -> Iterator[tuple[TestClient, dict[str, int]]]:
    app = create_app(settings.model_copy(update={"cot_port": 0, "cot_flush_ms": 50}), listeners=True)
    with TestClient(app) as client:
        yield client, client.get("/api/v1/cot/status", headers=auth("ops")).json()["ports"]
    app.state.engine.dispose()


def token_of(client: TestClient, auth: Any, username: str) -> str:
    made = client.post("/api/v1/api-tokens", json={"name": f"ATAK of {username}", "username": username}, headers=auth("admin"))
    assert made.status_code == 201, made.text
    return str(made.json()["token"])


def calls(client: TestClient, auth: Any, kind: str = "emergency") -> list[dict[str, Any]]:
    return client.get("/api/v1/alerts", params={"kind": kind}, headers=auth("ops")).json()  # type: ignore[no-any-return]


def test_a_patrols_emergency_is_one_alert_that_follows_the_caller_and_its_cancel_ends_it(
        live: tuple[TestClient, dict[str, int]], auth: Any) -> None:
    client, ports = live
    key = token_of(client, auth, "patrol")
    moved = emergency("b-a-o-tbl", "911 Alert", point='<point lat="39.8420" lon="46.7730" hae="610" ce="6" le="9999999"/>')
    run(listen(ports["tcp"], sign_in=auth_message("patrol", key), send=[EMERGENCY_911, moved, moved], seconds=0.5))
    wait_for(lambda: len(calls(client, auth)) == 1 and len(calls(client, auth)[0]["details"]["track"]) == 3)
    alert = calls(client, auth)[0]
    assert (alert["priority"], alert["stage"], alert["raised_by"], alert["visibility"]) == (1, "raised", "patrol", "internal")
    assert (alert["lat"], alert["lon"]) == (39.842, 46.773)  # where the caller is now
    assert alert["details"]["emergency_type"] == "911" and alert["details"]["callsign"] == "MP-07"
    assert alert["message"] == "EMERGENCY from MP-07: 911 Alert"
    assert alert["started_at"].startswith("2020-11-14T08:00:05")

    run(listen(ports["tcp"], sign_in=auth_message("patrol", key), send=[EMERGENCY_CANCEL], seconds=0.5))
    wait_for(lambda: calls(client, auth)[0]["stage"] == "resolved")
    ended = calls(client, auth)[0]
    assert ended["closed_by"] == "patrol" and ended["ended_at"] is not None and ended["note"] == "cancelled by the caller"

    # a new emergency from the same device after the cancel is a new alert
    run(listen(ports["tcp"], sign_in=auth_message("patrol", key), send=[GUNSHOT], seconds=0.5))
    wait_for(lambda: len(calls(client, auth)) == 2)
    assert calls(client, auth)[0]["details"]["label"] == "Manual Alert: Gunshot"
    assert client.get("/api/v1/cot/status", headers=auth("ops")).json()["calls"] == 5


def test_only_its_caller_cancels_an_emergency_and_strangers_raise_none(live: tuple[TestClient, dict[str, int]], auth: Any) -> None:
    client, ports = live
    assert client.post("/api/v1/users", json={"username": "patrol2", "password": "a-long-password-2", "role": "patrol"},
                       headers=auth("admin")).status_code == 201
    patrol, other, liaison = (token_of(client, auth, name) for name in ("patrol", "patrol2", "liaison-b"))
    run(listen(ports["tcp"], sign_in=auth_message("patrol", patrol), send=[EMERGENCY_911], seconds=0.5))
    wait_for(lambda: len(calls(client, auth)) == 1)
    run(listen(ports["tcp"], sign_in=auth_message("patrol2", other), send=[EMERGENCY_CANCEL], seconds=0.5))
    run(listen(ports["tcp"], sign_in=auth_message("liaison-b", liaison), send=[emergency("b-a-o-tbl", "911", device="ANDROID-B")],
               seconds=0.5))
    run(listen(ports["tcp"], send=[emergency("b-a-o-tbl", "911", device="ANDROID-X")], seconds=0.5))  # anonymous
    wait_for(lambda: client.get("/api/v1/cot/status", headers=auth("ops")).json()["refused"] == {"call: liaison": 1,
                                                                                                 "call: anonymous": 1})
    assert client.get("/api/v1/cot/status", headers=auth("ops")).json()["calls"] == 2  # the call and the other's cancel
    assert [a["stage"] for a in calls(client, auth)] == ["raised"]  # patrol2's cancel did not end patrol's call


def test_a_casevac_request_raises_a_top_priority_alert_with_its_nine_lines(live: tuple[TestClient, dict[str, int]], auth: Any) -> None:
    client, ports = live
    run(listen(ports["tcp"], sign_in=auth_message("patrol", token_of(client, auth, "patrol")), send=[CASEVAC], seconds=0.5))
    wait_for(lambda: len(calls(client, auth, "casevac")) == 1)
    alert = calls(client, auth, "casevac")[0]
    assert alert["priority"] == 1 and alert["message"] == "CASEVAC request from MEDEVAC.07.081500"
    assert alert["details"]["nine_line"]["patients_by_type"] == {"litter": 1, "ambulatory": 1}
    assert (alert["lat"], alert["lon"]) == (39.8122, 46.753)


def test_the_field_emergency_button_raises_once_follows_its_repeats_and_only_its_caller_calls_it_off(
        client: TestClient, auth: Any, scenario: None) -> None:
    call = {"client_id": "em-7f3a9c21", "lat": 39.84, "lon": 46.77, "accuracy": 12.0}
    first = client.post("/api/v1/emergencies", json=call, headers=auth("patrol"))
    assert first.status_code == 201, first.text
    again = client.post("/api/v1/emergencies", json={**call, "lat": 39.85}, headers=auth("patrol"))  # a repeat from further on
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"] and again.json()["lat"] == 39.85
    alert = again.json()
    assert (alert["kind"], alert["priority"], alert["raised_by"], alert["details"]["via"]) == ("emergency", 1, "patrol", "field")
    assert len(alert["details"]["track"]) == 2 and alert["details"]["accuracy_m"] == 12.0

    # who may call: the mission's people, not a side's liaison; bad input names its field
    assert client.post("/api/v1/emergencies", json={**call, "client_id": "em-liaison-1"}, headers=auth("liaison-b")).status_code == 403
    bad = client.post("/api/v1/emergencies", json={"client_id": "em-x-12345", "lat": 39.8}, headers=auth("patrol"))
    assert bad.status_code == 422 and "lat and lon go together" in bad.text
    unknown = client.post("/api/v1/emergencies", json={"client_id": "em-x-12345", "patrol_id": 999999}, headers=auth("patrol"))
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "body.patrol_id"

    assert client.post("/api/v1/emergencies/em-7f3a9c21/cancel", headers=auth("ops")).status_code == 404  # not ops' call
    off = client.post("/api/v1/emergencies/em-7f3a9c21/cancel", headers=auth("patrol"))
    assert off.status_code == 200 and off.json()["stage"] == "resolved" and off.json()["closed_by"] == "patrol"
    assert client.post("/api/v1/emergencies/em-7f3a9c21/cancel", headers=auth("patrol")).json()["id"] == alert["id"]  # twice: as is
    assert client.post("/api/v1/emergencies", json={**call, "client_id": "em-second-1"}, headers=auth("patrol")).status_code == 201


def test_a_casevac_requests_page_shows_its_nine_lines_to_the_operations_centre(app: FastAPI, browser: TestClient, scenario: None) -> None:
    with app.state.sessionmaker() as session:
        alert, _ = raise_call(session, "cot", CallForHelp(
            source_uid="b8a7f5e2", kind=AlertKind.casevac, at=utcnow(), lat=39.8122, lon=46.753, raised_by="patrol",
            callsign="MEDEVAC.07", label="MEDEVAC.07", nine_line={"frequency": "38.90", "patients_by_type": {"litter": 1, "ambulatory": 1},
                                                                  "equipment": ["extraction_equipment"], "security": "possible enemy troops"}))
    page_sign_in(browser, "ops")
    page = browser.get(f"/alerts/{alert.id}")
    assert page.status_code == 200
    assert "Line 5: patients by type" in page.text and "ambulatory: 1, litter: 1" in page.text and "possible enemy troops" in page.text
    browser.cookies.clear()
    page_sign_in(browser, "liaison-a")
    assert browser.get(f"/alerts/{alert.id}").status_code == 404  # the operations centre's alone
