"""Every page in Russian, for every role: no sentence of the English catalog is left untranslated on it.

The pages are rendered on the server for each role that may open them, with the Russian cookie; their visible text
(scripts and styles aside) is searched for each sentence of the catalog whose Russian differs from its English. A
sentence found is one a template or a service said without asking the catalog. The pages' scripts are held to the
same by tests/unit/test_catalog.py, which checks that each sentence they say is handed to the page translated.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from tests.helpers import page_sign_in

CATALOG = Path(__file__).parents[2] / "peacewatch" / "core" / "locales" / "ru" / "LC_MESSAGES" / "messages.po"
EVERY_ROLE = ("admin", "ops", "patrol", "humanitarian", "air", "press", "liaison-a", "liaison-b")
PAGES = ["/map", "/patrols", "/incidents", "/airlift", "/claims", "/duty", "/users", "/reports", "/reports?kind=sitrep&date=2020-11-17",
         "/remains", "/remains/missing", "/remains/reconciliation", "/tasks", "/field/", "/public/map", "/login",
         "/records/convoys", "/records/returns", "/records/clearances"]


def _sentences() -> list[str]:
    """The catalog's English sentences a reader would notice: several words, said otherwise in Russian."""
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle)
    return sorted({m.id for m in catalog if isinstance(m.id, str) and " " in m.id.strip() and m.string and m.string != m.id
                   and "%(" not in m.id and "{" not in m.id and len(m.id) >= 12}, key=len, reverse=True)


def _visible(page: str) -> str:
    """The page's own words: scripts, styles and what a user typed into a record (marked ``data-typed``) aside."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S | re.I)
    page = re.sub(r"<(td|span|p|li) data-typed>.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def test_every_page_of_every_role_is_in_russian(app: Any, demo: None, auth: Any) -> None:
    api = TestClient(app)
    # a person's name is theirs, as it was typed: the demo's users are named after their posts ("Duty officer")
    people = {u["full_name"] for u in api.get("/api/v1/users", params={"limit": 1000}, headers=auth("admin")).json()}
    people |= {h["receiving_person"] for h in api.get("/api/v1/handovers", params={"limit": 1000}, headers=auth("humanitarian")).json()}
    names = sorted(people, key=len, reverse=True)
    sentences = _sentences()
    samples = {
        "ops": [f"/patrols/{api.get('/api/v1/patrols', params={'limit': 1}, headers=auth('ops')).json()[0]['id']}",
                f"/incidents/{api.get('/api/v1/incidents', params={'limit': 1}, headers=auth('ops')).json()[0]['id']}",
                "/tasks/create_patrol_api_v1_patrols_post", "/tasks/create_zone_api_v1_restricted_zones_post"],
        "humanitarian": [f"/remains/bodies/{api.get('/api/v1/bodies', params={'limit': 1}, headers=auth('humanitarian')).json()[0]['number']}",
                         "/tasks/record_recovery_api_v1_recoveries_post"],
    }
    found: dict[str, list[str]] = {}
    for role in EVERY_ROLE:
        browser = TestClient(app, base_url="https://testserver", follow_redirects=False)  # one per role: its own cookies
        page_sign_in(browser, role)
        browser.cookies.set("pw_lang", "ru")
        for path in PAGES + samples.get(role, []):
            answer = browser.get(path)
            if answer.status_code != 200 or not answer.headers.get("content-type", "").startswith("text/html"):
                continue  # not this role's page
            text = _visible(answer.text)
            for name in names:  # who did something is said by their name, in the language it was typed in
                text = text.replace(name, " ")
            english = [s for s in sentences if s in text]
            if english:
                found[f"{role} {path}"] = english[:5]
    assert not found, "\n".join(f"{page}: {english}" for page, english in found.items())
