"""What many tests need: waiting for a condition, reading a problem answer, signing in."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient


def wait_for(condition: Callable[[], Any], seconds: float = 10.0, what: str = "the condition", every: float = 0.05) -> Any:
    """Poll until ``condition()`` is truthy and return it; fail naming ``what`` after ``seconds``.

    Tests wait for what they need to see, never for a fixed time: a slow machine only makes them slower."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(every)
    pytest.fail(f"timed out after {seconds} s waiting for {what}")


def problem(response: Any) -> tuple[int, str, str]:
    """An error answer as (status, the first field named, the detail or that field's message)."""
    body = response.json()
    field = body["errors"][0]["field"] if body.get("errors") else ""
    return response.status_code, field, body.get("detail") or body["errors"][0]["message"]


def bearer(client: TestClient, username: str, password: str = "demo") -> dict[str, str]:
    """Headers of a user signed in through the token endpoint, as a client program signs in."""
    answer = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def csrf_of(html: str) -> str:
    """The CSRF token a page carries in its meta tag."""
    found = re.search(r'name="csrf-token" content="([0-9a-f]+)"', html)
    assert found
    return found.group(1)


def page_sign_in(browser: TestClient, username: str = "ops", password: str = "demo") -> str:
    """Sign in through the login form as a browser does; the CSRF token of the signed-in session."""
    page = browser.get("/login")
    token = csrf_of(page.text)
    response = browser.post("/login", data={"username": username, "password": password, "csrf_token": token, "next": "/patrols"})
    assert response.status_code == 303, response.text
    return csrf_of(browser.get("/map").text)


async def until(condition: Callable[[], Any], seconds: float = 5.0, what: str = "the condition") -> Any:
    """``wait_for`` inside an event loop: lets the loop's other tasks run while it polls."""
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        found = condition()
        if found:
            return found
        await asyncio.sleep(0.005)
    pytest.fail(f"timed out after {seconds} s waiting for {what}")
