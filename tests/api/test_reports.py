"""The daily situation report and the public bulletin, through the API, on the demo and on records made for the test."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from peacewatch.airlift.models import Flight, FlightStatus
from peacewatch.core.settings import Settings
from peacewatch.publication.reports import Format, Kind, Language, Options, daily_report, range_report
from peacewatch.remains.models import Body, BodyKind, Handover, HandoverBody
from tests.helpers import bearer, page_sign_in, problem

Auth = Callable[[str], dict[str, str]]
BULLETIN, SITREP = "/api/v1/reports/bulletin", "/api/v1/reports/sitrep"
FIXED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
DAY = "2020-11-21"  # the day the test records happen on: after the build-up, before any demo record of returns


# --- the demo's bulletin of 14 November 2020 ------------------------------------------------------------

def test_the_bulletin_of_14_november_states_what_was_published(client: TestClient, demo: None, app: FastAPI, settings: Settings) -> None:
    text = client.get(BULLETIN, params={"date": "2020-11-14"}).text
    assert "Since the start of the operation the planes have made 95 flights, 22 of them in the past 24 hours." in text
    assert "Military police units began patrolling: North area of responsibility and South area of responsibility." in text
    end = datetime(2020, 11, 14, 15, 30, tzinfo=UTC)  # 19:30 in Baku, the end of the reporting day
    with app.state.sessionmaker() as session:
        handed = session.scalar(select(func.count()).select_from(HandoverBody).join(Handover).join(Body)
                                .where(Handover.at < end, Body.kind == BodyKind.body))
    assert handed and f"{handed} bodies have been handed over." in text
    russian = client.get(BULLETIN, params={"date": "2020-11-14", "lang": "ru"}).text
    assert "С начала операции самолёты выполнили 95 рейсов, из них 22 — за последние сутки." in russian
    assert "Северная зона ответственности" in russian and f"передано {handed} тел" in russian


def test_every_sentence_names_its_figures_and_every_figure_its_records(client: TestClient, demo: None, app: FastAPI) -> None:
    body = client.get(BULLETIN, params={"date": "2020-11-15", "format": "json"}).json()
    assert (body["figures"]["airlift"]["flights_total"], body["figures"]["airlift"]["flights_day"]) == (118, 23)
    flights = body["sources"]["airlift.flights_total"]
    assert flights["table"] == "flights" and len(flights["ids"]) == 118 and len(body["sources"]["airlift.flights_day"]["ids"]) == 23
    with app.state.sessionmaker() as session:
        rows = session.execute(select(Flight.visibility, Flight.status, Flight.actual_arrival).where(Flight.id.in_(flights["ids"]))).all()
    assert len(rows) == 118 and all(v.value == "public" and s is FlightStatus.landed for v, s, _ in rows)
    assert max(at for _, _, at in rows) < datetime(2020, 11, 15, 15, 30, tzinfo=UTC)
    sentences = [b for s in body["document"] for b in s["blocks"] if "sentence" in b]
    assert sentences and all(b["figures"] for b in sentences)
    for sentence in sentences:
        for name in sentence["figures"]:  # a figure is a path into the figures, or a list of records in the sources
            value: Any = body["figures"]
            for part in name.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            assert value is not None or name in body["sources"], name
    assert "alerts" not in body["figures"] and "force" not in body["figures"]  # internal sections stay in the sitrep


def test_the_sitrep_is_for_the_missions_staff(client: TestClient, demo: None, auth: Auth) -> None:
    assert client.get(SITREP, params={"date": "2020-11-14"}).status_code == 401
    assert client.get(SITREP, params={"date": "2020-11-14"}, headers=auth("liaison-a")).status_code == 403
    sitrep = client.get(SITREP, params={"date": "2020-11-14", "format": "json"}, headers=auth("observer")).json()
    figures = sitrep["figures"]
    assert figures["alerts"]["raised"] > 0 and figures["force"]["units"] == 9
    assert figures["airlift"]["strength"]["minimum"]["personnel"] == 1800
    assert set(figures["patrols"]["by_area"]["North area of responsibility"]) >= {"coverage_24h", "coverage_7d"}
    public = client.get(BULLETIN, params={"date": "2020-11-14", "format": "json"}).json()["figures"]
    # the sitrep counts every report; the bulletin the public ones (the force's confirmed violations)
    assert figures["incidents"]["events"] > public["incidents"]["events"] >= 1


def test_the_pdf_opens_and_its_pages_render(client: TestClient, demo: None, tmp_path: Any) -> None:
    pdfium = pytest.importorskip("pypdfium2")
    response = client.get(BULLETIN, params={"date": "2020-11-14", "format": "pdf"})
    assert response.headers["content-type"] == "application/pdf" and response.content.startswith(b"%PDF-")
    document = pdfium.PdfDocument(response.content)
    text = "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    assert "95 flights, 22 of them in the past 24 hours" in " ".join(text.split())
    for index in range(len(document)):
        page = document[index]
        assert (round(page.get_width()), round(page.get_height())) == (595, 842)  # A4 in points
        image = page.render(scale=1).to_pil().convert("L")
        image.save(tmp_path / f"bulletin-{index + 1}.png")
        inked = sum(image.histogram()[:128]) / (image.width * image.height)
        assert 0.002 < inked < 0.5, f"page {index + 1} is blank or black: {inked:.4f}"
    russian = pdfium.PdfDocument(client.get(BULLETIN, params={"date": "2020-11-14", "format": "pdf", "lang": "ru"}).content)
    assert "95 рейсов" in " ".join(russian[0].get_textpage().get_text_range().split())  # Cyrillic embedded, not boxes


def test_html_is_one_self_contained_page(client: TestClient, demo: None) -> None:
    page = client.get(BULLETIN, params={"date": "2020-11-14", "format": "html"}).text
    assert page.startswith("<!doctype html>") and "95 flights" in page
    assert re.findall(r'src="([^"]+)"', page) and all(s.startswith("data:image/png;base64,") for s in re.findall(r'src="([^"]+)"', page))
    assert "http://" not in page and "https://" not in page


def test_a_report_is_the_same_bytes_for_the_same_records_and_day(app: FastAPI, demo: None, settings: Settings,
                                                                   client: TestClient) -> None:
    with app.state.sessionmaker() as session:
        for kind in Kind:
            for fmt in Format:
                options = Options(kind, fmt, Language.ru if fmt is Format.pdf else Language.en, generated_at=FIXED)
                first = daily_report(session, settings, date(2020, 11, 17), options).body
                assert daily_report(session, settings, date(2020, 11, 17), options).body == first, (kind, fmt)
    # through the API the generation time is now: two answers differ in that field only
    one, two = (client.get(BULLETIN, params={"date": "2020-11-17", "format": "json"}).json() for _ in range(2))
    one.pop("generated_at"), two.pop("generated_at")
    assert one == two
    lines = [client.get(BULLETIN, params={"date": "2020-11-17"}).text.splitlines() for _ in range(2)]
    assert [a for a, b in zip(*lines) if a != b] in ([], [lines[0][-1]])  # at most the "Generated ..." line


def test_a_span_totals_its_days_and_ends_on_the_running_totals(client: TestClient, demo: None) -> None:
    days = [client.get(BULLETIN, params={"date": f"2020-11-{d}", "format": "json"}).json()["figures"] for d in range(14, 18)]
    span = client.get(BULLETIN, params={"since": "2020-11-14", "until": "2020-11-17", "format": "json"}).json()
    assert [d["figures"] for d in span["days"]] == days
    text = client.get(BULLETIN, params={"since": "2020-11-14", "until": "2020-11-17"}).text
    flights = sum(d["airlift"]["flights_day"] for d in days)
    assert f"Flights: {flights}." in text and "| 17 November 2020 |" in text
    assert f"{days[-1]['remains']['handed_over_total']} bodies have been handed over" in text


@pytest.mark.parametrize(("params", "field", "words"), [
    ({"date": "2020-11-09"}, "query.date", "before the mission began on 2020-11-10"),
    ({"date": "2099-01-01"}, "query.date", "in the future"),
    ({}, "query.date", "give the reporting day"),
    ({"since": "2020-11-12"}, "query.until", "give the reporting day"),
    ({"date": "2020-11-14", "since": "2020-11-12"}, "query.date", "not both"),
    ({"since": "2020-11-15", "until": "2020-11-12"}, "query.until", "is before 2020-11-15"),
    ({"since": "2020-11-01", "until": "2020-11-12"}, "query.since", "before the mission began"),
    ({"date": "2020-11-14", "format": "docx"}, "query.format", ""),
    ({"date": "2020-11-14", "lang": "fr"}, "query.lang", ""),
    ({"date": "14.11.2020"}, "query.date", ""),
])
def test_bad_requests_say_what_and_where(client: TestClient, scenario: None, params: dict[str, str], field: str, words: str) -> None:
    status, where, detail = problem(client.get(BULLETIN, params=params))
    assert (status, where) == (422, field) and words in detail


# --- what the public bulletin may count -----------------------------------------------------------------

def _records(client: TestClient, auth: Auth, visibility: str, tag: str) -> None:
    """One record of every kind the bulletin counts, dated 21 November 2020, with ``visibility``."""
    ops, air = auth("ops"), auth("air")
    units = client.get("/api/v1/units", headers=ops).json()
    unit = next(u["id"] for u in units if u["unit_type"] == "military_police")
    engineers = next(u["id"] for u in units if u["unit_type"] == "engineers")
    north = next(f["id"] for f in client.get("/api/v1/areas", headers=ops).json()["features"] if f["properties"]["code"] == "north")
    for code, lat, lon in (("UWLW", 54.401, 48.803), ("UDYE", 40.123, 44.465)):
        client.post("/api/v1/airfields", json={"code": code, "name": code, "lat": lat, "lon": lon}, headers=air)
    flight = {"aircraft_type": "Il-76MD", "tail_number": f"RF-{tag}", "direction": "inbound", "status": "landed",
              "departure": "UWLW", "arrival": "UDYE", "planned_departure": "2020-11-21T04:00:00Z",
              "planned_arrival": "2020-11-21T08:00:00Z", "actual_departure": "2020-11-21T04:00:00Z",
              "actual_arrival": "2020-11-21T08:00:00Z", "personnel": 20, "tonnes": 10, "visibility": visibility}
    assert client.post("/api/v1/flights", json=flight, headers=air).status_code == 201
    convoy = {"kind": "humanitarian", "direction": "inbound", "route": f"Goris - Lachin - Stepanakert {tag}",
              "departed_at": "2020-11-21T04:00:00Z", "arrived_at": "2020-11-21T09:00:00Z", "tonnes": 25, "vehicles": 5,
              "visibility": visibility}
    assert client.post("/api/v1/convoys", json=convoy, headers=ops).status_code == 201
    patrol = {"name": f"Patrol {tag}", "unit_id": unit, "zone_id": north, "planned_start": "2020-11-21T05:00:00Z",
              "planned_end": "2020-11-21T09:00:00Z", "visibility": visibility}
    made = client.post("/api/v1/patrols", json=patrol, headers=ops)
    assert made.status_code == 201, made.text
    assert client.post(f"/api/v1/patrols/{made.json()['id']}/start", json={"at": "2020-11-21T05:00:00Z"}, headers=ops).status_code == 200
    incident = {"type": "ceasefire_violation", "subtype": "small_arms_fire", "started_at": "2020-11-21T12:00:00Z",
                "ended_at": "2020-11-21T12:10:00Z", "lat": 39.795, "lon": 47.113, "source": "media", "event_count": 2,
                "observed_by": ["heard"], "narrative": f"Shots near Martuni {tag}.", "visibility": visibility}
    assert client.post("/api/v1/incidents", json=incident, headers=ops).status_code == 201
    back = {"returned_on": DAY, "route": f"Route {tag}", "people": 40, "visibility": visibility}
    assert client.post("/api/v1/returns", json=back, headers=ops).status_code == 201
    cleared = {"unit_id": engineers, "cleared_on": DAY, "place": f"Field {tag}", "hectares": 2.5, "explosive_objects": 7,
               "visibility": visibility}
    assert client.post("/api/v1/clearances", json=cleared, headers=ops).status_code == 201


def test_the_bulletin_counts_no_restricted_record_not_even_in_a_total(client: TestClient, scenario: None, auth: Auth,
                                                                    app: FastAPI, settings: Settings) -> None:
    _records(client, auth, "public", "P1")

    def editions(kind: Kind) -> dict[Format, bytes]:
        with app.state.sessionmaker() as session:
            return {fmt: daily_report(session, settings, date(2020, 11, 21), Options(kind, fmt, generated_at=FIXED)).body
                    for fmt in (Format.md, Format.json, Format.html)}

    public, sitrep = editions(Kind.bulletin), editions(Kind.sitrep)
    figures = json.loads(public[Format.json])["figures"]
    assert (figures["airlift"]["flights_day"], figures["patrols"]["carried_out"], figures["incidents"]["events"]) == (1, 1, 1)
    assert (figures["returns"]["people_day"], figures["demining"]["day"]["explosive_objects"]) == (40, 7)
    for visibility, tag in (("internal", "I1"), ("side_a", "A1"), ("side_b", "B1")):
        _records(client, auth, visibility, tag)
    assert editions(Kind.bulletin) == public  # the same bytes: nothing restricted moved a figure or a word
    after = json.loads(editions(Kind.sitrep)[Format.json])["figures"]
    assert after != json.loads(sitrep[Format.json])["figures"]  # ... while the staff's report counts all of them
    assert (after["airlift"]["flights_day"], after["incidents"]["events"], after["returns"]["people_day"]) == (4, 4, 160)
    assert "Route I1" not in client.get(BULLETIN, params={"date": DAY}).text
    assert "Route I1" in client.get(SITREP, params={"date": DAY}, headers=auth("ops")).text


def test_the_reports_page_offers_the_bulletin_to_anyone_and_the_sitrep_to_staff(client: TestClient, demo: None) -> None:
    page = client.get("/reports", params={"date": "2020-11-14"})
    assert page.status_code == 200 and "95 flights, 22 of them in the past 24 hours" in page.text
    assert 'href="/api/v1/reports/bulletin?date=2020-11-14&amp;lang=en&amp;format=pdf&amp;chart_days=30"' in page.text
    assert 'value="sitrep"' not in page.text
    assert client.get("/reports", params={"kind": "sitrep", "date": "2020-11-14"}, follow_redirects=False).status_code == 303
    early = client.get("/reports", params={"date": "2020-11-01"}).text
    assert "before the mission began on 2020-11-10" in early


def test_a_span_report_is_one_document(app: FastAPI, demo: None, settings: Settings) -> None:
    with app.state.sessionmaker() as session:
        report = range_report(session, settings, date(2020, 11, 10), date(2020, 11, 20), Options(Kind.sitrep, generated_at=FIXED))
    text = report.body.decode()
    assert report.filename == "peacewatch-sitrep-2020-11-10-2020-11-20-en.md"
    assert text.count("| 1") >= 11 and "Flights: 250." in text and "INTERNAL" in text


def test_a_bulletin_does_not_name_a_mandate_the_public_may_not_read(client: TestClient, demo: None, auth: Auth) -> None:
    assert client.patch("/api/v1/mandate", json={"visibility": "internal"}, headers=auth("admin")).status_code == 200
    body = client.get(BULLETIN, params={"date": "2020-11-14", "format": "json"}).json()
    assert body["title"] == "Peacekeeping mission: daily bulletin" and body["figures"]["airlift"]["strength"]["ceilings"] is None
    assert body["figures"]["airlift"]["flights_total"] == 95  # the public flights still count
    staff = client.get(SITREP, params={"date": "2020-11-14", "format": "json"}, headers=auth("ops")).json()
    assert staff["title"].startswith("Peacekeeping operation in Nagorno-Karabakh")


def test_a_mission_older_than_ten_years_still_gets_its_report(client: TestClient, demo: None, auth: Auth) -> None:
    assert client.patch("/api/v1/mandate", json={"start_date": "2010-11-10"}, headers=auth("admin")).status_code == 200
    body = client.get(SITREP, params={"date": "2020-11-14", "format": "json"}, headers=auth("ops")).json()
    assert body["figures"]["mission_day"] == (date(2020, 11, 14) - date(2010, 11, 10)).days + 1
    assert body["figures"]["remains"]["handed_over_total"] > 0  # casualty figures over more days than a series may hold


def test_one_report_holds_a_year_of_days_at_most(client: TestClient, scenario: None) -> None:
    status, field, detail = problem(client.get(BULLETIN, params={"since": "2020-11-10", "until": "2021-11-11"}))  # 367 days
    assert (status, field) == (422, "query.until") and "at most 366 days" in detail
    assert client.get(BULLETIN, params={"since": "2020-11-10", "until": "2021-11-10"}).status_code == 200  # 366 days


def test_a_past_days_sitrep_counts_the_alerts_open_at_its_end(client: TestClient, demo: None, auth: Auth, settings: Settings) -> None:
    from peacewatch.core.calendar import mission_today

    def open_on(day: str) -> int:
        return client.get(SITREP, params={"date": day, "format": "json"}, headers=auth("ops")).json()["figures"]["alerts"]["open"]

    before = open_on("2020-11-14")
    alert = client.get("/api/v1/alerts", params={"status": "open", "limit": 1}, headers=auth("ops")).json()[0]
    closed = client.post(f"/api/v1/alerts/{alert['id']}/close", json={"note": "Patrol back, seen by OP-3"}, headers=auth("ops"))
    assert closed.status_code == 200, closed.text
    assert open_on("2020-11-14") == before  # closed today: it was still open at the end of 14 November
    assert open_on(mission_today(settings).isoformat()) == before - 1  # today's report counts it closed



def test_a_russian_report_says_an_area_by_the_russian_name_it_was_given(client: TestClient, demo: None, auth: Auth) -> None:
    """A zone drawn today with a Russian name (not one the catalogs know) is named so in the Russian report."""
    area = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[47.10, 39.60], [47.20, 39.60], [47.20, 39.70],
                                                                                  [47.10, 39.70], [47.10, 39.60]]]},
            "properties": {"code": "east-test", "name": "Eastern test area", "name_ru": "Восточная пробная зона"}}
    made = client.post("/api/v1/areas", json=area, headers=auth("ops"))
    assert made.status_code == 201, made.text
    post = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [47.15, 39.65]},
            "properties": {"code": "E-01", "name": "Post E-01", "zone_code": "east-test", "opened_on": "2020-11-13"}}
    assert client.post("/api/v1/posts", json=post, headers=auth("ops")).status_code == 201
    russian = client.get(SITREP, params={"date": "2020-11-14", "format": "md", "lang": "ru"}, headers=auth("ops")).text
    english = client.get(SITREP, params={"date": "2020-11-14", "format": "md", "lang": "en"}, headers=auth("ops")).text
    assert "Восточная пробная зона" in russian and "Eastern test area" not in russian
    assert "Eastern test area" in english


def test_the_reports_page_sends_its_text_at_once_and_its_pictures_when_asked(client: TestClient, browser: TestClient,
                                                                             demo: None) -> None:
    """The page's report names its map and charts by address, so its text is not held back while they are drawn;
    each picture is the one the report's HTML edition draws, for the same readers as the page."""
    import base64
    import html

    page_sign_in(browser, "ops")
    page = browser.get("/reports", params={"kind": "sitrep", "date": "2020-11-14", "window": "all"})
    assert page.status_code == 200 and "data:image/png" not in page.text
    links = [html.unescape(src) for src in re.findall(r'<img src="(/reports/sitrep/2020-11-14/[a-z_]+\.png\?[^"]+)"', page.text)]
    assert {re.search(r"/(\w+)\.png", link)[1] for link in links} == {"map", "flights", "handed_over", "strength", "violations"}
    edition = client.get(SITREP, params={"date": "2020-11-14", "format": "html"}, headers=bearer(client, "ops")).text
    inline = [base64.b64decode(data) for data in re.findall(r'src="data:image/png;base64,([^"]+)"', edition)]
    for link in links:
        picture = browser.get(link)
        assert picture.status_code == 200 and picture.headers["content-type"] == "image/png", link
        assert picture.content in inline, link  # the very bytes the report's own edition embeds
        assert browser.get(link, headers={"If-None-Match": picture.headers["etag"]}).status_code == 304
    assert browser.get("/reports/sitrep/2020-11-14/nothing.png").status_code == 404
    assert browser.get("/reports/sitrep/2019-01-01/map.png").status_code == 422  # before the mission
    # a situation report's pictures are the staff's: neither the public nor a side's liaison gets them
    assert client.get(links[0]).status_code == 404
    browser.cookies.clear()
    page_sign_in(browser, "liaison-b")
    assert browser.get(links[0]).status_code == 404
    public = browser.get(links[0].replace("/sitrep/", "/bulletin/"))
    assert public.status_code == 200 and public.content not in inline  # the official map, not the operations map
    assert browser.get("/reports/bulletin/2020-11-14/strength.png").status_code == 404  # the public has no such chart
