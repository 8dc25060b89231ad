"""The logs the operations centre keeps day by day: convoys through the corridor, civilian returns, ground cleared.

Each is entered from its form; this page lists them (the reader's own view, latest first), filtered by day, and
offers on each row what may still be done with it: each corrected (its form opens with its values), a convoy under
way its arrival logged. The other sides' liaison officers see only what is shared with their side, as
the API answers them.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import Query
from fastapi.responses import HTMLResponse, Response

from peacewatch.airlift import convoy_records
from peacewatch.core.i18n import N_, translations
from peacewatch.core.web import SessionDep, SettingsDep
from peacewatch.demining import service as demining
from peacewatch.returns import service as returns
from peacewatch.ui.pages import PageDep, mission_time, router

PER_PAGE = 50
KINDS = {"convoys": N_("Convoys"), "returns": N_("Civilian returns"), "clearances": N_("Clearances")}
CORRECT = {"convoys": ("correct_convoy_api_v1_convoys__convoy_id__patch", "path_convoy_id"),
           "returns": ("correct_return_api_v1_returns__return_id__patch", "path_return_id"),
           "clearances": ("correct_clearance_api_v1_clearances__clearance_id__patch", "path_clearance_id")}
CREATE = {"convoys": "create_convoy_api_v1_convoys_post", "returns": "create_return_api_v1_returns_post",
          "clearances": "create_clearance_api_v1_clearances_post"}
ARRIVE = "arrive_convoy_api_v1_convoys__convoy_id__arrival_post"


@router.get("/records/{kind}", response_class=HTMLResponse)
def records_page(page: PageDep, session: SessionDep, settings: SettingsDep, kind: str,
                 since: Annotated[date | None, Query()] = None, until: Annotated[date | None, Query()] = None,
                 offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> Response:
    user = page.require_user()
    _ = translations(page.language).gettext
    if kind not in KINDS:
        return page.render("not_found.html", status_code=404, what=_("This page"))
    rows: list[dict[str, Any]]
    if kind == "convoys":
        midnight = settings.zone  # the days asked are the mission's: from its midnight to the next
        found = convoy_records.list_convoys(
            session, user.readable, limit=PER_PAGE, offset=offset,
            since=datetime.combine(since, time(), midnight) if since else None,
            until=datetime.combine(until + timedelta(days=1), time(), midnight) if until else None)
        rows = [{"id": c.id, "day": mission_time(c.departed_at, settings.zone), "what": f"{_(c.kind.value)} · {_(c.direction.value)}",
                 "where": c.route, "figures": f"{c.personnel} · {c.vehicles} · {c.tonnes:g} t", "notes": c.notes,
                 "arrived": mission_time(c.arrived_at, settings.zone) if c.arrived_at else "",
                 "visibility": c.visibility.value} for c in found.items]
    elif kind == "returns":
        found = returns.list_returns(session, user.readable, since=since, until=until, limit=PER_PAGE, offset=offset)
        rows = [{"id": r.id, "day": r.returned_on.isoformat(), "what": f"{r.origin} → {r.destination}".strip(" →"), "where": r.route,
                 "figures": str(r.people), "notes": r.notes, "visibility": r.visibility.value} for r in found.items]
    else:
        found = demining.list_clearances(session, user.readable, since=since, until=until, limit=PER_PAGE, offset=offset)
        rows = [{"id": c.id, "day": c.cleared_on.isoformat(), "what": demining.clearance_out(session, c).unit_name, "where": c.place,
                 "figures": f"{c.hectares:g} ha · {c.road_km:g} km · {c.explosive_objects}", "notes": c.notes,
                 "visibility": c.visibility.value} for c in found.items]
    return page.render("records.html", kind=kind, kinds=KINDS, rows=rows, total=found.total, offset=offset, per_page=PER_PAGE,
                       since=since, until=until, correct=CORRECT[kind], create=CREATE[kind], arrive=ARRIVE)
