"""Events as rows the database can filter, count and page: one per event, from the reports a reader may see.

Why: a GIS client asks for page after page of events, in a box or filtered. Building every event in
Python to show a hundred of them cost seconds at a year's reports. This query states the event
summary of ``figures.summarise`` in SQL (the representative report, the best-verified status, the
span and the count of the reports that count), so the database narrows and counts; the page's events
are then built whole by ``summarise`` from their own reports only. ``tests/api/test_ogc.py`` checks
that both agree.
"""

from __future__ import annotations

from sqlalchemy import Integer, String, Subquery, case, func, select, type_coerce
from sqlalchemy.orm import aliased

from peacewatch.core.db import UTCDateTime
from peacewatch.core.visibility import Visibility, where_visible
from peacewatch.geography.models import Zone, ZoneKind
from peacewatch.incidents.figures import SOURCE_RANK, STATUS_RANK
from peacewatch.incidents.models import Incident, IncidentStatus


# the representative report is the first by (rejected, source rank, id): one number orders them, so one
# GROUP BY finds it (no window function, no second sort); report ids stay below 10**13
_ID_SPAN, _SOURCE_SPAN = 10**13, 10**15


def event_rows(readable: frozenset[Visibility] | None) -> Subquery:
    """One row per event the reader may see of: ``id`` (its name for the reader: its first visible report),
    ``event_id``, the representative report's ``type``, ``subtype``, ``place_name``, ``lon``/``lat`` (also as
    ``min_x``..``max_y``), ``area`` and ``district`` names, and the event's ``status``, ``started_at``,
    ``ended_at``, ``event_count``, as ``summarise`` computes them."""
    rejected = case((type_coerce(Incident.status, String) == IncidentStatus.rejected.value, 1), else_=0)
    source_rank = case({s.value: rank for s, rank in SOURCE_RANK.items()}, value=type_coerce(Incident.source, String))
    status_rank = case({s.value: rank for s, rank in STATUS_RANK.items()}, value=type_coerce(Incident.status, String))
    counted = case((rejected == 0, 1))  # NULL for a rejected report: aggregates over counted reports skip it

    def over_counted(aggregate, column, kind):  # type: ignore[no-untyped-def]
        """Over the reports that count: those not rejected, or all of them when every one is."""
        return type_coerce(func.coalesce(aggregate(case((counted == 1, column))), aggregate(column)), kind)

    status = case({rank: s.value for s, rank in STATUS_RANK.items()}, value=func.min(status_rank))
    summaries = where_visible(select(
        func.min(Incident.id).label("id"), Incident.event_id,
        func.min(rejected * _SOURCE_SPAN + source_rank * _ID_SPAN + Incident.id).label("order"),
        type_coerce(status, String).label("status"),
        over_counted(func.min, Incident.started_at, UTCDateTime()).label("started_at"),
        over_counted(func.max, Incident.ended_at, UTCDateTime()).label("ended_at"),
        over_counted(func.max, Incident.event_count, Integer).label("event_count"),
    ), Incident.visibility, readable).group_by(Incident.event_id).subquery("summaries")
    report, area, district = aliased(Incident), aliased(Zone), aliased(Zone)
    named = [ZoneKind.area_of_responsibility, ZoneKind.district]
    return select(
        summaries.c.id, summaries.c.event_id, type_coerce(report.type, String).label("type"),
        type_coerce(report.subtype, String).label("subtype"), report.place_name, report.lon, report.lat,
        report.zone_id, report.district_id, summaries.c.status, summaries.c.started_at, summaries.c.ended_at,
        summaries.c.event_count, area.name.label("area"), district.name.label("district"),
        report.lon.label("min_x"), report.lat.label("min_y"), report.lon.label("max_x"), report.lat.label("max_y"),
    ).join(report, report.id == summaries.c.order % _ID_SPAN).outerjoin(
        area, (area.id == report.zone_id) & area.kind.in_(named)).outerjoin(
        district, (district.id == report.district_id) & district.kind.in_(named)).subquery("events")
