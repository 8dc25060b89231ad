"""Events as rows the database can filter, count and page: one per event, from the reports a reader may see.

Why: a GIS client asks for page after page of events, in a box or filtered. Building every event in
Python to show a hundred of them cost seconds at a year's reports. This query states the event
summary of ``figures.summarise`` in SQL (the representative report, the best-verified status, the
span and the count of the reports that count), so the database narrows and counts; the page's events
are then built whole by ``summarise`` from their own reports only. ``tests/api/test_ogc.py`` checks
that both agree.
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import BigInteger, Integer, String, Subquery, case, func, literal, select, type_coerce
from sqlalchemy.orm import Session, aliased

from peacewatch.core.db import UTCDateTime
from peacewatch.core.visibility import Visibility, where_visible
from peacewatch.geography.models import Zone, ZoneKind
from peacewatch.incidents.figures import SOURCE_RANK, STATUS_RANK
from peacewatch.incidents.models import Incident, IncidentStatus


# the representative report is the first by (rejected, source rank, id): one number orders them, so one
# GROUP BY finds it (no window function, no second sort); report ids stay below 10**13
_ID_SPAN, _SOURCE_SPAN = 10**13, 10**15


Box = tuple[float, float, float, float]


@lru_cache(maxsize=64)
def event_rows(readable: frozenset[Visibility] | None, near: Box | None = None) -> Subquery:
    """One row per event the reader may see of: ``id`` (its name for the reader: its first visible report),
    ``event_id``, the representative report's ``type``, ``subtype``, ``place_name``, ``lon``/``lat`` (also as
    ``min_x``..``max_y``), ``area`` and ``district`` names, and the event's ``status``, ``started_at``,
    ``ended_at``, ``event_count``, as ``summarise`` computes them.

    ``near`` (west, south, east, north) keeps only the events with a visible report in that box, found by
    the index on the reports' places: an event whose place (its representative's) is in the box has one,
    so a box asked of the events loses nothing and the summaries are made of those events only. Kept per
    scope and box: the same statement object lets SQLAlchemy reuse its compiled form.
    """
    rejected = case((type_coerce(Incident.status, String) == IncidentStatus.rejected.value, 1), else_=0)
    source_rank = case({s.value: rank for s, rank in SOURCE_RANK.items()}, value=type_coerce(Incident.source, String))
    status_rank = case({s.value: rank for s, rank in STATUS_RANK.items()}, value=type_coerce(Incident.status, String))
    counted = case((rejected == 0, 1))  # NULL for a rejected report: aggregates over counted reports skip it

    def over_counted(aggregate, column, kind):  # type: ignore[no-untyped-def]
        """Over the reports that count: those not rejected, or all of them when every one is."""
        return type_coerce(func.coalesce(aggregate(case((counted == 1, column))), aggregate(column)), kind)

    status = case({rank: s.value for s, rank in STATUS_RANK.items()}, value=func.min(status_rank))
    grouped = where_visible(select(
        func.min(Incident.id).label("id"), Incident.event_id,
        func.min(rejected * literal(_SOURCE_SPAN, BigInteger) + source_rank * literal(_ID_SPAN, BigInteger) + Incident.id).label("order"),
        type_coerce(status, String).label("status"),
        over_counted(func.min, Incident.started_at, UTCDateTime()).label("started_at"),
        over_counted(func.max, Incident.ended_at, UTCDateTime()).label("ended_at"),
        over_counted(func.max, Incident.event_count, Integer).label("event_count"),
    ), Incident.visibility, readable).group_by(Incident.event_id)
    if near is not None:
        west, south, east, north = near
        nearby = where_visible(select(Incident.event_id).where(
            Incident.lat.between(south, north), Incident.lon.between(west, east)), Incident.visibility, readable)
        grouped = grouped.where(Incident.event_id.in_(nearby))
    summaries = grouped.subquery("summaries")
    report, area, district = aliased(Incident), aliased(Zone), aliased(Zone)
    named = [ZoneKind.area_of_responsibility, ZoneKind.district]
    return select(
        summaries.c.id, summaries.c.event_id, type_coerce(report.type, String).label("type"),
        type_coerce(report.subtype, String).label("subtype"), report.place_name, report.lon, report.lat,
        report.zone_id, report.district_id, summaries.c.status, summaries.c.started_at, summaries.c.ended_at,
        summaries.c.event_count, area.name.label("area"), district.name.label("district"),
        report.lon.label("min_x"), report.lat.label("min_y"), report.lon.label("max_x"), report.lat.label("max_y"),
    ).join(report, report.id == summaries.c.order % literal(_ID_SPAN, BigInteger)).outerjoin(
        area, (area.id == report.zone_id) & area.kind.in_(named)).outerjoin(
        district, (district.id == report.district_id) & district.kind.in_(named)).subquery("events")


def event_page(session: Session, readable: frozenset[Visibility] | None, limit: int, offset: int) -> tuple[list[int], int]:
    """A page of events in the order of their names, unfiltered: their own ids and how many there are.

    Without a filter the names alone order the page (each event's first visible report), and they need
    no summary: one grouping of the reports' ids, served by the index on ``event_id``.
    """
    grouped = where_visible(select(Incident.event_id, func.min(Incident.id).label("name"), func.count().over().label("events")),
                            Incident.visibility, readable).group_by(Incident.event_id)
    page = session.execute(grouped.order_by("name").limit(limit).offset(offset)).all()
    if page:
        return [row.event_id for row in page], int(page[0].events)
    counted = where_visible(select(func.count(func.distinct(Incident.event_id))), Incident.visibility, readable)
    return [], int(session.scalar(counted) or 0)
