"""However a session ends (sign-out on another device, disabling, a new password, expiry), the device's next request
is told so: Clear-Site-Data for what the browser kept (never "storage": the outbox lives there) and the cookie gone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import jwt
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from peacewatch.core.auth import JWT_ALGORITHM, User
from peacewatch.core.db import utcnow
from tests.conftest import SECRET
from tests.helpers import bearer, page_sign_in


def signed_in_device(app: FastAPI, username: str = "patrol") -> TestClient:
    """A browser with the field application open: signed in through the login form, so it holds the session cookie."""
    device = TestClient(app, base_url="https://testserver", follow_redirects=False)
    page_sign_in(device, username)
    answer = device.get("/api/v1/patrols")
    assert answer.status_code == 200 and "clear-site-data" not in answer.headers  # a session in force is not cleared
    return device


def expired(app: FastAPI, device: TestClient, username: str = "patrol") -> None:
    """The twelve hours of the session's token pass: the browser still sends the cookie, with a token now expired."""
    with app.state.sessionmaker() as session:
        user = session.query(User).filter_by(username=username).one()
        past = utcnow() - timedelta(hours=13)
        token = jwt.encode({"sub": username, "role": user.role.value, "ver": user.token_version, "iat": past,
                            "exp": past + timedelta(hours=12)}, SECRET, algorithm=JWT_ALGORITHM)
    device.cookies.set("pw_session", token, domain="testserver.local")


def ends_by(way: str, app: FastAPI, client: TestClient, auth: Any, devices: list[TestClient]) -> None:
    patrol_id = next(u["id"] for u in client.get("/api/v1/users", headers=auth("admin")).json() if u["username"] == "patrol")
    if way == "sign-out elsewhere":  # the same user signs out on another device: every sign-in of theirs ends
        assert client.post("/api/v1/auth/logout", headers=bearer(client, "patrol")).status_code == 204
    elif way == "disabled":
        assert client.patch(f"/api/v1/users/{patrol_id}", json={"active": False}, headers=auth("admin")).status_code == 200
    elif way == "new password":
        assert client.patch(f"/api/v1/users/{patrol_id}", json={"password": "a-new-long-password"},
                            headers=auth("admin")).status_code == 200
    else:
        for device in devices:
            expired(app, device)


WAYS = ["sign-out elsewhere", "disabled", "new password", "expired"]


@pytest.mark.usefixtures("scenario")
@pytest.mark.parametrize("way", WAYS)
def test_the_devices_next_request_clears_what_it_kept(app: FastAPI, client: TestClient, auth: Callable[[str], dict[str, str]],
                                                      way: str) -> None:
    reading, opening = signed_in_device(app), signed_in_device(app)  # a tablet reading its lists, a phone opening the page
    ends_by(way, app, client, auth, [reading, opening])
    answer = reading.get("/api/v1/patrols")  # the field application reads its lists
    assert answer.status_code == 401 and answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["clear-site-data"] == '"cache"'  # never "storage": the outbox of unsent reports lives there
    cookies = answer.headers.get_list("set-cookie")
    assert any(c.startswith("pw_session=") and "Max-Age=0" in c for c in cookies), cookies
    again = reading.get("/api/v1/patrols")  # the cookie is gone: an anonymous reader now, told nothing more
    assert again.status_code == 200 and "clear-site-data" not in again.headers
    page = opening.get("/field/")  # the page itself: back to the sign-in, and told too
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    assert page.headers["clear-site-data"] == '"cache"'


@pytest.mark.usefixtures("scenario")
def test_signing_out_clears_this_device_and_a_token_refused_without_a_cookie_clears_nothing(
        app: FastAPI, client: TestClient, auth: Any) -> None:
    device = signed_in_device(app)
    csrf = page_sign_in(device, "patrol")
    out = device.post("/logout", data={"csrf_token": csrf})
    assert out.status_code == 303 and out.headers["clear-site-data"] == '"cache"'
    token = client.post("/api/v1/api-tokens", json={"name": "box", "username": "patrol"}, headers=auth("admin")).json()
    client.post(f"/api/v1/api-tokens/{token['id']}/revoke", headers=auth("admin"))
    refused = client.get("/api/v1/patrols", headers={"Authorization": f"Bearer {token['token']}"})
    assert refused.status_code == 401 and "clear-site-data" not in refused.headers  # not a browser's session
