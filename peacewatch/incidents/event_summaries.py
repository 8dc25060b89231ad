"""Events as the readers see them: the reports of each event summarised, named per reader's scope, counted
per reporting day, exported as GeoJSON or in ACLED's columns."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from peacewatch.core.calendar import mission_today, reporting_day_ends_at
from peacewatch.core.changes import versions
from peacewatch.core.problems import Invalid
from peacewatch.core.settings import Settings
from peacewatch.core.visibility import STAFF, Scope, where_visible
from peacewatch.geography.models import Zone, ZoneKind
from peacewatch.incidents.acled import Mission, acled_csv
from peacewatch.incidents.figures import (
    EventSummary,
    ReportRow,
    SpanTooLong,
    daily_figures,
    summarise,
)
from peacewatch.incidents.models import (
    CASUALTY_COLUMNS,
    Incident,
)

REPORT_COLUMNS = ("id", "event_id", "type", "subtype", "status", "source", "started_at", "ended_at", "lat", "lon", "zone_id",
                  "district_id", "event_count", "alleged_actors", *CASUALTY_COLUMNS, "restriction", "place_precision",
                  "time_precision", "place_name", "narrative", "source_detail", "updated_at")


def report_rows(session: Session, *, until: datetime | None = None, readable: Scope,
                event_ids: Iterable[int] | None = None, names: dict[int, int] | None = None) -> list[ReportRow]:
    """Every report the figures may count: all of them for the internal figures, those ``readable`` admits otherwise;
    only those of ``event_ids`` (the events' own ids) when given, as for one page of events, whose ``names`` for
    the reader the caller may already know (see event_names).

    Columns, not ORM objects: the figures and the GIS clients read tens of thousands of reports at a time.
    """
    query = select(*(getattr(Incident, c) for c in REPORT_COLUMNS)).order_by(Incident.id)
    if until is not None:
        query = query.where(Incident.started_at < until)
    if event_ids is not None:
        event_ids = set(event_ids)
        query = query.where(Incident.event_id.in_(event_ids))
    query = where_visible(query, Incident.visibility, readable)
    names = names if names is not None else event_names(session, readable, event_ids)
    rows = []
    for r in session.execute(query):
        rows.append(ReportRow(
            id=r.id, event_id=names[r.event_id], type=r.type, subtype=r.subtype.value if r.subtype else None, status=r.status,
            source=r.source, started_at=r.started_at, ended_at=r.ended_at, lat=r.lat, lon=r.lon, zone_id=r.zone_id,
            district_id=r.district_id, event_count=r.event_count, alleged_actors=tuple(r.alleged_actors),
            casualties=tuple(getattr(r, c) for c in CASUALTY_COLUMNS), restriction=r.restriction.value if r.restriction else None,
            place_precision=r.place_precision.value, time_precision=r.time_precision.value, place_name=r.place_name,
            narrative=r.narrative, source_detail=r.source_detail, updated_at=r.updated_at,
        ))
    return rows


_ZONE_NAMES: dict[tuple[str, tuple[int, ...]], dict[int, str]] = {}


def zone_names(session: Session) -> dict[int, str]:
    """Areas' and districts' names by id; kept until the zones change (their version in the database), as every
    page of events names them."""
    key = (str(session.get_bind().url), versions(session, "zones"))
    names = _ZONE_NAMES.get(key)
    if names is None:
        names = dict(session.execute(select(Zone.id, Zone.name).where(
            Zone.kind.in_([ZoneKind.area_of_responsibility, ZoneKind.district]))).all())
        _ZONE_NAMES.clear()  # one version at a time: a dict swapped whole, safe to read from other threads
        _ZONE_NAMES[key] = names
    return names


def events_between(session: Session, since: datetime | None, until: datetime | None) -> list[EventSummary]:
    events = summarise(report_rows(session, until=until, readable=STAFF))  # the internal figures: every record
    return [e for e in events if since is None or e.ended_at >= since]


def span(settings: Settings, since: date | None, until: date | None) -> tuple[datetime | None, datetime | None]:
    """The instants that bound reporting days ``since`` to ``until``, both included."""
    if since is not None and until is not None and until < since:
        raise Invalid("until is before since", field="query.until")
    zone, day_end = settings.zone, settings.reporting_day_ends
    today = mission_today(settings)
    for name, day in (("since", since), ("until", until)):
        if day is not None and day > today:
            raise Invalid("{day} is in the future (today's reporting day is {today})",
                          field=f"query.{name}", day=day.isoformat(), today=today.isoformat())
    start = reporting_day_ends_at(since - timedelta(days=1), zone, day_end) if since not in (None, date.min) else None
    return start, reporting_day_ends_at(until, zone, day_end) if until is not None else None


def figures(session: Session, settings: Settings, since: date | None, until: date | None) -> dict[str, Any]:
    """Daily figures; running totals count from the first event on record, whatever ``since`` is."""
    _, end = span(settings, since, until)
    try:
        return daily_figures(events_between(session, None, end), zone=settings.zone, day_end=settings.reporting_day_ends,
                             names=zone_names(session), since=since, until=until)
    except SpanTooLong as exc:
        raise Invalid(str(exc), field="query.since") from None


def export_events(session: Session, settings: Settings, format: str, since: date | None, until: date | None) -> tuple[bytes, str]:
    """Events as GeoJSON, or as CSV in ACLED's columns; with the media type."""
    found = events_between(session, *span(settings, since, until))
    names = zone_names(session)
    if format == "acled":
        mission = Mission(country=settings.acled_country, iso=settings.acled_iso, region=settings.acled_region,
                          id_prefix=settings.acled_id_prefix, admin1=settings.acled_admin1, side_a=settings.acled_side_a,
                          side_b=settings.acled_side_b, zone=settings.zone)
        return acled_csv(found, mission, names).encode(), "text/csv"
    body = {"type": "FeatureCollection", "features": [event_feature(e, names) for e in found]}
    return orjson.dumps(body), "application/geo+json"


def event_out(event: EventSummary) -> dict[str, Any]:
    r = event.representative
    return {
        "id": event.id, "incident_ids": [x.id for x in event.reports], "type": r.type, "subtype": r.subtype,
        "status": event.status, "started_at": event.started_at, "ended_at": event.ended_at, "lat": r.lat, "lon": r.lon,
        "sources": event.sources, "event_count": event.event_count, "zone_id": r.zone_id, "district_id": r.district_id,
    }


def event_feature(event: EventSummary, names: dict[int, str]) -> dict[str, Any]:
    """An event as a GeoJSON point at its best report's place, for the map and GIS clients."""
    r = event.representative
    properties = {key: value for key, value in event_out(event).items() if key not in ("lat", "lon")} | {
        "type": r.type.value, "status": event.status.value, "sources": [s.value for s in event.sources],
        "started_at": event.started_at.isoformat(), "ended_at": event.ended_at.isoformat(),
        "place_name": r.place_name, "place_precision": r.place_precision,
        "area": names.get(r.zone_id or 0), "district": names.get(r.district_id or 0),
        "alleged_actors": event.actors, "restriction": r.restriction,
        "casualties": {k: {"min": low, "max": high} for k, (low, high) in event.casualties.items()},
    }
    return {"type": "Feature", "id": event.id, "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]}, "properties": properties}


def event_names(session: Session, readable: Scope, event_ids: Iterable[int] | None = None) -> dict[int, int]:
    """What each event is called for a reader: the id of its first report the reader may see.

    Named from the reports in scope only: a side's liaison whose report was merged with the other side's
    sees its event under its own report's number, and learns nothing of the other report.
    """
    query = where_visible(select(Incident.event_id, func.min(Incident.id)).group_by(Incident.event_id), Incident.visibility, readable)
    if event_ids is not None:
        query = query.where(Incident.event_id.in_(set(event_ids)))
    return {event: name for event, name in session.execute(query)}
