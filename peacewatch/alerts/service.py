"""Handling alerts (acknowledge, close) and the sweep that raises the alerts no position can: silence and lateness."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from peacewatch.alerts.models import CALLED_KINDS, Alert, AlertKind, AlertStatus
from peacewatch.core.db import compare_and_set, transaction, utcnow
from peacewatch.core.paging import Paged, paged
from peacewatch.core.problems import Conflict
from peacewatch.core.visibility import Scope, Visibility, get_visible, visibility_clause
from peacewatch.patrols.models import CheckIn, Patrol, PatrolStatus, patrol_trackers
from peacewatch.tracking.models import TrackerState

SWEEPER = "system:sweeper"


def list_alerts(
    session: Session,
    readable: Scope,
    *,
    status: AlertStatus | None = None,
    kind: AlertKind | None = None,
    patrol_id: int | None = None,
    after_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
    newest_first: bool = True,
) -> Paged[Alert]:
    order = Alert.id.desc() if newest_first else Alert.id
    query = select(Alert).order_by(order)
    clause = visibility_clause(Alert.visibility, readable)
    for condition in (
        clause,
        Alert.status == status if status else None,
        Alert.kind == kind if kind else None,
        Alert.patrol_id == patrol_id if patrol_id else None,
        Alert.id > after_id if after_id is not None else None,
    ):
        if condition is not None:
            query = query.where(condition)
    return paged(session, query, limit=limit, offset=offset)


def get_alert(session: Session, alert_id: int, readable: Scope) -> Alert:
    return get_visible(session, Alert, alert_id, readable, "alert")


def acknowledge(session: Session, actor: str, alert_id: int, note: str) -> Alert:
    with transaction(session, actor):
        alert = get_alert(session, alert_id, None)
        if not compare_and_set(session, alert, {"status": AlertStatus.open}, status=AlertStatus.acknowledged,
                               acknowledged_by=actor, acknowledged_at=utcnow()):
            session.refresh(alert)
            raise Conflict("alert {alert_id} is {status}; only an open alert can be acknowledged", alert_id=alert_id, status=alert.status.value)
        alert.note = note or alert.note
    return alert


def share(session: Session, actor: str, alert_id: int, visibility: Visibility) -> Alert:
    """Who may read an alert: raised internal (alerts are operational), shared with a side or the public by an
    operator, say to ask a side's liaison to call a patrol back; the change is audited as any other."""
    with transaction(session, actor):
        alert = get_alert(session, alert_id, None)
        alert.visibility = visibility
    return alert


def close(session: Session, actor: str, alert_id: int, note: str) -> Alert:
    with transaction(session, actor):
        alert = get_alert(session, alert_id, None)
        if not compare_and_set(session, alert, {"status": (AlertStatus.open, AlertStatus.acknowledged)},
                               status=AlertStatus.closed, closed_by=actor, closed_at=utcnow()):
            raise Conflict("alert {alert_id} is already closed", alert_id=alert_id)
        if alert.kind in CALLED_KINDS and alert.ended_at is None:
            alert.ended_at = alert.closed_at  # a call closed by the centre is over: the caller's next call is a new alert
        alert.note = note or alert.note
    return alert


def sweep(session: Session, now: datetime | None = None, patrol_ids: list[int] | None = None) -> list[Alert]:
    """Raise "silent" (no position or check-in for too long) and "not back" (window over, not completed)
    once per episode, and end those episodes when the patrol is heard from again or finishes.

    ``patrol_ids`` limits the sweep to those patrols (a replay of the past sweeps only its own).
    """
    now = now or utcnow()
    raised: list[Alert] = []
    with transaction(session, SWEEPER):
        episodes = select(Alert).where(Alert.kind.in_((AlertKind.silent, AlertKind.not_back)), Alert.ended_at.is_(None))
        under_way = select(Patrol).where(Patrol.status == PatrolStatus.under_way)
        if patrol_ids is not None:
            episodes, under_way = episodes.where(Alert.patrol_id.in_(patrol_ids)), under_way.where(Patrol.id.in_(patrol_ids))
        open_alerts = {(a.patrol_id, a.kind): a for a in session.scalars(episodes)}
        for patrol in session.scalars(under_way):
            heard = last_heard(session, patrol)
            silent = now - heard > timedelta(minutes=patrol.silence_minutes)
            late = now > patrol.planned_end
            for kind, on, since, text in (
                (AlertKind.silent, silent, heard + timedelta(minutes=patrol.silence_minutes),
                 f"patrol {patrol.name} silent since {heard:%H:%M} UTC"),
                (AlertKind.not_back, late, patrol.planned_end, f"patrol {patrol.name} not back at the end of its window"),
            ):
                episode = open_alerts.pop((patrol.id, kind), None)
                if on and episode is None:
                    alert = Alert(kind=kind, patrol_id=patrol.id, zone_id=patrol.zone_id, started_at=since, message=text,
                                  visibility=Visibility.internal,  # operational: an operator shares it
                                  details={"patrol": patrol.name, "heard": heard.isoformat()})  # pages word it in their language
                    session.add(alert)
                    raised.append(alert)
                elif not on and episode is not None:
                    episode.ended_at = heard if kind is AlertKind.silent else now
        for (patrol_id, _kind), episode in open_alerts.items():  # patrols no longer under way
            patrol = session.get(Patrol, patrol_id) if patrol_id else None
            episode.ended_at = (patrol.ended_at if patrol and patrol.ended_at else now)
    return raised


def last_heard(session: Session, patrol: Patrol) -> datetime:
    """The latest of: the start, a check-in, a position from one of its trackers."""
    last_fix = session.scalar(
        select(func.max(TrackerState.t_ms)).join(patrol_trackers, patrol_trackers.c.tracker_id == TrackerState.tracker_id)
        .where(patrol_trackers.c.patrol_id == patrol.id)
    )
    # the newest row's own column, not max(): it keeps the column's UTC type on SQLite too
    last_check_in = session.scalar(
        select(CheckIn.at).where(CheckIn.patrol_id == patrol.id).order_by(CheckIn.at.desc()).limit(1)
    )
    moments = [m for m in (patrol.started_at or patrol.planned_start, last_check_in) if m is not None]
    if last_fix is not None:
        moments.append(datetime.fromtimestamp(last_fix / 1000, tz=UTC))
    return max(moments)
