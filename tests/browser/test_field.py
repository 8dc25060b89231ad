"""The field application (/field/) with no connection: it opens, keeps every report on the device, and sends each
exactly once when the connection returns; a report the server refuses stays on the device with the reason."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import api_token, screenshot, sign_in, wait_until
from tests.evidence_files import phone_photo
from tests.helpers import wait_for
from tests.live import LiveServer, live_server

BAKU = ZoneInfo("Asia/Baku")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server of the field tests' own: they write records of today, which would move the shared demo's
    latest moment (the map and the reports open there) under the other browser tests."""
    with live_server(tmp_path_factory.mktemp("field")) as own:
        yield own


def today_patrol(server: LiveServer) -> dict[str, object]:
    """A patrol planned now, with its own tracker, as the operations centre plans it in the morning."""
    ops = api_token(server, "ops")
    code = f"FLD-{datetime.now(UTC):%H%M%S%f}"
    assert httpx.post(f"{server.url}/api/v1/trackers", json={"code": code, "bound_users": ["patrol"]}, headers=ops).status_code == 201
    area = httpx.get(f"{server.url}/api/v1/areas", headers=ops).json()["features"][0]
    unit = httpx.get(f"{server.url}/api/v1/units", headers=ops).json()[0]
    now = datetime.now(UTC)
    made = httpx.post(f"{server.url}/api/v1/patrols", headers=ops, json={
        "name": f"Field test {code}", "unit_id": unit["id"], "zone_id": area["id"], "trackers": [code],
        "route": {"type": "LineString", "coordinates": [[46.7533, 39.8162], [46.7600, 39.8200], [46.7700, 39.8230]]},
        "planned_start": (now - timedelta(minutes=30)).isoformat(), "planned_end": (now + timedelta(hours=3)).isoformat()})
    assert made.status_code == 201, made.text
    return made.json()


def test_reports_made_offline_arrive_once_when_the_connection_returns(context: BrowserContext, page: Page,
                                                                      server: LiveServer) -> None:
    patrol = today_patrol(server)
    context.grant_permissions(["geolocation"])
    context.set_geolocation({"latitude": 39.8162, "longitude": 46.7533})
    page.on("dialog", lambda dialog: dialog.accept("all quiet at the crossroads"))
    sign_in(page, "patrol", "/field/")
    page.wait_for_function("document.body.dataset.fieldReady === 'true'")
    wait_until(page, "navigator.serviceWorker.ready.then(() => true)")
    page.reload()  # now served by the service worker, which kept the page and its files at install
    page.wait_for_function("!!navigator.serviceWorker.controller && document.body.dataset.fieldReady === 'true'")

    context.set_offline(True)
    page.reload()
    expect(page.locator("h1")).to_have_text(re.compile("Field reports"))  # opens with no connection
    # truly offline, the service worker included: what it did not keep cannot be reached
    assert page.evaluate("fetch('/static/app.css?probe').then(() => 'reached', () => 'unreachable')") == "unreachable"
    page.wait_for_function("document.body.dataset.fieldReady === 'true'")
    row = page.locator(f'#patrols li[data-patrol="{patrol["id"]}"]')
    expect(row).to_be_visible()  # today's patrols, kept from the last answer
    expect(page.locator("#patrols-as-of")).to_contain_text("Offline")
    # the map of the area opens offline too: zones, posts and the patrol's route as kept on the device
    page.wait_for_function("JSON.parse(document.getElementById('field-map').dataset.layers || '{}').routes >= 1")
    layers = page.evaluate("JSON.parse(document.getElementById('field-map').dataset.layers)")
    assert layers["zones"] >= 2 and layers["posts"] >= 5, layers
    expect(page.locator("#map-as-of")).to_contain_text("Offline")
    expect(page.locator("#field-map path.leaflet-interactive").first).to_be_visible()
    row.locator("button[data-action=start]").click()
    row.locator("button[data-action=check-in]").click()
    row.locator("button[data-action=check-in]").click()
    page.evaluate("window.peacewatch.recordPosition()")
    context.set_geolocation({"latitude": 39.8200, "longitude": 46.7600})
    page.evaluate("window.peacewatch.recordPosition()")

    photos = [phone_photo(seed=51), phone_photo(seed=52)]
    page.select_option("#r-type", "ceasefire_violation")
    page.select_option("#r-subtype", "explosion")
    page.fill("#r-lat", "39.8162")
    page.fill("#r-lon", "46.7533")
    page.select_option("#r-patrol", str(patrol["id"]))
    page.fill("#r-narrative", "Field test: two explosions north of the crossroads")
    page.click("details.more summary")  # the incident form's other fields
    page.check('#report-form [name=observed_by][value=heard]')
    page.fill("#r-direction", "20")
    page.fill("#report-form [name=wounded_civilian]", "1")
    page.set_input_files("#r-files", files=[{"name": f"IMG_00{i}.JPG", "mimeType": "image/jpeg", "buffer": p}
                                            for i, p in enumerate(photos)])
    page.click("#report-form button[type=submit]")
    waiting = page.locator('#outbox li[data-state="waiting"]')
    expect(waiting).to_have_count(7)  # the report and its two photos, kept
    page.select_option("#r-type", "restriction_of_movement")
    page.select_option("#r-restriction", "denial")
    page.fill("#r-denied", "the road to the crater site")
    page.fill("#r-lat", "39.8170")
    page.fill("#r-lon", "46.7540")
    page.select_option("#r-patrol", str(patrol["id"]))
    page.fill("#r-narrative", "Field test: denied access at the checkpoint")
    page.click("#report-form button[type=submit]")
    expect(waiting).to_have_count(8)
    page.select_option("#r-type", "ceasefire_violation")  # no kind of violation: checked here, never kept to be refused
    page.fill("#r-lat", "39.8170")
    page.fill("#r-lon", "46.7540")
    page.fill("#r-started", (datetime.now(BAKU) + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("#r-count", "0")
    page.fill("#r-narrative", "Field test: the one to be refused")
    page.click("#report-form button[type=submit]")
    expect(page.locator('#report-form [data-error-for="subtype"]')).to_have_text("a ceasefire violation needs its subtype")
    expect(page.locator('#report-form [data-error-for="started_at"]')).to_contain_text("in the future")  # the server's limits
    expect(page.locator('#report-form [data-error-for=""]')).to_have_text("Count: At least 1.")  # no place of its own
    expect(page.locator('#outbox li[data-state="waiting"]')).to_have_count(8)  # nothing kept until corrected
    page.select_option("#r-type", "other")  # a rule across fields the device leaves to the server: refused there
    page.select_option("#r-subtype", "explosion")
    page.fill("#r-started", datetime.now(BAKU).strftime("%Y-%m-%dT%H:%M"))
    page.fill("#r-count", "1")
    page.click("#report-form button[type=submit]")

    outbox = page.locator("#outbox li")
    expect(page.locator('#outbox li[data-state="waiting"]')).to_have_count(9)  # step, 2 check-ins, positions, 3 reports, 2 photos
    ops = api_token(server, "ops")
    narratives = lambda: [i["narrative"] for i in httpx.get(f"{server.url}/api/v1/incidents?limit=1000", headers=ops).json()  # noqa: E731
                          if i["narrative"].startswith("Field test")]
    assert narratives() == []  # nothing reached the server while offline
    screenshot(page, "field/offline-outbox")

    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.locator('#outbox li[data-state="waiting"]')).to_have_count(0, timeout=30_000)
    expect(page.locator('#outbox li[data-state="refused"]')).to_have_count(1)
    # the reason, kept on the device, said once, under the form's own name for the field
    expect(page.locator('#outbox li[data-state="refused"] .error')).to_have_text("Kind of violation: only a ceasefire violation has a subtype")
    expect(outbox).to_have_count(9)
    expect(row.locator(".pill")).to_have_text("Under way")  # the list follows what the server now holds
    screenshot(page, "field/back-online")

    assert sorted(narratives()) == ["Field test: denied access at the checkpoint", "Field test: two explosions north of the crossroads"]
    incidents = {i["narrative"]: i for i in httpx.get(f"{server.url}/api/v1/incidents?limit=1000", headers=ops).json()}
    explosions = incidents["Field test: two explosions north of the crossroads"]
    files = httpx.get(f"{server.url}/api/v1/attachments", params={"record_kind": "incident", "record_key": explosions["id"]},
                      headers=ops).json()
    assert sorted(f["sha256"] for f in files) == sorted(hashlib.sha256(p).hexdigest() for p in photos)  # the hashes matched
    assert all(f["captured_at"] and f["sync_delay_s"] is not None for f in files)
    assert explosions["observed_by"] == ["heard"] and explosions["direction_deg"] == 20
    assert explosions["casualties"]["wounded_civilian"]["min"] == 1
    denial = incidents["Field test: denied access at the checkpoint"]
    assert denial["restriction"] == "denial" and denial["patrol_id"] == patrol["id"]
    state = httpx.get(f"{server.url}/api/v1/patrols/{patrol['id']}", headers=ops).json()
    assert state["status"] == "under_way"
    check_ins = httpx.get(f"{server.url}/api/v1/patrols/{patrol['id']}/check-ins", headers=ops).json()
    assert [c["note"] for c in check_ins] == ["all quiet at the crossroads"] * 2
    tracker = httpx.get(f"{server.url}/api/v1/trackers", headers=ops).json()
    tracker_id = next(t["id"] for t in tracker if t["code"] == patrol["trackers"][0])
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    track = httpx.get(f"{server.url}/api/v1/trackers/{tracker_id}/track", params={"since": since}, headers=ops).json()
    assert len(track["geometry"]["coordinates"]) == 2

    # sent again (a device that did not hear the answers): nothing is stored twice
    page.evaluate("""async () => { for (const item of await window.peacewatch.outbox.all())
        if (item.state === 'sent' && item.kind !== 'file') await window.peacewatch.outbox.update(item.id, { state: 'waiting' }); }""")
    page.evaluate("window.peacewatch.flush()")
    expect(page.locator('#outbox li[data-state="waiting"]')).to_have_count(0, timeout=30_000)
    assert len(narratives()) == 2
    assert len(httpx.get(f"{server.url}/api/v1/patrols/{patrol['id']}/check-ins", headers=ops).json()) == 2

    # the operations map shows the photos where the incident was, with when they were taken and when they arrived
    moment = (datetime.now(UTC) + timedelta(minutes=10)).isoformat()  # the time bar's steps are 5 minutes
    page.goto(f"{server.url}/map?at={moment.replace('+00:00', 'Z')}")
    page.wait_for_function("Number(document.getElementById('map').dataset.fieldFiles || 0) >= 2")
    camera = page.locator(".field-file")
    expect(camera).to_have_count(1)  # one camera for the report and its two photos
    camera.click()
    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_contain_text("Arrived")
    page.wait_for_function("getComputedStyle(document.querySelector('.leaflet-popup')).opacity === '1'")
    expect(popup).to_contain_text("Taken (device time)")
    expect(popup.locator("img")).to_have_count(2)
    screenshot(page, "field/files-on-the-map")


def test_a_device_of_one_unit_lists_that_units_patrols_and_remembers_it(page: Page, server: LiveServer) -> None:
    patrol = today_patrol(server)
    ops = api_token(server, "ops")
    other = next(u for u in httpx.get(f"{server.url}/api/v1/units", headers=ops).json() if u["id"] != patrol["unit_id"])
    sign_in(page, "ops", "/field/")
    page.wait_for_function("document.body.dataset.fieldReady === 'true'")
    row = page.locator(f'#patrols li[data-patrol="{patrol["id"]}"]')
    expect(row).to_be_visible()
    page.select_option("#unit", str(other["id"]))
    expect(row).to_have_count(0)
    page.select_option("#unit", str(patrol["unit_id"]))
    expect(row).to_be_visible()
    page.reload()
    page.wait_for_function("document.body.dataset.fieldReady === 'true'")
    expect(page.locator("#unit")).to_have_value(str(patrol["unit_id"]))  # the device's unit, kept on the device
    expect(row).to_be_visible()
    screenshot(page, "field/unit-and-map")
    # a report from an observation post, the post chosen from the map's posts (kept for offline use too)
    post = httpx.get(f"{server.url}/api/v1/posts", headers=ops).json()["features"][0]
    page.select_option("#r-type", "ceasefire_violation")
    page.select_option("#r-subtype", "small_arms_fire")
    page.fill("#r-lat", "39.8170")
    page.fill("#r-lon", "46.7540")
    page.select_option("#r-post", str(post["id"]))
    page.fill("#r-narrative", "Field test: bursts heard from the post")
    page.click("#report-form button[type=submit]")
    expect(page.locator('#outbox li[data-state="sent"]')).to_have_count(1, timeout=30_000)
    sent = [i for i in httpx.get(f"{server.url}/api/v1/incidents?limit=1000", headers=ops).json()
            if i["narrative"] == "Field test: bursts heard from the post"]
    assert [(i["source"], i["post_id"]) for i in sent] == [("observation_post", post["id"])]
    wait_until(page, "caches.keys().then((names) => names.some((n) => n.startsWith('field-')))")  # kept for offline use
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login**")
    # a shared device: what was kept for the signed-out user goes with the session
    assert page.evaluate("caches.keys()") == []


def test_the_humanitarian_cell_photographs_a_bodys_effects_offline_and_the_custody_chain_records_it(
        context: BrowserContext, page: Page, server: LiveServer) -> None:
    hum = api_token(server, "humanitarian")
    body = httpx.get(f"{server.url}/api/v1/bodies", params={"limit": 1}, headers=hum).json()[0]["number"]
    sign_in(page, "humanitarian", "/field/")
    page.wait_for_function("document.body.dataset.fieldReady === 'true'")
    wait_until(page, "navigator.serviceWorker.ready.then(() => true)")
    context.set_offline(True)
    photo = phone_photo(seed=61)
    page.select_option("#e-kind", "body")
    page.fill("#e-key", body)
    page.fill("#e-caption", "wristwatch and identity tag")
    page.set_input_files("#e-files", files=[{"name": "effects.jpg", "mimeType": "image/jpeg", "buffer": photo}])
    page.click("#evidence-form button[type=submit]")
    expect(page.locator('#outbox li[data-state="waiting"]')).to_have_count(1)
    # a recovery recorded at the site, with a photo of it, while offline
    site_photo = phone_photo(seed=62)
    page.fill("#v-lat", "39.7512")
    page.fill("#v-lon", "46.9493")
    page.fill("#v-place", "Field test recovery site")
    page.fill("#v-team", "Search team 3 and ICRC")
    page.select_option("#v-side", "A")
    page.fill("#v-found", "2")
    page.fill("#v-bodies", "2")
    page.fill("#v-parts", "1")
    page.fill("#v-stored", "Stepanakert morgue")
    page.set_input_files("#v-files", files=[{"name": "site.jpg", "mimeType": "image/jpeg", "buffer": site_photo}])
    page.click("#recovery-form button[type=submit]")
    expect(page.locator('#outbox li[data-state="waiting"]')).to_have_count(3)
    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.locator('#outbox li[data-state="sent"]')).to_have_count(3, timeout=30_000)
    found = [r for r in httpx.get(f"{server.url}/api/v1/recoveries", params={"limit": 1000}, headers=hum).json()
             if r["place_name"] == "Field test recovery site"]
    assert len(found) == 1 and len(found[0]["body_numbers"]) == 3 and found[0]["bodies_recovered"] == 2
    files = httpx.get(f"{server.url}/api/v1/attachments", params={"record_kind": "recovery", "record_key": found[0]["id"]},
                      headers=hum).json()
    assert [f["sha256"] for f in files] == [hashlib.sha256(site_photo).hexdigest()]
    # sent again by a device that did not hear the answer: the same recovery, no body numbered twice
    page.evaluate("""async () => { for (const item of await window.peacewatch.outbox.all())
        if (item.kind === 'recovery') await window.peacewatch.outbox.update(item.id, { state: 'waiting' }); }""")
    page.evaluate("window.peacewatch.flush()")
    expect(page.locator('#outbox li[data-state="waiting"]')).to_have_count(0, timeout=30_000)
    again = [r for r in httpx.get(f"{server.url}/api/v1/recoveries", params={"limit": 1000}, headers=hum).json()
             if r["place_name"] == "Field test recovery site"]
    assert [r["id"] for r in again] == [found[0]["id"]]
    chain = httpx.get(f"{server.url}/api/v1/bodies/{body}/custody", headers=hum).json()
    assert chain[-1]["kind"] == "evidence" and hashlib.sha256(photo).hexdigest() in chain[-1]["note"]
    assert httpx.get(f"{server.url}/api/v1/custody/verify", params={"body": body}, headers=hum).json()["intact"] is True


def test_the_press_office_publishes_a_field_photo_of_a_public_incident_without_its_metadata(page: Page, server: LiveServer) -> None:
    ops, patrol = api_token(server, "ops"), api_token(server, "patrol")
    now = datetime.now(UTC)
    made = httpx.post(f"{server.url}/api/v1/incidents", headers=ops, json={
        "type": "ceasefire_violation", "subtype": "explosion", "started_at": (now - timedelta(hours=1)).isoformat(),
        "lat": 39.8162, "lon": 46.7533, "source": "media", "visibility": "public", "narrative": "Field test: public crater"})
    assert made.status_code == 201, made.text
    photo = phone_photo(seed=71)
    sent = httpx.post(f"{server.url}/api/v1/attachments", headers=patrol, files={"file": ("IMG_0071.JPG", photo, "image/jpeg")},
                      data={"record_kind": "incident", "record_key": str(made.json()["id"]), "sha256": hashlib.sha256(photo).hexdigest()})
    assert sent.status_code == 201, sent.text
    public_copy = f"{server.url}/api/v1/attachments/{sent.json()['id']}/public-copy"
    assert httpx.get(public_copy).status_code == 404
    sign_in(page, "press", f"/incidents/{made.json()['id']}")
    page.get_by_role("button", name="Publish in the bulletin").click()
    expect(page.get_by_text("In the bulletin, without its metadata")).to_be_visible()
    answer = httpx.get(public_copy)
    assert answer.status_code == 200 and answer.content != photo and b"Exif" not in answer.content[:4096]
    page.get_by_role("button", name="Withdraw from the bulletin").click()
    expect(page.get_by_role("button", name="Publish in the bulletin")).to_be_visible()
    assert httpx.get(public_copy).status_code == 404


@pytest.mark.parametrize("way", ["sign-out elsewhere", "expired"])
def test_a_session_ended_elsewhere_empties_what_the_device_kept_and_keeps_its_outbox(context: BrowserContext, page: Page,
                                                                                   server: LiveServer, way: str) -> None:
    """The patrol's phone keeps its lists and a report made offline; its user signs out on another device (or the
    session's twelve hours pass). Back online, the phone's next request is told the session ended: the service worker
    drops every page and list it kept, and the report waits in the outbox for its user to sign in again."""
    import jwt

    from tests.conftest import SECRET

    today_patrol(server)
    sign_in(page, "patrol", "/field/")
    page.wait_for_function("document.body.dataset.fieldReady === 'true'")
    page.reload()  # served by the service worker now: the page and its lists are kept for offline use
    page.wait_for_function("!!navigator.serviceWorker.controller && document.body.dataset.fieldReady === 'true'")
    wait_until(page, "caches.open(document.querySelector('#config') ? JSON.parse(document.querySelector('#config')"
                           ".textContent).cache : 'field-3').then((c) => c.keys()).then((k) => k.some((r) => r.url.includes('/api/v1/')))")
    context.set_offline(True)
    page.select_option("#r-type", "ceasefire_violation")
    page.select_option("#r-subtype", "small_arms_fire")
    page.fill("#r-lat", "39.8170")
    page.fill("#r-lon", "46.7540")
    page.select_option("#r-post", index=1)
    page.fill("#r-narrative", f"Field test: kept through the end of a session ({way})")
    page.click("#report-form button[type=submit]")
    expect(page.locator('#outbox li[data-state="waiting"]')).to_have_count(1)

    if way == "sign-out elsewhere":
        other = httpx.post(f"{server.url}/api/v1/auth/token", data={"username": "patrol", "password": "demo"}).json()
        assert httpx.post(f"{server.url}/api/v1/auth/logout",
                          headers={"Authorization": f"Bearer {other['access_token']}"}).status_code == 204
    else:  # the cookie still holds the session's token, twelve hours old
        cookie = next(c for c in context.cookies() if c["name"] == "pw_session")
        claims = jwt.decode(cookie["value"], SECRET, algorithms=["HS256"])
        past = int(datetime.now(UTC).timestamp()) - 13 * 3600
        stale = jwt.encode(claims | {"iat": past, "exp": past + 12 * 3600}, SECRET, algorithm="HS256")
        context.add_cookies([cookie | {"value": stale}])
    context.set_offline(False)
    page.reload()  # the phone's next request: the page, through the service worker
    page.wait_for_url("**/login**")
    wait_until(page, "caches.keys().then((names) => !names.some((n) => n.startsWith('field-')))")
    kept = page.evaluate("""new Promise((resolve) => { const open = indexedDB.open('peacewatch-field', 1);
        open.onsuccess = () => { const all = open.result.transaction('outbox').objectStore('outbox').getAll();
        all.onsuccess = () => resolve(all.result.map((i) => i.state)); }; })""")
    assert kept.count("waiting") >= 1  # the outbox is untouched: the report waits for its user
    assert not [c for c in context.cookies() if c["name"] == "pw_session"]


def test_the_emergency_button_offline_is_sent_first_when_the_connection_returns_and_called_off_after(
        context: BrowserContext, page: Page, server: LiveServer) -> None:
    """One touch and a confirmation: kept at once with the position, sent before a report made earlier, again within
    seconds once the connection returns; the page says the centre has it; calling it off ends the alert."""
    ops = api_token(server, "ops")

    def emergencies() -> list[dict[str, object]]:
        answer = httpx.get(f"{server.url}/api/v1/alerts", params={"kind": "emergency", "limit": 1000}, headers=ops).json()
        return [a for a in answer if a["raised_by"] == "patrol" and a["details"]["via"] == "field"]

    before = {a["id"] for a in emergencies()}
    context.grant_permissions(["geolocation"])
    context.set_geolocation({"latitude": 39.8410, "longitude": 46.7712})
    sign_in(page, "patrol", "/field/")
    page.wait_for_function("document.body.dataset.fieldReady === 'true'")
    wait_until(page, "navigator.serviceWorker.ready.then(() => true)")
    context.set_offline(True)
    page.evaluate("window.dispatchEvent(new Event('offline'))")
    # a position kept earlier waits in the outbox; the emergency pressed later must overtake it
    page.evaluate("window.peacewatch.outbox.keep({kind: 'positions', user: 'patrol', fixes: []})")
    page.click("#emergency")
    expect(page.locator("#emergency-confirm")).to_be_visible()
    page.click("#emergency-send")
    page.wait_for_function("document.body.dataset.emergency === 'waiting'")
    expect(page.locator("#emergency-status")).to_contain_text("sent the moment there is a connection")
    expect(page.locator("#emergency")).to_be_hidden()
    kept = page.evaluate("window.peacewatch.outbox.all().then((items) => items.filter((i) => i.state === 'waiting')"
                         ".map((i) => i.kind))")
    assert kept == ["positions", "emergency"]  # kept after the positions
    assert {a["id"] for a in emergencies()} == before

    posted: list[str] = []
    page.on("request", lambda r: posted.append(r.url.removeprefix(server.url)) if r.method == "POST" else None)
    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_function("document.body.dataset.emergency === 'received'", timeout=30_000)
    raised = [a for a in emergencies() if a["id"] not in before]
    assert len(raised) == 1 and raised[0]["priority"] == 1 and (raised[0]["lat"], raised[0]["lon"]) == (39.841, 46.7712)
    expect(page.locator("#emergency-status")).to_contain_text(f"alert {raised[0]['id']}")
    wait_for(lambda: "/api/v1/positions" in posted, what="the positions sent after the emergency")
    assert posted.index("/api/v1/emergencies") < posted.index("/api/v1/positions")  # sent first

    page.click("#emergency-off")
    expect(page.locator("#emergency")).to_be_visible()
    wait_for(lambda: httpx.get(f"{server.url}/api/v1/alerts/{raised[0]['id']}", headers=ops).json()["stage"] == "resolved",
             seconds=30, what="the emergency called off")
