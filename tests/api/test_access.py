"""Sign-in, roles, device tokens and per-side visibility."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

UNIT = {"name": "Test company", "unit_type": "military_police", "authorised_strength": 80}


def sign_in(client: TestClient, username: str, password: str = "demo") -> Any:
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


@pytest.mark.usefixtures("scenario")
class TestSignIn:
    def test_password_flow_returns_a_bearer_token_that_works(self, client: TestClient) -> None:
        response = sign_in(client, "ops")
        assert response.status_code == 200
        body = response.json()
        assert body["token_type"] == "bearer" and body["expires_in"] > 0
        me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
        assert me.json()["username"] == "ops" and me.json()["role"] == "operations"

    @pytest.mark.parametrize(("username", "password"), [("ops", "wrong"), ("nobody", "demo")])
    def test_wrong_credentials_are_a_401_problem(self, client: TestClient, username: str, password: str) -> None:
        response = sign_in(client, username, password)
        assert response.status_code == 401
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.headers["www-authenticate"] == "Bearer"

    def test_a_forged_token_is_refused(self, client: TestClient) -> None:
        response = client.get("/api/v1/auth/me", headers={"Authorization": "Bearer not.a.token"})
        assert response.status_code == 401

    def test_a_disabled_user_can_no_longer_sign_in_or_use_a_token(self, client: TestClient, auth: Any) -> None:
        headers = auth("press")
        users = client.get("/api/v1/users", headers=auth("admin")).json()
        press = next(u for u in users if u["username"] == "press")
        assert client.patch(f"/api/v1/users/{press['id']}", json={"active": False}, headers=auth("admin")).status_code == 200
        assert sign_in(client, "press").status_code == 401
        assert client.get("/api/v1/auth/me", headers=headers).status_code == 401


@pytest.mark.usefixtures("scenario")
class TestRoles:
    def test_a_write_without_a_token_is_a_401(self, client: TestClient) -> None:
        assert client.post("/api/v1/units", json=UNIT).status_code == 401

    @pytest.mark.parametrize("username", ["patrol", "press", "liaison-a", "observer", "air", "humanitarian"])
    def test_roles_without_the_right_cannot_write_units(self, client: TestClient, auth: Any, username: str) -> None:
        response = client.post("/api/v1/units", json=UNIT, headers=auth(username))
        assert response.status_code == 403
        assert "may not do this" in response.json()["detail"]

    @pytest.mark.parametrize("username", ["ops", "admin"])
    def test_operations_and_admin_can_write_units(self, client: TestClient, auth: Any, username: str) -> None:
        assert client.post("/api/v1/units", json=UNIT, headers=auth(username)).status_code == 201

    def test_only_admin_manages_users(self, client: TestClient, auth: Any) -> None:
        new = {"username": "duty2", "password": "long-enough-pw", "role": "operations"}
        assert client.post("/api/v1/users", json=new, headers=auth("ops")).status_code == 403
        assert client.post("/api/v1/users", json=new, headers=auth("admin")).status_code == 201
        assert sign_in(client, "duty2", "long-enough-pw").status_code == 200

    def test_a_liaison_must_have_a_side_and_only_a_liaison_has_one(self, client: TestClient, auth: Any) -> None:
        no_side = {"username": "la2", "password": "long-enough-pw", "role": "liaison"}
        response = client.post("/api/v1/users", json=no_side, headers=auth("admin"))
        assert response.status_code == 422 and "side A or B" in response.json()["detail"]
        ops_with_side = {"username": "op3", "password": "long-enough-pw", "role": "operations", "side": "A"}
        assert client.post("/api/v1/users", json=ops_with_side, headers=auth("admin")).status_code == 422

    def test_the_last_administrator_cannot_be_disabled_or_demoted(self, client: TestClient, auth: Any) -> None:
        admin = next(u for u in client.get("/api/v1/users", headers=auth("admin")).json() if u["username"] == "admin")
        for change in ({"active": False}, {"role": "operations"}):
            response = client.patch(f"/api/v1/users/{admin['id']}", json=change, headers=auth("admin"))
            assert response.status_code == 409 and "last active administrator" in response.json()["detail"]
        second = {"username": "admin2", "password": "long-enough-pw", "role": "admin"}
        assert client.post("/api/v1/users", json=second, headers=auth("admin")).status_code == 201
        assert client.patch(f"/api/v1/users/{admin['id']}", json={"active": False}, headers=auth("admin")).status_code == 200

    def test_duplicate_username_is_a_conflict(self, client: TestClient, auth: Any) -> None:
        again = {"username": "ops", "password": "long-enough-pw", "role": "operations"}
        response = client.post("/api/v1/users", json=again, headers=auth("admin"))
        assert response.status_code == 409 and response.json()["errors"][0]["field"] == "body.username"


@pytest.mark.usefixtures("scenario")
class TestDeviceTokens:
    def test_a_device_token_authenticates_until_revoked(self, client: TestClient, auth: Any) -> None:
        created = client.post("/api/v1/api-tokens", json={"name": "tracker MP-07", "username": "patrol"}, headers=auth("admin"))
        assert created.status_code == 201
        token = created.json()["token"]
        device = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/v1/auth/me", headers=device).json()["username"] == "patrol"
        listed = client.get("/api/v1/api-tokens", headers=auth("admin")).json()
        assert "token" not in listed[0] and listed[0]["name"] == "tracker MP-07"
        revoke = client.post(f"/api/v1/api-tokens/{created.json()['id']}/revoke", headers=auth("admin"))
        assert revoke.status_code == 200 and revoke.json()["revoked_at"]
        assert client.get("/api/v1/auth/me", headers=device).status_code == 401


@pytest.mark.usefixtures("scenario")
class TestVisibility:
    @pytest.fixture
    def side_b_unit(self, client: TestClient, auth: Any) -> int:
        response = client.post(
            "/api/v1/units", json=UNIT | {"name": "Side B liaison cell", "visibility": "side_b"}, headers=auth("ops")
        )
        return int(response.json()["id"])

    def test_side_a_liaison_gets_404_on_a_side_b_record(self, client: TestClient, auth: Any, side_b_unit: int) -> None:
        response = client.get(f"/api/v1/units/{side_b_unit}", headers=auth("liaison-a"))
        assert response.status_code == 404
        assert client.get(f"/api/v1/units/{side_b_unit}", headers=auth("liaison-b")).status_code == 200
        assert client.get(f"/api/v1/units/{side_b_unit}", headers=auth("ops")).status_code == 200

    def test_side_a_liaison_does_not_see_it_in_lists(self, client: TestClient, auth: Any, side_b_unit: int) -> None:
        seen_by_a = {u["id"] for u in client.get("/api/v1/units", headers=auth("liaison-a")).json()}
        seen_by_b = {u["id"] for u in client.get("/api/v1/units", headers=auth("liaison-b")).json()}
        assert side_b_unit not in seen_by_a and side_b_unit in seen_by_b

    def test_internal_records_are_hidden_from_liaisons_and_anonymous(self, client: TestClient, auth: Any) -> None:
        internal = client.get("/api/v1/units", headers=auth("ops")).json()
        assert len(internal) == 9 and {u["visibility"] for u in internal} == {"internal"}
        assert client.get("/api/v1/units", headers=auth("liaison-a")).json() == []
        assert client.get("/api/v1/units").json() == []
        assert client.get(f"/api/v1/units/{internal[0]['id']}").status_code == 404

    def test_restricted_posts_stay_out_of_the_other_sides_map(self, client: TestClient, auth: Any) -> None:
        feature = {
            "type": "Feature", "geometry": {"type": "Point", "coordinates": [46.70, 40.10]},
            "properties": {"code": "A-LIAISON", "name": "Side A contact point", "zone_code": "north",
                           "opened_on": "2020-11-16", "visibility": "side_a"},
        }
        post_id = client.post("/api/v1/posts", json=feature, headers=auth("ops")).json()["id"]
        codes = lambda who: {f["properties"]["code"] for f in client.get("/api/v1/posts", headers=who).json()["features"]}  # noqa: E731
        assert "A-LIAISON" in codes(auth("liaison-a"))
        assert "A-LIAISON" not in codes(auth("liaison-b"))
        assert "A-LIAISON" not in codes({})
        assert client.get(f"/api/v1/posts/{post_id}", headers=auth("liaison-b")).status_code == 404
        exported = client.get("/api/v1/layers/posts", headers=auth("liaison-b")).json()
        assert "A-LIAISON" not in {f["properties"]["code"] for f in exported["features"]}

    def test_the_audit_log_is_not_for_liaisons_or_the_press(self, client: TestClient, auth: Any) -> None:
        for username in ("liaison-a", "press", "patrol"):
            assert client.get("/api/v1/audit", headers=auth(username)).status_code == 403
        assert client.get("/api/v1/audit").status_code == 401
        assert client.get("/api/v1/audit", headers=auth("observer")).status_code == 200
