"""An alert's page (what happened, who was told, when, by which channel, who acknowledged), the page an e-mail's
acknowledgement link opens, and the duty roster's page (who is on duty now, the shifts to come, the policies)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Form
from fastapi.responses import HTMLResponse, Response

from peacewatch.alerts.service import get_alert
from peacewatch.core.auth import OPERATIONS_CENTRE_ROLES, OPERATIONS_ROLES
from peacewatch.core.cookies import CSRF_FIELD, csrf_valid
from peacewatch.core.db import utcnow
from peacewatch.core.i18n import translations
from peacewatch.core.problems import NotFound
from peacewatch.core.web import SessionDep, SettingsDep
from peacewatch.duty import delivery, figures, service
from peacewatch.ui.pages import PageDep, router


@router.get("/alerts/{alert_id}", response_class=HTMLResponse)
def alert_page(page: PageDep, session: SessionDep, alert_id: int) -> Response:
    user = page.require_user()
    _ = translations(page.language).gettext
    if not page.has(OPERATIONS_CENTRE_ROLES):
        return page.render("not_found.html", status_code=404, what=_("Alert %(id)s") % {"id": alert_id})
    try:
        alert = get_alert(session, alert_id, user.readable)
    except NotFound:
        return page.render("not_found.html", status_code=404, what=_("Alert %(id)s") % {"id": alert_id})
    story = figures.history_of(session, alert)
    return page.render("alert.html", alert=alert, story=story, can_act=page.has(OPERATIONS_ROLES))


def _link_page(page: PageDep, session: SessionDep, settings: SettingsDep, token: str, done: bool | None) -> Response:
    _ = translations(page.language).gettext
    try:
        _notice, alert, person = delivery.notice_of_link(session, settings, token)
    except NotFound:
        return page.render("not_found.html", status_code=404, what=_("This acknowledgement link"))
    return page.render("alert_acknowledge.html", alert=alert, person=person, token=token, done=done)


@router.get("/alerts/acknowledge/{token}", response_class=HTMLResponse)
def acknowledge_link(page: PageDep, session: SessionDep, settings: SettingsDep, token: str) -> Response:
    """What the e-mail's link opens: the alert and a button. Opening it changes nothing (mail scanners open links)."""
    return _link_page(page, session, settings, token, None)


@router.post("/alerts/acknowledge/{token}", response_class=HTMLResponse)
def acknowledge_from_link(page: PageDep, session: SessionDep, settings: SettingsDep, token: str,
                          csrf_token_: Annotated[str, Form(alias=CSRF_FIELD)] = "") -> Response:
    if not csrf_valid(settings.resolved_secret_key, page.request, csrf_token_):
        return _link_page(page, session, settings, token, None)
    try:
        _alert, done = delivery.acknowledge_by_link(session, settings, token)
    except NotFound:
        return _link_page(page, session, settings, token, None)
    return _link_page(page, session, settings, token, done)


@router.get("/duty", response_class=HTMLResponse)
def duty_page(page: PageDep, session: SessionDep) -> Response:
    page.require_user()
    _ = translations(page.language).gettext
    if not page.has(OPERATIONS_CENTRE_ROLES):
        return page.render("not_found.html", status_code=404, what=_("The duty roster"))
    now = utcnow()
    current = service.list_shifts(session, since=now, until=now + timedelta(microseconds=1), limit=1000).items
    coming = [s for s in service.list_shifts(session, since=now, until=now + timedelta(days=7), limit=1000).items if s.starts_at > now]
    waited = figures.response_times(session, page.zone, now - timedelta(days=7), now)
    return page.render("duty.html", current=current, coming=coming, policies=service.list_policies(session),
                       can_plan=page.has(OPERATIONS_ROLES), waited=waited)
