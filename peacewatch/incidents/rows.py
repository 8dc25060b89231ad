"""Events as rows the database can filter, count and page: one per event and scope, kept in a table.

Why: a GIS client asks for page after page of events, in a box or filtered. Building every event in
Python to show a hundred of them cost seconds at a year's reports, and summarising them in SQL on
every request still cost a GROUP BY over every report in scope. ``event_rows`` states the event
summary of ``figures.summarise`` in SQL (the representative report, the best-verified status, the
span and the count of the reports that count); ``kept_event_rows`` keeps its result in
``incident_event_rows`` per scope, rebuilt when the reports, the events or the zones have changed
since (by the versions the database keeps, so a change through any process counts), so a request
reads finished rows with indexes. The page's events are then built whole by ``summarise`` from their
own reports only. ``tests/api/test_ogc_sql.py`` checks that both agree.
"""

from __future__ import annotations

import zlib
from functools import lru_cache
from typing import Any

from sqlalchemy import BigInteger, Integer, String, Subquery, case, delete, event, func, insert, literal, select, type_coerce
from sqlalchemy.orm import Session, aliased

from peacewatch.core.changes import versions
from peacewatch.core.db import UTCDateTime
from peacewatch.core.visibility import Scope, where_visible
from peacewatch.geography.models import Zone, ZoneKind
from peacewatch.incidents.figures import SOURCE_RANK, STATUS_RANK
from peacewatch.incidents.models import EventRow, EventRowsBuilt, Incident, IncidentStatus

# the representative report is the first by (rejected, source rank, id): one number orders them, so one
# GROUP BY finds it (no window function, no second sort); report ids stay below 10**13
_ID_SPAN, _SOURCE_SPAN = 10**13, 10**15


@lru_cache(maxsize=16)
def event_rows(readable: Scope) -> Subquery:
    """One row per event the reader may see of: ``id`` (its name for the reader: its first visible report),
    ``event_id``, the representative report's ``type``, ``subtype``, ``place_name``, ``lon``/``lat``, ``zone_id``,
    ``district_id``, ``area`` and ``district`` names, and the event's ``status``, ``started_at``,
    ``ended_at``, ``event_count``, as ``summarise`` computes them.

    Kept per scope: the same statement object lets SQLAlchemy reuse its compiled form.
    """
    rejected = case((type_coerce(Incident.status, String) == IncidentStatus.rejected.value, 1), else_=0)
    source_rank = case({s.value: rank for s, rank in SOURCE_RANK.items()}, value=type_coerce(Incident.source, String))
    status_rank = case({s.value: rank for s, rank in STATUS_RANK.items()}, value=type_coerce(Incident.status, String))
    counted = case((rejected == 0, 1))  # NULL for a rejected report: aggregates over counted reports skip it

    def over_counted(aggregate, column, kind):  # type: ignore[no-untyped-def]  # SQLAlchemy column expressions, untyped in sqlalchemy's func namespace
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
    summaries = grouped.subquery("summaries")
    report, area, district = aliased(Incident), aliased(Zone), aliased(Zone)
    named = [ZoneKind.area_of_responsibility, ZoneKind.district]
    return select(
        summaries.c.id, summaries.c.event_id, type_coerce(report.type, String).label("type"),
        type_coerce(report.subtype, String).label("subtype"), report.place_name, report.lon, report.lat,
        report.zone_id, report.district_id, summaries.c.status, summaries.c.started_at, summaries.c.ended_at,
        summaries.c.event_count, area.name.label("area"), district.name.label("district"),
    ).join(report, report.id == summaries.c.order % literal(_ID_SPAN, BigInteger)).outerjoin(
        area, (area.id == report.zone_id) & area.kind.in_(named)).outerjoin(
        district, (district.id == report.district_id) & district.kind.in_(named)).subquery("events")


KEPT = ("id", "event_id", "type", "subtype", "place_name", "lon", "lat", "zone_id", "district_id", "status", "started_at",
        "ended_at", "event_count", "area", "district")
_LOCK = 0x5057_4556  # an advisory lock key of PostgreSQL's: "PWEV", with the scope's checksum beside it


def scope_of(readable: Scope) -> str:
    """A scope's name: ``all`` for the mission's staff, else the visibilities it may read."""
    return "all" if readable is None else ",".join(sorted(v.value for v in readable))


def _versions(session: Session) -> str:
    return ",".join(map(str, versions(session, "incidents", "incident_events", "zones")))


def kept_event_rows(session: Session, readable: Scope) -> str:
    """The scope's name, its rows in ``incident_event_rows`` brought up to date first.

    Up to date costs one read of the versions. Otherwise this commits the session's transaction
    (a read-only request's: it ends its snapshot, so what follows reads the new rows), and rebuilds
    the scope's rows in a transaction of its own: on PostgreSQL under an advisory lock, checking the
    versions again once it holds it, so processes asking together rebuild once. The versions are read
    before the reports: rows newer than their label are only rebuilt once more, never taken as current.
    """
    scope = scope_of(readable)
    built = select(EventRowsBuilt.versions, EventRowsBuilt.events).where(EventRowsBuilt.scope == scope)
    found = session.execute(built).first()
    if found is None or found.versions != _versions(session):
        session.commit()
        if session.get_bind().dialect.name == "postgresql":
            checksum = zlib.crc32(scope.encode())
            session.execute(select(func.pg_advisory_xact_lock(_LOCK, checksum - 2**32 if checksum >= 2**31 else checksum)))
        wanted = _versions(session)
        found = session.execute(built).first()
        if found is None or found.versions != wanted:
            events = event_rows(readable)
            session.execute(delete(EventRow).where(EventRow.scope == scope))
            session.execute(insert(EventRow).from_select(["scope", *KEPT], select(literal(scope), *(events.c[c] for c in KEPT))))
            counted = session.scalar(select(func.count()).select_from(EventRow).where(EventRow.scope == scope)) or 0
            session.execute(delete(EventRowsBuilt).where(EventRowsBuilt.scope == scope))
            session.execute(insert(EventRowsBuilt).values(scope=scope, versions=wanted, events=counted))
        session.commit()
        found = session.execute(built).first()
    session.info.setdefault(_COUNTED, {})[scope] = found.events if found is not None else 0
    return scope


_COUNTED = "_incident_event_rows_counted"


def kept_event_count(session: Session, readable: Scope) -> int:
    """How many events the scope holds, as :func:`kept_event_rows` last found it in this transaction."""
    scope = scope_of(readable)
    counted = session.info.get(_COUNTED, {})
    if scope not in counted:
        kept_event_rows(session, readable)
    return int(session.info[_COUNTED][scope])


@event.listens_for(Session, "after_transaction_end")
def _forget_counts(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop(_COUNTED, None)
