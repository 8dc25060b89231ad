"""The operations map (live, or as it stood at a past moment) and the public official map."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from fastapi.responses import HTMLResponse, Response

from peacewatch.alerts.models import AlertKind
from peacewatch.core.auth import (
    FIELD_STAFF_ROLES,
    INTERNAL_ROLES,
    OPERATIONS_ROLES,
)
from peacewatch.core.db import utcnow
from peacewatch.core.i18n import translations
from peacewatch.core.web import SessionDep, SettingsDep
from peacewatch.incidents.models import IncidentType, ViolationKind
from peacewatch.ui import symbols
from peacewatch.ui.moments import latest_record, opening, opening_day
from peacewatch.ui.pages import PageDep, basemap_of, mission_time, router, zone_caption


def _moment(on: date | None, at: str | None, zone: ZoneInfo) -> tuple[date, str | None]:
    """The day the map opens on (the mission's) and, when the user asked for a past moment, that moment as an
    instant; a moment without a zone is read on the mission's clock, as the time bar shows it."""
    if at:
        try:
            moment = datetime.fromisoformat(at)
        except ValueError:
            moment = None
        if moment is not None:
            aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)
            return aware.astimezone(zone).date(), aware.isoformat()
    return on or utcnow().astimezone(zone).date(), None


@router.get("/map", response_class=HTMLResponse)
def operations_map(page: PageDep, session: SessionDep, settings: SettingsDep, on: date | None = None,
                   at: str | None = None) -> Response:
    user = page.require_user()
    day, moment = _moment(on, at, settings.zone)
    notice = None
    if on is None and at is None:  # "now", unless the mission's records ended more than a day ago
        latest = opening(latest_record(session, user.readable), utcnow())
        if latest is not None:
            day, moment = opening_day(latest, settings.zone), latest.isoformat()
            _ = translations(page.language).gettext
            notice = _("The mission's records end at %(at)s (%(zone)s): the map opens there. Press Live for now.") % {
                "at": mission_time(latest, settings.zone), "zone": zone_caption(settings.zone, gettext=_)}
    basemap = basemap_of(settings.basemap)
    config = {
        "day": day.isoformat(),
        "at": moment,
        "live": moment is None and on is None,
        "coverage": page.has(FIELD_STAFF_ROLES),  # as /api/v1/coverage admits
        "incidents": user.role in INTERNAL_ROLES,  # as /api/v1/incident-events admits
        "can_handle_alerts": page.has(OPERATIONS_ROLES),
        "can_edit_geography": page.has(OPERATIONS_ROLES),  # as the geography's writes admit
        "icons": symbols.icons(),
        "basemap": {"max_zoom": basemap.max_zoom, "min_zoom": basemap.min_zoom} if basemap else None,
    }
    _ = translations(page.language).gettext
    filter_kinds = [(_("Alerts"), [k.value for k in AlertKind]),
                    (_("Incidents"), [k.value for k in ViolationKind] + [k.value for k in IncidentType])]
    return page.render("map.html", config=config, notice=notice, filter_kinds=filter_kinds)





@router.get("/public/map", response_class=HTMLResponse)
def public_map(page: PageDep, on: date | None = None) -> Response:
    day = on or utcnow().date()
    return page.render("public_map.html", day=day, config={"day": day.isoformat(), "icons": symbols.icons()})
