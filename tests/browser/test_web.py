"""The web application as its users meet it, in Debian's chromium."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import api_token, screenshot, sign_in
from tests.live import LiveServer


def wait_loaded(page: Page) -> None:
    page.wait_for_function("document.body.dataset.loaded !== undefined")


def test_operations_map_shows_the_posts_open_on_a_day(page: Page) -> None:
    sign_in(page, "ops")
    wait_loaded(page)
    page.fill("#day", "2020-11-18")
    page.dispatch_event("#day", "change")
    page.wait_for_function("window.peacewatch.postCount() === 23")
    expect(page.locator("#posts-open")).to_have_text("23")
    # posts are APP-6 symbols drawn by the server
    symbols = page.locator("img.symbol[src*='10032500001601000000']")
    expect(symbols.first).to_be_visible()
    assert symbols.count() >= 20
    # an earlier day shows fewer posts: the slider reads history, not today's state
    page.fill("#day", "2020-11-14")
    page.dispatch_event("#day", "change")
    page.wait_for_function("window.peacewatch.postCount() === 16")
    # coordinates under the cursor in degrees and MGRS
    box = page.locator("#map").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page.locator("#cursor")).to_contain_text("MGRS 38S")
    readout, scale = page.locator("#cursor").bounding_box(), page.locator(".leaflet-control-scale").bounding_box()
    assert readout and scale and readout["y"] + readout["height"] <= scale["y"]  # stacked above the scale bar, not over it
    # the panel holds the alerts raised by the map's moment (the demo's, 08:00 to 12:30), not those of later in the day
    for minute, check in (("1435", lambda n: n > 0), ("0", lambda n: n == 0)):
        page.fill("#minute", minute)
        page.dispatch_event("#minute", "change")
        at = f"2020-11-14 {int(minute) // 60:02d}:{int(minute) % 60:02d}"
        page.wait_for_function(f"document.getElementById('status').textContent.includes('{at}')")  # that moment loaded
        shown = page.locator("#alerts li:not([hidden])").count()
        assert check(shown), (minute, shown)
        assert page.locator("#alert-count").inner_text() == str(shown)
    page.fill("#minute", "1435")
    page.dispatch_event("#minute", "change")
    expect(page.locator("#alerts li:not([hidden])").first).to_be_visible()  # the demo day's alerts
    page.wait_for_function("window.peacewatch.alertMarkerCount() > 0")  # each on the map where it was raised
    # an alert clicked takes the map to its place and the time bar to its moment
    first_alert = page.locator("#alerts li:not([hidden])").last
    raised = first_alert.locator(".when").inner_text()[:16]  # "2020-11-14 08:03"
    first_alert.locator("button[data-goto]").click()
    expect(page.locator("#day")).to_have_value(raised[:10])
    page.wait_for_function(f"document.getElementById('status').textContent.includes('{raised[:13]}')")
    assert page.evaluate("window.peacewatch.map.getZoom()") == 13
    # closing an alert asks why, and the reason is required; keeping it open changes nothing
    alerts_before = int(page.locator("#alert-count").inner_text())
    first = page.locator("#alerts li:not([hidden])").first
    first.locator("button[data-act=close]").click()
    first.locator("form.close-alert button[data-cancel]").click()
    expect(first.locator("form.close-alert")).to_have_count(0)
    first.locator("button[data-act=close]").click()
    first.locator("form.close-alert button[type=submit]").click()
    expect(first.locator("form.close-alert .error")).to_contain_text("Say why")
    first.locator("form.close-alert input[name=note]").fill("Patrol back on its route, confirmed by radio")
    first.locator("form.close-alert button[type=submit]").click()
    expect(page.locator("#alert-count")).to_have_text(str(alerts_before - 1))
    page.locator(".closed-alerts summary").click()  # a closed alert is still found, with who closed it and why
    expect(page.locator("#closed-alerts-list li").filter(has_text="Patrol back on its route, confirmed by radio")).to_have_count(1)
    page.fill("#day", "2020-11-18")
    page.dispatch_event("#day", "change")
    page.wait_for_function("window.peacewatch.postCount() === 23")
    screenshot(page, "01-operations-map-2020-11-18")


def test_a_live_position_moves_on_the_map_when_positions_are_posted(page: Page, server: LiveServer) -> None:
    ops = api_token(server, "ops")
    code = "BROWSER-1"
    httpx.post(f"{server.url}/api/v1/trackers", headers=ops, json={"code": code, "kind": "vehicle", "name": "MP patrol"})
    now = datetime.now(UTC)

    def post(lat: float, lon: float, at: datetime) -> None:
        body = {"positions": [{"tracker": code, "t": at.isoformat(), "lat": lat, "lon": lon}]}
        response = httpx.post(f"{server.url}/api/v1/positions", headers=ops, json=body)
        assert response.status_code == 200, response.text

    post(39.80, 46.70, now - timedelta(seconds=30))
    sign_in(page, "ops")
    wait_loaded(page)
    expect(page.locator("#live")).to_have_attribute("aria-pressed", "true")
    page.wait_for_function(f"(() => {{ const p = window.peacewatch.trackerPosition('{code}'); return p && Math.abs(p[0] - 39.80) < 1e-6; }})()")
    post(39.83, 46.76, now)
    # no reload: the server pushes the new fix over server-sent events
    page.wait_for_function(f"(() => {{ const p = window.peacewatch.trackerPosition('{code}'); "
                           "return p && Math.abs(p[0] - 39.83) < 1e-6 && Math.abs(p[1] - 46.76) < 1e-6; })()",
                           timeout=10_000)
    screenshot(page, "02-operations-map-live")


def test_plan_a_patrol_through_the_form_and_see_its_route(page: Page) -> None:
    sign_in(page, "ops", "/patrols")
    page.click("#plan-form button[type=submit]")  # empty: the server's errors appear by their fields
    expect(page.locator("#e-name")).to_be_visible()
    expect(page.locator("#e-planned_start")).to_be_visible()
    expect(page.locator("#f-name")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "03-patrols-workspace-errors")
    page.fill("#f-name", "N3 Martakert - east")
    page.fill("#f-start", "2020-11-16T08:00")
    page.fill("#f-end", "2020-11-16T07:00")  # ends before it starts: refused, and said where
    page.fill("#f-route", "40.05, 46.60\n40.10, 46.70\n40.15, 46.80")
    page.click("#plan-form button[type=submit]")
    expect(page.locator("#e-planned_end")).to_be_visible()
    page.fill("#f-end", "2020-11-16T12:00")
    page.click("#plan-form button[type=submit]")
    page.wait_for_url("**/patrols/*")
    expect(page.locator("#patrol-heading")).to_contain_text("N3 Martakert - east")
    page.wait_for_function("window.peacewatch && window.peacewatch.routeDrawn")
    expect(page.locator("#patrol-map path.leaflet-interactive").first).to_be_visible()
    screenshot(page, "04-patrol-detail")
    page.goto("/map?on=2020-11-16")
    wait_loaded(page)
    page.wait_for_function("window.peacewatch.routeNames().includes('N3 Martakert - east')")
    screenshot(page, "05-operations-map-planned-route")
    page.goto("/patrols?sort=name")  # the demo day's four and this one (other tests of this server may add theirs)
    expect(page.locator("table.grid tbody tr").filter(has_text="N3 Martakert - east")).to_have_count(1)
    assert page.locator("table.grid tbody tr").count() == int(page.locator("#patrol-total").inner_text()) >= 5
    page.select_option("select[name=status]", "completed")
    page.click("form.filters button[type=submit]")
    expect(page.locator("table.grid tbody tr")).to_have_count(3)
    screenshot(page, "06-patrols-workspace")


def test_a_liaison_cannot_open_the_other_sides_record_by_url(browser: Browser, server: LiveServer) -> None:
    ops = api_token(server, "ops")
    areas = httpx.get(f"{server.url}/api/v1/areas").json()["features"]
    units = httpx.get(f"{server.url}/api/v1/units", headers=ops).json()
    body = {"name": "Joint check, side B only", "unit_id": units[0]["id"], "zone_id": areas[0]["id"],
            "planned_start": "2020-11-17T08:00:00Z", "planned_end": "2020-11-17T10:00:00Z", "visibility": "side_b"}
    created = httpx.post(f"{server.url}/api/v1/patrols", headers=ops, json=body)
    assert created.status_code == 201, created.text
    patrol_id = created.json()["id"]
    for username, expected in (("liaison-a", 404), ("liaison-b", 200)):
        context = browser.new_context(base_url=server.url, viewport={"width": 1366, "height": 768}, bypass_csp=True)
        page = context.new_page()
        sign_in(page, username)
        response = page.goto(f"/patrols/{patrol_id}")
        assert response is not None and response.status == expected, username
        api = page.request.get(f"/api/v1/patrols/{patrol_id}")  # the page's cookie, the API's rules
        assert api.status == expected, username
        if expected == 404:
            expect(page.locator("h1")).to_have_text("Not found")
            screenshot(page, "07-liaison-a-refused")
            # a cookie alone never makes a write: the CSRF token is required
            forged = page.request.post(f"/api/v1/patrols/{patrol_id}/start", data={})
            assert forged.status == 403
        context.close()


def test_the_public_map_needs_no_sign_in_and_downloads_its_geojson(browser: Browser, server: LiveServer) -> None:
    context = browser.new_context(base_url=server.url, viewport={"width": 1366, "height": 768}, accept_downloads=True)
    page = context.new_page()  # under the pages' real Content-Security-Policy: only locators, no evaluated code
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.goto("/public/map?on=2020-11-14")
    expect(page.locator("#count-observation_post")).to_have_text("16")
    expect(page.locator("img.symbol")).to_have_count(16)
    screenshot(page, "08-public-official-map-2020-11-14")
    with page.expect_download() as download:
        page.click("#download-geojson")
    data = json.loads(open(download.value.path()).read())
    posts = [f for f in data["features"] if f["properties"]["kind"] == "observation_post"]
    assert len(posts) == 16
    assert {f["properties"]["kind"] for f in data["features"]} >= {"area_of_responsibility", "corridor", "line_of_contact"}
    assert all("notes" not in f["properties"] for f in data["features"])  # public fields only
    with page.expect_download() as download:
        page.click("#download-png")
    assert open(download.value.path(), "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    # signed out, the operations map asks for a sign-in
    page.goto("/map")
    assert "/login" in page.url
    assert not errors, errors
    context.close()


def test_russian_interface_and_tablet_layout(browser: Browser, server: LiveServer) -> None:
    context = browser.new_context(base_url=server.url, viewport={"width": 768, "height": 1024}, has_touch=True,
                                  bypass_csp=True)
    page = context.new_page()
    sign_in(page, "ops")
    page.click("button.language[value=ru]")
    expect(page.locator("nav a[href='/map']")).to_have_text("Карта операций")
    wait_loaded(page)
    expect(page.locator("#live")).to_have_text("Сейчас")
    messages = page.locator("#alerts li .message")
    expect(messages.first).to_be_visible()
    texts = messages.all_inner_texts()  # the alerts are worded in the reader's language, from their parts
    assert texts and all(re.search("[А-Яа-я]", text) for text in texts), texts
    screenshot(page, "09-operations-map-tablet-ru")
    page.goto("/patrols")
    expect(page.locator("h1")).to_contain_text("Патрули")
    screenshot(page, "10-patrols-tablet-ru")
    context.close()


def test_the_time_bar_stays_in_the_window_when_the_header_wraps(page: Page) -> None:
    sign_in(page, "humanitarian")  # the longest menu: in Russian the header takes two lines in a narrower window
    page.set_viewport_size({"width": 1000, "height": 768})
    page.click("button.language[value=ru]")
    page.goto("/map")
    wait_loaded(page)
    header = page.locator("header.topbar").bounding_box()
    bar = page.locator(".timebar").bounding_box()
    assert header is not None and bar is not None
    assert header["height"] > 60, "the header should wrap for this test to mean something"
    assert bar["y"] + bar["height"] <= 768  # the whole time bar is visible, under whatever header
    page.click("button.language[value=en]")
    page.set_viewport_size({"width": 1366, "height": 768})


def test_keyboard_reaches_the_sign_in_form_and_the_map(page: Page) -> None:
    page.goto("/public/map")
    page.keyboard.press("Tab")
    expect(page.locator("a.skip")).to_be_focused()
    page.goto("/login")
    expect(page.locator("#username")).to_be_focused()  # autofocus: type at once
    page.keyboard.type("ops")
    page.keyboard.press("Tab")
    page.keyboard.type("demo")
    page.keyboard.press("Enter")
    page.wait_for_url("**/map")
    page.focus("#map")
    before = page.evaluate("window.peacewatch.map.getCenter().lng")
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(400)
    assert page.evaluate("window.peacewatch.map.getCenter().lng") > before


def test_a_patrol_commander_reports_an_incident_naming_the_patrol(page: Page) -> None:
    sign_in(page, "patrol", "/incidents")
    page.select_option("#f-type", "ceasefire_violation")
    page.select_option("#f-subtype", "small_arms_fire")
    page.fill("#f-start", "2020-11-16T15:00")
    page.fill("#f-place", "40.1000, 46.7000")
    page.select_option("#f-source", "patrol")
    page.select_option("#f-patrol", "")
    page.click("#report-form button[type=submit]")
    expect(page.locator("[data-error-for=patrol_id]")).to_contain_text("names the patrol")  # beside the field
    general = page.locator('#report-form [data-error-for=""]')
    if general.is_visible():  # a summary at the top says it once, not twice
        assert general.inner_text().count("names the patrol") <= 1
    patrols = page.locator("#f-patrol option:not([value=''])")
    assert patrols.count() > 0
    page.select_option("#f-patrol", patrols.first.get_attribute("value"))
    page.click("#report-form button[type=submit]")
    page.wait_for_url("**/incidents/*")
    expect(page.locator("#incident-status")).to_have_text("Reported")


def test_report_verify_and_merge_incidents_in_the_workspace(page: Page) -> None:
    sign_in(page, "ops", "/incidents")
    proposals_before = int(page.locator("#proposal-count").inner_text())
    assert proposals_before > 0  # the demo's stream has duplicates to merge
    page.select_option("#f-type", "ceasefire_violation")
    page.select_option("#f-subtype", "explosion")
    page.fill("#f-start", "2020-11-16T15:00")
    page.fill("#f-end", "2020-11-16T14:00")  # ends before it starts: refused, and said where
    page.fill("#f-place", "39.7950, 47.1130")
    expect(page.locator("#f-source")).to_have_value("")  # who told us is not guessed
    expect(page.locator("#f-patrol")).to_have_value("")  # nor which patrol
    page.fill("#f-count", "12")
    page.click("#report-form button[type=submit]")
    expect(page.locator("[data-error-for=source]")).to_have_text("Say who told us.")
    expect(page.locator("[data-error-for=channel]")).to_have_text("Say how it came in.")
    page.select_option("#f-source", "media")
    page.select_option("#f-channel", "media_monitoring")
    page.fill("#f-received", "2020-11-16T17:30")  # the monitor's note was typed in later
    page.click("#report-form button[type=submit]")
    expect(page.locator("[data-error-for=ended_at]")).to_contain_text("ends before it starts")
    screenshot(page, "08-incidents-workspace-errors")
    page.fill("#f-end", "2020-11-16T15:10")
    page.click("#report-form button[type=submit]")
    page.wait_for_url("**/incidents/*")
    expect(page.locator("#incident-status")).to_have_text("Reported")
    expect(page.locator("#incident-received")).to_have_text("media monitoring, 2020-11-16 17:30")
    page.fill("#f-reason", "Post S-03 to listen and look")
    page.click("#verify-form button[type=submit]")  # no step chosen for the user, so none taken by default
    expect(page.locator("[data-error-for=status]")).to_have_text("Choose the next step.")
    page.select_option("#f-status", "under_investigation")
    page.fill("#f-reason", "Post S-03 to listen and look")
    page.click("#verify-form button[type=submit]")
    expect(page.locator("#incident-status")).to_have_text("Under investigation")
    expect(page.locator("#verification-steps li")).to_have_count(1)
    expect(page.locator("#history li")).to_have_count(2)
    screenshot(page, "09-incident-detail")
    page.goto("/incidents")
    page.locator("#proposals button[data-decide=accept]").first.click()
    expect(page.locator("#proposal-count")).to_have_text(str(proposals_before - 1))
    page.locator("#proposals button[data-decide=split]").first.click()
    expect(page.locator("#proposal-count")).to_have_text(str(proposals_before - 2))
    page.select_option("select[name=status]", "under_investigation")
    page.click("form.filters button[type=submit]")
    expect(page.locator("#incident-table tbody tr").first).to_contain_text("Under investigation")
    screenshot(page, "10-incidents-workspace")
    # the events of a reporting day on the operations map
    page.goto("/map?on=2020-11-16")
    wait_loaded(page)
    page.wait_for_function("window.peacewatch.incidentCount() > 0")
    page.locator(".app6.incident").first.click(force=True)
    expect(page.locator(".leaflet-popup-content")).to_contain_text("reports")
    screenshot(page, "11-operations-map-incidents")


def test_the_humanitarian_workspace_from_custody_to_handover_list(page: Page, browser: Browser, server: LiveServer) -> None:
    sign_in(page, "humanitarian", "/remains")
    handed = int(page.locator("#casualty-totals tr[data-side=total] td[data-measure=handed_over]").inner_text())
    assert handed >= 190  # about 200 bodies exchanged by 17 November, more after
    expect(page.locator("#casualty-chart")).to_have_js_property("complete", True)
    assert page.locator("#casualty-chart").evaluate("img => img.naturalWidth") > 500
    screenshot(page, "12-remains-workspace")
    # an unidentified body still in the mission's custody: its chain, its candidates, a proposal
    page.goto("/api/v1/bodies?unidentified=true&limit=1000")
    bodies = json.loads(page.locator("body").inner_text())
    held = next(b for b in bodies if b["handover"] is None and b["kind"] == "body")
    page.goto(f"/remains/bodies/{held['number']}")
    expect(page.locator("#chain-status")).to_have_text("intact")
    expect(page.locator("#custody li")).to_have_count(3)  # recovered, stored, examined
    page.fill("#custody-form input[name=at]", "2020-11-01T10:00")  # before the recovery: refused, and said why
    page.fill("#custody-form input[name=place]", "Goris cold store")
    page.click("#custody-form button[type=submit]")
    expect(page.locator("#custody-form [data-error-for=at]")).to_contain_text("out of time order")
    page.fill("#custody-form input[name=at]", "2020-11-21T10:00")
    page.click("#custody-form button[type=submit]")
    expect(page.locator("#custody li")).to_have_count(4)
    assert page.locator("#candidates .evidence li").count() > 0
    page.locator("#candidates button[data-propose]").first.click()
    expect(page.locator("#identifications .pill.proposed")).to_have_count(1)
    form = page.locator("form.confirm-form")
    form.locator("input[name=detail]").fill("Clothing and marks agree")
    form.locator("button[type=submit]").click()  # no basis assumed for the clerk
    expect(form.locator("[data-error-for=basis]")).to_have_text("Choose what the identification rests on.")
    form.locator("select[name=basis]").select_option("board")
    form.locator("input[name=detail]").fill("Clothing and marks agree")
    form.locator("textarea[name=board_members]").fill("Pathologist (synthetic)")
    form.locator("button[type=submit]").click()
    expect(form.locator("[data-error-for='']")).to_contain_text("at least 3 members")
    form.locator("textarea[name=board_members]").fill("Pathologist (synthetic)\nOdontologist (synthetic)\nICRC adviser (synthetic)")
    form.locator("button[type=submit]").click()
    expect(page.locator("#body-identity")).to_contain_text("identified as AM-")
    screenshot(page, "13-remains-body")
    page.goto("/remains/reconciliation")  # the cases left to decide: no identified body or person in the grid
    expect(page.locator("#everyone")).to_be_visible()
    assert page.locator("#reconciliation td.cell.identified").count() == 0
    page.click("#everyone")
    key = page.locator("p.legend .cell.identified").bounding_box()
    assert key and key["width"] < 40  # a coloured key in the sentence, not a bar across the page
    assert page.locator("#reconciliation td.cell.identified").count() >= 1
    assert page.locator("#reconciliation td.cell.eliminated").count() > page.locator("#reconciliation td.cell.possible").count()
    screenshot(page, "14-remains-reconciliation")
    # the printable handover list
    page.goto("/remains")
    with page.expect_popup() as popup:
        page.locator("#handovers a", has_text="list").first.click()
    printable = popup.value
    expect(printable.locator("h1")).to_contain_text(re.compile(r"Handover of remains HO-\d{4}-\d{4}"))
    assert printable.locator("tbody tr").count() > 0
    screenshot(printable, "15-handover-list")
    # hidden from every other role
    other = browser.new_context(base_url=server.url).new_page()
    sign_in(other, "ops", "/map")
    assert other.locator("nav a[href='/remains']").count() == 0
    response = other.goto(f"/remains/bodies/{held['number']}")
    assert response is not None and response.status == 404
    assert "Chain of custody" not in other.content() and "Candidates" not in other.content()


def test_the_airlift_workspace_and_the_claims_page(page: Page, browser: Browser, server: LiveServer) -> None:
    sign_in(page, "air", "/airlift?at=2020-11-14T13:00")  # 13:00 in Baku is 12:00 in Moscow
    expect(page.locator("#airlift-headline")).to_contain_text("95 flights since the start of the operation, 22 in the past 24 hours")
    expect(page.locator("#strength tr[data-row=ceilings]")).to_contain_text("1960")
    expect(page.locator("#build-up-chart")).to_have_js_property("complete", True)
    assert page.locator("#build-up-chart").evaluate("img => img.naturalWidth") > 500
    total = int(page.locator("#flight-total").inner_text())
    form = page.locator("#flight-form")
    form.locator("input[name=tail_number]").fill("RF-76777")
    form.locator("button[type=submit]").click()  # nothing assumed: direction and both airfields are asked for at once
    for field in ("direction", "departure", "arrival"):
        expect(form.locator(f"[data-error-for={field}]")).to_have_text("Choose one.")
    form.locator("select[name=direction]").select_option("inbound")
    form.locator("select[name=departure]").select_option("UWLW")
    form.locator("select[name=arrival]").select_option("UDYE")
    form.locator("select[name=status]").select_option("landed")
    form.locator("input[name=planned_departure]").fill("2020-12-03T06:00")
    form.locator("input[name=planned_arrival]").fill("2020-12-03T10:00")
    form.locator("input[name=actual_departure]").fill("2020-12-03T06:00")
    form.locator("input[name=tonnes]").fill("60")
    form.locator("button[type=submit]").click()  # no actual arrival, and too heavy: the first fault is named where it is
    expect(form.locator("[data-error-for=actual_arrival]")).to_contain_text("required for a landed flight")
    form.locator("input[name=actual_arrival]").fill("2020-12-03T10:05")
    form.locator("button[type=submit]").click()
    expect(form.locator("[data-error-for=tonnes]")).to_contain_text("payload of about 47 t")
    form.locator("input[name=tonnes]").fill("30")
    form.locator("button[type=submit]").click()
    expect(page.locator("#flight-total")).to_have_text(str(total + 1))
    expect(page.locator("#rotation-plans")).to_contain_text("Rotation of Military Police Company North")
    expect(page.locator("#build-up-chart")).to_have_js_property("complete", True)
    screenshot(page, "16-airlift-workspace")

    page.goto("/claims")
    turkish = page.locator(".statement", has_text="Ministry of National Defence of Turkey").filter(has_text="(Türkiye)")
    expect(turkish).to_have_attribute("data-verdict", "contradicted")
    expect(turkish.locator(".related[data-relation='answered by']")).to_contain_text("Kremlin spokesman")
    expect(turkish.locator(".evidence")).to_contain_text("RUS (Russian Federation)")
    page.fill("input[name=on]", "2021-02-01")
    page.click("form.filters button[type=submit]")
    expect(turkish).to_have_attribute("data-verdict", "nuanced")
    expect(turkish.locator(".verdict")).to_contain_text("Joint Russian-Turkish Ceasefire Monitoring Centre")
    expect(turkish.locator(".arrangement")).to_contain_text("up to 60 staff per side")  # the terms, beside the verdict
    expect(turkish.locator(".arrangement")).to_contain_text("Agdam district")
    screenshot(page, "17-claims")

    liaison = browser.new_context(base_url=server.url).new_page()
    sign_in(liaison, "liaison-a", "/claims")
    assert liaison.locator("nav a[href='/airlift']").count() == 0
    # the public statements (the demo's two, and any another test of this server recorded)
    expect(liaison.locator(".statement", has_text="Ministry of National Defence of Turkey")).to_have_count(1)
    assert liaison.locator(".statement").count() >= 2
    response = liaison.goto("/airlift")
    assert response is not None and response.status == 404


def test_the_reports_page_shows_the_bulletin_to_anyone_and_the_sitrep_to_staff(page: Page, browser: Browser, server: LiveServer) -> None:
    page.goto("/reports?date=2020-11-14")
    report = page.locator("#report")
    expect(report).to_contain_text("95 flights, 22 of them in the past 24 hours")
    expect(report).to_contain_text("Military police units began patrolling")
    assert page.locator("#report-kind option[value=sitrep]").count() == 0  # the public reads the bulletin only
    expect(report.locator("figure img").first).to_have_js_property("complete", True)
    assert report.locator("figure img").first.evaluate("img => img.naturalWidth") > 500  # the official map, drawn
    screenshot(page, "18-public-bulletin")
    pdf = page.request.get(page.locator("#report-downloads a[data-format=pdf]").get_attribute("href") or "")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF-")
    page.select_option("#report-lang", "ru")
    page.click("#report-show")
    expect(report).to_contain_text("самолёты выполнили 95 рейсов, из них 22")
    page.fill("#report-date", "2020-11-01")
    page.click("#report-show")
    expect(page.locator("#report-error")).to_contain_text("2020-11-10")

    staff = browser.new_context(base_url=server.url).new_page()
    sign_in(staff, "ops", "/reports")
    staff.goto("/reports?kind=sitrep&date=2020-11-14")
    expect(staff.locator("#report")).to_contain_text("INTERNAL: not for publication")
    expect(staff.locator("#report table").first).to_be_visible()
    screenshot(staff, "19-situation-report")
    liaison = browser.new_context(base_url=server.url).new_page()
    sign_in(liaison, "liaison-b", "/reports")
    response = liaison.goto("/reports?kind=sitrep&date=2020-11-14")
    assert response is not None and response.status == 404


def test_the_duty_officer_sees_a_call_for_help_above_everything_and_acknowledges_it(page: Page, server: LiveServer) -> None:
    """A patrol's emergency arrives on the operations map live, with a chime, at the top of the alerts panel and in its
    own pane above every marker; the duty officer acknowledges it there and reads on its page who was told."""
    sign_in(page, "ops")
    wait_loaded(page)
    patrol = api_token(server, "patrol")
    client_id = f"em-browser-{datetime.now(UTC):%H%M%S%f}"
    call = httpx.post(f"{server.url}/api/v1/emergencies", headers=patrol, json={"client_id": client_id, "lat": 39.84, "lon": 46.77})
    assert call.status_code == 201, call.text
    alert = call.json()
    first = page.locator("#alerts > li").first
    expect(first).to_have_class(re.compile(r"\bemergency\b"), timeout=15_000)  # pushed live, at the top
    expect(first).to_contain_text("Emergency from patrol")
    assert page.evaluate("document.querySelector('.leaflet-emergencies-pane .alert-marker.emergency') !== null")
    assert page.evaluate("Number(getComputedStyle(document.querySelector('.leaflet-emergencies-pane')).zIndex)") > \
        page.evaluate("Number(getComputedStyle(document.querySelector('.leaflet-marker-pane')).zIndex)")
    again = httpx.post(f"{server.url}/api/v1/emergencies", headers=patrol,  # the caller moved: a repeat of the same call
                       json={"client_id": client_id, "lat": 39.85, "lon": 46.78})
    assert again.status_code == 200 and again.json()["id"] == alert["id"]
    page.wait_for_function(f"(() => {{ const p = window.peacewatch.alertPlace({alert['id']}); return p && Math.abs(p[0] - 39.85) < 1e-6; }})()",
                           timeout=30_000)  # the map follows the caller
    first.get_by_role("button", name="Acknowledge").click()
    expect(first).to_contain_text("Acknowledged")
    page.goto(f"/alerts/{alert['id']}")
    expect(page.locator("#alert-stage")).to_have_text("Acknowledged")
    expect(page.locator("#alert-acknowledged")).to_contain_text("ops")
    page.goto("/duty")
    expect(page.locator("#on-duty")).to_contain_text("Duty officer")
    screenshot(page, "duty-roster")
