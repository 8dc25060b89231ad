"""/field: the field application, a page that keeps working with no connection once it has been opened online.

It is an installable web application (a manifest and a service worker, both served from the package, no build
step): the service worker keeps the page, its scripts and the last answers of the lists it reads, and the page
keeps every report in an outbox on the device (IndexedDB) until the server has it. The server's idempotency
makes a resend harmless: an incident or a check-in carries the device's ``client_id``, a position is one per
tracker and moment, a file is one per record and SHA-256.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi.responses import HTMLResponse, RedirectResponse, Response

from peacewatch.core.auth import HUMANITARIAN_ROLES, OPERATIONS_OR_PATROL_ROLES, admits
from peacewatch.core.i18n import translations
from peacewatch.core.web import SettingsDep
from peacewatch.incidents.models import Actor, IncidentType, ViolationKind
from peacewatch.ui import symbols
from peacewatch.ui.forms import body_rules
from peacewatch.ui.pages import FIELD_ROLES, HERE, Page, PageDep, app_tasks, basemap_of, router

CACHE_VERSION = "field-10"  # a new version of the page's files: the service worker drops the old cache


@router.get("/field", include_in_schema=False)
def field_root() -> Response:
    return RedirectResponse("/field/", status_code=307)  # the service worker's scope is /field/


@router.get("/field/", response_class=HTMLResponse)
def field_page(page: PageDep, settings: SettingsDep) -> Response:
    user = page.require_user()
    _ = translations(page.language).gettext
    if not admits(FIELD_ROLES, user.role):
        return page.render("not_found.html", status_code=403, what=_("The field application"))
    return page.render("field.html", config={
        "user": user.username, "role": user.role.value, "incidents": admits(OPERATIONS_OR_PATROL_ROLES, user.role),
        "remains": admits(HUMANITARIAN_ROLES, user.role),
        "types": [t.value for t in IncidentType], "subtypes": [s.value for s in ViolationKind], "actors": [a.value for a in Actor],
        "cache": CACHE_VERSION, "icons": symbols.icons(), "rules": _device_rules(page),
        "clock_skew_s": int(settings.clock_skew.total_seconds()),
        "basemap": {"max_zoom": basemap.max_zoom, "min_zoom": basemap.min_zoom} if (basemap := basemap_of(settings.basemap)) else None,
    })


DEVICE_CHECKED = {"incident": ("post", "/api/v1/incidents"), "recovery": ("post", "/api/v1/recoveries")}


def _device_rules(page: Page) -> dict[str, dict[str, dict[str, Any]]]:
    """The rules the page checks each report against before keeping it, from the API's own OpenAPI document."""
    found = {(task.method, task.path): task for task in app_tasks(page.request.app)}
    return {kind: body_rules(found[write]) for kind, write in DEVICE_CHECKED.items() if write in found}


@router.get("/field/sw.js", include_in_schema=False)
def service_worker() -> Response:
    """The service worker, served from /field/ so that its scope is the field application's pages."""
    script = (HERE / "static" / "js" / "field-sw.js").read_text().replace("__CACHE__", CACHE_VERSION)
    return Response(script, media_type="text/javascript", headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/field/"})


@router.get("/field/manifest.webmanifest", include_in_schema=False)
def manifest(page: PageDep) -> Response:
    _ = translations(page.language).gettext
    body = {"name": _("PeaceWatch field reports"), "short_name": "PeaceWatch", "start_url": "/field/", "scope": "/field/",
            "display": "standalone", "background_color": "#ffffff", "theme_color": "#0b3a6e",
            "icons": [{"src": "/ui/symbols/10031000151412000000.svg?size=192", "sizes": "192x192", "type": "image/svg+xml"}]}
    return Response(json.dumps(body), media_type="application/manifest+json")
