"""The tasks pages: every write the API offers, to exactly the roles it admits, in English and in Russian."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from peacewatch.core.i18n import translations
from peacewatch.scenario.nk2020 import DEMO_USERS
from peacewatch.ui.forms import WRITE_METHODS, tasks, words_of
from tests.bodies import report
from tests.helpers import page_sign_in

ANYONE = {"/api/v1/auth/token", "/api/v1/auth/logout",  # signing in and out: the pages have their own forms
          "/api/v1/alerts/acknowledge-by-link"}  # an e-mail link's token: its page has its own form
NOT_WORDS = {"text/csv", "GPX 1.0 or 1.1"}  # names that read the same in every language


def test_every_write_states_its_roles_and_is_a_task(app: FastAPI) -> None:
    document = app.openapi()
    writes = {(path, method) for path, operations in document["paths"].items() for method in operations
              if method in WRITE_METHODS and path not in ANYONE}
    assert writes and all("x-roles" in document["paths"][path][method] for path, method in writes)
    assert {(t.path, t.method) for t in tasks(document)} == writes


def test_each_role_is_offered_exactly_the_writes_it_may_make(app: FastAPI, browser: TestClient) -> None:
    found = tasks(app.openapi())
    for username, role, _side, _name in DEMO_USERS:
        browser.cookies.clear()
        page_sign_in(browser, username)
        listed = set(re.findall(r'data-operation="([^"]+)"', browser.get("/tasks").text))
        assert listed == {t.operation_id for t in found if t.admits(role.value)}, username
        for task in found:
            if not task.admits(role.value):  # the form of a write the role may not make does not exist for it
                assert browser.get(f"/tasks/{task.operation_id}").status_code == 404, (username, task.operation_id)
                break


def test_every_sentence_of_the_forms_has_its_russian(app: FastAPI, browser: TestClient) -> None:
    russian = translations("ru").gettext
    words = words_of(tasks(app.openapi()))
    untranslated = sorted(w for w in words - NOT_WORDS if russian(w) == w)
    assert not untranslated, untranslated
    page_sign_in(browser, "humanitarian")
    browser.cookies.set("pw_lang", "ru")
    form = browser.get("/tasks/record_recovery_api_v1_recoveries_post").text
    form = re.sub(r'<script type="application/json" id="strings">.*?</script>', "", form, flags=re.S)  # English keys by design
    for english in ("Record a recovery", "Bodies found", "Fields marked", "Save", "Who recovered"):
        assert english not in form, english
    assert "Записать обнаружение" in form


def test_pages_that_show_now_open_at_the_latest_records_and_say_so(app: FastAPI, demo: None) -> None:
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as browser:
        bulletin = browser.get("/reports").text  # anonymous: the public records only
        assert 'id="notice"' in bulletin and "records end on 2020-11-" in bulletin
        page_sign_in(browser, "ops")
        live_map = browser.get("/map").text
        assert "the map opens there" in live_map and '"live": false' in live_map and '"at": "2020-11-' in live_map
        assert "the map opens there" not in browser.get("/map", params={"on": "2026-11-30"}).text  # a day asked for
        assert "figures are shown there" in browser.get("/airlift").text


def test_the_map_and_the_reports_open_on_the_same_day_whatever_is_typed_in_today(app: FastAPI, demo: None, auth: Any) -> None:
    """The demo says where its story ends, once: a report typed in today, or the airlift's rotations planned into
    December, move neither page off 20 November 2020; the charts show the month before the day, or what the
    reader picks."""
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as browser:
        page_sign_in(browser, "ops")
        now = datetime.now(UTC).replace(microsecond=0)
        typed = browser.post("/api/v1/incidents", headers=auth("ops"), json=report(
            started_at=(now - timedelta(minutes=30)).isoformat(), ended_at=(now - timedelta(minutes=20)).isoformat()))
        assert typed.status_code == 201, typed.text
        live_map = browser.get("/map").text
        reports = browser.get("/reports", params={"kind": "sitrep"}).text
        assert '"day": "2020-11-20"' in live_map and 'id="report-date" value="2020-11-20"' in reports
        assert 'value="30" selected' in reports and "chart_days=30" in reports
        whole = browser.get("/reports", params={"kind": "sitrep", "window": "all"}).text
        assert 'value="all" selected' in whole and "chart_days" not in whole



def test_every_reference_a_form_reads_its_choices_from_is_a_list_of_the_api(app: FastAPI) -> None:
    from peacewatch.ui.forms import REFERENCE_LISTS, REFERENCES

    lists = {path for path, operations in app.openapi()["paths"].items() if "get" in operations}
    sources = [*REFERENCES.values(), *REFERENCE_LISTS.values()]
    assert not [source for source, _label in sources if source.split("?")[0] not in lists]


def test_references_are_chosen_from_lists_by_the_name_the_api_takes(app: FastAPI, browser: TestClient) -> None:
    """An airfield by its ICAO code, a GPS dump's tracker by its code, a patrol's trackers ticked, a unit's parent, a
    convoy's escort and a drone's controller chosen: no code or id typed from memory."""
    page_sign_in(browser, "admin")
    flight = browser.get("/tasks/create_flight_api_v1_flights_post").text
    assert re.search(r'<select id="f-body-departure"[^>]*data-source="/api/v1/airfields"[^>]*data-value="code"', flight)
    gpx = browser.get("/tasks/record_gpx_api_v1_positions_gpx_post").text
    assert re.search(r'<select id="f-body-tracker"[^>]*data-source="/api/v1/trackers"[^>]*data-value="code"', gpx)
    patrol = browser.get("/tasks/create_patrol_api_v1_patrols_post").text
    assert re.search(r'<fieldset data-path="body.trackers" data-kind="choices"[^>]*data-source="/api/v1/trackers"', patrol)
    for operation, field in (("create_unit_api_v1_units_post", "parent_id"), ("create_convoy_api_v1_convoys_post", "escort_unit_id"),
                             ("create_tracker_api_v1_trackers_post", "controller_id")):
        form = browser.get(f"/tasks/{operation}").text
        assert re.search(rf'<select id="f-body-{field}"[^>]*data-kind="reference"', form), operation


def test_no_form_asks_for_json(app: FastAPI) -> None:
    """Every field of every task is a choice, a number, a text, a date, a shape on a map, a tooth chart or the
    events a proposal's reports are in: nothing is typed as JSON."""
    def walk(fields: tuple[Any, ...]) -> list[Any]:
        return [one for f in fields for one in (f, *walk(f.fields))]

    typed = {task.operation_id: [f.path for f in walk(task.fields) if f.kind == "json"] for task in tasks(app.openapi())}
    assert not {k: v for k, v in typed.items() if v}


def test_the_forms_speak_the_missions_words_not_the_apis(app: FastAPI, browser: TestClient) -> None:
    """No "Record id", "Client id", "idempotent", "ISO 3166-1", "(409)", "LineString" or a schema's name in a form:
    a form's own id for what it sends is a hidden field the page fills, so a double click stores one record."""
    page_sign_in(browser, "admin")
    api_words = re.compile(r"Record id|Client id|idempotent|ISO 3166|\(409\)|LineString|FlightIn|RRULE \(|null\b")
    said = {}
    for task in tasks(app.openapi()):
        main = browser.get(f"/tasks/{task.operation_id}").text.split("<main", 1)[1].split("</main>")[0]
        words = api_words.findall(re.sub(r"<[^>]+>", " ", main))
        if words:
            said[task.operation_id] = words
    assert not said, said
    recovery = browser.get("/tasks/record_recovery_api_v1_recoveries_post").text
    assert 'data-path="body.client_id" data-kind="client_id"' in recovery


def test_a_post_or_a_marker_is_placed_on_a_map_not_typed_as_json(app: FastAPI, browser: TestClient) -> None:
    """A shape of one kind (a post's point, a patrol's route) is drawn on the form's map like a zone's, not typed as
    a "Coordinates" and a "Bounding box" in JSON."""
    page_sign_in(browser, "ops")
    for operation, kind in (("create_post_api_v1_posts_post", "Point"), ("create_place_api_v1_places_post", "Point"),
                            ("create_patrol_api_v1_patrols_post", "LineString")):
        form = browser.get(f"/tasks/{operation}").text
        assert f'data-types="{kind}"' in form, operation
        assert "geometry-coordinates" not in form and "route-coordinates" not in form and "Bounding box" not in form, operation


def test_returns_and_clearances_are_listed_and_corrected_and_convoys_listed(app: FastAPI, browser: TestClient, demo: None, auth: Any) -> None:
    """The logs the operations centre keeps: listed by day, each row leading to its correction; a correction is
    checked as a new record is, and a bad one changes nothing."""
    api = TestClient(app)
    returns = api.get("/api/v1/returns", params={"limit": 5}, headers=auth("ops")).json()
    clearances = api.get("/api/v1/clearances", params={"limit": 5}, headers=auth("ops")).json()
    assert returns and clearances
    first = returns[0]
    fixed = api.patch(f"/api/v1/returns/{first['id']}", json={"people": first["people"] + 1, "notes": "recounted at the checkpoint"},
                      headers=auth("ops"))
    assert fixed.status_code == 200 and fixed.json()["people"] == first["people"] + 1 and fixed.json()["route"] == first["route"]
    refused = api.patch(f"/api/v1/returns/{first['id']}", json={"returned_on": "2019-01-01"}, headers=auth("ops"))
    assert refused.status_code == 422 and "body.returned_on" in str(refused.json()["errors"])
    assert api.get(f"/api/v1/returns/{first['id']}", headers=auth("ops")).json()["returned_on"] == first["returned_on"]
    assert api.patch(f"/api/v1/returns/{first['id']}", json={"people": 3}, headers=auth("press")).status_code == 403
    clearance = clearances[0]
    corrected = api.patch(f"/api/v1/clearances/{clearance['id']}", json={"explosive_objects": clearance["explosive_objects"] + 2},
                          headers=auth("ops"))
    assert corrected.status_code == 200 and corrected.json()["explosive_objects"] == clearance["explosive_objects"] + 2
    assert corrected.json()["hectares"] == clearance["hectares"]
    audit = api.get("/api/v1/audit", params={"entity": "civilian_returns", "entity_id": first["id"]}, headers=auth("admin")).json()
    assert audit and audit[0]["action"] == "update"
    page_sign_in(browser, "ops")
    listed = browser.get("/records/returns").text
    assert f"path.return_id={first['id']}" in listed and "recounted at the checkpoint" in listed
    on_day = browser.get("/records/clearances", params={"since": clearance["cleared_on"], "until": clearance["cleared_on"]}).text
    assert f'data-id="{clearance["id"]}"' in on_day
    convoys = browser.get("/records/convoys").text
    assert 'id="records-table"' in convoys and "/tasks/create_convoy_api_v1_convoys_post" in convoys
    convoy = api.get("/api/v1/convoys", params={"limit": 1}, headers=auth("ops")).json()[0]
    assert f"path.convoy_id={convoy['id']}" in convoys
    moved = api.patch(f"/api/v1/convoys/{convoy['id']}", json={"vehicles": convoy["vehicles"] + 1}, headers=auth("ops"))
    assert moved.status_code == 200 and moved.json()["vehicles"] == convoy["vehicles"] + 1  # checked against the others, not itself
    early = api.patch(f"/api/v1/convoys/{convoy['id']}", json={"arrived_at": convoy["departed_at"]}, headers=auth("ops"))
    assert early.status_code == 422 and "body.arrived_at" in str(early.json()["errors"])  # not after its departure
    assert browser.get("/records/nothing").status_code == 404
