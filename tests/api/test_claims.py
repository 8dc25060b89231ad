"""The claims register through the API: the Turkish claim of 14 November 2020, the Kremlin's denial, the joint centre."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from peacewatch.core.settings import Settings
from peacewatch.scenario import airlift_demo

Auth = Callable[[str], dict[str, str]]


@pytest.fixture
def register(app: FastAPI, scenario: None, settings: Settings) -> int:
    with app.state.sessionmaker() as session:
        airlift_demo.load(session, settings)
    return 1


def claim_id(client: TestClient) -> int:
    statements = client.get("/api/v1/statements").json()
    return next(s["id"] for s in statements if s["state"] == "TUR")


def test_the_turkish_claim_is_contradicted_by_the_mandate_with_the_kremlin_denial_linked(client: TestClient, register: int) -> None:
    check = client.get(f"/api/v1/statements/{claim_id(client)}/check").json()
    assert check["on"] == "2020-11-14" and check["verdict"] == "contradicted"
    assert "not an authorised contributor" in check["reason"]
    assert check["mandate"]["contributors"] == ["RUS (Russian Federation)"] and "10 November 2020" in check["mandate"]["source"]
    assert check["arrangements"] == []
    denial = check["related"][0]
    assert denial["relation"] == "answered by" and denial["stance"] == "denies" and denial["state"] == "RUS"
    verdicts = {s["state"]: s["verdict"] for s in client.get("/api/v1/statements").json()}
    assert verdicts == {"TUR": "contradicted", "RUS": "supported"}


@pytest.mark.parametrize(("on", "verdict", "centre"), [
    ("2021-01-29", "contradicted", False),  # the day before the centre opened
    ("2021-01-30", "nuanced", True),
    ("2025-06-01", "nuanced", True),
])
def test_the_same_claim_follows_the_arrangements_in_force_on_the_date(client: TestClient, register: int, on: str,
                                                                      verdict: str, centre: bool) -> None:
    check = client.get(f"/api/v1/statements/{claim_id(client)}/check", params={"on": on}).json()
    assert check["verdict"] == verdict
    assert bool(check["arrangements"]) is centre
    if centre:
        assert "up to 60 per side" in check["reason"] and "Agdam district" in check["reason"]
        assert "drones" in check["reason"] and "no troops of Türkiye deploy in the areas of responsibility" in check["reason"]
        assert check["arrangements"][0]["troops_in_areas"] is False


def test_a_contributor_added_to_the_mandate_from_a_date_supports_the_claim_from_then(client: TestClient, register: int,
                                                                                     auth: Auth) -> None:
    states = [{"code": "RUS", "name": "Russian Federation"}, {"code": "TUR", "name": "Türkiye", "since": "2022-01-01"}]
    assert client.patch("/api/v1/mandate", json={"contributing_states": states}, headers=auth("admin")).status_code == 200
    statement = claim_id(client)
    assert client.get(f"/api/v1/statements/{statement}/check", params={"on": "2021-12-31"}).json()["verdict"] == "nuanced"
    assert client.get(f"/api/v1/statements/{statement}/check", params={"on": "2022-01-01"}).json()["verdict"] == "supported"
    denial = next(s["id"] for s in client.get("/api/v1/statements").json() if s["state"] == "RUS")
    assert client.get(f"/api/v1/statements/{denial}/check", params={"on": "2022-01-01"}).json()["verdict"] == "contradicted"


def statement(**changes: Any) -> dict[str, Any]:
    return {"speaker": "Foreign Ministry", "state": "FRA", "stated_on": "2020-11-16", "source": "agency",
            "quote": "French observers will take part.", "subject": "participation", "subject_state": "FRA",
            "stance": "claims"} | changes


@pytest.mark.parametrize(("changes", "field"), [
    ({"state": "XXX"}, "body.state"),
    ({"subject_state": "ZZZ"}, "body.subject_state"),
    ({"subject_state": None}, "body"),
    ({"stance": "suggests"}, "body.stance"),
    ({"stated_on": "2099-01-01"}, "body.stated_on"),
    ({"responds_to_id": 999}, "body.responds_to_id"),
    ({"quote": ""}, "body.quote"),
])
def test_bad_statements_are_refused_saying_where(client: TestClient, register: int, auth: Auth, changes: dict[str, Any],
                                                 field: str) -> None:
    response = client.post("/api/v1/statements", json=statement(**changes), headers=auth("press"))
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == field, response.json()


def test_recording_needs_the_press_office_or_operations_and_visibility_holds(client: TestClient, register: int, auth: Auth) -> None:
    assert client.post("/api/v1/statements", json=statement(), headers=auth("air")).status_code == 403
    assert client.post("/api/v1/statements", json=statement()).status_code == 401
    made = client.post("/api/v1/statements", json=statement(visibility="internal"), headers=auth("press"))
    assert made.status_code == 201 and made.json()["verdict"] == "contradicted"
    other = client.post("/api/v1/statements", json=statement(subject="other", subject_state=None, quote="The weather is fine"),
                        headers=auth("ops")).json()
    assert other["verdict"] == "not_checkable"
    assert client.get(f"/api/v1/statements/{made.json()['id']}/check", headers=auth("liaison-a")).status_code == 404
    assert made.json()["id"] not in [s["id"] for s in client.get("/api/v1/statements", headers=auth("liaison-a")).json()]
    assert made.json()["id"] in [s["id"] for s in client.get("/api/v1/statements", headers=auth("observer")).json()]


def test_arrangements_are_recorded_by_an_administrator_with_their_limits(client: TestClient, register: int, auth: Auth) -> None:
    listed = client.get("/api/v1/mandate/arrangements").json()
    assert [a["name"] for a in listed] == ["Joint Russian-Turkish Ceasefire Monitoring Centre"]
    assert listed[0]["staff_per_state"] == 60 and listed[0]["states"] == ["RUS", "TUR"]
    bad = {"name": "x", "states": ["TUR"], "starts_on": "2021-02-01", "ends_on": "2021-01-01"}
    assert client.post("/api/v1/mandate/arrangements", json=bad, headers=auth("admin")).status_code == 422
    good = bad | {"ends_on": None}
    assert client.post("/api/v1/mandate/arrangements", json=good, headers=auth("ops")).status_code == 403
    assert client.post("/api/v1/mandate/arrangements", json=good, headers=auth("admin")).status_code == 201
    assert client.post("/api/v1/mandate/arrangements", json=good, headers=auth("admin")).status_code == 409


def test_a_paraphrase_is_a_flag_the_pages_word_in_the_readers_language(app: FastAPI, client: TestClient, register: int) -> None:
    """The register keeps whether a quote is the speaker's words or its own summary; the page says so in Russian."""
    statements = client.get("/api/v1/statements").json()
    assert all(s["paraphrase"] and not s["quote"].startswith("(") for s in statements if s["state"] in ("TUR", "RUS"))
    check = client.get(f"/api/v1/statements/{claim_id(client)}/check").json()
    assert check["related"][0]["paraphrase"] is True
    from tests.helpers import page_sign_in

    with TestClient(app, base_url="https://testserver", follow_redirects=False) as browser:
        page_sign_in(browser, "press")
        browser.cookies.set("pw_lang", "ru")
        page = browser.get("/claims").text
    assert '<span class="pill">пересказ</span>' in page and "(paraphrase)" not in page


def test_the_register_marker_written_into_old_quotes_becomes_the_flag(tmp_path: Any) -> None:
    """Migration 0032 turns the "(paraphrase) " a quote began with into the flag, and back on a downgrade."""
    import sqlalchemy as sa
    from alembic import command

    from peacewatch.core.migrate import alembic_config, upgrade

    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0031")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO statements (speaker, office, state, stated_on, source, link, quote, subject, subject_state, "
                             "stance, visibility, created_at, updated_at) VALUES ('MoD', '', 'TUR', '2020-11-14', 'press', '', "
                             "'(paraphrase) Troops will take part.', 'participation', 'TUR', 'claims', 'public', '2020-11-14', "
                             "'2020-11-14')"))
    upgrade(url, "0032")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT quote, paraphrase FROM statements")).one() == ("Troops will take part.", 1)
    command.downgrade(alembic_config(url), "0031")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT quote FROM statements")).scalar() == "(paraphrase) Troops will take part."
