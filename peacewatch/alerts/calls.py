"""Calls for help: a TAK client's emergency or CASEVAC request, the field page's Emergency button.

A call is a top-priority alert of its own (kind ``emergency`` or ``casevac``), held to one open alert per
caller by the database (``uq_alerts_open_call`` on the call's ``source_uid``): ATAK repeats an emergency
while it is on, and each repeat, from whichever server process reads it, moves the open alert to where the
caller is now and adds the place to its track, never a second alert. A cancel from the caller ends it.

Who may call: a signed-in user of the mission (any role but a side's liaison: the API's ``Staff``), or, for an anonymous TAK
client, a device that is a registered tracker taking that sender's positions (:mod:`tracking.sources`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from peacewatch.alerts.models import PRIORITY_OF_KIND, Alert, AlertKind, AlertStatus
from peacewatch.core.auth import INTERNAL_ROLES, Role
from peacewatch.core.db import compare_and_set, transaction, utcnow
from peacewatch.core.problems import Invalid, NotFound
from peacewatch.core.visibility import Visibility
from peacewatch.patrols.models import Patrol, PatrolStatus, patrol_trackers

TRACK_POINTS = 500  # the places a call keeps, newest last: an emergency repeated every few seconds for hours keeps its last ones
FIELD_BUTTON = "Emergency button (field page)"  # what a field call says it is (ATAK's calls say "911 Alert" and the like)
CALLER_ROLES = INTERNAL_ROLES  # the mission's own people; a side's liaison calls through the sides' channels


@dataclass
class CallForHelp:
    """One emergency or CASEVAC event, from TAK or from the field page, as the alerts keep it."""

    source_uid: str  # the call's own id: its repeats and its cancel carry it
    kind: AlertKind
    at: datetime
    lat: float | None = None
    lon: float | None = None
    raised_by: str | None = None  # the signed-in user who called, if one did
    via: str = "tak"  # "tak" or "field"
    emergency_type: str = ""
    callsign: str = ""
    label: str = ""
    remarks: str = ""
    device_uid: str = ""
    tracker_id: int | None = None
    patrol_id: int | None = None
    nine_line: dict[str, Any] = field(default_factory=dict)


def may_call(role: Role | None) -> bool:
    """Whether a signed-in user of ``role`` may raise the mission's alarm."""
    return role is not None and role in CALLER_ROLES


def _message(call: CallForHelp) -> str:
    who = call.callsign or call.raised_by or call.device_uid or "unknown"
    if call.kind is AlertKind.casevac:
        return f"CASEVAC request from {who}" + (f": {call.label}" if call.label and call.label != who else "")
    what = call.label or call.emergency_type.replace("_", " ") or "emergency"
    return f"EMERGENCY from {who}: {what}"[:500]


def _point(call: CallForHelp) -> list[Any] | None:
    if call.lat is None or call.lon is None:
        return None
    return [call.at.isoformat(), round(call.lat, 7), round(call.lon, 7)]


def _patrol_under_way(session: Session, call: CallForHelp) -> Patrol | None:
    """The patrol the call comes from: the one named, or the one under way with the calling device."""
    if call.patrol_id is not None:
        return session.get(Patrol, call.patrol_id)
    if call.tracker_id is None:
        return None
    return session.scalar(select(Patrol).join(patrol_trackers, patrol_trackers.c.patrol_id == Patrol.id)
                          .where(patrol_trackers.c.tracker_id == call.tracker_id, Patrol.status == PatrolStatus.under_way)
                          .order_by(Patrol.id.desc()).limit(1))


def _open_call(session: Session, call: CallForHelp) -> Alert | None:
    same = [Alert.source_uid == call.source_uid]
    if call.tracker_id is not None:
        same.append(Alert.tracker_id == call.tracker_id)
    query = select(Alert).where(Alert.kind == call.kind, Alert.ended_at.is_(None), or_(*same)).order_by(Alert.id).limit(1)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.scalar(query)


def _follow(alert: Alert, call: CallForHelp) -> None:
    """A repeat of an open call: the alert moves to where the caller is now, the place joins its track."""
    point = _point(call)
    if point is None:
        return
    details = dict(alert.details or {})
    details["track"] = ([*details.get("track", []), point])[-TRACK_POINTS:]
    alert.details = details  # a new dict, so the change is seen and written
    alert.lat, alert.lon = call.lat, call.lon


def raise_call(session: Session, actor: str, call: CallForHelp) -> tuple[Alert, bool]:
    """The call's open alert, raised now if it is new (True) or moved to the caller's new place (False)."""
    with transaction(session, actor):
        alert = _open_call(session, call)
        if alert is not None:
            _follow(alert, call)
            return alert, False
        patrol = _patrol_under_way(session, call)
        point = _point(call)
        alert = Alert(kind=call.kind, priority=int(PRIORITY_OF_KIND[call.kind]), source_uid=call.source_uid,
                      raised_by=call.raised_by, started_at=call.at, lat=call.lat, lon=call.lon, message=_message(call),
                      tracker_id=call.tracker_id, patrol_id=patrol.id if patrol else None,
                      zone_id=patrol.zone_id if patrol else None, visibility=Visibility.internal,
                      details={"via": call.via, "emergency_type": call.emergency_type, "callsign": call.callsign,
                               "label": call.label, "remarks": call.remarks, "device_uid": call.device_uid,
                               "patrol": patrol.name if patrol else None, "nine_line": call.nine_line,
                               "track": [point] if point else []})
        try:
            with session.begin_nested():  # another process may have raised the same call this instant
                session.add(alert)
        except IntegrityError:
            alert = _open_call(session, call)
            if alert is None:
                raise
            _follow(alert, call)
            return alert, False
    return alert, True


def cancel_call(session: Session, actor: str, source_uid: str, kind: AlertKind, cancelled_by: str | None,
                at: datetime | None = None) -> Alert | None:
    """End the open call of ``source_uid``, closed by its caller; None when there is none open, or it is someone else's
    (a cancel names the call, and only who raised it may call it off)."""
    with transaction(session, actor):
        alert = session.scalar(select(Alert).where(Alert.source_uid == source_uid, Alert.kind == kind, Alert.ended_at.is_(None)))
        if alert is None or alert.raised_by != cancelled_by:
            return None
        ended = at or utcnow()
        if not compare_and_set(session, alert, {"status": (AlertStatus.open, AlertStatus.acknowledged)},
                               status=AlertStatus.closed, closed_by=cancelled_by or actor, closed_at=utcnow(), ended_at=ended):
            return None
        alert.note = alert.note or "cancelled by the caller"
    return alert


def field_call(username: str, client_id: str) -> str:
    """The call's own id for the field page's Emergency button: its repeats and its cancel carry the device's id for it."""
    return f"field.{username}.{client_id}"


def call_from_the_field(session: Session, username: str, client_id: str, *, at: datetime | None, lat: float | None,
                        lon: float | None, accuracy: float | None, patrol_id: int | None, note: str) -> tuple[Alert, bool]:
    """The field page's Emergency button: the user's call, raised once, followed by its repeats (the outbox sends it
    again until it has an answer, and a device may press again with a new place)."""
    now = utcnow()
    if patrol_id is not None and session.get(Patrol, patrol_id) is None:
        raise Invalid("no patrol {patrol_id}", field="body.patrol_id", patrol_id=patrol_id)
    pressed = min(at, now) if at is not None else now
    call = CallForHelp(source_uid=field_call(username, client_id), kind=AlertKind.emergency, at=pressed, lat=lat, lon=lon,
                       raised_by=username, via="field", emergency_type="field", callsign=username, label=FIELD_BUTTON, remarks=note,
                       patrol_id=patrol_id)
    alert, raised = raise_call(session, username, call)
    if accuracy is not None and raised:
        with transaction(session, username):
            alert.details = {**alert.details, "accuracy_m": accuracy}
    return alert, raised


def call_off_from_the_field(session: Session, username: str, client_id: str) -> Alert:
    """The user's own field call, ended; one already over is answered as it is; another's, or none, is not found."""
    source = field_call(username, client_id)
    cancel_call(session, username, source, AlertKind.emergency, username)
    alert = session.scalar(select(Alert).where(Alert.source_uid == source, Alert.kind == AlertKind.emergency)
                           .order_by(Alert.id.desc()).limit(1))
    if alert is None:
        raise NotFound("no emergency {client_id} of yours", client_id=client_id)
    return alert
