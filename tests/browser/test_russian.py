"""A Russian reader meets no English in the pages' own words: headings, labels, buttons, hints, legends.

Records keep the words they were written in (a unit's name, a patrol's, a quoted statement): this test reads
the pages' chrome only, where every word comes from the catalogs, and fails on any English word there.
"""

from __future__ import annotations

import re

from playwright.sync_api import Browser

from tests.browser.conftest import sign_in
from tests.live import LiveServer

PAGES = {
    "ops": ["/map", "/patrols", "/incidents", "/airlift", "/claims", "/reports?kind=sitrep&date=2020-11-17", "/tasks",
            "/tasks/create_patrol_api_v1_patrols_post", "/tasks/create_zone_api_v1_restricted_zones_post"],
    "humanitarian": ["/remains", "/remains/missing", "/remains/reconciliation", "/tasks/record_recovery_api_v1_recoveries_post"],
    "admin": ["/tasks/create_user_api_v1_users_post", "/tasks/attach_api_v1_attachments_post"],
    "patrol": ["/field/"],
    "liaison-a": ["/remains"],
}
CHROME = ("h1, h2, h3, th, label, button, legend, summary, caption, dt, p.lead, .notice, .leaflet-control-layers, "
          ".legend, .hint:not(.statement .hint)")
NAMES = {"PeaceWatch", "English", "GeoJSON", "JSON", "MGRS", "ICAO", "RRULE"}  # names and codes, the same in Russian
ENGLISH_WORD = re.compile(r"\b[A-Za-z][a-z]{2,}\b")


def test_no_english_word_in_the_russian_pages_chrome(browser: Browser, server: LiveServer) -> None:
    found: dict[str, list[str]] = {}
    for user, paths in PAGES.items():
        context = browser.new_context(base_url=server.url, viewport={"width": 1366, "height": 768}, bypass_csp=True)
        context.add_cookies([{"name": "pw_lang", "value": "ru", "url": server.url}])
        page = context.new_page()
        sign_in(page, user, paths[0])
        for path in paths:
            page.goto(path)
            page.wait_for_load_state("load")
            if page.locator("#map").count():
                page.wait_for_function("document.body.dataset.loaded !== undefined")
            # a record's own words (a tracker's name beside its box, marked data-typed) are not the page's
            texts = page.evaluate(f"[...document.querySelectorAll({CHROME!r})].map((el) => [...el.querySelectorAll('[data-typed]')]"
                                  ".reduce((text, typed) => text.replace(typed.innerText, ''), el.innerText))")
            english = sorted({w for text in texts for w in ENGLISH_WORD.findall(text)} - NAMES)
            if english:
                found[f"{user} {path}"] = english
        context.close()
    assert not found, found


def test_a_liaison_prints_a_handover_list_in_russian(browser: Browser, server: LiveServer) -> None:
    """The list handed to a side is read by its officers: printed from their page in the language they chose."""
    context = browser.new_context(base_url=server.url, viewport={"width": 1366, "height": 768})
    page = context.new_page()
    sign_in(page, "liaison-a", "/remains")
    page.click("button.language[value=ru]")
    page.wait_for_function("document.documentElement.lang === 'ru'")
    first = page.locator("#handover-table tbody tr").first
    number = first.locator("td").first.inner_text()
    first.locator("a.print-list").click()
    page.wait_for_url("**/list?format=html&lang=ru")
    assert page.evaluate("document.documentElement.lang") == "ru"
    assert page.locator("h1").inner_text() == f"Передача останков {number}"
    headings = page.locator("th").all_inner_texts()
    assert headings[:3] == ["№", "Номер тела", "Вид"] and not [h for h in headings if ENGLISH_WORD.search(h)]
    context.close()


def test_the_top_bar_is_one_line_in_russian_for_every_role(browser: Browser, server: LiveServer) -> None:
    """At 1366 pixels, the width of the operations centre's screens, no role's menu wraps in Russian."""
    tall = {}
    for user in ("admin", "ops", "patrol", "humanitarian", "air", "press", "liaison-a", "observer"):
        context = browser.new_context(base_url=server.url, viewport={"width": 1366, "height": 768})
        context.add_cookies([{"name": "pw_lang", "value": "ru", "url": server.url}])
        page = context.new_page()
        sign_in(page, user, "/reports")
        header = page.locator("header.topbar").bounding_box()
        link = page.locator("header.topbar nav a").first.bounding_box()
        assert header is not None and link is not None
        if header["height"] > link["height"] * 1.9:  # two rows of links, or the session box under them
            tall[user] = header["height"]
        context.close()
    assert not tall, tall


def test_the_russian_map_names_towns_and_areas_in_cyrillic(browser: Browser, server: LiveServer) -> None:
    context = browser.new_context(base_url=server.url, viewport={"width": 1366, "height": 768})
    context.add_cookies([{"name": "pw_lang", "value": "ru", "url": server.url}])
    page = context.new_page()
    sign_in(page, "ops", "/map")
    page.wait_for_function("(window.peacewatch || {}).placeCount > 0")
    labels = page.eval_on_selector_all(".place-label", "els => els.map((e) => e.textContent)")  # hidden by decluttering too
    assert {"Степанакерт", "Мартуни", "Шуша"} <= set(labels), labels
    assert not [label for label in labels if ENGLISH_WORD.search(label)], labels
    context.close()
