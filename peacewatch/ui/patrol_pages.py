"""The patrols: the list with its filters, and each patrol's page."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import Depends, Query
from fastapi.responses import HTMLResponse, Response

from peacewatch.core.auth import (
    OPERATIONS_OR_PATROL_ROLES,
    OPERATIONS_ROLES,
)
from peacewatch.core.i18n import translations
from peacewatch.core.problems import NotFound
from peacewatch.core.web import MAX_ID, SessionDep
from peacewatch.force.service import list_units
from peacewatch.geography.models import ZoneKind
from peacewatch.geography.service import list_zones
from peacewatch.patrols import service as patrols
from peacewatch.patrols.models import PatrolStatus
from peacewatch.ui.pages import PER_PAGE, ListFilters, PageDep, day_after, day_start, mission_time, optional_value, router


@dataclass
class PatrolFilters(ListFilters):
    status: PatrolStatus | None = None
    zone_id: int | None = None
    q: str | None = None
    since: date | None = None
    until: date | None = None
    sort: patrols.Sort = "-planned_start"
    page: int = 1


def patrol_filters(
    status: Annotated[str | None, Query(max_length=20)] = None,
    zone_id: Annotated[str | None, Query(max_length=12)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    since: Annotated[str | None, Query(max_length=10)] = None,
    until: Annotated[str | None, Query(max_length=10)] = None,
    sort: Annotated[str, Query(max_length=20)] = "-planned_start",
    page: Annotated[str, Query(max_length=6)] = "1",
) -> PatrolFilters:
    zone = optional_value(int, zone_id)
    return PatrolFilters(
        status=optional_value(PatrolStatus, status), zone_id=zone if zone and 0 < zone <= MAX_ID else None, q=q or None,
        since=optional_value(date.fromisoformat, since), until=optional_value(date.fromisoformat, until),
        sort=sort if sort in patrols.SORTS else "-planned_start",  # type: ignore[arg-type]  # checked against SORTS on this line; mypy cannot narrow a str to the Literal
        page=max(1, optional_value(int, page) or 1),
    )


@router.get("/patrols", response_class=HTMLResponse)
def patrol_list(page: PageDep, session: SessionDep, filters: Annotated[PatrolFilters, Depends(patrol_filters)]) -> Response:
    user = page.require_user()
    readable = user.readable
    since = day_start(filters.since)
    until = day_after(filters.until)
    criteria = {"status": filters.status, "zone_id": filters.zone_id, "since": since, "until": until, "search": filters.q}
    listed = patrols.list_patrols(session, readable, **criteria, sort=filters.sort, limit=PER_PAGE, offset=(filters.page - 1) * PER_PAGE)
    pages = max(1, math.ceil(listed.total / PER_PAGE))
    if filters.page > pages:  # past the end of the list: its last page
        listed = patrols.list_patrols(session, readable, **criteria, sort=filters.sort, limit=PER_PAGE, offset=(pages - 1) * PER_PAGE)
    rows, total = listed.items, listed.total
    zones = list_zones(session, readable, kind=ZoneKind.area_of_responsibility, limit=1000)
    units = list_units(session, readable, limit=1000).items if page.has(OPERATIONS_ROLES) else []
    return page.render(
        "patrols.html", patrols=rows, total=total, pages=pages, filters=filters, statuses=list(PatrolStatus),
        zones=zones, zone_names={z.id: page.named(z) for z in zones}, units=units, can_plan=page.has(OPERATIONS_ROLES),
        flagged={p.id for p in rows if patrols.warnings_of(session, p)},
    )


@router.get("/patrols/{patrol_id}", response_class=HTMLResponse)
def patrol_detail(page: PageDep, session: SessionDep, patrol_id: int) -> Response:
    user = page.require_user()
    try:
        patrol = patrols.get_patrol(session, patrol_id, user.readable)
    except NotFound:  # the same answer whether it does not exist or belongs to the other side
        _ = translations(page.language).gettext
        return page.render("not_found.html", status_code=404, what=_("Patrol %(id)s") % {"id": patrol_id})
    check_ins = patrols.check_ins(session, patrol)
    zones = {z.id: page.named(z) for z in list_zones(session, user.readable, kind=ZoneKind.area_of_responsibility, limit=1000)}
    _ = translations(page.language).gettext
    warnings = [w.text(_, lambda at: mission_time(at, page.zone)) for w in patrols.warnings_of(session, patrol)]
    return page.render("patrol.html", patrol=patrol, check_ins=check_ins, zone_name=zones.get(patrol.zone_id, ""), warnings=warnings,
                       can_act=page.has(OPERATIONS_OR_PATROL_ROLES), config={"patrol_id": patrol.id})
