"""The tasks pages: every write the API offers to the reader's role, each as a form.

``/tasks`` lists what the signed-in user may do, grouped as the API groups it; ``/tasks/{operation}``
is one write's form, built from the API's own OpenAPI document (``ui.forms``), so the page can neither
offer a write the role may not make nor miss one it may. The form submits to the API as the signed-in
user; the answer's errors are shown next to their fields, all at once. A link may fill fields in
advance (``?path.number=PW-2020-000001``), so a body's page can lead to its post-mortem form.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from fastapi.responses import HTMLResponse, Response

from peacewatch.core.i18n import translations
from peacewatch.core.web import SessionDep, SettingsDep
from peacewatch.ui import symbols
from peacewatch.ui.forms import DENTAL_QUADRANTS, Task
from peacewatch.ui.moments import mission_day
from peacewatch.ui.pages import PageDep, app_tasks, router

# writes that pages already do better than a generic form (a map, a dialog): their tasks link there
DEDICATED_PAGES = {
    "report_incident_api_v1_incidents_post": "/incidents",
}


@router.get("/tasks", response_class=HTMLResponse)
def task_list(page: PageDep) -> Response:
    user = page.require_user()
    groups: dict[str, list[Task]] = defaultdict(list)
    for task in app_tasks(page.request.app):
        if task.admits(user.role.value):
            groups[task.tag].append(task)
    return page.render("tasks.html", groups=sorted(groups.items()), dedicated=DEDICATED_PAGES)


@router.get("/tasks/{operation_id}", response_class=HTMLResponse)
def task_form(page: PageDep, session: SessionDep, settings: SettingsDep, operation_id: str) -> Response:
    user = page.require_user()
    task = next((t for t in app_tasks(page.request.app) if t.operation_id == operation_id), None)
    _ = translations(page.language).gettext
    if task is None or not task.admits(user.role.value):
        return page.render("not_found.html", status_code=404, what=_("This task"))
    prefilled: dict[str, Any] = {k: v for k, v in page.request.query_params.items() if k.startswith(("path.", "body."))}
    config = {"task": {"method": task.method.upper(), "path": task.path, "content_type": task.content_type,
                       "irreversible": task.irreversible},
              "prefilled": prefilled}
    if task.has_geometry:  # its small map shows the areas, posts and towns of the mission's day around the shape
        config |= {"icons": symbols.icons(), "day": mission_day(session, user.readable, settings.zone).isoformat()}
    return page.render("task.html", task=task, config=config, dedicated=DEDICATED_PAGES.get(task.operation_id),
                       dental_quadrants=DENTAL_QUADRANTS)
