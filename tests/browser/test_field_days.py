"""The field application as a patrol's phone is used for days: a restart offline, a sign-out and a new sign-in in
another tab, midnight, two tabs, a wrong clock, a shared device, a sign-out with no connection.

Each test drives Debian's chromium as a 412x915 touch phone in Baku's time zone, cuts the link (tests.proxy, between
the browser and the server: unreachable for the page and its service worker alike) as well as switching the browser
offline, and
asserts what the server stored (each record once, in order, the photos' hashes equal) and an outbox emptied with no
action of the user once the link returns.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from PIL import Image
from playwright.sync_api import BrowserContext, Page, Playwright, expect

from peacewatch.core.i18n import translations
from tests.browser.conftest import CHROMIUM, FLAGS, api_token, screenshot, sign_in, wait_until
from tests.browser.test_field import today_patrol
from tests.evidence_files import phone_photo
from tests.live import LiveServer, live_server
from tests.proxy import Proxy

BAKU = ZoneInfo("Asia/Baku")
PHONE: dict[str, Any] = {"viewport": {"width": 412, "height": 915}, "has_touch": True, "is_mobile": True,
                         "timezone_id": "Asia/Baku", "bypass_csp": True, "permissions": ["geolocation"],
                         "geolocation": {"latitude": 39.8162, "longitude": 46.7533}}
WAITING = '#outbox li[data-state="waiting"]'


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("field-days")) as own:
        yield own


@contextmanager
def link_to(server: LiveServer) -> Iterator[Proxy]:
    """The phone's link to the server: a proxy the test cuts and restores."""
    proxy = Proxy(("127.0.0.1", int(server.url.rsplit(":", 1)[1])))
    try:
        yield proxy
    finally:
        proxy.close()


@pytest.fixture
def link(server: LiveServer) -> Iterator[Proxy]:
    with link_to(server) as proxy:
        yield proxy


def address(link: Proxy) -> str:
    return f"http://127.0.0.1:{link.port}"


def phone(driver: Playwright, profile: Path, link: Proxy, **more: Any) -> BrowserContext:
    """The phone's browser on its kept profile (closed and launched again: a restart)."""
    return driver.chromium.launch_persistent_context(str(profile), executable_path=str(CHROMIUM), args=FLAGS,
                                                     base_url=address(link), **(PHONE | more))


def tab_of(context: BrowserContext) -> Page:
    """The phone's open tab (a persistent context opens with one)."""
    return context.pages[0] if context.pages else context.new_page()


def signed_in_phone(driver: Playwright, profile: Path, link: Proxy, user: str = "patrol", note: str = "",
                    clock: datetime | None = None, **more: Any) -> tuple[BrowserContext, Page]:
    """A phone signed in to the field application, opened once online: ready to go on offline. Prompts (a check-in's
    note) are answered with ``note``; ``clock``: what the phone's clock says at the start; ``more``: the browser's
    other settings (its locale)."""
    context = phone(driver, profile, link, **more)
    if clock is not None:
        context.clock.install(time=clock)
    page = tab_of(context)
    page.on("dialog", lambda dialog: dialog.accept(note) if dialog.type == "prompt" else None)  # an alert: the test's
    sign_in(page, user, "/field/")
    ready_offline(page)
    return context, page


def ready_offline(page: Page) -> None:
    """Signed in and opened once online: the service worker controls the page and has kept its lists."""
    page.wait_for_function("document.body.dataset.fieldReady === 'true'")
    wait_until(page, "navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    page.wait_for_function("!!navigator.serviceWorker.controller && document.body.dataset.fieldReady === 'true'")
    wait_until(page, """caches.keys().then((names) => Promise.all(names.map((n) => caches.open(n).then((c) => c.keys()))))
        .then((all) => all.flat().some((r) => r.url.includes('/api/v1/patrols')))""")


def go_offline(context: BrowserContext, link: Proxy) -> None:
    link.cut()
    context.set_offline(True)


def come_back(context: BrowserContext, link: Proxy) -> None:
    link.restore()
    context.set_offline(False)  # the browser's own "online" event: the page sends with no action of the user


def report(page: Page, narrative: str, patrol_id: int, photos: list[bytes] | None = None) -> None:
    page.select_option("#r-type", "ceasefire_violation")
    page.select_option("#r-subtype", "small_arms_fire")
    page.fill("#r-lat", "39.8170")
    page.fill("#r-lon", "46.7540")
    page.select_option("#r-patrol", str(patrol_id))
    page.fill("#r-narrative", narrative)
    if photos:
        page.set_input_files("#r-files", files=[{"name": f"IMG_{i:04d}.JPG", "mimeType": "image/jpeg", "buffer": p}
                                                for i, p in enumerate(photos)])
    page.click("#report-form button[type=submit]")


def stored(server: LiveServer, prefix: str) -> list[dict[str, Any]]:
    ops = api_token(server, "ops")
    found = httpx.get(f"{server.url}/api/v1/incidents", params={"limit": 1000}, headers=ops).json()
    return sorted((i for i in found if i["narrative"].startswith(prefix)), key=lambda i: i["id"])


def check_ins(server: LiveServer, patrol_id: int) -> list[dict[str, Any]]:
    return list(httpx.get(f"{server.url}/api/v1/patrols/{patrol_id}/check-ins", headers=api_token(server, "ops")).json())


def patrol_now(server: LiveServer, patrol_id: int) -> dict[str, Any]:
    return dict(httpx.get(f"{server.url}/api/v1/patrols/{patrol_id}", headers=api_token(server, "ops")).json())


def emptied(page: Page) -> None:
    """Nothing waits and nothing was refused: the outbox emptied by itself."""
    expect(page.locator(WAITING)).to_have_count(0, timeout=45_000)
    expect(page.locator('#outbox li[data-state="refused"]')).to_have_count(0)


def test_a_day_offline_with_a_browser_restart_is_sent_whole_once_in_order(driver: Playwright, server: LiveServer, link: Proxy,
                                                                           tmp_path: Path) -> None:
    patrol = today_patrol(server)
    profile = tmp_path / "profile"
    context, page = signed_in_phone(driver, profile, link, note="crossroads quiet")
    go_offline(context, link)
    page.reload()
    row = page.locator(f'#patrols li[data-patrol="{patrol["id"]}"]')
    row.locator("button[data-action=start]").click()
    row.locator("button[data-action=check-in]").click()
    photos = [phone_photo(seed=81), phone_photo(seed=82)]
    report(page, "Day offline: shots at the crossroads", patrol["id"], photos)
    row.locator("button[data-action=check-in]").click()
    report(page, "Day offline: a second burst", patrol["id"])
    page.evaluate("window.peacewatch.recordPosition()")
    expect(page.locator(WAITING)).to_have_count(8)
    context.close()  # the browser is closed, offline, and opened again later in the day

    context = phone(driver, profile, link, offline=True)
    page = tab_of(context)
    page.goto("/field/")
    page.wait_for_function("document.body.dataset.fieldReady === 'true'")
    expect(page.locator(WAITING)).to_have_count(8)  # the whole day, kept
    expect(page.locator(f'#patrols li[data-patrol="{patrol["id"]}"] .pill')).to_have_text("Under way")
    assert stored(server, "Day offline") == []
    screenshot(page, "field/restarted-offline")

    come_back(context, link)
    emptied(page)
    reports = stored(server, "Day offline")
    assert [r["narrative"] for r in reports] == ["Day offline: shots at the crossroads", "Day offline: a second burst"]
    state = patrol_now(server, patrol["id"])
    assert state["status"] == "under_way"
    ins = check_ins(server, patrol["id"])
    assert [c["note"] for c in ins] == ["crossroads quiet"] * 2
    assert all(c["at"] >= state["started_at"] for c in ins)  # after the start they followed
    files = httpx.get(f"{server.url}/api/v1/attachments", params={"record_kind": "incident", "record_key": reports[0]["id"]},
                      headers=api_token(server, "ops")).json()
    assert sorted(f["sha256"] for f in files) == sorted(hashlib.sha256(p).hexdigest() for p in photos)
    context.close()


def test_a_sign_out_and_in_again_in_another_tab_lets_the_kept_reports_go_by_themselves(
        driver: Playwright, server: LiveServer, link: Proxy, tmp_path: Path) -> None:
    """The stale page's token is renewed: nothing is refused, no form is entered again."""
    patrol = today_patrol(server)
    context, field = signed_in_phone(driver, tmp_path / "profile", link)
    go_offline(context, link)
    row = field.locator(f'#patrols li[data-patrol="{patrol["id"]}"]')
    row.locator("button[data-action=start]").click()
    report(field, "Other tab: kept before the new sign-in", patrol["id"])
    expect(field.locator(WAITING)).to_have_count(2)
    # another tab, on another way to the same server (the cookies are the host's): sign out, sign in again
    context.set_offline(False)
    with link_to(server) as other:
        tab = context.new_page()
        tab.goto(f"{address(other)}/map")
        tab.get_by_role("button", name="Sign out").click()
        tab.wait_for_url("**/login**")
        tab.fill("#username", "patrol")
        tab.fill("#password", "demo")
        tab.click("form.card button[type=submit]")
        tab.wait_for_url(f"{address(other)}/map")
        tab.close()
    come_back(context, link)
    emptied(field)
    assert [r["narrative"] for r in stored(server, "Other tab")] == ["Other tab: kept before the new sign-in"]
    assert patrol_now(server, patrol["id"])["status"] == "under_way"
    context.close()


@pytest.mark.parametrize("hours", [2, -2])
def test_a_wrong_clock_is_told_and_corrected(driver: Playwright, server: LiveServer, link: Proxy, tmp_path: Path, hours: int) -> None:
    """A phone two hours ahead (or behind): it says so, and what it reports is dated by the server's clock, with the
    offset kept; nothing is refused "in the future", and no position is stored hours early."""
    patrol = today_patrol(server)
    context, page = signed_in_phone(driver, tmp_path / "profile", link, clock=datetime.now(UTC) + timedelta(hours=hours))
    warning = page.locator("#clock-warning")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text(re.compile(f"2 h 0 min {'ahead' if hours > 0 else 'behind'}"))
    go_offline(context, link)
    row = page.locator(f'#patrols li[data-patrol="{patrol["id"]}"]')
    row.locator("button[data-action=start]").click()
    row.locator("button[data-action=check-in]").click()
    narrative = f"Clock {hours:+d} h: reported"
    report(page, narrative, patrol["id"])
    page.evaluate("window.peacewatch.recordPosition()")
    screenshot(page, f"field/clock-{'ahead' if hours > 0 else 'behind'}")
    come_back(context, link)
    emptied(page)
    now = datetime.now(UTC)
    close = lambda text: abs(datetime.fromisoformat(text.replace("Z", "+00:00")) - now) < timedelta(minutes=5)  # noqa: E731
    [made] = stored(server, narrative)
    assert close(made["started_at"]) and made["clock_offset_s"] == pytest.approx(-hours * 3600, abs=5)
    state = patrol_now(server, patrol["id"])
    assert close(state["started_at"]) and state["step_clock_offset_s"] == pytest.approx(-hours * 3600, abs=5)
    [check] = check_ins(server, patrol["id"])
    assert close(check["at"])
    latest = httpx.get(f"{server.url}/api/v1/positions/latest", params={"max_age_minutes": 5}, headers=api_token(server, "ops")).json()
    [fix] = [f for f in latest["features"] if f["properties"]["code"] == patrol["trackers"][0]]
    assert close(fix["properties"]["time"])  # neither two hours early (a false "silent" alert) nor two hours ahead
    context.close()


def test_midnight_crossed_offline_keeps_the_patrol_its_map_and_its_reports(driver: Playwright, tmp_path_factory: pytest.TempPathFactory,
                                                                           tmp_path: Path) -> None:
    """The phone's clock passes the mission's midnight (20:00 UTC) offline: the patrol under way, its route, the map
    and the lists are still there, and what is reported after midnight is kept and sent. (This server allows a day
    of clock skew: the phone's clock is moved past midnight, the server's cannot be.)"""
    with live_server(tmp_path_factory.mktemp("midnight"), {"PEACEWATCH_CLOCK_SKEW_MINUTES": "1440"}) as server, \
            link_to(server) as link:
        patrol = today_patrol(server)
        context, page = signed_in_phone(driver, tmp_path / "profile", link, note="after midnight", clock=datetime.now(UTC))
        go_offline(context, link)
        row = page.locator(f'#patrols li[data-patrol="{patrol["id"]}"]')
        row.locator("button[data-action=start]").click()
        expect(page.locator(WAITING)).to_have_count(1)
        local = datetime.now(BAKU)
        midnight = datetime(local.year, local.month, local.day, tzinfo=BAKU) + timedelta(days=1, minutes=5)
        context.clock.set_system_time(midnight)
        page.reload()
        page.wait_for_function("document.body.dataset.fieldReady === 'true'")
        expect(row.locator(".pill")).to_have_text("Under way")  # the patrol under way, across the date
        expect(page.locator("#map-as-of")).not_to_contain_text("never kept")
        page.wait_for_function("JSON.parse(document.getElementById('field-map').dataset.layers || '{}').routes >= 1")
        layers = page.evaluate("JSON.parse(document.getElementById('field-map').dataset.layers)")
        assert layers["zones"] >= 2 and layers["posts"] >= 5, layers
        row.locator("button[data-action=check-in]").click()
        report(page, "Midnight: reported after it", patrol["id"])
        expect(page.locator(WAITING)).to_have_count(3)
        screenshot(page, "field/after-midnight-offline")
        come_back(context, link)
        emptied(page)
        assert [r["narrative"] for r in stored(server, "Midnight")] == ["Midnight: reported after it"]
        assert [c["note"] for c in check_ins(server, patrol["id"])] == ["after midnight"]
        context.close()


def test_two_tabs_sending_at_once_store_each_report_once_and_neither_says_refused(driver: Playwright, server: LiveServer,
                                                                                   link: Proxy, tmp_path: Path) -> None:
    patrol = today_patrol(server)
    context, first = signed_in_phone(driver, tmp_path / "profile", link)
    second = context.new_page()
    second.goto("/field/")
    second.wait_for_function("document.body.dataset.fieldReady === 'true'")
    go_offline(context, link)
    for n in range(3):
        report(first, f"Two tabs: report {n}", patrol["id"])
    expect(first.locator(WAITING)).to_have_count(3)
    # each tab's outbox goes on its own: two sends of the same items at once, as two tabs do when the link returns
    come_back(context, link)
    first.evaluate("window.peacewatch.flush()")
    second.evaluate("""async () => { for (const item of await window.peacewatch.outbox.all())  // past the lock: a racing send
        if (item.state === 'waiting') await fetch('/api/v1/incidents', { method: 'POST', credentials: 'same-origin',
          headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': document.querySelector('meta[name="csrf-token"]').content },
          body: JSON.stringify(item.body) }); }""")
    emptied(first)
    second.reload()
    second.wait_for_function("document.body.dataset.fieldReady === 'true'")
    emptied(second)
    assert [r["narrative"] for r in stored(server, "Two tabs")] == [f"Two tabs: report {n}" for n in range(3)]
    context.close()


def test_another_user_on_the_device_sees_nothing_of_the_first_users_reports(driver: Playwright, server: LiveServer, link: Proxy,
                                                                             tmp_path: Path) -> None:
    patrol = today_patrol(server)
    context, page = signed_in_phone(driver, tmp_path / "profile", link)
    go_offline(context, link)
    report(page, "Shared device: the first user's secret narrative", patrol["id"], [phone_photo(seed=91)])
    expect(page.locator(WAITING)).to_have_count(2)
    # the first user's sign-in ends (signed out elsewhere) before the link returns; the next user signs in on the phone
    other = httpx.post(f"{server.url}/api/v1/auth/token", data={"username": "patrol", "password": "demo"}).json()
    assert httpx.post(f"{server.url}/api/v1/auth/logout", headers={"Authorization": f"Bearer {other['access_token']}"}).status_code == 204
    come_back(context, link)
    page.reload()  # told the session ended: to the sign-in page
    page.wait_for_url("**/login**")
    sign_in(page, "ops", "/field/")
    page.wait_for_function("document.body.dataset.fieldReady === 'true'")
    outbox = page.locator("#outbox")
    expect(outbox.locator("li")).to_have_count(2)
    expect(outbox).not_to_contain_text("secret")
    expect(outbox).not_to_contain_text("IMG_")
    expect(outbox).to_contain_text("made by patrol")
    assert stored(server, "Shared device") == []  # not sent as the other user
    # the browser's storage alone says nothing: what the items say is sealed to the first user's key
    kept = page.evaluate(RAW_OUTBOX)
    assert "secret" not in kept and "IMG_" not in kept and "46.754" not in kept, kept[:500]
    assert '"sealed"' in kept and '"sealed_file"' in kept
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login**")
    sign_in(page, "patrol", "/field/")
    emptied(page)  # its user signed in again: opened with the key the server gives them, and sent
    [sent] = stored(server, "Shared device")
    files = httpx.get(f"{server.url}/api/v1/attachments", params={"record_kind": "incident", "record_key": sent["id"]},
                      headers=api_token(server, "ops")).json()
    assert [f["sha256"] for f in files] == [hashlib.sha256(phone_photo(seed=91)).hexdigest()]
    context.close()


# every item as the browser stores it, its bytes as hexadecimal: what someone reading the storage would find
RAW_OUTBOX = """() => new Promise((resolve) => { indexedDB.open('peacewatch-field').onsuccess = (e) => {
    e.target.result.transaction('outbox').objectStore('outbox').getAll().onsuccess = (r) => {
        const bytes = (v) => [...new Uint8Array(v.buffer || v)].map((b) => String.fromCharCode(b)).join('');
        resolve(JSON.stringify(r.target.result, (k, v) => (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) ? bytes(v) : v));
    }; }; })"""


def test_sign_out_with_no_connection_keeps_the_application(driver: Playwright, server: LiveServer, link: Proxy, tmp_path: Path) -> None:
    today_patrol(server)
    context, page = signed_in_phone(driver, tmp_path / "profile", link)
    go_offline(context, link)
    said: list[str] = []
    page.once("dialog", lambda dialog: (said.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_function("document.body.dataset.signOut === 'offline'")
    assert "No connection" in said[0]
    expect(page.locator("h1")).to_have_text(re.compile("Field reports"))
    page.reload()  # still opens offline: nothing kept was dropped
    page.wait_for_function("document.body.dataset.fieldReady === 'true'")
    assert page.evaluate("caches.keys()") != []
    context.close()


def test_what_follows_a_refused_step_is_held_behind_it_until_the_user_decides(driver: Playwright, server: LiveServer,
                                                                              link: Proxy, tmp_path: Path) -> None:
    """The headquarters aborted the patrol while the phone was offline: its start is refused, and the check-in after
    it is held (said so, never sent ahead) until the user discards the start; a report of another patrol goes."""
    patrol, other = today_patrol(server), today_patrol(server)
    context, page = signed_in_phone(driver, tmp_path / "profile", link, note="held")
    go_offline(context, link)
    row = page.locator(f'#patrols li[data-patrol="{patrol["id"]}"]')
    row.locator("button[data-action=start]").click()
    row.locator("button[data-action=check-in]").click()
    report(page, "Held: a report of another patrol", other["id"])
    assert act_as_ops(server, patrol["id"], "abort", reason="road closed").status_code == 200
    come_back(context, link)
    refused = page.locator('#outbox li[data-state="refused"]')
    expect(refused).to_have_count(1)
    held = page.locator('#outbox li[data-kind="checkin"]')
    expect(held).to_have_attribute("data-held-behind", re.compile(r"\d+"))
    expect(held).to_contain_text("after: Patrol step")
    expect(page.locator(WAITING)).to_have_count(1)
    assert [r["narrative"] for r in stored(server, "Held")] == ["Held: a report of another patrol"]  # not held: another patrol
    assert check_ins(server, patrol["id"]) == []  # never sent ahead of its patrol's start
    page.on("dialog", lambda dialog: dialog.accept())  # "Discard this report?"
    refused.get_by_role("button", name="Discard").click()
    expect(held).to_have_attribute("data-state", "refused")  # sent now, and refused for its own reason: the patrol was aborted
    expect(held.locator(".error")).to_contain_text("aborted")
    context.close()


def test_a_refused_photo_is_replaced_and_its_report_keeps_it(driver: Playwright, server: LiveServer, link: Proxy,
                                                             tmp_path: Path) -> None:
    """A report goes with a file the server cannot take (a note saved as a photo): the report is stored, the file is
    refused with its reason, and a photo chosen in its place goes to the same report, its hash as computed here."""
    patrol = today_patrol(server)
    context, page = signed_in_phone(driver, tmp_path / "profile", link)
    go_offline(context, link)
    report(page, "Replaced: a crater by the road", patrol["id"], [b"not a photo at all\n" * 50])
    expect(page.locator(WAITING)).to_have_count(2)
    come_back(context, link)
    refused = page.locator('#outbox li[data-state="refused"]')
    expect(refused).to_have_count(1, timeout=45_000)
    expect(refused).to_have_attribute("data-kind", "file")
    [number] = [r["id"] for r in stored(server, "Replaced")]
    photo = phone_photo(seed=35)
    refused.locator("input[type=file]").set_input_files(files=[{"name": "IMG_0002.JPG", "mimeType": "image/jpeg", "buffer": photo}])
    expect(page.locator('#outbox li[data-kind="file"]')).to_have_attribute("data-state", "sent", timeout=45_000)
    emptied(page)
    files = httpx.get(f"{server.url}/api/v1/attachments", params={"record_kind": "incident", "record_key": number},
                      headers=api_token(server, "ops")).json()
    assert [(f["sha256"], f["filename"]) for f in files] == [(hashlib.sha256(photo).hexdigest(), "IMG_0002.JPG")]
    assert 0 <= files[0]["sync_delay_s"] < 600  # waited in the outbox for minutes, whatever the photo's own age
    context.close()


def test_a_russian_phone_checks_its_reports_and_says_each_refusal_once_in_russian(driver: Playwright, server: LiveServer,
                                                                                  link: Proxy, tmp_path: Path) -> None:
    """The server's rules are checked on the device, in the reader's language; what only the server can check comes
    back said once, the field named as the form names it, in Russian."""
    ru = translations("ru").gettext
    patrol = today_patrol(server)
    context, page = signed_in_phone(driver, tmp_path / "profile", link, locale="ru-RU")
    go_offline(context, link)
    page.select_option("#r-type", "ceasefire_violation")
    page.fill("#r-lat", "39.8170")
    page.fill("#r-lon", "46.7540")
    page.select_option("#r-patrol", str(patrol["id"]))
    page.fill("#r-narrative", "Russian: a subtype on a report of another kind")
    page.click("#report-form button[type=submit]")
    expect(page.locator('#report-form [data-error-for="subtype"]')).to_have_text(ru("a ceasefire violation needs its subtype"))
    expect(page.locator(WAITING)).to_have_count(0)
    page.select_option("#r-type", "other")
    page.select_option("#r-subtype", "explosion")
    page.click("#report-form button[type=submit]")
    expect(page.locator(WAITING)).to_have_count(1)
    come_back(context, link)
    reason = page.locator('#outbox li[data-state="refused"] .error')
    expect(reason).to_have_text(f'{ru("Kind of violation")}: {ru("only a ceasefire violation has a subtype")}', timeout=45_000)
    assert stored(server, "Russian") == []
    context.close()


def test_an_outbox_carried_as_a_file_is_taken_in_at_the_headquarters_and_the_phone_stores_nothing_twice(
        driver: Playwright, server: LiveServer, link: Proxy, tmp_path: Path) -> None:
    """Days without a link: the patrol exports its outbox (sealed: the file says nothing without the server), the
    operations centre takes it in through its task page, each item stored as the patrol's, in order, the photo's
    hash checked; when the phone's link returns, it empties with no refusal and nothing is stored twice."""
    patrol = today_patrol(server)
    context, page = signed_in_phone(driver, tmp_path / "profile", link, note="carried")
    go_offline(context, link)
    row = page.locator(f'#patrols li[data-patrol="{patrol["id"]}"]')
    row.locator("button[data-action=start]").click()
    row.locator("button[data-action=check-in]").click()
    photo = phone_photo(seed=77)
    report(page, "Carried: shots near the bridge", patrol["id"], [photo])
    expect(page.locator(WAITING)).to_have_count(4)
    context.close()  # a restart: the private key is gone from the device, the export carries the items sealed
    context = phone(driver, tmp_path / "profile", link, offline=True)
    page = tab_of(context)
    page.goto("/field/")
    page.wait_for_function("document.body.dataset.fieldReady === 'true'")
    with page.expect_download() as download:
        page.get_by_role("button", name="Export the outbox to a file").click()
    carried = Path(download.value.path()).read_bytes()
    assert b"Carried" not in carried and b"IMG_" not in carried and carried.count(b"\n") == 6  # header, 4 items, end

    hq = driver.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
    ops = hq.new_page(base_url=server.url)
    sign_in(ops, "ops", "/tasks/take_in_outbox_api_v1_field_outboxes_post")
    ops.wait_for_function("window.peacewatch && window.peacewatch.taskReady")
    ops.set_input_files("#f-body-file", files=[{"name": download.value.suggested_filename, "mimeType": "application/jsonl",
                                                "buffer": carried}])
    ops.click("#task-form button[type=submit]")
    expect(ops.locator("#task-result")).to_contain_text("Stored: 4")
    hq.close()
    [stored_report] = stored(server, "Carried")
    assert stored_report["reported_by"] == "patrol"  # the maker's, carried by the operations centre
    assert patrol_now(server, patrol["id"])["status"] == "under_way"
    assert [c["note"] for c in check_ins(server, patrol["id"])] == ["carried"]
    files = httpx.get(f"{server.url}/api/v1/attachments", params={"record_kind": "incident", "record_key": stored_report["id"]},
                      headers=api_token(server, "ops")).json()
    assert [f["sha256"] for f in files] == [hashlib.sha256(photo).hexdigest()]

    come_back(context, link)  # the phone sends the same items: each is found stored
    emptied(page)
    assert len(stored(server, "Carried")) == 1 and len(check_ins(server, patrol["id"])) == 1
    assert len(httpx.get(f"{server.url}/api/v1/attachments", params={"record_kind": "incident", "record_key": stored_report["id"]},
                         headers=api_token(server, "ops")).json()) == 1
    context.close()


# the browser's Network Information as a phone on a slow cellular link reports it; the test makes it faster
SLOW_LINK = """(() => {
  const link = new EventTarget();
  link.effectiveType = "3g";
  link.saveData = false;
  Object.defineProperty(Navigator.prototype, "connection", { get: () => link, configurable: true });
  window.fasterLink = () => { link.effectiveType = "4g"; link.dispatchEvent(new Event("change")); };
})()"""


def large_photo() -> bytes:
    """A 2,400 × 1,800 JPEG of fine detail, as a phone's camera writes one: a few megabytes."""
    pixels = bytes((i * 7919 + (i // 2400) * 104729) % 251 for i in range(2400 * 1800 * 3))
    out = io.BytesIO()
    Image.frombytes("RGB", (2400, 1800), pixels).save(out, "JPEG", quality=95)
    assert out.tell() > 2 * 2**20
    return out.getvalue()


def test_a_large_photo_goes_first_as_a_smaller_copy_and_the_original_follows_on_a_faster_link(
        driver: Playwright, server: LiveServer, link: Proxy, tmp_path: Path) -> None:
    patrol = today_patrol(server)
    context = phone(driver, tmp_path / "profile", link)
    context.add_init_script(SLOW_LINK)
    page = tab_of(context)
    sign_in(page, "patrol", "/field/")
    ready_offline(page)
    original = large_photo()
    report(page, "Large: a burnt vehicle by the road", patrol["id"], [original])
    expect(page.locator('#outbox li[data-kind="file"][data-state="sent"]')).to_have_count(1, timeout=45_000)
    [stored_report] = stored(server, "Large")
    ops = api_token(server, "ops")
    listed = lambda: httpx.get(f"{server.url}/api/v1/attachments", params={"record_kind": "incident",  # noqa: E731
                                                                            "record_key": stored_report["id"]}, headers=ops).json()
    [copy] = listed()
    assert copy["copy_of_sha256"] == hashlib.sha256(original).hexdigest() and copy["size"] < len(original) // 2
    full = page.locator('#outbox li[data-kind="file"][data-state="waiting"]')
    expect(full).to_contain_text("full size: waits for a faster connection")
    page.evaluate("window.fasterLink()")
    emptied(page)
    [arrived] = listed()  # the original stands in the copy's place; the record's evidence is the original's hash
    assert arrived["sha256"] == hashlib.sha256(original).hexdigest() and arrived["copy_of_sha256"] is None
    context.close()


def act_as_ops(server: LiveServer, patrol_id: int, action: str, **body: Any) -> httpx.Response:
    return httpx.post(f"{server.url}/api/v1/patrols/{patrol_id}/{action}", json=body, headers=api_token(server, "ops"))
