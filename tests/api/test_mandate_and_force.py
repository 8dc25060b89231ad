"""The mandate and its state on a date; units, their chain of command and strength."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient


@pytest.mark.usefixtures("scenario")
class TestMandate:
    def test_anyone_reads_the_public_mandate(self, client: TestClient) -> None:
        mandate = client.get("/api/v1/mandate").json()
        assert mandate["contributing_states"] == [{"code": "RUS", "name": "Russian Federation", "since": None, "until": None}]
        assert (mandate["personnel_ceiling"], mandate["armoured_vehicle_ceiling"], mandate["vehicle_ceiling"]) == (1960, 90, 380)
        assert mandate["start_date"] == "2020-11-10" and mandate["term_years"] == 5

    @pytest.mark.parametrize(
        ("day", "expected"),
        [
            ("2020-11-09", {"status": "not_yet_in_force", "in_force": False}),
            ("2020-11-14", {"status": "in_force", "term_number": 1, "notice_deadline": "2025-05-10",
                            "notice_window_open": True, "assured_until": "2025-11-10"}),
            ("2025-06-01", {"status": "in_force", "notice_window_open": False, "renewed_until": "2030-11-10"}),
            ("2026-11-24", {"status": "in_force", "term_number": 2, "renewals": 1, "term_end": "2030-11-10"}),
        ],
    )
    def test_state_on_a_date(self, client: TestClient, day: str, expected: dict[str, Any]) -> None:
        state = client.get("/api/v1/mandate/state", params={"on": day}).json()
        assert state["on"] == day
        assert {k: state[k] for k in expected} == expected

    def test_a_termination_notice_ends_the_mandate_at_the_first_expiry_it_can(self, client: TestClient, auth: Any) -> None:
        notice = {"given_on": "2025-06-01", "given_by": "Side A"}
        response = client.post("/api/v1/mandate/termination-notice", json=notice, headers=auth("admin"))
        assert response.status_code == 200
        state = client.get("/api/v1/mandate/state", params={"on": "2026-01-01"}).json()
        assert state["status"] == "terminating" and state["ends_on"] == "2030-11-10"
        assert client.get("/api/v1/mandate/state", params={"on": "2030-11-10"}).json()["status"] == "expired"
        again = client.post("/api/v1/mandate/termination-notice", json=notice, headers=auth("admin"))
        assert again.status_code == 409

    def test_only_admin_changes_the_mandate(self, client: TestClient, auth: Any) -> None:
        assert client.patch("/api/v1/mandate", json={"personnel_ceiling": 2000}, headers=auth("ops")).status_code == 403
        response = client.patch("/api/v1/mandate", json={"personnel_ceiling": 2000}, headers=auth("admin"))
        assert response.status_code == 200 and response.json()["personnel_ceiling"] == 2000

    def test_bad_mandate_changes_name_the_field(self, client: TestClient, auth: Any) -> None:
        for body, field in (
            ({"personnel_ceiling": -1}, "body.personnel_ceiling"),
            ({"contributing_states": [{"code": "russia", "name": "Russia"}]}, "body.contributing_states.0.code"),
            ({"name": None}, "body.name"),
            ({"source": None}, "body.source"),
        ):
            response = client.patch("/api/v1/mandate", json=body, headers=auth("admin"))
            assert response.status_code == 422, body
            assert response.json()["errors"][0]["field"] == field


@pytest.mark.usefixtures("scenario")
class TestUnits:
    def test_the_force_is_within_its_ceiling(self, client: TestClient, auth: Any) -> None:
        strength = client.get("/api/v1/units/strength", headers=auth("ops")).json()
        assert strength["units"] == 9 and strength["present_strength"] == 1960
        assert strength["personnel_ceiling"] == 1960 and strength["headroom"] == 0
        assert strength["by_type"]["military_police"] == 300

    def test_units_have_a_chain_of_command(self, client: TestClient, auth: Any) -> None:
        units = {u["name"]: u for u in client.get("/api/v1/units", headers=auth("ops")).json()}
        battalion = units["Military Police Battalion"]
        children = client.get("/api/v1/units", params={"parent_id": battalion["id"]}, headers=auth("ops")).json()
        assert sorted(c["name"] for c in children) == ["Military Police Company North", "Military Police Company South"]
        only_mp = client.get("/api/v1/units", params={"unit_type": "military_police"}, headers=auth("ops")).json()
        assert len(only_mp) == 3

    def test_a_unit_cannot_become_its_own_ancestor(self, client: TestClient, auth: Any) -> None:
        units = {u["name"]: u for u in client.get("/api/v1/units", headers=auth("ops")).json()}
        hq, company = units["Peacekeeping Force Headquarters"], units["Military Police Company North"]
        response = client.patch(f"/api/v1/units/{hq['id']}", json={"parent_id": company["id"]}, headers=auth("ops"))
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == "body.parent_id"

    def test_a_unit_with_sub_units_cannot_be_deleted(self, client: TestClient, auth: Any) -> None:
        units = {u["name"]: u for u in client.get("/api/v1/units", headers=auth("ops")).json()}
        response = client.delete(f"/api/v1/units/{units['Military Police Battalion']['id']}", headers=auth("ops"))
        assert response.status_code == 409

    def test_bad_units_are_refused_with_the_field(self, client: TestClient, auth: Any) -> None:
        cases = [
            ({"name": "X", "unit_type": "cavalry", "authorised_strength": 1}, "body.unit_type"),
            ({"name": "X", "unit_type": "medical", "authorised_strength": -5}, "body.authorised_strength"),
            ({"name": "Medical Detachment", "unit_type": "medical", "authorised_strength": 1}, "body.name"),
        ]
        for body, field in cases:
            response = client.post("/api/v1/units", json=body, headers=auth("ops"))
            assert response.status_code in (409, 422), body
            assert response.json()["errors"][0]["field"] == field
        assert client.get("/api/v1/units/2147483647", headers=auth("ops")).status_code == 404
        assert client.get("/api/v1/units/99999999999", headers=auth("ops")).status_code == 422
        assert client.get("/api/v1/units", params={"offset": 10**20}, headers=auth("ops")).status_code == 422
