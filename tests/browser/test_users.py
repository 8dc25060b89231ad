"""The administrator's users page: a list of who may sign in and what each has open, a change form that opens with
the user's current values, disabling that really disables, and lockouts lifted from the page."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import api_token, screenshot, sign_in
from tests.live import LiveServer, live_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server of these tests' own: they disable users and lock accounts out."""
    with live_server(tmp_path_factory.mktemp("users")) as own:
        yield own


def test_the_admin_disables_liaison_b_from_the_pages_and_its_sign_in_and_tokens_are_refused(page: Page, server: LiveServer) -> None:
    admin = api_token(server, "admin")
    device = httpx.post(f"{server.url}/api/v1/api-tokens", json={"name": "liaison B's tablet", "username": "liaison-b"},
                        headers=admin).json()["token"]
    signed_in = api_token(server, "liaison-b")
    for credential in ({"Authorization": f"Bearer {device}"}, signed_in):
        assert httpx.get(f"{server.url}/api/v1/auth/me", headers=credential).status_code == 200

    sign_in(page, "admin", "/users")
    row = page.locator("#user-liaison-b")
    expect(row.locator(".active-cell")).to_have_text("yes")
    expect(row).to_contain_text("Liaison officer")
    expect(row.locator(".sessions")).to_have_text("1")
    screenshot(page, "users/list")
    row.get_by_role("link", name="Change").click()
    page.wait_for_url("**/tasks/update_user_api_v1_users__user_id__patch?path.user_id=*")
    expect(page.locator("#task-current")).to_be_visible()  # the form holds liaison-b as it is
    expect(page.locator('[data-path="body.role"]')).to_have_value("liaison")
    expect(page.locator('[data-path="body.side"]')).to_have_value("B")
    active = page.locator('[data-path="body.active"]')
    expect(active).to_be_checked()
    page.click("#task-form button[type=submit]")
    expect(page.locator("#task-result")).to_contain_text("Nothing was changed")  # no empty change said to be stored
    active.uncheck()
    page.click("#task-form button[type=submit]")
    expect(page.locator("#task-result")).to_contain_text("Done: the server stored it.")
    screenshot(page, "users/disabled")

    page.goto("/users")
    expect(page.locator("#user-liaison-b .active-cell")).to_have_text("no")
    expect(page.locator("#user-liaison-b .sessions")).to_have_text("0")
    refused = httpx.post(f"{server.url}/api/v1/auth/token", data={"username": "liaison-b", "password": "demo"})
    assert refused.status_code == 401
    for credential in ({"Authorization": f"Bearer {device}"}, signed_in):
        assert httpx.get(f"{server.url}/api/v1/auth/me", headers=credential).status_code == 401

    entry = httpx.get(f"{server.url}/api/v1/audit", params={"entity": "users"}, headers=admin).json()[0]
    assert entry["actor"] == "admin" and "active" in entry["fields"] and entry["after"]["active"] is False

    page.locator("#user-liaison-b button.toggle").click()  # enabled again from the list
    page.wait_for_load_state("load")
    expect(page.locator("#user-liaison-b .active-cell")).to_have_text("yes")
    assert httpx.post(f"{server.url}/api/v1/auth/token", data={"username": "liaison-b", "password": "demo"}).status_code == 200


def test_the_admin_disables_a_user_from_the_list_saying_why_and_lifts_a_lockout(page: Page, server: LiveServer) -> None:
    transport = httpx.HTTPTransport(local_address="127.0.0.7")
    with httpx.Client(base_url=server.url, transport=transport) as elsewhere:
        for n in range(10):  # someone guesses at the press officer's password from 127.0.0.7
            elsewhere.post("/api/v1/auth/token", data={"username": "press", "password": f"guess {n}"})
        assert elsewhere.post("/api/v1/auth/token", data={"username": "press", "password": "demo"}).status_code == 429

    sign_in(page, "admin", "/users")
    lockout = page.locator("#user-press .lockout")
    expect(lockout).to_contain_text("127.0.0.7")
    lockout.get_by_role("button", name="Lift").click()
    expect(page.locator("#user-press .lockouts")).to_have_text("—")
    with httpx.Client(base_url=server.url, transport=transport) as elsewhere:
        assert elsewhere.post("/api/v1/auth/token", data={"username": "press", "password": "demo"}).status_code == 200

    page.locator("#user-observer button.toggle").click()
    dialog = page.locator("#disable")
    expect(dialog).to_be_visible()
    page.click("#disable-go")
    expect(page.locator("#disable-error")).to_be_visible()  # a reason is asked for
    page.fill("#disable-reason", "posted elsewhere")
    page.click("#disable-go")
    expect(page.locator("#user-observer .active-cell")).to_have_text("no")
    entries = httpx.get(f"{server.url}/api/v1/audit", params={"entity": "users"}, headers=api_token(server, "admin")).json()
    assert entries[0]["reason"] == "posted elsewhere"
    lifts = httpx.get(f"{server.url}/api/v1/audit", params={"entity": "sign_in_lockouts"}, headers=api_token(server, "admin")).json()
    assert lifts[0]["action"] == "delete" and lifts[0]["actor"] == "admin"


def test_the_users_page_is_the_administrators_only(page: Page) -> None:
    sign_in(page, "ops", "/map")
    page.goto("/users")
    expect(page.locator("h1")).not_to_have_text("Users")
    assert page.locator("nav a[href='/users']").count() == 0
