"""No serious or critical axe-core violation on any page, for the roles that use it.

axe-core is the one bundled by ``axe-playwright-python`` (axe-core's npm release, injected into the page);
the browser context bypasses the pages' CSP only so the test can inject it.
"""

from __future__ import annotations

import json
import re

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page

from tests.browser.conftest import screenshot, sign_in
from tests.live import LiveServer

SERIOUS = ("serious", "critical")
PAGES = {
    None: ["/login", "/public/map", "/reports"],
    "ops": ["/map", "/patrols", "/incidents", "/airlift", "/claims", "/reports?kind=sitrep&date=2020-11-17", "/tasks", "/duty",
            "/alerts/1",
            "/tasks/create_patrol_api_v1_patrols_post", "/tasks/create_zone_api_v1_restricted_zones_post"],
    "humanitarian": ["/remains", "/remains/missing", "/remains/reconciliation",
                     "/tasks/record_recovery_api_v1_recoveries_post", "/tasks/file_missing_api_v1_missing_persons_post"],
    "patrol": ["/tasks/check_in_api_v1_patrols__patrol_id__check_ins_post", "/field/"],
    "admin": ["/tasks/create_user_api_v1_users_post", "/tasks/revoke_api_token_api_v1_api_tokens__token_id__revoke_post"],
    "liaison-a": ["/map", "/incidents"],
}


def settle(page: Page) -> None:
    """The page and what its scripts draw: a map waits for its first load (live streams never go idle)."""
    page.wait_for_load_state("load")
    if page.locator("#map").count():
        page.wait_for_function("document.body.dataset.loaded !== undefined")
    if page.locator("#task-form").count():
        page.wait_for_function("window.peacewatch && window.peacewatch.taskReady")


def serious_violations(page: Page, axe: Axe) -> list[str]:
    results = axe.run(page)
    found = []
    for violation in results.response["violations"]:
        if violation["impact"] in SERIOUS:
            targets = [node["target"] for node in violation["nodes"]][:5]
            found.append(f"{violation['id']} ({violation['impact']}): {violation['help']} at {json.dumps(targets)}")
    return found


def test_no_serious_or_critical_violation_on_any_page(page: Page) -> None:
    axe = Axe()
    problems: dict[str, list[str]] = {}
    for user, paths in PAGES.items():
        if user is not None:
            page.context.clear_cookies()
            sign_in(page, user, paths[0])
        for path in paths:
            page.goto(path)
            settle(page)
            found = serious_violations(page, axe)
            if found:
                problems[f"{user or 'anonymous'} {path}"] = found
    assert not problems, json.dumps(problems, indent=1)


def test_detail_pages_have_no_serious_violation(page: Page) -> None:
    axe = Axe()
    sign_in(page, "humanitarian", "/remains")
    page.locator("#body-table a, table.grid tbody a").first.click()
    settle(page)
    assert not serious_violations(page, axe)
    sign_in(page, "ops", "/patrols")
    page.locator("table.grid tbody a").first.click()
    settle(page)
    assert not serious_violations(page, axe)
    page.goto("/incidents")
    page.locator("#incident-table tbody a").first.click()
    settle(page)
    assert not serious_violations(page, axe)


def test_screenshots_of_every_page_on_a_laptop_and_a_tablet(browser: Browser, server: LiveServer) -> None:
    """Every page at 1366×768 and on a tablet (768×1024, touch), saved for a person to look at; none may
    overflow sideways on the tablet."""
    for name, viewport, touch in (("laptop", {"width": 1366, "height": 768}, False),
                                  ("tablet", {"width": 768, "height": 1024}, True)):
        context = browser.new_context(base_url=server.url, viewport=viewport, has_touch=touch, bypass_csp=True)
        page = context.new_page()
        for user, paths in PAGES.items():
            if user is not None:
                context.clear_cookies()
                sign_in(page, user, paths[0])
            for path in paths:
                page.goto(path)
                settle(page)
                slug = re.sub(r"[^a-z0-9]+", "-", f"{user or 'anonymous'}{path}".lower()).strip("-")[:80]
                screenshot(page, f"pages/{name}/{slug}")
                if touch and not page.locator("#map").count():
                    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
                    assert overflow <= 2, (user, path, overflow)
        context.close()


def keyboard_misses(page: Page) -> list[str]:
    """The form's fields that Tab never reaches on its way from the top of the page to the form's submit button (a
    group of check boxes is reached when one of its boxes is)."""
    wanted = set(page.eval_on_selector_all(
        "#task-form [data-path]", "els => els.filter(e => !e.closest('template') && e.offsetParent !== null"
        # a group with nothing to choose yet (no device token issued, no proposal chosen) has nothing to reach
        " && (e.tagName !== 'FIELDSET' || e.querySelector('input, select, textarea'))).map(e => e.id)"))
    reached = set()
    for _ in range(400):
        page.keyboard.press("Tab")
        element_id, kind, in_form = page.evaluate(
            "(el => [(el.closest('[data-path]') || el).id, el.type, !!el.closest('#task-form')])(document.activeElement)")
        reached.add(element_id)
        if kind == "submit" and in_form:
            return sorted(wanted - reached)
    return ["the submit button"]


def test_every_task_form_has_no_serious_violation_and_is_used_with_the_keyboard(page: Page, server: LiveServer) -> None:
    """Every write's form (the administrator is offered them all): checked by axe-core, and every field of it is
    reached with Tab, in order, up to the submit button (a shape is typed or pasted as GeoJSON in its box)."""
    import httpx

    from peacewatch.ui.forms import tasks

    operations = [t.operation_id for t in tasks(httpx.get(f"{server.url}/openapi.json").json())]
    assert len(operations) > 60
    axe = Axe()
    sign_in(page, "admin", "/tasks")
    problems: dict[str, list[str]] = {}
    for operation in operations:
        page.goto(f"/tasks/{operation}")
        settle(page)
        found = serious_violations(page, axe)
        missed = keyboard_misses(page)
        if missed:
            found.append(f"not reached with Tab: {', '.join(missed)}")
        if found:
            problems[operation] = found
    assert not problems, json.dumps(problems, indent=1)
