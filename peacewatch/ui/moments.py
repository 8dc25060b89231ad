"""Where a page that shows "now" opens when the mission's records end in the past.

The reference scenario is November 2020: opened in 2026, a live map would be empty, the airlift's charts
would collapse to a line and the day's bulletin would say nothing. A page that defaults to now opens
instead at the latest moment with records, and says so, once the newest record is more than a day old;
while records keep arriving, now is right. The newest record is looked for in what the reader may see
only, so a liaison officer learns nothing from the moment a page opens at.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from peacewatch.airlift.models import Flight
from peacewatch.core.db import utcnow
from peacewatch.core.installation import RECORDS_END, moment_of
from peacewatch.core.visibility import Scope, where_visible
from peacewatch.incidents.models import Incident
from peacewatch.patrols.models import Patrol
from peacewatch.tracking.models import TrackerState

STALE = timedelta(days=1)  # records older than this: the mission's data has ended (a demo, an archive)


def opening(latest: datetime | None, now: datetime) -> datetime | None:
    """The moment a page defaulting to now should open at: None (now) while the newest record is recent or
    there is none, else the newest record's moment."""
    if latest is None or now - latest <= STALE:
        return None
    return latest


def latest_record(session: Session, readable: Scope) -> datetime | None:
    """The newest moment of the mission's records, where the map and the reports both open (one choice, so they
    never disagree on the day).

    An installation whose records are a scenario or an archive says where they end (the demo sets it once):
    an incident typed in today does not move the pages off the scenario's days; trackers reporting after it
    do (for the mission's staff): operations have begun again. Else the newest fix and patrol begun (staff)
    and incident the reader may see; not flights, planned into next month (the airlift's page opens on its own)."""
    fix: datetime | None = None
    if readable is None:
        fix_ms = session.scalar(select(func.max(TrackerState.t_ms)))
        fix = datetime.fromtimestamp(fix_ms / 1000, UTC) if fix_ms is not None else None
    end = moment_of(session, RECORDS_END)
    if end is not None:
        return fix if fix is not None and fix > end else end
    found: list[datetime] = [fix] if fix is not None else []
    if readable is None:
        patrol = session.scalar(select(func.max(Patrol.planned_start)).where(Patrol.planned_start <= utcnow()))
        if patrol is not None:
            found.append(patrol)
    incident = session.scalar(where_visible(select(Incident.started_at), Incident.visibility, readable)
                              .order_by(Incident.started_at.desc()).limit(1))
    if incident is not None:
        found.append(incident)
    return max(found) if found else None


def opening_day(moment: datetime, zone: ZoneInfo) -> date:
    """The mission's day a page opens on for ``moment``: its date on the mission's clock, the same for the map's
    time bar and the reports (whose reporting day of that date ends in its evening)."""
    return moment.astimezone(zone).date()


def mission_day(session: Session, readable: Scope, zone: ZoneInfo) -> date:
    """The mission's day a page that shows "today" opens on: today, or the day its records end."""
    latest = opening(latest_record(session, readable), utcnow())
    return opening_day(latest, zone) if latest is not None else utcnow().astimezone(zone).date()


def latest_flight(session: Session) -> datetime | None:
    """The airlift's last planned arrival: where its charts end."""
    return session.scalar(select(Flight.planned_arrival).order_by(Flight.planned_arrival.desc()).limit(1))
