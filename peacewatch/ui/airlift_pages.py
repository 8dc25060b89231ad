"""The air-movement cell's workspace (figures of a moment, build-up chart, flights, rotation plans) and
the claims page (each public statement with its verdict and the records it rests on).

The workspace is for the mission's own staff; a liaison officer gets 404, as the flights are
internal. The claims page shows every signed-in reader the statements their scope allows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated

from fastapi import Query
from fastapi.responses import HTMLResponse, Response

from peacewatch.airlift import airfield_register, build_up, flight_records, flight_rules, rotation_plans
from peacewatch.airlift.aircraft import AIRCRAFT_TYPES
from peacewatch.airlift.models import Direction, FlightStatus
from peacewatch.claims import service as claims
from peacewatch.core.auth import AIR_CELL_ROLES, INTERNAL_ROLES, admits
from peacewatch.core.db import utcnow
from peacewatch.core.i18n import translations
from peacewatch.core.problems import Problem
from peacewatch.core.visibility import STAFF, readable_visibilities
from peacewatch.core.web import SessionDep, SettingsDep
from peacewatch.ui.moments import latest_flight, opening
from peacewatch.ui.pages import PER_PAGE, ListFilters, PageDep, mission_time, router, zone_caption


@dataclass
class MomentFilters(ListFilters):
    at: str | None = None
    page: int = 1


@router.get("/airlift", response_class=HTMLResponse)
def airlift_workspace(
    page: PageDep, session: SessionDep, settings: SettingsDep,
    at: Annotated[str | None, Query(max_length=32, description="Local time in the mission's zone, YYYY-MM-DDTHH:MM")] = None,
    page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> Response:
    _ = translations(page.language).gettext
    user = page.require_user()
    if user.role not in INTERNAL_ROLES:
        return page.render("not_found.html", status_code=404, what=_("Airlift"))
    ctx = flight_rules.Context.of(settings)
    moment, error = None, None
    if at:
        try:
            moment = datetime.fromisoformat(at).replace(tzinfo=ctx.zone)
        except ValueError:
            error = _("Not a date and time: %(value)s") % {"value": at}
    notice = None
    if at is None:  # now, unless the airlift's records ended more than a day ago: then its last arrival
        moment = opening(latest_flight(session), utcnow())
        if moment is not None:
            notice = _("The airlift's records end at %(at)s (%(zone)s): the figures are shown there.") % {
                "at": mission_time(moment, ctx.zone), "zone": zone_caption(ctx.zone, gettext=_)}
    try:
        figures = build_up.figures(session, ctx, moment, STAFF)
    except Problem as problem:
        error, figures = problem.said_in(_), build_up.figures(session, ctx, None, STAFF)
    # the public bulletin counts the public flights only: say how many of these it can see, so 252 here and 250
    # there read as one account, not two
    public = build_up.figures(session, ctx, figures.at, readable_visibilities(internal=False, side=None)).flights
    listed = flight_records.list_flights(session, None, limit=PER_PAGE, offset=(page_number - 1) * PER_PAGE)
    flights, total = listed.items, listed.total
    return page.render(
        "airlift.html", figures=figures, error=error, notice=notice, public_flights=public, zone=settings.mission_timezone,
        at_local=figures.at.astimezone(ctx.zone).strftime("%Y-%m-%dT%H:%M"),
        flights=[flight_records.flight_out(f, ctx) for f in flights], total=total,
        pages=max(1, math.ceil(total / PER_PAGE)), filters=MomentFilters(at=at, page=page_number),
        plans=[(p, [flight_records.flight_out(f, ctx) for f in p.flights]) for p in rotation_plans.list_plans(session, 10).items],
        may_write=admits(AIR_CELL_ROLES, user.role), aircraft_types=list(AIRCRAFT_TYPES), airfields=airfield_register.list_airfields(session),
        statuses=[s.value for s in FlightStatus], directions=[d.value for d in Direction],
    )


@router.get("/claims", response_class=HTMLResponse)
def claims_page(page: PageDep, session: SessionDep,
                on: Annotated[date | None, Query(description="Check every statement on this date")] = None) -> Response:
    user = page.require_user()
    readable = user.readable
    statements = claims.statements_with_verdicts(session, readable, limit=200).items
    checks = {s.id: claims.check_statement(session, readable, s.id, on) for s in statements}
    return page.render("claims.html", statements=statements, checks=checks, on=on)
