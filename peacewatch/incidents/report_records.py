"""Incident reports: checked (place, time, type, who may report what), stored once per client id, corrected
with history, read in the reader's scope."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from pydantic import ValidationError
from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from peacewatch.core.auth import Role, User
from peacewatch.core.db import as_utc, first_copy, resend_digest, transaction, utcnow
from peacewatch.core.geo import to_mgrs
from peacewatch.core.i18n import N_
from peacewatch.core.problems import Conflict, FieldError, Invalid, validated
from peacewatch.core.settings import Settings
from peacewatch.core.visibility import SIDE_VISIBILITY, Scope, Side, Visibility, get_visible, where_visible
from peacewatch.geography.models import Post, ZoneKind
from peacewatch.geography.service import zone_fence
from peacewatch.incidents.event_summaries import event_names
from peacewatch.incidents.matching import Tolerance
from peacewatch.incidents.merge_proposals import _propose_for
from peacewatch.incidents.models import (
    CASUALTY_COLUMNS,
    Channel,
    Incident,
    IncidentEvent,
    IncidentStatus,
    IncidentType,
    SourceKind,
)
from peacewatch.incidents.schemas import FromTakIn, IncidentFields, IncidentIn, IncidentOut, IncidentPatch
from peacewatch.patrols.models import Patrol
from peacewatch.tracking.models import TakReport
from peacewatch.tracking.service import get_tak_report

SIDE_SOURCES = {Side.A: SourceKind.side_a, Side.B: SourceKind.side_b}
SOURCE_VISIBILITY = {SourceKind.side_a: Visibility.side_a, SourceKind.side_b: Visibility.side_b}
NEXT_STATUS: dict[IncidentStatus, frozenset[IncidentStatus]] = {
    IncidentStatus.reported: frozenset({IncidentStatus.under_investigation, IncidentStatus.rejected}),
    IncidentStatus.under_investigation: frozenset({IncidentStatus.confirmed, IncidentStatus.not_confirmed, IncidentStatus.rejected}),
    # new evidence reopens a closed case
    IncidentStatus.confirmed: frozenset({IncidentStatus.under_investigation}),
    IncidentStatus.not_confirmed: frozenset({IncidentStatus.under_investigation}),
    IncidentStatus.rejected: frozenset({IncidentStatus.under_investigation}),
}
FIELD_NAMES = tuple(IncidentFields.model_fields)
PLAIN_FIELDS = tuple(f for f in FIELD_NAMES if f not in ("casualties", "ended_at", "started_at", "visibility"))
LONGEST_WINDOW = timedelta(days=31)  # a report dated "some time that month"


@dataclass(frozen=True)
class Rules:
    """The settings a report is checked against."""

    area_of_interest: tuple[float, float, float, float]
    clock_skew: timedelta
    tolerance: Tolerance

    @classmethod
    def of(cls, settings: Settings) -> Rules:
        return cls(
            area_of_interest=settings.area_of_interest_box,
            clock_skew=settings.clock_skew,
            tolerance=Tolerance(distance_m=settings.merge_distance_m, gap_s=settings.merge_gap_minutes * 60),
        )


def _unknown_checkers(session: Session, readable: Scope, patrol_id: int | None,
                      post_id: int | None) -> list[FieldError]:
    """The patrol or post a report comes from, or a verification names, must exist in the writer's scope: one
    the writer may not read is answered exactly as one that does not exist, so the answer tells nothing of it."""
    errors = []
    for field, model, record_id in (("patrol_id", Patrol, patrol_id), ("post_id", Post, post_id)):
        if record_id is None:
            continue
        record = session.get(model, record_id)
        if record is None or (readable is not None and record.visibility not in readable):
            message = N_("patrol {number} does not exist") if model is Patrol else N_("post {number} does not exist")
            errors.append(FieldError.of(f"body.{field}", message, number=record_id))
    return errors


def _check(session: Session, rules: Rules, user: User, data: IncidentFields) -> dict[str, Any]:
    """The report's column values, or every reason it is refused, each with its field."""
    errors: list[FieldError] = []

    def refuse(field: str, message: str, **values: Any) -> None:
        errors.append(FieldError.of(f"body.{field}", message, **values))

    if data.type is IncidentType.ceasefire_violation and data.subtype is None:
        refuse("subtype", "a ceasefire violation needs its subtype")
    if data.type is not IncidentType.ceasefire_violation and data.subtype is not None:
        refuse("subtype", "only a ceasefire violation has a subtype")
    start = as_utc(data.started_at, field="body.started_at")
    end = as_utc(data.ended_at, field="body.ended_at") or start
    assert start is not None and end is not None
    latest = utcnow() + rules.clock_skew
    if start > latest:
        refuse("started_at", "{at:%Y-%m-%d %H:%M}Z is in the future", at=start)
    if end > latest:
        refuse("ended_at", "{at:%Y-%m-%d %H:%M}Z is in the future", at=end)
    if end < start:
        refuse("ended_at", "the time window ends before it starts")
    elif end - start > LONGEST_WINDOW:
        refuse("ended_at", "a time window may not exceed 31 days")
    if data.place_precision.value == "near_place" and not data.place_name.strip():
        refuse("place_name", "a place given as 'near a place' needs the place's name")
    min_lon, min_lat, max_lon, max_lat = rules.area_of_interest
    if not data.outside_area_of_interest and not (min_lon <= data.lon <= max_lon and min_lat <= data.lat <= max_lat):
        refuse("lat", "{lat}, {lon} is outside the mission's area of interest ({box}); set outside_area_of_interest "
                      "to record it anyway", lat=data.lat, lon=data.lon, box=f"{min_lon},{min_lat},{max_lon},{max_lat}")
    if data.source is SourceKind.patrol and data.patrol_id is None:
        refuse("patrol_id", "a report from a patrol names the patrol")
    if data.source is SourceKind.observation_post and data.post_id is None:
        refuse("post_id", "a report from an observation post names the post")
    errors += _unknown_checkers(session, user.readable, data.patrol_id, data.post_id)
    if data.type is IncidentType.restriction_of_movement:
        if data.restriction is None:
            refuse("restriction", "a restriction of movement says how: denial, delay or conditional_access")
        if not data.denied.strip():
            refuse("denied", "a restriction of movement says what was denied")
    elif data.restriction is not None:
        refuse("restriction", "only a restriction of movement has a restriction kind")
    visibility = data.visibility or SOURCE_VISIBILITY.get(data.source, Visibility.internal)
    if user.role is Role.liaison:
        assert user.side is not None
        if data.source is not SIDE_SOURCES[user.side]:
            refuse("source", "a liaison officer of side {side} reports as {source}", side=user.side.value,
                   source=SIDE_SOURCES[user.side].value)
        if visibility is not SIDE_VISIBILITY[user.side]:
            refuse("visibility", "a report by side {side} is visible to side {side}", side=user.side.value)
    if errors:
        if len(errors) == 1:
            raise Invalid("{message}", errors=errors, message=errors[0])
        raise Invalid("{count} problems with the report", errors=errors, count=len(errors))

    values = {name: getattr(data, name) for name in PLAIN_FIELDS}
    values["observed_by"] = sorted(set(data.observed_by))
    values["alleged_actors"] = sorted({a.value for a in data.alleged_actors})
    for column in CASUALTY_COLUMNS:
        bounds = getattr(data.casualties, column[:-4])
        values[column] = bounds.min if column.endswith("_min") else bounds.upper
    lon, lat = np.array([data.lon]), np.array([data.lat])
    zone, district = (int(zone_fence(session, kind).locate(lon, lat)[0]) for kind in (ZoneKind.area_of_responsibility, ZoneKind.district))
    return values | {"started_at": start, "ended_at": end, "visibility": visibility,
                     "zone_id": zone if zone > 0 else None, "district_id": district if district > 0 else None}


def _arrival(rules: Rules, user: User, data: IncidentIn, door: Channel | None) -> dict[str, Any]:
    """How and when the report reached the mission. The door it came through decides when it knows (TAK, a courier's
    file); else what the sender says; else what the sender's role tells: a patrol's device is the field app, a
    liaison officer types the side's own report. The operations centre alone may say it was received earlier
    than now (a call taken before it was typed in), never before the event began nor in the future."""
    now = utcnow()
    channel = door or data.channel or {Role.patrol: Channel.field_app if data.client_id else None,
                                       Role.liaison: Channel.source_entry}.get(user.role)
    received = as_utc(data.received_at, field="body.received_at") or now
    if data.received_at is not None:
        start = as_utc(data.started_at, field="body.started_at")
        assert start is not None
        if user.role not in (Role.operations, Role.admin):
            raise Invalid("only the operations centre says when a report was received", field="body.received_at")
        if received > now + rules.clock_skew:
            raise Invalid("{at:%Y-%m-%d %H:%M}Z is in the future", field="body.received_at", at=received)
        if received < start - rules.clock_skew:
            raise Invalid("a report is received after the event begins, not before ({at:%Y-%m-%d %H:%M}Z)",
                          field="body.received_at", at=start)
    return {"channel": channel, "received_at": min(received, now)}


def create_incident(session: Session, rules: Rules, user: User, data: IncidentIn,
                    then: Callable[[Session, Incident], None] | None = None,
                    door: Channel | None = None) -> tuple[Incident, bool]:
    """The new report and True, or the first copy of a resent one and False. ``then`` runs in the same
    transaction once the new report has its id (and may refuse it, undoing it whole); ``door`` is the channel
    the caller knows the report came by (TAK, a courier's file)."""
    sent_before = select(Incident).where(Incident.reported_by == user.username, Incident.client_id == data.client_id)

    def shared(incident: Incident) -> bool:
        return user.readable is None or incident.visibility in user.readable

    with transaction(session, user.username):
        first = first_copy(session, sent_before, data, shared)
        if first is not None:
            return first, False
        values = _check(session, rules, user, data) | _arrival(rules, user, data, door)
        incident = Incident(**values, client_id=data.client_id, client_digest=resend_digest(data) if data.client_id else None,
                            clock_offset_s=data.clock_offset_s, reported_by=user.username, event=IncidentEvent())
        try:
            with session.begin_nested():  # the same report from two tabs or two processes at once: the database keeps one
                session.add(incident)
                session.flush()
        except IntegrityError:
            raced = first_copy(session, sent_before, data, shared)
            if raced is None:
                raise
            return raced, False
        if then is not None:
            then(session, incident)
        _propose_for(session, rules.tolerance, incident)
    return incident, True


def incident_from_tak(session: Session, rules: Rules, user: User, report_id: int, data: FromTakIn) -> Incident:
    """An incident report made of a marker or spot report a TAK user placed: its place and time, its callsign
    and remarks as the narrative; the rest (type, source...) from the operator. Made once per marker:
    of two operators at once, one makes it and the other is told which it is."""
    report = get_tak_report(session, report_id)
    if report.incident_id is not None:
        raise Conflict("incident {incident_id} was already made of TAK report {report_id}",
                       field="path.report_id", incident_id=report.incident_id, report_id=report_id)
    given = data.model_dump(exclude_unset=True)
    fields = {"lat": report.lat, "lon": report.lon, "started_at": report.at, "outside_area_of_interest": False,
              "narrative": " - ".join(part for part in (report.callsign, report.remarks) if part),
              "source_detail": f"TAK {report.what} {report.uid[:120]} from {report.sent_by}"[:300]} | given
    incident_in = validated(IncidentIn, fields, "body")

    def link(session: Session, incident: Incident) -> None:
        claimed = session.execute(update(TakReport).where(TakReport.id == report_id, TakReport.incident_id.is_(None))
                                  .values(incident_id=incident.id))
        if claimed.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE's Result is a CursorResult, which has rowcount
            raise Conflict("an incident was made of TAK report {report_id} meanwhile", field="path.report_id", report_id=report_id)

    incident, _ = create_incident(session, rules, user, incident_in, then=link, door=Channel.tak_marker)
    return incident


def _fields_of(incident: Incident) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(incident, name) for name in PLAIN_FIELDS}
    values |= {"started_at": incident.started_at, "ended_at": incident.ended_at, "visibility": incident.visibility}
    values["casualties"] = {c[:-4]: {"min": getattr(incident, c), "max": getattr(incident, c[:-4] + "_max")} for c in CASUALTY_COLUMNS[::2]}
    return values


def update_incident(session: Session, rules: Rules, user: User, incident_id: int, changes: IncidentPatch) -> Incident:
    """Correct a report: the whole report is checked again, and the history keeps what it said."""
    with transaction(session, user.username):
        incident = get_incident(session, incident_id, None)
        given = changes.model_dump(exclude_unset=True)
        for name in ("type", "started_at", "time_precision", "lat", "lon", "place_precision", "source", "casualties", "visibility"):
            if name in given and given[name] is None:
                raise Invalid("{name} may not be null", field=f"body.{name}", name=name)
        try:
            merged = IncidentFields.model_validate(_fields_of(incident) | given)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise Invalid(first["msg"], field=".".join(["body", *map(str, first["loc"])])) from None
        for name, value in _check(session, rules, user, merged).items():
            setattr(incident, name, value)
    return incident


def get_incident(session: Session, incident_id: int, readable: Scope) -> Incident:
    return get_visible(session, Incident, incident_id, readable, "incident")


def _matching(
    readable: Scope,
    *,
    type: IncidentType | None = None,
    status: IncidentStatus | None = None,
    source: SourceKind | None = None,
    zone_id: int | None = None,
    district_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    search: str | None = None,
) -> Select[tuple[Incident]]:
    query = select(Incident)
    query = where_visible(query, Incident.visibility, readable)
    for column, value in ((Incident.type, type), (Incident.status, status), (Incident.source, source),
                          (Incident.zone_id, zone_id), (Incident.district_id, district_id)):
        if value is not None:
            query = query.where(column == value)
    if since is not None:
        query = query.where(Incident.ended_at >= since)
    if until is not None:
        query = query.where(Incident.started_at < until)
    if search:
        query = query.where(or_(Incident.narrative.icontains(search, autoescape=True),
                                Incident.place_name.icontains(search, autoescape=True)))
    return query


def list_incidents(session: Session, readable: Scope, *, limit: int = 100, offset: int = 0,
                   **filters: Any) -> list[Incident]:
    query = _matching(readable, **filters).order_by(Incident.started_at.desc(), Incident.id.desc())
    return list(session.scalars(query.limit(limit).offset(offset)))


def count_incidents(session: Session, readable: Scope, **filters: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(_matching(readable, **filters).subquery())) or 0)




def incident_out(incident: Incident, event: int) -> dict[str, Any]:
    """The report as the API shows it; ``event`` is its event's name for the reader (see event_names)."""
    values = _fields_of(incident)
    return values | {
        key: getattr(incident, key)
        for key in ("id", "client_id", "reported_by", "created_at", "updated_at", "zone_id", "district_id", "status", "clock_offset_s",
                    "channel", "received_at")
    } | {"mgrs": to_mgrs(incident.lat, incident.lon), "event_id": event}


def incidents_out(session: Session, readable: Scope, incidents: Iterable[Incident]) -> list[IncidentOut]:
    """Reports as one reader sees them, each with its event named for that reader."""
    incidents = list(incidents)
    names = event_names(session, readable, {i.event_id for i in incidents})
    return [IncidentOut.model_validate(incident_out(i, names.get(i.event_id, i.id))) for i in incidents]
