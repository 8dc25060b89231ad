"""Where a page that shows "now" opens when the mission's records end in the past.

The reference scenario is November 2020: opened in 2026, a live map would be empty, the airlift's charts
would collapse to a line and the day's bulletin would say nothing. A page that defaults to now opens
instead at the latest moment with records, and says so, once the newest record is more than a day old;
while records keep arriving, now is right. The newest record is looked for in what the reader may see
only, so a liaison officer learns nothing from the moment a page opens at.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from peacewatch.airlift.models import Flight
from peacewatch.core.visibility import Scope, where_visible
from peacewatch.incidents.models import Incident
from peacewatch.tracking.models import TrackerState

STALE = timedelta(days=1)  # records older than this: the mission's data has ended (a demo, an archive)


def opening(latest: datetime | None, now: datetime) -> datetime | None:
    """The moment a page defaulting to now should open at: None (now) while the newest record is recent or
    there is none, else the newest record's moment."""
    if latest is None or now - latest <= STALE:
        return None
    return latest


def latest_record(session: Session, readable: Scope, *, flights: bool = True) -> datetime | None:
    """The newest moment the reader's records reach: a fix (the mission's staff), a flight's arrival (staff,
    unless ``flights`` is false: the map shows none), an incident they may read."""
    found: list[datetime] = []
    if readable is None:
        fix_ms = session.scalar(select(func.max(TrackerState.t_ms)))
        if fix_ms is not None:
            found.append(datetime.fromtimestamp(fix_ms / 1000, UTC))
        flight = latest_flight(session) if flights else None
        if flight is not None:
            found.append(flight)
    incident = session.scalar(where_visible(select(Incident.started_at), Incident.visibility, readable)
                              .order_by(Incident.started_at.desc()).limit(1))
    if incident is not None:
        found.append(incident)
    return max(found) if found else None


def latest_flight(session: Session) -> datetime | None:
    """The airlift's last planned arrival: where its charts end."""
    return session.scalar(select(Flight.planned_arrival).order_by(Flight.planned_arrival.desc()).limit(1))
