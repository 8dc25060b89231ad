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
    from peacewatch.ui.forms import REFERENCES

    lists = {path for path, operations in app.openapi()["paths"].items() if "get" in operations}
    assert not [source for source, _label in REFERENCES.values() if source.split("?")[0] not in lists]


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
