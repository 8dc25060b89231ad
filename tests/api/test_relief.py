"""Demining clearances and civilian returns: recorded by operations, checked, scoped and audited."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from peacewatch.core.audit import AuditEntry
from peacewatch.core.problems import Invalid
from peacewatch.core.settings import Settings
from peacewatch.demining.models import Clearance
from peacewatch.returns.models import CivilianReturn
from peacewatch.returns.schemas import ReturnIn
from peacewatch.returns.service import create_return
from tests.helpers import problem

Auth = Callable[[str], dict[str, str]]
SQUARE = {"type": "Polygon", "coordinates": [[[46.75, 39.80], [46.76, 39.80], [46.76, 39.81], [46.75, 39.81], [46.75, 39.80]]]}


def engineers(client: TestClient, auth: Auth) -> int:
    return next(u["id"] for u in client.get("/api/v1/units", headers=auth("ops")).json() if u["unit_type"] == "engineers")


def clearance(unit: int, **changes: Any) -> dict[str, Any]:
    return {"unit_id": unit, "cleared_on": "2020-11-21", "place": "Stepanakert, northern district", "geometry": SQUARE,
            "road_km": 1.5, "buildings": 4, "explosive_objects": 12, "visibility": "public"} | changes


def count(app: FastAPI, model: Any) -> int:
    with app.state.sessionmaker() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_clearance_takes_its_hectares_from_the_polygon_and_is_audited(client: TestClient, scenario: None, auth: Auth,
                                                                       app: FastAPI) -> None:
    made = client.post("/api/v1/clearances", json=clearance(engineers(client, auth)), headers=auth("ops"))
    assert made.status_code == 201, made.text
    body = made.json()
    assert 90 < body["hectares"] < 100 and body["unit_name"] == "Engineer and Demining Company"
    geo = client.get("/api/v1/clearances", params={"format": "geojson"}).json()
    assert [f["id"] for f in geo["features"]] == [body["id"]] and geo["features"][0]["geometry"]["type"] == "Polygon"
    with app.state.sessionmaker() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.entity == "clearances", AuditEntry.entity_id == str(body["id"])))
    assert entry is not None and entry.actor == "ops" and entry.after["explosive_objects"] == 12


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"hectares": 30.0}, "body.hectares", "polygon covers"),
    ({"geometry": None, "road_km": 0, "buildings": 0, "explosive_objects": 0}, "body.hectares", "nothing cleared"),
    ({"cleared_on": "2020-11-01"}, "body.cleared_on", "before the mission began"),
    ({"cleared_on": "2099-01-01"}, "body.cleared_on", "in the future"),
    ({"unit_id": 999}, "body.unit_id", "unit 999 does not exist"),
    ({"geometry": {"type": "Polygon", "coordinates": [[[46.75, 39.8], [46.76, 39.81], [46.76, 39.8], [46.75, 39.81], [46.75, 39.8]]]}},
     "body.geometry", "invalid geometry"),
    ({"explosive_objects": -1}, "body.explosive_objects", "Must be 0 or more."),
])
def test_a_bad_clearance_is_refused_saying_where_and_nothing_is_stored(client: TestClient, scenario: None, auth: Auth, app: FastAPI,
                                                                      changes: dict[str, Any], field: str, words: str) -> None:
    status, where, detail = problem(client.post("/api/v1/clearances", json=clearance(engineers(client, auth), **changes),
                                                headers=auth("ops")))
    assert (status, where) == (422, field) and words in detail
    assert count(app, Clearance) == 0


def test_records_are_written_by_operations_and_read_within_their_scope(client: TestClient, scenario: None, auth: Auth) -> None:
    unit = engineers(client, auth)
    assert client.post("/api/v1/clearances", json=clearance(unit), headers=auth("press")).status_code == 403
    assert client.post("/api/v1/returns", json={"returned_on": "2020-11-21", "route": "R", "people": 3}).status_code == 401
    secret = client.post("/api/v1/clearances", json=clearance(unit, visibility="side_b"), headers=auth("ops")).json()
    assert client.get(f"/api/v1/clearances/{secret['id']}", headers=auth("liaison-b")).status_code == 200
    assert client.get(f"/api/v1/clearances/{secret['id']}", headers=auth("liaison-a")).status_code == 404
    assert client.get("/api/v1/clearances").json() == []
    back = client.post("/api/v1/returns", json={"returned_on": "2020-11-21", "route": "Goris - Lachin", "people": 35},
                       headers=auth("ops")).json()
    assert back["visibility"] == "internal" and client.get(f"/api/v1/returns/{back['id']}").status_code == 404
    assert [r["id"] for r in client.get("/api/v1/returns", headers=auth("observer")).json()] == [back["id"]]


def test_returns_escorted_by_a_convoy_cannot_count_more_people_than_it_carried(client: TestClient, scenario: None, auth: Auth,
                                                                             app: FastAPI) -> None:
    ops = auth("ops")
    convoy = client.post("/api/v1/convoys", json={"kind": "returnees", "direction": "inbound", "route": "Goris - Lachin - Stepanakert",
                                                  "departed_at": "2020-11-21T05:00:00Z", "arrived_at": "2020-11-21T10:00:00Z",
                                                  "personnel": 100, "vehicles": 4}, headers=ops).json()
    cargo = client.post("/api/v1/convoys", json={"kind": "humanitarian", "direction": "inbound", "route": "Goris - Lachin",
                                                 "departed_at": "2020-11-21T05:00:00Z", "tonnes": 20}, headers=ops).json()
    base = {"returned_on": "2020-11-21", "route": "Goris - Lachin - Stepanakert", "convoy_id": convoy["id"]}
    assert client.post("/api/v1/returns", json=base | {"people": 60}, headers=ops).status_code == 201
    over = problem(client.post("/api/v1/returns", json=base | {"people": 41}, headers=ops))
    assert over[:2] == (422, "body.people") and "carried 100 people and 60 are already counted" in over[2]
    assert client.post("/api/v1/returns", json=base | {"people": 40}, headers=ops).status_code == 201
    wrong = problem(client.post("/api/v1/returns", json=base | {"people": 1, "convoy_id": cargo["id"]}, headers=ops))
    assert wrong[:2] == (422, "body.convoy_id") and "humanitarian convoy" in wrong[2]
    assert problem(client.post("/api/v1/returns", json=base | {"people": 1, "post_id": 99999}, headers=ops))[:2] == (422, "body.post_id")
    assert problem(client.post("/api/v1/returns", json=base | {"people": 0}, headers=ops))[:2] == (422, "body.people")
    assert count(app, CivilianReturn) == 2


def test_returns_made_at_once_against_one_convoy_never_count_more_than_it_carried(client: TestClient, scenario: None, auth: Auth,
                                                                                app: FastAPI, settings: Settings) -> None:
    """Eight officers (threads, each its own connection, as two processes would be) record 30 returnees each against
    a convoy of 100 at the same moment: three fit, five are told why, and the convoy never counts more than it carried."""
    convoy = client.post("/api/v1/convoys", json={"kind": "returnees", "direction": "inbound", "route": "Goris - Lachin - Stepanakert",
                                                  "departed_at": "2020-11-21T05:00:00Z", "arrived_at": "2020-11-21T10:00:00Z",
                                                  "personnel": 100, "vehicles": 4}, headers=auth("ops")).json()
    start = threading.Barrier(8)

    def record(_: int) -> str:
        data = ReturnIn(returned_on=date(2020, 11, 21), route="Goris - Lachin - Stepanakert", convoy_id=convoy["id"], people=30)
        with app.state.sessionmaker() as session:
            start.wait()
            try:
                create_return(session, settings, "ops", data)
            except Invalid as refusal:
                return refusal.errors[0].field
        return "stored"

    with ThreadPoolExecutor(8) as pool:
        outcomes = sorted(pool.map(record, range(8)))
    assert outcomes == ["body.people"] * 5 + ["stored"] * 3
    with app.state.sessionmaker() as session:
        assert session.scalar(select(func.sum(CivilianReturn.people)).where(CivilianReturn.convoy_id == convoy["id"])) == 90
