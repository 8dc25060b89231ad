"""The operations map's reading aids: place names that never collide, a legend, measure and range-and-bearing."""

from __future__ import annotations

import json
import re

import httpx
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import api_token, screenshot, sign_in
from tests.live import LiveServer

STEPANAKERT, SHUSHA = (39.815, 46.752), (39.758, 46.748)


def test_place_names_never_overlap_and_the_legend_says_what_each_mark_is(page: Page) -> None:
    sign_in(page, "liaison-a")  # the gazetteer is public: every reader has the towns
    page.wait_for_function("window.peacewatch && window.peacewatch.placeCount >= 12")
    for zoom in (8, 9, 11):
        page.evaluate(f"window.peacewatch.map.setZoom({zoom}, {{animate: false}})")
        page.wait_for_function(f"(document.body.dataset.labelsAt || '').startsWith('{zoom}@')")
        boxes = page.evaluate("""() => [...document.querySelectorAll('.place-label')]
            .filter((el) => el.style.visibility !== 'hidden' && el.getBoundingClientRect().width > 0)
            .map((el) => { const b = el.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom, el.textContent]; })""")
        assert boxes, zoom
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (zoom, a, b)
    expect(page.locator(".place-label", has_text="Stepanakert")).to_be_visible()
    expect(page.locator("img.relief")).to_have_count(1)  # the ground's shape, offline, under every layer
    page.wait_for_function("document.querySelectorAll('.leaflet-overlay-pane path').length > 20")  # rivers among them
    page.locator(".legend summary").click()
    legend = page.locator(".legend li")
    expect(legend.filter(has_text="Observation post")).to_have_count(1)
    expect(legend.filter(has_text="Line of contact")).to_have_count(1)
    assert legend.count() >= 9
    screenshot(page, "33-map-place-names-and-legend")


def test_measure_gives_range_and_true_bearing(page: Page) -> None:
    sign_in(page, "ops")
    page.wait_for_function("window.peacewatch && window.peacewatch.map")
    page.evaluate(f"window.peacewatch.map.setView([{STEPANAKERT[0]}, {STEPANAKERT[1]}], 12, {{animate: false}})")
    page.get_by_role("button", name="Measure distance").click()
    expect(page.locator(".measure-readout")).to_contain_text("each click adds a point")
    box = page.locator("#map").bounding_box()
    assert box is not None
    for lat, lon in (STEPANAKERT, SHUSHA):
        point = page.evaluate(f"window.peacewatch.map.latLngToContainerPoint([{lat}, {lon}])")
        page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    readout = page.locator(".measure-readout")
    expect(readout).to_contain_text("Total 6.3")  # 0.057° of latitude: about 6.3 km
    total, bearing = int(readout.get_attribute("data-total") or 0), int(readout.get_attribute("data-bearing") or 0)
    assert 6200 <= total <= 6500 and 180 <= bearing <= 190, (total, bearing)  # Shusha lies just west of south
    screenshot(page, "34-map-measure")
    page.get_by_role("button", name="Measure distance").click()
    expect(readout).to_be_hidden()


def test_the_alert_sound_can_be_muted_and_stays_muted(page: Page) -> None:
    sign_in(page, "ops")
    button = page.locator("#mute")
    expect(button).to_have_attribute("aria-pressed", "false")
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(button).to_have_text("Sound off")
    page.reload()
    expect(page.locator("#mute")).to_have_attribute("aria-pressed", "true")  # remembered on this computer


def test_a_patrol_planned_while_the_live_map_is_open_appears_without_a_reload(page: Page, server: LiveServer) -> None:
    page.add_init_script("window.peacewatchPlanRefreshMs = 300")
    sign_in(page, "ops", "/map")
    page.wait_for_function("window.peacewatch && window.peacewatch.routeNames")
    # the demo's records end in November 2020: the map opens there and says so; Live is one press away
    expect(page.locator("#notice")).to_contain_text("records end at 2020-11-")
    assert page.locator("#live").get_attribute("aria-pressed") == "false"
    page.click("#live")
    expect(page.locator("#live")).to_have_attribute("aria-pressed", "true")
    headers = api_token(server, "ops")
    area = httpx.get(f"{server.url}/api/v1/areas", headers=headers).json()["features"][0]
    unit = httpx.get(f"{server.url}/api/v1/units", headers=headers).json()[0]
    day = page.locator("#day").input_value()
    patrol = httpx.post(f"{server.url}/api/v1/patrols", headers=headers, json={
        "name": "N9 planned meanwhile", "unit_id": unit["id"], "zone_id": area["id"],
        "planned_start": f"{day}T06:00:00Z", "planned_end": f"{day}T10:00:00Z",
        "route": {"type": "LineString", "coordinates": [[46.80, 40.05], [46.85, 40.10]]}})
    assert patrol.status_code == 201, patrol.text
    page.wait_for_function("window.peacewatch.routeNames().includes('N9 planned meanwhile')")


def test_filter_by_unit_and_kind_cluster_incidents_and_play_the_day(page: Page) -> None:
    page.add_init_script("window.peacewatchPlayStepMs = 150")
    sign_in(page, "ops", "/map?at=2020-11-14T12:30")  # Baku time: the demo's four patrols are out, alerts raised
    page.wait_for_function("document.body.dataset.loaded !== undefined && window.peacewatch.trackerPosition('MP-N1')")
    expect(page.locator("#alerts li:not([hidden])").first).to_be_visible()
    alerts_before = page.locator("#alerts li:not([hidden])").count()
    page.select_option("#filter-unit", label="Military Police Company North")
    page.wait_for_function("window.peacewatch.visiblePatrols === 2")  # N1 and N2; the South's are hidden
    shown = page.locator("#alerts li:not([hidden]) .message").all_inner_texts()
    assert len(shown) < alerts_before and all("N1" in m or "N2" in m for m in shown), shown  # the South's alerts hidden
    page.select_option("#filter-kind", "left_area")
    expect(page.locator("#alerts li:not([hidden])")).to_have_count(
        page.locator("#alerts li.left_area:not([hidden])").count())
    page.select_option("#filter-unit", "")
    page.select_option("#filter-kind", "")
    page.wait_for_function("window.peacewatch.visiblePatrols === 4")
    # a day of incidents, seen from afar: close ones are one cluster with their number, which a click opens
    page.goto("/map?at=2020-11-17T19:00")
    page.wait_for_function("document.body.dataset.loaded !== undefined && window.peacewatch.incidentCount() > 0")
    page.evaluate("window.peacewatch.map.setZoom(7, {animate: false})")
    cluster = page.locator(".incident-cluster").first
    expect(cluster).to_be_visible()
    assert int(cluster.inner_text()) >= 2
    cluster.click()
    page.wait_for_function("window.peacewatch.map.getZoom() > 7")
    screenshot(page, "35-map-incident-clusters")
    # playback: the time bar steps on by itself and stops when asked
    clock = page.locator("#clock").inner_text()
    page.click("#play")
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "true")
    page.wait_for_function(f"document.getElementById('clock').textContent !== '{clock}'")
    page.click("#play")
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "false")


def test_an_area_is_changed_from_the_map_through_its_form_filled_in(page: Page, server: LiveServer) -> None:
    sign_in(page, "ops", "/map?at=2020-11-14T12:30")
    page.wait_for_function("document.body.dataset.loaded !== undefined")
    box = page.locator("#map").bounding_box()
    assert box is not None
    inside_north = page.evaluate("window.peacewatch.map.latLngToContainerPoint([40.22, 46.47])")
    page.mouse.click(box["x"] + inside_north["x"], box["y"] + inside_north["y"])
    page.get_by_role("link", name="Change its shape or details").click()
    page.wait_for_function("window.peacewatch && window.peacewatch.taskReady")
    geometry = json.loads(page.locator("#f-body-geometry").input_value())
    assert geometry["type"] == "Polygon" and len(geometry["coordinates"][0]) >= 4  # its shape, drawn on the form's map
    expect(page.locator(".geometry path.leaflet-interactive").first).to_be_visible()
    vertices = len(geometry["coordinates"][0]) - 1  # each one a handle to move (a shape of hundreds is redrawn instead)
    expect(page.locator(".geometry .vertex-handle")).to_have_count(vertices if vertices <= 400 else 0)
    page.fill("#f-body-properties-notes", "Boundary as agreed at the Stepanakert meeting")
    page.click("#task-form button[type=submit]")
    expect(page.locator("#task-result")).to_contain_text("Done")
    areas = httpx.get(f"{server.url}/api/v1/areas", headers=api_token(server, "ops")).json()["features"]
    assert any(a["properties"]["notes"] == "Boundary as agreed at the Stepanakert meeting" for a in areas)


def test_a_zones_shape_is_corrected_point_by_point_with_the_mouse_and_the_keyboard(page: Page, server: LiveServer) -> None:
    sign_in(page, "ops", "/tasks/create_zone_api_v1_restricted_zones_post")
    page.wait_for_function("window.peacewatch && window.peacewatch.taskReady")
    mini = page.locator(".geometry .mini-map")
    box = mini.bounding_box()
    assert box is not None
    corners = [(0.3, 0.3), (0.7, 0.3), (0.7, 0.7), (0.3, 0.7)]
    for x, y in corners:  # four clicks: a square
        page.mouse.click(box["x"] + box["width"] * x, box["y"] + box["height"] * y)
    handles = page.locator(".geometry .vertex-handle")
    expect(handles).to_have_count(4)

    def ring() -> list[list[float]]:
        return json.loads(page.locator("#f-body-geometry").input_value())["coordinates"][0]

    before = ring()
    # the third corner dragged further out: its coordinates change, the others stay
    third = handles.nth(2).bounding_box()
    assert third is not None
    page.mouse.move(third["x"] + 7, third["y"] + 7)
    page.mouse.down()
    page.mouse.move(third["x"] + 47, third["y"] + 37, steps=5)
    page.mouse.up()
    page.wait_for_function(f"JSON.parse(document.getElementById('f-body-geometry').value).coordinates[0][2][0] > {before[2][0]}")
    after = ring()
    assert after[0] == before[0] and after[1] == before[1] and after[2][1] < before[2][1]  # east and south
    # the first corner moved with the keyboard: focused, an arrow key steps it north
    handles.nth(0).focus()
    page.keyboard.press("ArrowUp")
    page.wait_for_function(f"JSON.parse(document.getElementById('f-body-geometry').value).coordinates[0][0][1] > {after[0][1]}")
    # the fourth corner removed with a right-click: a triangle, still closed
    handles.nth(3).click(button="right")
    expect(handles).to_have_count(3)
    triangle = ring()
    assert len(triangle) == 4 and triangle[0] == triangle[-1]
    page.fill("#f-body-properties-code", "RZ-DRAWN")
    page.fill("#f-body-properties-name", "Drawn by hand, corrected point by point")
    page.click("#task-form button[type=submit]")
    expect(page.locator("#task-result")).to_contain_text("Done")
    zones = httpx.get(f"{server.url}/api/v1/restricted-zones", headers=api_token(server, "ops")).json()["features"]
    stored = next(z for z in zones if z["properties"]["code"] == "RZ-DRAWN")
    assert len(stored["geometry"]["coordinates"][0]) == 4
    assert abs(stored["geometry"]["coordinates"][0][2][0] - triangle[2][0]) < 1e-6


def test_patrols_heard_at_one_spot_are_fanned_out_so_none_hides_another(page: Page, server: LiveServer) -> None:
    ops = api_token(server, "ops")
    codes = [t["code"] for t in httpx.get(f"{server.url}/api/v1/trackers", headers=ops).json()[:2]]
    fixes = [{"tracker": code, "t": "2020-11-22T09:00:00Z", "lat": 39.9012, "lon": 46.7021} for code in codes]
    stored = httpx.post(f"{server.url}/api/v1/positions", json={"positions": fixes}, headers=ops)
    assert stored.status_code == 200 and stored.json()["stored"] == 2, stored.text
    sign_in(page, "ops", "/map?at=2020-11-22T13:05")  # Baku time: five minutes after the fixes
    page.wait_for_function("document.body.dataset.loaded !== undefined")
    symbols = [page.locator(f'img.patrol-symbol[title^="{code}"]') for code in codes]
    for symbol in symbols:
        expect(symbol).to_be_visible()
    first, second = (symbol.bounding_box() for symbol in symbols)
    assert first is not None and second is not None
    apart = (first["x"] + first["width"] <= second["x"] or second["x"] + second["width"] <= first["x"]
             or first["y"] + first["height"] <= second["y"] or second["y"] + second["height"] <= first["y"])
    assert apart, (first, second)
    expect(page.locator("path.leader-line")).to_have_count(2)  # the leader lines to where they are


def test_go_to_a_town_by_its_cyrillic_name_a_grid_reference_and_a_post(page: Page) -> None:
    """The watch officer types what a caller said: a town in Russian, a grid reference read off a map, a post's code."""
    sign_in(page, "ops")
    page.wait_for_function("window.peacewatch && window.peacewatch.placeCount >= 12 && window.peacewatch.postCount() > 0")
    box = page.get_by_role("combobox", name="Go to")
    box.fill("степанакерт")  # lower case, Cyrillic: the town's Russian name from Natural Earth
    option = page.get_by_role("option").first
    expect(option).to_contain_text("Stepanakert")
    option.click()
    expect(page.locator("#map")).to_have_attribute("data-went-to", "Stepanakert")
    centred_on = "([lat, lon]) => { const c = window.peacewatch.map.getCenter(); return Math.abs(c.lat - lat) + Math.abs(c.lng - lon) < 0.005; }"
    page.wait_for_function(centred_on, arg=list(STEPANAKERT))
    # a 1 km grid reference: the map goes to the square's middle, and the ring marks it
    box.fill("38S PK 49 07")
    box.press("Enter")
    expect(page.locator("#map")).to_have_attribute("data-went-to", "MGRS 38SPK4950007500")
    page.wait_for_function(centred_on, arg=[39.8045, 46.7464])  # 38SPK 49500 07500, the 1 km square's middle
    expect(page.locator("path.goto-mark")).to_have_count(1)
    box.fill("38S PK 4")  # half a grid reference: said, not guessed
    box.press("Enter")
    expect(page.locator(".goto-said")).to_contain_text("MGRS")
    # a post by its code, chosen with the keyboard
    code = page.evaluate("document.querySelector('.leaflet-marker-icon.symbol').getAttribute('title').split(' ')[0]")
    box.fill(code)
    box.press("ArrowDown")
    box.press("Enter")
    expect(page.locator("#map")).to_have_attribute("data-went-to", re.compile(re.escape(code)))
    box.fill("Atlantis")
    box.press("Enter")
    expect(page.locator(".goto-said")).to_contain_text("Nothing on the map is called")
    screenshot(page, "35-map-go-to")


def _click_map(page: Page, lat: float, lon: float) -> None:
    box = page.locator("#map").bounding_box()
    assert box is not None
    point = page.evaluate(f"window.peacewatch.map.latLngToContainerPoint([{lat}, {lon}])")
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])


def _drawing_on(browser: Browser, server: LiveServer, at: tuple[float, float], what: str) -> tuple[BrowserContext, Page]:
    """The operations map of a watch officer, at ``at``, its drawing panel open on ``what``."""
    context = browser.new_context(base_url=server.url, viewport={"width": 1400, "height": 900}, bypass_csp=True)
    page = context.new_page()
    sign_in(page, "ops")
    page.wait_for_function("document.body.dataset.loaded && window.peacewatch.postCount() > 0")
    page.evaluate(f"window.peacewatch.map.setView([{at[0]}, {at[1]}], 12, {{animate: false}})")
    page.get_by_role("button", name="Draw on the map").click()
    page.get_by_label("What").select_option(what)
    return context, page


def test_a_zone_drawn_on_the_operations_map_reaches_only_the_side_it_is_shared_with(browser: Browser, server: LiveServer) -> None:
    """The watch officer draws a restricted zone among the areas, posts and towns, shares it with side A, corrects its
    name in place; A's liaison officer sees it on the map, B's does not."""
    context, page = _drawing_on(browser, server, SHUSHA, "restricted_zone")
    page.get_by_role("button", name="Save").click()  # nothing drawn, no name: said beside each, nothing stored
    expect(page.locator('[data-error-for="geometry"]')).to_have_text("Draw it on the map first.")
    expect(page.locator('[data-error-for="name"]')).to_be_visible()
    for dlat, dlon in ((0.01, -0.02), (0.01, 0.02), (-0.015, 0.0)):
        _click_map(page, SHUSHA[0] + dlat, SHUSHA[1] + dlon)
    expect(page.locator(".vertex-handle")).to_have_count(3)
    page.get_by_label("Name", exact=True).fill("Shusha approach closed")
    expect(page.get_by_label("Code")).to_have_value("SHUSHA-APPROACH-CLOSED")  # offered from the name
    page.get_by_label("Shared with").select_option("side_a")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".draw-said")).to_have_text("Saved: Shusha approach closed")
    page.wait_for_function("window.peacewatch.zoneNames().includes('Shusha approach closed')")
    # corrected in place: its popup's "Edit here" opens the same panel with its points as handles
    centre = page.evaluate("window.peacewatch.zoneLatLng('Shusha approach closed')")
    _click_map(page, centre["lat"], centre["lng"])
    page.get_by_role("button", name="Edit here").click()
    expect(page.locator(".vertex-handle")).to_have_count(3)
    expect(page.get_by_label("Name", exact=True)).to_have_value("Shusha approach closed")
    page.get_by_label("Name", exact=True).fill("Shusha approach: closed to traffic")
    page.get_by_role("button", name="Save").click()
    page.wait_for_function("window.peacewatch.zoneNames().includes('Shusha approach: closed to traffic')")
    screenshot(page, "36-map-draw-zone")
    context.close()
    for liaison, sees in (("liaison-a", True), ("liaison-b", False)):
        context = browser.new_context(base_url=server.url, bypass_csp=True)
        page = context.new_page()
        sign_in(page, liaison)
        page.wait_for_function("document.body.dataset.loaded")
        names = page.evaluate("window.peacewatch.zoneNames()")
        assert ("Shusha approach: closed to traffic" in names) is sees, (liaison, names)
        assert not page.get_by_role("button", name="Draw on the map").count()  # a liaison officer draws nothing
        context.close()


def test_a_post_and_a_marker_are_put_on_the_map_where_they_are(browser: Browser, server: LiveServer) -> None:
    """A post drawn on the map belongs to the area it stands in; a marker shared with everyone reaches the press."""
    context, page = _drawing_on(browser, server, STEPANAKERT, "checkpoint")
    _click_map(page, STEPANAKERT[0] - 0.01, STEPANAKERT[1] + 0.01)
    expect(page.get_by_label("Zone", exact=True)).to_have_value(re.compile(r"\d+"))
    assert page.get_by_label("Zone", exact=True).evaluate("(s) => s.selectedOptions[0].text") == "South area of responsibility"
    page.get_by_label("Name", exact=True).fill("Stepanakert east gate")
    page.get_by_label("Name in Russian").fill("Восточный въезд в Степанакерт")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".draw-said")).to_have_text("Saved: Stepanakert east gate")
    page.get_by_role("button", name="Draw on the map").click()
    page.get_by_label("What").select_option("marker")
    _click_map(page, STEPANAKERT[0] + 0.01, STEPANAKERT[1] - 0.01)
    page.get_by_label("Name", exact=True).fill("Body exchange point")
    page.get_by_label("Name in Russian").fill("Пункт обмена телами")
    page.get_by_label("Shared with").select_option("public")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".draw-said")).to_have_text("Saved: Body exchange point")
    context.close()
    seen = httpx.get(f"{server.url}/api/v1/places", params={"limit": 10000}, headers=api_token(server, "press")).json()
    assert "Body exchange point" in {f["properties"]["name"] for f in seen["features"]}
    posts = httpx.get(f"{server.url}/api/v1/posts", params={"limit": 10000}, headers=api_token(server, "ops")).json()
    gate = next(f for f in posts["features"] if f["properties"]["name"] == "Stepanakert east gate")
    assert gate["properties"]["kind"] == "checkpoint" and gate["properties"]["zone_code"] == "south"


OVERLAPS = """(selectors) => {
  const boxes = [...document.querySelectorAll(selectors)].filter((el) => el.style.visibility !== 'hidden')
    .map((el) => { const b = el.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom, el.textContent || el.className]; })
    .filter((b) => b[2] > b[0]);
  const hits = [];
  boxes.forEach((a, i) => boxes.slice(i + 1).forEach((b) => {
    if (a[0] < b[2] - 1 && b[0] < a[2] - 1 && a[1] < b[3] - 1 && b[1] < a[3] - 1) hits.push([a[4], b[4]]);
  }));
  return hits;
}"""


def test_no_patrol_symbol_or_label_hides_another_and_quiet_patrols_say_for_how_long(page: Page) -> None:
    """The demo's opening view and the busiest moment of its patrol day: no two patrol symbols overlap, no town's name
    lies under a patrol's call sign, posts carry their codes, and a patrol not heard for ten minutes says how long."""
    for moment in ("", "?at=2020-11-14T14:50"):
        sign_in(page, "ops", f"/map{moment}")
        page.wait_for_function("document.body.dataset.loaded && document.querySelectorAll('.post-label').length > 0")
        # a pass of the declutter after everything is drawn (the map runs one after each moment it loads)
        page.evaluate("document.body.dataset.labelsAt = ''; window.peacewatch.map.fire('moveend')")
        page.wait_for_function("document.body.dataset.labelsAt")
        assert page.evaluate(OVERLAPS, "img.patrol-symbol") == []
        assert page.evaluate(OVERLAPS, ".leaflet-tooltip.tracker-label, .place-label") == []
        assert page.evaluate(OVERLAPS, ".place-label, .post-label") == []
    quiet = dict(page.evaluate("window.peacewatch.quietTrackers()"))
    assert quiet and all(minutes >= 10 for minutes in quiet.values()), quiet
    code, minutes = next(iter(quiet.items()))
    expect(page.locator(".leaflet-tooltip.tracker-label.quiet", has_text=f"{code} · {minutes} min")).to_have_count(1)
    # alerts, incidents and calls for help are each their own APP-6 symbol, not the same circle
    page.wait_for_function("document.querySelectorAll('.app6.alert-marker img.symbol').length > 0")
    alert_symbol = page.locator(".app6.alert-marker img.symbol").first.get_attribute("src")
    incident_symbols = {page.locator(".app6.incident img.symbol").nth(i).get_attribute("src")
                        for i in range(page.locator(".app6.incident img.symbol").count())}
    assert alert_symbol and incident_symbols and alert_symbol not in incident_symbols
    screenshot(page, "37-map-decluttered")


def test_playback_goes_at_the_chosen_speed(page: Page) -> None:
    page.add_init_script("window.peacewatchPlayStepMs = 150")
    sign_in(page, "ops", "/map?at=2020-11-14T08:00")
    page.wait_for_function("document.body.dataset.loaded")
    page.select_option("#play-step", "60")
    page.click("#play")
    page.wait_for_function("document.getElementById('clock').textContent === '09:00'")
    page.click("#play")
    assert page.locator("#clock").inner_text() in {"09:00", "10:00"}  # an hour a step: never a five-minute mark between


def test_a_moving_patrol_shows_where_it_will_be_and_rings_give_ranges(page: Page, server: LiveServer) -> None:
    """A fix with a heading and a speed (as ATAK's and a GPS's carry) draws a line to where the patrol will be in five
    minutes; a halted one none. Range rings centred with a click are labelled with their distances."""
    ops = api_token(server, "ops")
    codes = [t["code"] for t in httpx.get(f"{server.url}/api/v1/trackers", headers=ops).json()[:2]]
    fixes = [{"tracker": codes[0], "t": "2020-11-23T07:00:00Z", "lat": 39.80, "lon": 46.70, "heading": 90.0, "speed": 10.0},
             {"tracker": codes[1], "t": "2020-11-23T07:00:00Z", "lat": 39.90, "lon": 46.60, "heading": 90.0, "speed": 0.0}]
    stored = httpx.post(f"{server.url}/api/v1/positions", json={"positions": fixes}, headers=ops)
    assert stored.status_code == 200 and stored.json()["stored"] == 2, stored.text
    sign_in(page, "ops", "/map?at=2020-11-23T11:02")  # Baku time: two minutes after the fixes
    page.wait_for_function("document.body.dataset.loaded && window.peacewatch.vectorTips().length > 0")
    tips = page.evaluate("window.peacewatch.vectorTips()")
    assert len(tips) == 1, tips  # the halted patrol has no vector
    _, lat, lon = tips[0]
    # 10 m/s for five minutes due east: 3 km, 0.0351° of longitude at 39.8° N
    assert abs(lat - 39.80) < 1e-4 and abs(lon - (46.70 + 3000 / (111_195 * 0.76828))) < 2e-4, tips
    page.evaluate(f"window.peacewatch.map.setView([{SHUSHA[0]}, {SHUSHA[1]}], 11, {{animate: false}})")
    page.get_by_role("button", name="Range rings").click()
    _click_map(page, *SHUSHA)
    expect(page.locator("#map")).to_have_attribute("data-rings", "4")
    expect(page.locator(".ring-label")).to_have_text(["1 km", "2 km", "5 km", "10 km"])
    page.get_by_role("button", name="Clear the rings").click()
    expect(page.locator("path.range-ring")).to_have_count(0)
