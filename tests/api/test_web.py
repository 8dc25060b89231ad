"""The web pages over HTTP: sessions, CSRF, permissions, the official map's files, symbols, basemap tiles."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from peacewatch.access import outbox_keys
from peacewatch.app import create_app
from peacewatch.core.settings import Settings
from tests.helpers import csrf_of, page_sign_in


class TestSessions:
    def test_sign_in_sets_a_secure_http_only_strict_cookie(self, browser: TestClient) -> None:
        page = browser.get("/login")
        token = csrf_of(page.text)
        response = browser.post("/login", data={"username": "ops", "password": "demo", "csrf_token": token, "next": "/patrols"})
        assert response.status_code == 303 and response.headers["location"] == "/patrols"
        cookie = next(v for v in response.headers.get_list("set-cookie") if v.startswith("pw_session="))
        assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=strict" in cookie
        assert browser.get("/patrols").status_code == 200

    def test_wrong_password_is_refused_on_the_page(self, browser: TestClient) -> None:
        token = csrf_of(browser.get("/login").text)
        response = browser.post("/login", data={"username": "ops", "password": "nope", "csrf_token": token})
        assert response.status_code == 401
        assert "Wrong user name or password" in response.text
        assert "pw_session" not in response.headers.get("set-cookie", "")

    def test_sign_in_without_the_forms_csrf_token_is_refused(self, browser: TestClient) -> None:
        browser.get("/login")
        response = browser.post("/login", data={"username": "ops", "password": "demo", "csrf_token": "0" * 64})
        assert response.status_code == 403
        assert "pw_session" not in response.headers.get("set-cookie", "")

    def test_next_never_leaves_the_server(self, browser: TestClient) -> None:
        token = csrf_of(browser.get("/login").text)
        response = browser.post("/login", data={"username": "ops", "password": "demo", "csrf_token": token,
                                                "next": "//evil.example/x"})
        assert response.headers["location"] == "/map"

    def test_pages_ask_for_sign_in(self, browser: TestClient) -> None:
        response = browser.get("/patrols?status=planned")
        assert response.status_code == 303
        assert response.headers["location"] == "/login?next=/patrols%3Fstatus%3Dplanned"

    def test_sign_out_ends_the_session(self, browser: TestClient) -> None:
        csrf = page_sign_in(browser)
        assert browser.post("/logout", data={"csrf_token": csrf}).status_code == 303
        assert browser.get("/map").status_code == 303


class TestCookieAuthenticatedApi:
    def test_a_write_by_cookie_needs_the_csrf_header(self, browser: TestClient) -> None:
        csrf = page_sign_in(browser)
        body = {"code": "WEB-1", "kind": "vehicle"}
        forged = browser.post("/api/v1/trackers", json=body)
        assert forged.status_code == 403
        assert "CSRF" in forged.json()["detail"]
        assert browser.post("/api/v1/trackers", json=body, headers={"X-CSRF-Token": "f" * 64}).status_code == 403
        made = browser.post("/api/v1/trackers", json=body, headers={"X-CSRF-Token": csrf})
        assert made.status_code == 201, made.text

    def test_a_stale_pages_token_is_told_apart_and_the_current_one_is_given_to_the_signed_in_browser(
            self, browser: TestClient) -> None:
        """A field page kept for days holds the token of the day it was kept; after a sign-out and a new sign-in in
        another tab its outbox is told "anti-forgery", not refused, and asks for the current token."""
        stale = page_sign_in(browser)
        kept = next(c for c in browser.cookies.jar if c.name == "pw_csrf")
        assert kept.expires is not None and kept.expires > datetime.now(UTC).timestamp() + 86400  # outlives a restart
        assert browser.post("/logout", data={"csrf_token": stale}).status_code == 303
        page_sign_in(browser)
        body = {"code": "WEB-3", "kind": "vehicle"}
        refused = browser.post("/api/v1/trackers", json=body, headers={"X-CSRF-Token": stale})
        assert refused.status_code == 403 and refused.json()["type"] == "urn:peacewatch:problem:anti-forgery"
        session = browser.get("/api/v1/auth/session")
        assert session.status_code == 200 and session.json()["username"] == "ops"
        assert session.headers["cache-control"] == "no-store"
        made = browser.post("/api/v1/trackers", json=body, headers={"X-CSRF-Token": session.json()["csrf_token"]})
        assert made.status_code == 201, made.text
        role = browser.post("/api/v1/trackers", json=body | {"code": "WEB-4"}, headers={"X-CSRF-Token": stale})
        assert role.json()["type"] != "about:blank"
        browser.cookies.clear()
        assert browser.get("/api/v1/auth/session").status_code == 401

    @pytest.mark.usefixtures("scenario")
    def test_a_bearer_token_gets_no_csrf_token(self, client: TestClient, auth: Callable[[str], dict[str, str]]) -> None:
        answer = client.get("/api/v1/auth/session", headers=auth("patrol"))
        assert answer.status_code == 200
        assert {k: v for k, v in answer.json().items() if k != "outbox_key"} == {"username": "patrol", "role": "patrol", "csrf_token": None}

    @pytest.mark.usefixtures("scenario")
    def test_each_user_is_given_the_key_that_opens_their_outbox(self, client: TestClient, settings: Settings,
                                                               auth: Callable[[str], dict[str, str]]) -> None:
        """The same key at each sign-in (what a device sealed before a restart opens after it), another for each user;
        what the device sealed opens with it and with no other."""
        patrol = client.get("/api/v1/auth/session", headers=auth("patrol")).json()["outbox_key"]
        again = client.get("/api/v1/auth/session", headers=auth("patrol")).json()["outbox_key"]
        ops = client.get("/api/v1/auth/session", headers=auth("ops")).json()["outbox_key"]
        assert patrol == again and patrol["d"] != ops["d"] and patrol["kty"] == "EC" and patrol["crv"] == "P-256"
        public = {k: patrol[k] for k in ("kty", "crv", "x", "y")}
        epk, iv, data = outbox_keys.seal(public, b'{"narrative": "shots at the crossroads"}')
        patrol_id = client.get("/api/v1/auth/me", headers=auth("patrol")).json()["id"]
        ops_id = client.get("/api/v1/auth/me", headers=auth("ops")).json()["id"]
        key = outbox_keys.outbox_key(settings.resolved_secret_key, patrol_id)
        assert outbox_keys.open_sealed(key, epk, iv, data) == b'{"narrative": "shots at the crossroads"}'
        with pytest.raises(ValueError, match="does not open"):
            outbox_keys.open_sealed(outbox_keys.outbox_key(settings.resolved_secret_key, ops_id), epk, iv, data)
        with pytest.raises(ValueError, match="does not open"):
            outbox_keys.open_sealed(key, epk, iv, data[:-1] + bytes([data[-1] ^ 1]))

    def test_the_cookie_carries_the_users_role(self, browser: TestClient) -> None:
        csrf = page_sign_in(browser, "press")
        refused = browser.post("/api/v1/trackers", json={"code": "WEB-2", "kind": "vehicle"}, headers={"X-CSRF-Token": csrf})
        assert refused.status_code == 403
        assert "role 'press'" in refused.json()["detail"]


class TestPatrolPages:
    def test_a_liaison_gets_404_for_the_other_sides_patrol(self, browser: TestClient, client: TestClient,
                                                          auth: Callable[[str], dict[str, str]]) -> None:
        areas = client.get("/api/v1/areas").json()["features"]
        units = client.get("/api/v1/units", headers=auth("ops")).json()
        body = {"name": "B only", "unit_id": units[0]["id"], "zone_id": areas[0]["id"], "visibility": "side_b",
                "planned_start": "2020-11-17T08:00:00Z", "planned_end": "2020-11-17T10:00:00Z"}
        patrol = client.post("/api/v1/patrols", json=body, headers=auth("ops")).json()
        page_sign_in(browser, "liaison-a")
        page = browser.get(f"/patrols/{patrol['id']}")
        assert page.status_code == 404 and "B only" not in page.text
        assert "B only" not in browser.get("/patrols").text
        assert browser.get(f"/patrols/{patrol['id'] + 1000}").status_code == 404  # the same answer as for a missing one

    def test_list_filters_sorts_and_pages(self, browser: TestClient, client: TestClient,
                                          auth: Callable[[str], dict[str, str]]) -> None:
        areas = client.get("/api/v1/areas").json()["features"]
        unit = client.get("/api/v1/units", headers=auth("ops")).json()[0]["id"]
        for day, name in enumerate(["N1 Martakert", "S1 Martuni", "N2 Martakert", "S2 Stepanakert"], start=14):
            body = {"name": name, "unit_id": unit, "zone_id": areas[0]["id"],
                    "planned_start": f"2020-11-{day}T08:00:00Z", "planned_end": f"2020-11-{day}T12:00:00Z"}
            assert client.post("/api/v1/patrols", json=body, headers=auth("ops")).status_code == 201
        page_sign_in(browser)
        names = re.findall(r'<a href="/patrols/\d+">([^<]+)</a>', browser.get("/patrols?sort=name").text)
        assert names == sorted(names) and len(names) == 4
        descending = re.findall(r'<a href="/patrols/\d+">([^<]+)</a>', browser.get("/patrols?sort=-name").text)
        assert descending == names[::-1]
        north = browser.get("/patrols?q=martakert&since=&until=&status=").text
        assert north.count('<a href="/patrols/') == 2
        assert browser.get("/patrols?status=nonsense&page=x&zone_id=-4").status_code == 200  # a bad filter is no filter
        assert "Page 1 of 1" in browser.get("/patrols?page=99").text
        assert browser.get("/patrols?since=2020-11-16&until=2020-11-16").text.count('<a href="/patrols/') == 1


class TestLanguage:
    def test_the_user_chooses_russian(self, browser: TestClient) -> None:
        csrf = page_sign_in(browser)
        browser.post("/language", data={"language": "ru", "next": "/map", "csrf_token": csrf})
        page = browser.get("/map").text
        assert "Карта операций" in page and 'lang="ru"' in page
        strings = json.loads(re.search(r'<script type="application/json" id="strings">(.*?)</script>', page).group(1))
        assert strings["Live"] == "Сейчас" and strings["not_back"] == "Не вернулся вовремя"

    def test_the_browsers_language_is_the_default(self, browser: TestClient) -> None:
        assert "Войти" in browser.get("/login", headers={"Accept-Language": "ru-RU,ru;q=0.9"}).text

    def test_every_string_of_the_interface_is_translated(self) -> None:
        from babel.messages.pofile import read_po

        from peacewatch.core.i18n import LOCALES_DIR

        with (LOCALES_DIR / "ru" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
            catalog = read_po(handle)
        def forms(value: str | tuple[str, ...]) -> list[str]:
            return list(value) if isinstance(value, tuple) else [value]

        missing = [m.id for m in catalog if m.id and (m.fuzzy or not all(forms(m.string)))]  # fuzzy ones are not used
        assert not missing
        placeholders = re.compile(r"%\(\w+\)s")
        for message in catalog:
            if not message.id:
                continue
            names = set(placeholders.findall(forms(message.id)[-1]))  # a plural's plural names them all ("once" has no n)
            for translated in forms(message.string):
                assert set(placeholders.findall(translated)) <= names, message.id
            assert set(placeholders.findall(forms(message.string)[-1])) == names, message.id
            # a refusal's template (str.format) keeps every one of its fields, with its format, in translation
            fields = re.compile(r"(?<!{){[^{}]+}(?!})")
            if not isinstance(message.id, tuple) and fields.search(message.id):
                assert sorted(fields.findall(message.string)) == sorted(fields.findall(message.id)), message.id

    def test_a_refusal_with_values_is_said_in_the_readers_language(
            self, client: TestClient, scenario: None, auth: Callable[[str], dict[str, str]]) -> None:
        russian = {"Accept-Language": "ru", **auth("ops")}
        answer = client.post("/api/v1/patrols", headers=russian, json={
            "name": "Проверка", "unit_id": 999_999, "zone_id": 1, "planned_start": "2020-11-20T06:00:00Z",
            "planned_end": "2020-11-20T10:00:00Z"})
        assert answer.status_code == 422, answer.text
        problem = answer.json()
        assert problem["detail"] == "подразделения 999999 не существует"
        assert problem["errors"] == [{"field": "body.unit_id", "message": "подразделения 999999 не существует"}]
        english = client.post("/api/v1/patrols", headers=auth("ops"), json={
            "name": "Check", "unit_id": 999_999, "zone_id": 1, "planned_start": "2020-11-20T06:00:00Z",
            "planned_end": "2020-11-20T10:00:00Z"}).json()
        assert english["detail"] == "unit 999999 does not exist"

    def test_an_imports_refused_items_are_said_in_the_readers_language(
            self, client: TestClient, scenario: None, auth: Callable[[str], dict[str, str]]) -> None:
        log = "tail_number,direction\nRA-1,inbound,extra\n"
        rows = client.post("/api/v1/flights/import", content=log, headers={"Accept-Language": "ru", "Content-Type": "text/csv",
                                                                          **auth("air")})
        assert rows.status_code == 200, rows.text
        assert rows.json()["rejected"] == [{"line": 2, "field": "row", "message": "в строке больше ячеек, чем столбцов в заголовке"}]
        gpx = (b'<gpx xmlns="http://www.topografix.com/GPX/1/1" version="1.1" creator="eTrex 32x">'
               b'<wpt lat="39.8" lon="46.7"><name>CRATER</name></wpt><trk><trkseg>'
               b'<trkpt lat="39.81" lon="46.75"><time>2020-11-20T08:00:00Z</time></trkpt></trkseg></trk></gpx>')
        client.post("/api/v1/trackers", json={"code": "MP-07", "bound_users": ["patrol"]}, headers=auth("ops"))
        points = client.post("/api/v1/positions/gpx", files={"file": ("t.gpx", gpx)}, data={"tracker": "MP-07"},
                             headers={"Accept-Language": "ru", **auth("ops")})
        assert points.status_code == 200, points.text
        assert [p["reason"] for p in points.json()["skipped_points"]] == ["путевая точка: именованное место, а не позиция"]


class TestOfficialMap:
    def test_the_public_map_page_needs_no_sign_in(self, browser: TestClient) -> None:
        page = browser.get("/public/map?on=2020-11-14")
        assert page.status_code == 200
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert "https://" not in re.sub(r'href="https://testserver', "", page.text)  # no CDN, no external asset

    def test_geojson_holds_public_records_as_of_the_day(self, client: TestClient, scenario: None) -> None:
        on_14 = client.get("/api/v1/official-map?on=2020-11-14").json()
        kinds = [f["properties"]["kind"] for f in on_14["features"]]
        assert kinds.count("observation_post") == 16
        assert client.get("/api/v1/official-map?on=2020-11-18").json()["features"].__len__() > len(on_14["features"])
        assert all(set(f["properties"]) <= {"kind", "code", "name", "name_ru", "zone_code", "opened_on", "status", "lat", "lon", "mgrs",
                                            "valid_from", "valid_to", "width_m", "area_km2", "length_km"}
                   for f in on_14["features"])

    def test_internal_records_stay_off_the_official_map(self, client: TestClient, scenario: None,
                                                        auth: Callable[[str], dict[str, str]]) -> None:
        post = client.get("/api/v1/posts?on=2020-11-14").json()["features"][0]
        changed = client.patch(f"/api/v1/posts/{post['id']}", json={"properties": {"visibility": "internal"}}, headers=auth("ops"))
        assert changed.status_code == 200, changed.text
        codes = [f["properties"]["code"] for f in client.get("/api/v1/official-map?on=2020-11-14").json()["features"]]
        assert post["properties"]["code"] not in codes and len([c for c in codes if c]) > 0

    @pytest.mark.parametrize(("fmt", "magic"), [("png", b"\x89PNG"), ("pdf", b"%PDF"), ("kml", b"<?xml")])
    def test_files_for_the_press(self, client: TestClient, scenario: None, fmt: str, magic: bytes) -> None:
        response = client.get(f"/api/v1/official-map?on=2020-11-14&format={fmt}")
        assert response.status_code == 200 and response.content.startswith(magic)
        assert "peacewatch-official-map-2020-11-14" in response.headers["content-disposition"]

    def test_the_press_map_speaks_the_readers_language(self, client: TestClient, scenario: None, monkeypatch: Any) -> None:
        from peacewatch.publication import official_map

        drawn: list[str] = []
        original = official_map.Figure.text

        def spy(figure: Any, x: float, y: float, text: str, *args: Any, **kwargs: Any) -> Any:
            drawn.append(text)
            return original(figure, x, y, text, *args, **kwargs)

        monkeypatch.setattr(official_map.Figure, "text", spy)
        response = client.get("/api/v1/official-map?on=2020-11-14&format=png", headers={"Accept-Language": "ru"})
        assert response.content.startswith(b"\x89PNG")
        assert "Официальная карта размещения" in drawn and any("14 ноября 2020" in text for text in drawn), drawn


class TestMapData:
    def test_latest_positions_and_tracks_at_a_moment(self, client: TestClient, scenario: None,
                                                    auth: Callable[[str], dict[str, str]]) -> None:
        client.post("/api/v1/trackers", json={"code": "T-1", "kind": "vehicle"}, headers=auth("ops"))
        start = datetime(2020, 11, 15, 8, tzinfo=UTC)
        fixes = [{"tracker": "T-1", "t": (start + timedelta(minutes=i)).isoformat(), "lat": 39.8 + i / 1000, "lon": 46.7}
                 for i in range(60)]
        assert client.post("/api/v1/positions", json={"positions": fixes}, headers=auth("ops")).status_code == 200
        at = client.get("/api/v1/positions/latest", params={"at": "2020-11-15T08:30:30Z"}, headers=auth("ops")).json()
        assert at["features"][0]["geometry"]["coordinates"][1] == pytest.approx(39.83)
        assert client.get("/api/v1/positions/latest", params={"at": "2020-11-15T12:00:00Z", "max_age_minutes": 30},
                          headers=auth("ops")).json()["features"] == []
        tracks = client.get("/api/v1/positions/tracks", params={"until": "2020-11-15T09:30:00Z", "hours": 1},
                            headers=auth("ops")).json()
        line = tracks["features"][0]
        assert line["properties"]["code"] == "T-1" and line["properties"]["count"] == 30  # 08:30..08:59: the hour before 09:30
        # anonymous callers see public trackers only
        assert client.get("/api/v1/positions/latest", params={"at": "2020-11-15T08:30:30Z"}).json()["features"] == []

    def test_coordinates_in_mgrs(self, client: TestClient) -> None:
        assert client.get("/api/v1/coordinates?lat=39.8&lon=46.75").json()["mgrs"] == "38SPK4981807024"
        assert client.get("/api/v1/coordinates?lat=91&lon=0").status_code == 422
        # the map's go-to: a grid reference as typed, to the middle of its square
        square = client.get("/api/v1/coordinates", params={"mgrs": "38S PK 49 07"}).json()
        assert square["mgrs"] == "38SPK4950007500" and square["lat"] == pytest.approx(39.8, abs=0.01)
        refused = client.get("/api/v1/coordinates", params={"mgrs": "Stepanakert"})
        assert refused.status_code == 422 and "mgrs" in str(refused.json()["errors"])
        assert "lat" in str(client.get("/api/v1/coordinates").json()["errors"])

    def test_symbols_are_svg_from_numeric_codes(self, client: TestClient) -> None:
        svg = client.get("/ui/symbols/10032500001601000000.svg")
        assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml") and "<svg" in svg.text
        assert client.get("/ui/symbols/SFGPUCI----.svg").status_code == 404
        assert client.get("/static/leaflet/leaflet.js").status_code == 200
        assert client.get("/static/geo/borders-caucasus-ne50m.geojson").json()["type"] == "FeatureCollection"
        # relief and rivers of the region ship with the package (scripts/make-basemap-extract): no tile server needed
        relief = client.get("/static/geo/relief-caucasus.png")
        assert relief.status_code == 200 and relief.content.startswith(b"\x89PNG")
        rivers = client.get("/static/geo/rivers-caucasus.geojson").json()
        assert len(rivers["features"]) >= 20 and all(f["geometry"]["type"] == "LineString" for f in rivers["features"])
        about = client.get("/static/geo/basemap-caucasus.json").json()
        assert about["bounds"] == [[37.5, 43.0], [42.5, 50.0]] and "public domain" in about["relief"]


PNG_TILE = b"\x89PNG\r\n\x1a\n" + b"tile"


def _mbtiles(path: Path) -> Path:
    db = sqlite3.connect(path)
    db.executescript("CREATE TABLE metadata (name TEXT, value TEXT); CREATE TABLE tiles (zoom_level INT, tile_column INT,"
                     " tile_row INT, tile_data BLOB); INSERT INTO metadata VALUES ('format', 'png');")
    db.execute("INSERT INTO tiles VALUES (3, 5, ?, ?)", (2**3 - 1 - 2, PNG_TILE))  # XYZ 3/5/2 is TMS row 5
    db.commit()
    db.close()
    return path


def _pmtiles(path: Path) -> Path:
    from pmtiles.tile import Compression, TileType, zxy_to_tileid
    from pmtiles.writer import Writer

    with path.open("wb") as handle:
        writer = Writer(handle)
        writer.write_tile(zxy_to_tileid(3, 5, 2), PNG_TILE)
        writer.finalize({"tile_type": TileType.PNG, "tile_compression": Compression.NONE, "min_zoom": 3, "max_zoom": 3,
                         "min_lon_e7": 0, "min_lat_e7": 0, "max_lon_e7": 10**8, "max_lat_e7": 10**8,
                         "center_zoom": 3, "center_lon_e7": 0, "center_lat_e7": 0}, {})
    return path


@pytest.mark.parametrize("make", [_mbtiles, _pmtiles], ids=["mbtiles", "pmtiles"])
def test_a_user_basemap_is_served_offline(make: Callable[[Path], Path], settings: Settings, tmp_path: Path) -> None:
    basemap = make(tmp_path / f"basemap.{make.__name__.strip('_')}")
    app = create_app(settings.model_copy(update={"basemap": basemap}))
    with TestClient(app) as client:
        tile = client.get("/tiles/3/5/2")
        assert tile.status_code == 200 and tile.content == PNG_TILE and tile.headers["content-type"] == "image/png"
        assert client.get("/tiles/3/5/3").status_code == 404
        assert client.get("/tiles/3/99/2").status_code == 404
    app.state.engine.dispose()


def test_without_a_basemap_tiles_are_404(client: TestClient) -> None:
    response = client.get("/tiles/3/5/2")
    assert response.status_code == 404 and "PEACEWATCH_BASEMAP" in response.json()["detail"]


@pytest.mark.usefixtures("demo")
def test_a_handovers_parts_are_counted_in_words_that_agree_with_the_number(browser: TestClient) -> None:
    page_sign_in(browser, "humanitarian")
    html = browser.get("/remains").text
    counted = re.findall(r"(\d+) body parts?\b", html)
    assert counted, "the demo's handovers include body parts"
    assert all((n == "1") == (phrase == "") for n, phrase in re.findall(r"(\d+) body part(s?)\b", html))  # "1 body part", "2 body parts"


@pytest.mark.usefixtures("scenario")
def test_characters_that_are_digits_but_not_numbers_are_refused_not_a_server_error(client: TestClient, auth: Any) -> None:
    """"²" and "①" are digits to str.isdigit, and int() refuses them: a record key or a Content-Length made of them is an
    ordinary refusal (found by the fuzzer on GET /api/v1/attachments)."""
    for key in ("²", "12³", "①"):
        answer = client.get("/api/v1/attachments", params={"record_kind": "recovery", "record_key": key}, headers=auth("humanitarian"))
        assert answer.status_code == 404, (key, answer.text)
    declared = client.post("/api/v1/positions", content=b'{"positions": []}',
                           headers=auth("ops") | {"Content-Type": "application/json", "Content-Length": b"\xb2"})  # type: ignore[dict-item]  # a header as bytes: "²" in latin-1
    assert declared.status_code < 500, declared.text


def test_a_liaison_reads_its_sides_handovers_and_missing_persons_and_nothing_of_the_other_side(
        app: Any, demo: None, auth: Any) -> None:
    """/remains for a side's liaison officer: the handovers to the side with their printable lists, the missing
    persons the side reported and where each case stands; the other side's handovers and persons appear nowhere."""
    def api(who: str, path: str) -> list[dict[str, Any]]:
        return TestClient(app).get(path, params={"limit": 1000}, headers=auth(who)).json()

    with TestClient(app, base_url="https://testserver", follow_redirects=False) as browser:
        page_sign_in(browser, "liaison-a")
        page = browser.get("/remains")
        assert page.status_code == 200 and 'href="/remains" aria-current="page">Handovers' in page.text
        mine = {h["number"] for h in api("liaison-a", "/api/v1/handovers")}
        theirs = {h["number"] for h in api("liaison-b", "/api/v1/handovers")}
        assert mine and theirs and not mine & theirs
        assert all(n in page.text for n in mine) and not any(n in page.text for n in theirs)
        assert page.text.count("/list?format=html&amp;lang=en") == len(mine)
        persons = api("liaison-a", "/api/v1/missing-persons")
        others = {p["number"] for p in api("liaison-b", "/api/v1/missing-persons")}
        shown = set(re.findall(r'data-person="(AM-[0-9-]+)"', page.text))
        assert shown and shown <= {p["number"] for p in persons} and not shown & others
        handed = [p for p in persons if p["identified_as"] and p["number"] in shown]
        assert "Handed over" in page.text and all(p["number"] in shown for p in handed)
        browser.cookies.set("pw_lang", "ru")
        russian = browser.get("/remains").text
        assert "Останки, переданные стороне A" in russian and "lang=ru" in russian
        page_sign_in(browser, "ops")
        assert browser.get("/remains").status_code == 404  # the operations centre has no page of personal data


def test_a_bodys_candidates_are_explained_in_russian(app: Any, demo: None, auth: Any) -> None:
    """The matcher's reasons (each field's level and why) are said in the reader's language, numbers and all."""
    api = TestClient(app)
    bodies = api.get("/api/v1/bodies", params={"limit": 200}, headers=auth("humanitarian")).json()
    number = next(b["number"] for b in bodies
                  if api.get(f"/api/v1/bodies/{b['number']}/candidates", headers=auth("humanitarian")).json())
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as browser:
        page_sign_in(browser, "humanitarian")
        english = browser.get(f"/remains/bodies/{number}").text
        browser.cookies.set("pw_lang", "ru")
        russian = browser.get(f"/remains/bodies/{number}").text
    reasons = re.findall(r'<li class="(?:for|against)">([^<]+)</li>', russian)
    assert reasons and re.findall(r'<li class="(?:for|against)">', english)
    left = [r for r in reasons if re.search(r"\b(reported|body|agree|disagree|within|found|teeth|words|range)\b", r)]
    assert not left, left
    assert all(re.search("[А-Яа-я]", r) for r in reasons), reasons
