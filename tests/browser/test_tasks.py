"""Every write of a role from its pages: the tasks list and the forms built from the API's schema."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect

from tests.browser.conftest import api_token, screenshot, sign_in
from tests.live import LiveServer

RECOVERY = "/tasks/record_recovery_api_v1_recoveries_post"


def test_the_humanitarian_records_a_recovery_from_a_form_and_sees_every_error_at_once(page: Page, server: LiveServer) -> None:
    sign_in(page, "humanitarian", "/tasks")
    page.get_by_role("link", name="Record a recovery: each body and part gets its number").click()
    page.wait_for_url(f"**{RECOVERY}")
    page.wait_for_function("window.peacewatch && window.peacewatch.taskReady")
    # an empty form: every missing field is named beside itself, in plain words, in one answer
    page.click("#task-form button[type=submit]")
    for field in ("recovered_at", "site", "team", "side", "bodies_found"):
        expect(page.locator(f'[data-error-for="body.{field}"]')).to_have_text("Fill this in.")
    expect(page.locator('[data-error-for=""]')).to_contain_text("5 field(s) to correct")
    assert page.locator('[aria-invalid="true"]').count() == 5
    screenshot(page, "30-task-recovery-errors")
    # filled in, with the site clicked on the map and one body with its PM record
    page.fill("#f-body-recovered_at", "2020-11-20T09:30")  # Baku time: 05:30 UTC
    page.locator(".geometry .mini-map").click()
    expect(page.locator("#f-body-site")).to_have_value(re.compile('"type":"Point"'))
    page.fill("#f-body-team", "ICRC team 2")
    page.select_option("#f-body-side", "A")
    page.fill("#f-body-bodies_found", "1")
    page.click("[data-list='body.bodies'] > [data-add]")
    page.select_option("#f-body-bodies-0-kind", "body")
    page.select_option("#f-body-bodies-0-post_mortem-sex", "male")
    # the teeth on a chart, not a JSON object: a filled upper molar, a lower one extracted
    chart = page.locator("#f-body-bodies-0-post_mortem-dental")
    expect(chart.locator("select[data-tooth]")).to_have_count(32)
    chart.get_by_label("Tooth 16").select_option(label="filled")
    chart.get_by_label("Tooth 36").select_option(label="extracted")
    page.click("#task-form button[type=submit]")
    expect(page.locator("#task-result")).to_contain_text("Done")
    number = page.locator("#task-result a").get_attribute("href").rsplit("/", 1)[-1]
    body = httpx.get(f"{server.url}/api/v1/bodies/{number}", headers=api_token(server, "humanitarian")).json()
    assert body["post_mortem"]["sex"] == "male"
    assert body["post_mortem"]["dental"] == {"16": "filled", "36": "extracted"}
    recovery = httpx.get(f"{server.url}/api/v1/recoveries?limit=1000", headers=api_token(server, "humanitarian")).json()
    assert any(r["team"] == "ICRC team 2" and r["recovered_at"].startswith("2020-11-20T05:30") for r in recovery)
    screenshot(page, "31-task-recovery-stored")


def test_an_irreversible_step_asks_why_and_the_audit_log_keeps_the_reason(page: Page, server: LiveServer) -> None:
    admin = api_token(server, "admin")
    token = httpx.post(f"{server.url}/api/v1/api-tokens", json={"name": "lost handheld 7", "username": "patrol"},
                       headers=admin)
    assert token.status_code == 201, token.text
    token_id = token.json()["id"]
    sign_in(page, "admin", "/tasks")
    expect(page.locator("a[data-operation^=revoke_api_token]")).to_be_visible()
    page.goto(f"/tasks/revoke_api_token_api_v1_api_tokens__token_id__revoke_post?path.token_id={token_id}")
    page.wait_for_function("window.peacewatch && window.peacewatch.taskReady")
    expect(page.locator("#f-path-token_id")).to_have_value(str(token_id))
    page.click("#task-form button[type=submit]")
    dialog = page.locator("#confirm")
    expect(dialog).to_be_visible()
    page.click("#confirm-go")  # no reason: refused in the dialog
    expect(page.locator("#confirm-error")).to_be_visible()
    page.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert httpx.get(f"{server.url}/api/v1/api-tokens", headers=admin).json()[-1]["revoked_at"] is None
    page.click("#task-form button[type=submit]")
    page.fill("#confirm-reason", "Handheld 7 lost at OP-12, reported by the patrol commander")
    page.click("#confirm-go")
    expect(page.locator("#task-result")).to_contain_text("Done")
    tokens = {t["id"]: t for t in httpx.get(f"{server.url}/api/v1/api-tokens", headers=admin).json()}
    assert tokens[token_id]["revoked_at"] is not None
    entries = httpx.get(f"{server.url}/api/v1/audit?entity=api_tokens&entity_id={token_id}", headers=admin).json()
    assert any(e["reason"] == "Handheld 7 lost at OP-12, reported by the patrol commander" for e in entries)


def test_each_role_sees_only_its_own_writes_and_a_press_officer_records_a_statement(page: Page) -> None:
    sign_in(page, "press", "/tasks")
    links = page.locator("a[data-operation]")
    operations = {links.nth(i).get_attribute("data-operation") for i in range(links.count())}
    # the press office's writes: its statements, which photos of public incidents the bulletin shows, and (as every
    # member of the mission) calling for help and calling it off
    assert operations == {"create_statement_api_v1_statements_post", "change_attachment_api_v1_attachments__attachment_id__patch",
                          "call_for_help_api_v1_emergencies_post", "call_off_api_v1_emergencies__client_id__cancel_post"}, operations
    response = page.goto("/tasks/record_recovery_api_v1_recoveries_post")
    assert response is not None and response.status == 404
    screenshot(page, "32-tasks-press")


def tab_to(page: Page, element_id: str, limit: int = 60) -> None:
    """Press Tab until ``element_id`` has the focus, as a keyboard user does."""
    for _ in range(limit):
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached #{element_id}")


def test_a_patrol_commander_reports_from_the_field_with_the_keyboard_alone(page: Page, server: LiveServer) -> None:
    sign_in(page, "patrol", "/tasks/check_in_api_v1_patrols__patrol_id__check_ins_post")
    page.wait_for_function("window.peacewatch && window.peacewatch.taskReady")
    page.wait_for_function("document.getElementById('f-path-patrol_id').options.length > 1")  # the patrols, loaded
    tab_to(page, "f-path-patrol_id")
    page.keyboard.type("S2")  # typed on a list, as a keyboard user picks: the patrol still under way in the demo
    chosen = page.locator("#f-path-patrol_id").input_value()
    assert chosen and "S2" in page.locator("#f-path-patrol_id option:checked").inner_text()
    tab_to(page, "f-body-note")
    page.keyboard.type("At OP-12, all quiet, moving on to Askeran")
    for _ in range(3):  # past the fields a device fills (its client id), to the submit button
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.type") == "submit":
            break
    assert page.evaluate("document.activeElement.type") == "submit"
    page.keyboard.press("Enter")
    result = page.locator("#task-result")
    expect(result).to_contain_text("Done")
    check_ins = httpx.get(f"{server.url}/api/v1/patrols/{chosen}/check-ins", headers=api_token(server, "patrol"))
    assert any(c["note"] == "At OP-12, all quiet, moving on to Askeran" for c in check_ins.json()), check_ins.text


def test_the_press_office_records_a_statement_and_finds_it_checked(page: Page) -> None:
    sign_in(page, "press", "/claims")
    page.get_by_role("link", name="Record a statement").click()
    page.wait_for_function("window.peacewatch && window.peacewatch.taskReady")
    page.fill("#f-body-speaker", "Ministry of Foreign Affairs spokesperson")
    page.fill("#f-body-state", "TUR")
    page.fill("#f-body-stated_on", "2020-11-20")
    page.fill("#f-body-source", "Anadolu Agency")
    page.fill("#f-body-quote", "Turkish troops take part in the monitoring, the spokesperson told reporters in Ankara.")
    page.select_option("#f-body-subject", "participation")
    page.select_option("#f-body-stance", "claims")
    page.click("#task-form button[type=submit]")  # no subject state: the rule says so, in plain words
    expect(page.locator('[data-error-for=""]')).to_contain_text("subject_state is required")
    page.fill("#f-body-subject_state", "TUR")
    page.click("#task-form button[type=submit]")
    expect(page.locator("#task-result")).to_contain_text("Done")
    page.goto("/claims")
    statement = page.locator(".statement blockquote", has_text="the spokesperson told reporters in Ankara").locator("..")
    expect(statement).to_have_count(1)
    expect(statement.locator(".verdict")).to_contain_text("Contradicted")  # no part for Türkiye before the monitoring centre of 2021
    expect(statement.locator(".verdict")).to_contain_text("is not an authorised contributor")


def test_a_liaison_files_a_missing_person_for_its_own_side_only(page: Page, server: LiveServer) -> None:
    sign_in(page, "liaison-a", "/tasks")
    page.locator("a[data-operation^=file_missing]").click()
    page.wait_for_function("window.peacewatch && window.peacewatch.taskReady")
    page.fill("#f-body-family_name", "Hovhannisyan")
    page.fill("#f-body-given_names", "Aram")
    page.select_option("#f-body-side", "B")  # the other side's person: refused, naming the field
    page.select_option("#f-body-status", "military")
    page.fill("#f-body-reported_on", "2020-11-20")
    page.fill("#f-body-reporter_name", "Liaison officer, side A")
    page.click("#task-form button[type=submit]")
    expect(page.locator('[data-error-for="body.side"]')).to_contain_text("its own side")
    page.select_option("#f-body-side", "A")
    page.click("#task-form button[type=submit]")
    expect(page.locator("#task-result")).to_contain_text("Done")
    found = re.search(r"(AM-\d{4}-\d+)", page.locator("#task-result").inner_text())
    assert found, page.locator("#task-result").inner_text()
    number = found.group(1)
    mine = httpx.get(f"{server.url}/api/v1/missing-persons/{number}", headers=api_token(server, "liaison-a"))
    assert mine.status_code == 200, mine.text
    assert httpx.get(f"{server.url}/api/v1/missing-persons/{number}", headers=api_token(server, "liaison-b")).status_code == 404


GARMIN_GPX = b"""<?xml version="1.0" encoding="UTF-8" standalone="no" ?>
<gpx xmlns="http://www.topografix.com/GPX/1/1" xmlns:gpxx="http://www.garmin.com/xmlschemas/GpxExtensions/v3"
     creator="eTrex 32x" version="1.1">
  <metadata><link href="http://www.garmin.com"><text>Garmin International</text></link><time>2020-11-20T08:40:12Z</time></metadata>
  <wpt lat="39.8150" lon="46.7510"><ele>812.4</ele><name>CRATER 3</name><sym>Flag, Blue</sym></wpt>
  <wpt lat="39.8162" lon="46.7533"><ele>809.0</ele><time>2020-11-20T08:21:00Z</time><name>CP NORTH GATE</name><sym>Flag, Red</sym></wpt>
  <trk><name>ACTIVE LOG 20-NOV-20</name>
    <extensions><gpxx:TrackExtension><gpxx:DisplayColor>Cyan</gpxx:DisplayColor></gpxx:TrackExtension></extensions>
    <trkseg>
      <trkpt lat="39.8101" lon="46.7480"><ele>820.1</ele><time>2020-11-20T08:00:00Z</time></trkpt>
      <trkpt lat="39.8120" lon="46.7495"><ele>818.7</ele><time>2020-11-20T08:05:00Z</time></trkpt>
      <trkpt lat="39.8139" lon="46.7502"><ele>815.2</ele><time>2020-11-20T08:10:00Z</time></trkpt>
    </trkseg>
  </trk>
</gpx>
"""


def test_a_patrol_sends_its_garmin_track_through_the_form_and_its_waypoints_become_places(
        page: Page, server: LiveServer) -> None:
    trackers = httpx.get(f"{server.url}/api/v1/trackers", headers=api_token(server, "ops")).json()
    tracker = trackers[0]["code"]
    sign_in(page, "patrol", "/tasks/record_gpx_api_v1_positions_gpx_post")
    page.wait_for_function("window.peacewatch && window.peacewatch.taskReady")
    page.set_input_files("#f-body-file", files=[{"name": "Track_20-NOV-20.gpx", "mimeType": "application/gpx+xml",
                                                  "buffer": GARMIN_GPX}])
    page.select_option("#f-body-tracker", tracker)  # chosen by its code from the trackers the patrol may see
    page.select_option("#f-body-waypoints", "places")
    page.click("#task-form button[type=submit]")
    result = page.locator("#task-result")
    expect(result).to_contain_text("Done")
    track = httpx.get(f"{server.url}/api/v1/trackers/{trackers[0]['id']}/track?since=2020-11-20T07:59:00Z"
                      "&until=2020-11-20T08:11:00Z", headers=api_token(server, "ops"))
    assert track.status_code == 200, track.text
    assert len(track.json()["geometry"]["coordinates"]) == 3
    places = httpx.get(f"{server.url}/api/v1/places", headers=api_token(server, "ops")).json()["features"]
    names = {p["properties"]["name"] for p in places}
    assert {"CRATER 3", "CP NORTH GATE"} <= names  # the untimed waypoint kept too, as a place


def test_the_air_cell_imports_a_flight_log_and_is_told_which_row_was_refused(page: Page, server: LiveServer) -> None:
    air = api_token(server, "air")
    exported = httpx.get(f"{server.url}/api/v1/flights?format=csv&limit=1", headers=air)
    assert exported.status_code == 200, exported.text
    header, row = exported.text.splitlines()[:2]
    columns = header.split(",")
    good = dict(zip(columns, row.split(","), strict=True))
    good.update(tail_number="RA-78830", status="planned", actual_departure="", actual_arrival="",
                planned_departure="2020-11-25T06:00:00+00:00", planned_arrival="2020-11-25T09:00:00+00:00",
                personnel="0", armoured="0", vehicles="0")  # cargo: the force is at its ceiling
    bad = {**good, "tail_number": "RA-78831", "arrival": good["departure"]}  # to where it left from
    log = "\n".join([header, *(",".join(str(r[c]) for c in columns) for r in (good, bad))]) + "\n"
    sign_in(page, "air", "/tasks/import_flights_api_v1_flights_import_post")
    page.wait_for_function("window.peacewatch && window.peacewatch.taskReady")
    page.set_input_files("#f-body", files=[{"name": "log.csv", "mimeType": "text/csv", "buffer": log.encode()}])
    page.click("#task-form button[type=submit]")
    result = page.locator("#task-result")
    expect(result).to_contain_text("Done")
    expect(result).to_contain_text("is the departure airfield")  # the refused row, with its reason
    flights = httpx.get(f"{server.url}/api/v1/flights?limit=1000", headers=air).json()
    tails = [f["tail_number"] for f in flights]
    assert "RA-78830" in tails and "RA-78831" not in tails, result.inner_text()


def test_the_alert_picker_says_each_alert_in_the_readers_language_on_the_missions_clock(page: Page, server: LiveServer) -> None:
    """Sharing an alert: the open alerts are offered as the map says them, in Russian and Baku time, not as the
    English sentence the server keeps ("silent since 10:29 UTC")."""
    page.context.add_cookies([{"name": "pw_lang", "value": "ru", "url": server.url}])
    sign_in(page, "ops", "/tasks/share_api_v1_alerts__alert_id__share_post")
    page.wait_for_function("window.peacewatch && window.peacewatch.taskReady")
    picker = page.locator("select[data-kind=reference], select[data-path='path.alert_id']").first
    expect(picker.locator("option")).not_to_have_count(1)
    options = picker.locator("option:not([value=''])").all_inner_texts()
    assert options and not [o for o in options if "UTC" in o or re.search(r"\b(silent|left|entered|strayed)\b", o)], options
    assert all(re.search("[А-Яа-я]", o) and re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", o) for o in options), options


def test_bodies_are_handed_over_by_ticking_those_still_in_custody_and_the_list_is_printed(page: Page, server: LiveServer) -> None:
    """No body number is typed: the form lists the bodies still in the mission's custody, the identification form
    the bodies not yet identified, and a handover stored leads to its printable list."""
    humanitarian = api_token(server, "humanitarian")
    waiting = httpx.get(f"{server.url}/api/v1/bodies", params={"awaiting_handover": True, "limit": 1000}, headers=humanitarian).json()
    everything = httpx.get(f"{server.url}/api/v1/bodies", params={"limit": 1000}, headers=humanitarian).json()
    assert waiting and len(waiting) < len(everything) and all(b["handover"] is None for b in waiting)
    sign_in(page, "humanitarian", "/tasks/record_handover_api_v1_handovers_post")
    page.wait_for_function("window.peacewatch && window.peacewatch.taskReady")
    boxes = page.locator("#f-body-bodies input[type=checkbox]")
    expect(boxes).to_have_count(len(waiting))
    # two not identified: an identified body goes to its person's side only, and other tests identify some
    chosen = [b["number"] for b in waiting if b["identified_as"] is None][:2]
    assert len(chosen) == 2
    for number in chosen:
        page.locator(f"#f-body-bodies input[value='{number}']").check()
    page.select_option("#f-body-to_side", "A")
    page.fill("#f-body-at", "2026-12-01T10:00")  # after every custody step the demo and other tests recorded
    page.fill("#f-body-place", "Aghdam checkpoint")
    page.fill("#f-body-receiving_organisation", "State Commission on Missing Persons")
    page.fill("#f-body-receiving_person", "Officer on duty")
    page.fill("#f-body-witness_organisation", "International Committee of the Red Cross")
    page.fill("#f-body-released_by", "Humanitarian cell")
    page.click("#task-form button[type=submit]")
    page.fill("#confirm-reason", "Exchange agreed at the meeting of 24 November")
    page.click("#confirm-go")
    link = page.get_by_role("link", name="Print the handover list")
    expect(page.locator("#task-result")).to_contain_text("Done")
    expect(link).to_be_visible()
    link.click()
    page.wait_for_url(re.compile(r"/api/v1/handovers/\d+/list\?format=html&lang=en"))
    for number in chosen:
        expect(page.locator("body")).to_contain_text(number)
    left = httpx.get(f"{server.url}/api/v1/bodies", params={"awaiting_handover": True, "limit": 1000}, headers=humanitarian).json()
    assert {b["number"] for b in left} == {b["number"] for b in waiting} - set(chosen)
    # an identification is proposed by choosing a body not yet identified and a missing person, by name
    page.goto("/tasks/propose_api_v1_identifications_post")
    page.wait_for_function("window.peacewatch && window.peacewatch.taskReady")
    unidentified = httpx.get(f"{server.url}/api/v1/bodies", params={"unidentified": True, "limit": 1000}, headers=humanitarian).json()
    expect(page.locator("#f-body-body option")).to_have_count(len(unidentified) + 1)
    expect(page.locator("#f-body-missing_person option").nth(1)).to_contain_text(" · ")  # number · family name, given names


def test_a_tracker_is_bound_to_device_tokens_ticked_by_name(page: Page, server: LiveServer) -> None:
    """Operations bind a tracker to a handheld's token by its name (never a side's), and the form that changes the
    tracker shows it ticked."""
    admin = api_token(server, "admin")
    made = [httpx.post(f"{server.url}/api/v1/api-tokens", json={"name": name, "username": user}, headers=admin)
            for name, user in (("handheld MP-N9", "patrol"), ("side A's box", "liaison-a"))]
    assert all(r.status_code == 201 for r in made), [r.text for r in made]
    handheld, side = (r.json()["id"] for r in made)
    sign_in(page, "ops", "/tasks/create_tracker_api_v1_trackers_post")
    page.wait_for_function("window.peacewatch && window.peacewatch.taskReady")
    tokens = page.locator("#f-body-bound_tokens")
    expect(tokens.get_by_label(re.compile(r"handheld MP-N9 \(patrol\)"))).to_be_visible()
    assert tokens.locator(f"input[value='{side}']").count() == 0
    page.fill("#f-body-code", "MP-N9")
    tokens.get_by_label(re.compile("handheld MP-N9")).check()
    page.click("#task-form button[type=submit]")
    expect(page.locator("#task-result")).to_contain_text("Done")
    ops = api_token(server, "ops")
    tracker = next(t for t in httpx.get(f"{server.url}/api/v1/trackers?limit=1000", headers=ops).json() if t["code"] == "MP-N9")
    assert tracker["bound_tokens"] == [handheld]
    page.goto(f"/tasks/update_tracker_api_v1_trackers__tracker_id__patch?path.tracker_id={tracker['id']}")
    page.wait_for_function("window.peacewatch && window.peacewatch.taskReady")
    expect(page.locator("#f-body-bound_tokens").get_by_label(re.compile("handheld MP-N9"))).to_be_checked()


def test_a_merge_proposal_is_split_by_putting_each_report_in_its_event(page: Page, server: LiveServer) -> None:
    """The split form lists the proposal's reports in words (kind, place, mission time), each with a choice of event:
    no list of ids typed as JSON."""
    ops = api_token(server, "ops")
    proposal = next(p for p in httpx.get(f"{server.url}/api/v1/merge-proposals", params={"status": "open"}, headers=ops).json()
                    if len(p["incident_ids"]) >= 2)
    sign_in(page, "ops", f"/tasks/split_api_v1_merge_proposals__proposal_id__split_post?path.proposal_id={proposal['id']}")
    page.wait_for_function("window.peacewatch && window.peacewatch.taskReady")
    events = page.locator("#f-body-groups select[data-report]")
    expect(events).to_have_count(len(proposal["incident_ids"]))
    expect(page.locator("#f-body-groups li").first).to_contain_text(re.compile(r"#\d+ · .+ · \d{4}-\d\d-\d\d \d\d:\d\d"))
    *together, alone = proposal["incident_ids"]
    for report in together:
        page.select_option(f"#f-body-groups select[data-report='{report}']", "1")
    page.select_option(f"#f-body-groups select[data-report='{alone}']", "2")
    page.fill("#f-body-reason", "Two engagements: the last report is of the next morning")
    page.click("#task-form button[type=submit]")
    page.fill("#confirm-reason", "Two engagements")
    page.click("#confirm-go")
    expect(page.locator("#task-result")).to_contain_text("Done")
    decided = httpx.get(f"{server.url}/api/v1/merge-proposals/{proposal['id']}", headers=ops).json()
    assert decided["status"] == "split"
    events_of = dict(zip(decided["incident_ids"], decided["event_ids"], strict=True))
    assert len({events_of[r] for r in together}) == 1 and events_of[alone] != events_of[together[0]]
