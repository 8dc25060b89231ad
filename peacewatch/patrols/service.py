"""Patrols and plans: references checked, transitions enforced, every change one audited transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, cast

import numpy as np
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from peacewatch.core.clocks import CLOCK_SKEW, not_in_future
from peacewatch.core.db import as_utc, compare_and_set, first_copy, resend_digest, transaction, utcnow
from peacewatch.core.geo import check_geometry, geometry_from_geojson
from peacewatch.core.i18n import N_
from peacewatch.core.paging import Paged, paged
from peacewatch.core.problems import Conflict, Invalid
from peacewatch.core.visibility import Scope, get_visible, where_visible
from peacewatch.force.models import Unit
from peacewatch.geography.models import Zone, ZoneKind
from peacewatch.patrols.models import CheckIn, KeptTrack, Patrol, PatrolPlan, PatrolStatus
from peacewatch.patrols.rules import metres_outside, next_status, occurrences, track_measures, window_of
from peacewatch.patrols.schemas import CheckInIn, GenerateIn, PatrolIn, PatrolOut, PatrolUpdate, PlanIn, Transition
from peacewatch.tracking.gpx import write_gpx
from peacewatch.tracking.models import Position, Tracker

RULE_FIELDS = ("max_stop_minutes", "silence_minutes", "route_tolerance_m")


def _check_refs(session: Session, unit_id: int | None, zone_id: int | None) -> None:
    if unit_id is not None and session.get(Unit, unit_id) is None:
        raise Invalid("unit {unit_id} does not exist", field="body.unit_id", unit_id=unit_id)
    if zone_id is not None:
        zone = session.get(Zone, zone_id)
        if zone is None or zone.kind != ZoneKind.area_of_responsibility:
            raise Invalid("zone {zone_id} is not an area of responsibility", field="body.zone_id", zone_id=zone_id)


def _trackers(session: Session, codes: list[str]) -> list[Tracker]:
    found = {t.code: t for t in session.scalars(select(Tracker).where(Tracker.code.in_(codes)))}
    missing = [c for c in codes if c not in found]
    if missing:
        raise Invalid("no tracker with code {missing}", field="body.trackers", missing=', '.join(missing))
    return [found[c] for c in dict.fromkeys(codes)]


def _route(route: Any) -> Any:
    if route is None:
        return None
    return geometry_from_geojson(route.model_dump(exclude_none=True), field="body.route", expect=("LineString",))


def _window(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    start, end = as_utc(start, field="body.planned_start"), as_utc(end, field="body.planned_end")
    assert start is not None and end is not None
    if end <= start:
        raise Invalid("the window must end after it starts", field="body.planned_end")
    return start, end


SORTS = {
    "planned_start": (Patrol.planned_start, Patrol.id),
    "-planned_start": (Patrol.planned_start.desc(), Patrol.id.desc()),
    "name": (Patrol.name, Patrol.id),
    "-name": (Patrol.name.desc(), Patrol.id.desc()),
    "status": (Patrol.status, Patrol.planned_start, Patrol.id),
    "-status": (Patrol.status.desc(), Patrol.planned_start.desc(), Patrol.id.desc()),
}
Sort = Literal["planned_start", "-planned_start", "name", "-name", "status", "-status"]


def _patrols_matching(
    readable: Scope,
    status: PatrolStatus | None,
    zone_id: int | None,
    since: datetime | None,
    until: datetime | None,
    search: str | None,
    unit_id: int | None = None,
) -> Select[tuple[Patrol]]:
    query = select(Patrol)
    query = where_visible(query, Patrol.visibility, readable)
    if status is not None:
        query = query.where(Patrol.status == status)
    if zone_id is not None:
        query = query.where(Patrol.zone_id == zone_id)
    if unit_id is not None:
        query = query.where(Patrol.unit_id == unit_id)
    if since is not None:
        query = query.where(Patrol.planned_end > since)
    if until is not None:
        query = query.where(Patrol.planned_start < until)
    if search:
        query = query.where(Patrol.name.icontains(search, autoescape=True))
    return query


def list_patrols(
    session: Session,
    readable: Scope,
    *,
    status: PatrolStatus | None = None,
    zone_id: int | None = None,
    unit_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    search: str | None = None,
    sort: Sort = "planned_start",
    limit: int = 100,
    offset: int = 0,
) -> Paged[Patrol]:
    query = _patrols_matching(readable, status, zone_id, since, until, search, unit_id)
    return paged(session, query.order_by(*SORTS[sort]), limit=limit, offset=offset)


def get_patrol(session: Session, patrol_id: int, readable: Scope) -> Patrol:
    return get_visible(session, Patrol, patrol_id, readable, "patrol")


ROUTE_LEAVES_AREA = N_("the route leaves its area of responsibility for about %(km)s km")
STILL_UNDER_WAY = N_("still under way after its planned end (%(end)s): complete or abort it")


@dataclass(frozen=True)
class PatrolWarning:
    """Something about a patrol an operations officer should look at twice, said in the reader's language."""

    sentence: str
    values: dict[str, Any]

    def text(self, gettext: Callable[[str], str] = str,
             moment: Callable[[datetime], str] = lambda at: f"{at:%Y-%m-%d %H:%M} UTC") -> str:
        """The sentence in a language (English by default), its moments as ``moment`` writes them."""
        return gettext(self.sentence) % {k: moment(v) if isinstance(v, datetime) else v for k, v in self.values.items()}


def warnings_of(session: Session, patrol: Patrol) -> list[PatrolWarning]:
    """The route leaving the patrol's area, and a patrol still under way after its planned end (it was never
    completed or aborted)."""
    found = []
    zone = session.get(Zone, patrol.zone_id)
    if patrol.route is not None and zone is not None:
        outside = metres_outside(patrol.route, zone.geometry)
        if outside:
            found.append(PatrolWarning(ROUTE_LEAVES_AREA, {"km": f"{outside / 1000:.1f}"}))
    if patrol.status is PatrolStatus.under_way and patrol.planned_end < utcnow():
        found.append(PatrolWarning(STILL_UNDER_WAY, {"end": patrol.planned_end}))
    return found


def described(session: Session, patrol: Patrol) -> PatrolOut:
    """The patrol as the API shows it, with its warnings (in English: the API's language)."""
    return PatrolOut.of(patrol, [w.text() for w in warnings_of(session, patrol)])


def create_patrol(session: Session, actor: str, data: PatrolIn) -> Patrol:
    with transaction(session, actor):
        _check_refs(session, data.unit_id, data.zone_id)
        start, end = _window(data.planned_start, data.planned_end)
        patrol = Patrol(
            name=data.name, unit_id=data.unit_id, zone_id=data.zone_id, route=_route(data.route), planned_start=start,
            planned_end=end, vehicles=data.vehicles, trackers=_trackers(session, data.trackers), visibility=data.visibility,
            **{k: getattr(data, k) for k in RULE_FIELDS},
        )
        session.add(patrol)
    return patrol


def update_patrol(session: Session, actor: str, patrol_id: int, changes: PatrolUpdate) -> Patrol:
    with transaction(session, actor):
        patrol = get_patrol(session, patrol_id, None)
        if patrol.status is not PatrolStatus.planned:
            raise Conflict("patrol {patrol_id} is {status}; only a planned patrol can be changed", patrol_id=patrol_id, status=patrol.status.value)
        values = changes.model_dump(exclude_unset=True)
        for key in ("name", "vehicles", "trackers", "visibility", *RULE_FIELDS):
            if key in values and values[key] is None:
                raise Invalid("{key} may not be null", field=f"body.{key}", key=key)
        if "planned_start" in values or "planned_end" in values:
            patrol.planned_start, patrol.planned_end = _window(
                values.get("planned_start") or patrol.planned_start, values.get("planned_end") or patrol.planned_end
            )
        if "route" in values:
            patrol.route = _route(changes.route)
        if "trackers" in values:
            patrol.trackers = _trackers(session, values["trackers"])
        for key in ("name", "vehicles", "visibility", *RULE_FIELDS):
            if key in values:
                setattr(patrol, key, values[key])
    return patrol


RESULT_OF = {"start": PatrolStatus.under_way, "complete": PatrolStatus.completed, "abort": PatrolStatus.aborted}


def transition(session: Session, actor: str, patrol_id: int, action: str, data: Transition,
               clock_skew: timedelta = CLOCK_SKEW) -> Patrol:
    """Start, complete or abort a patrol; anything else from its current state is a conflict.

    The same step at the same moment sent again (a field device that did not hear the answer) is the step
    already taken: the patrol is returned as it is."""
    not_in_future(data.at, clock_skew, "body.at")  # like a report: a step dated ahead is a clock running ahead
    with transaction(session, actor):
        patrol = get_patrol(session, patrol_id, None)
        target = next_status(patrol.status, action)
        if target is None and data.at is not None and patrol.status is RESULT_OF.get(action):
            taken_at = patrol.started_at if action == "start" else patrol.ended_at
            if taken_at is not None and as_utc(taken_at, field="at") == as_utc(data.at, field="body.at"):
                return patrol
        if target is None:
            raise Conflict("cannot {action} patrol {patrol_id}: it is {status}", action=action, patrol_id=patrol_id, status=patrol.status.value)
        at = as_utc(data.at, field="body.at") or utcnow()
        if action == "abort":
            if not (data.reason or "").strip():
                raise Invalid("aborting a patrol needs a reason", field="body.reason")
            patrol.abort_reason = data.reason
        patrol.step_clock_offset_s = data.clock_offset_s
        if action == "start":
            patrol.started_at = at
        else:
            if patrol.started_at is not None and at < patrol.started_at:
                raise Invalid("a patrol cannot end before it started", field="body.at")
            patrol.ended_at = at
        if not compare_and_set(session, patrol, {"status": patrol.status}, status=target):
            raise Conflict("cannot {action} patrol {patrol_id}: another user changed it just now", action=action, patrol_id=patrol_id)
    return patrol


def check_in(session: Session, actor: str, patrol_id: int, data: CheckInIn, clock_skew: timedelta = CLOCK_SKEW) -> CheckIn:
    """Record a check-in; one sent again under the same ``client_id`` returns the first copy."""
    with transaction(session, actor):
        first = first_copy(session, select(CheckIn).where(CheckIn.by == actor, CheckIn.client_id == data.client_id), data)
        if first is not None:
            return cast(CheckIn, first)
        patrol = get_patrol(session, patrol_id, None)
        if patrol.status is not PatrolStatus.under_way:
            raise Conflict("patrol {patrol_id} is {status}; check-ins are for a patrol under way", patrol_id=patrol_id, status=patrol.status.value)
        if (data.lat is None) != (data.lon is None):
            raise Invalid("give both lat and lon, or neither", field="body.lat")
        entry = CheckIn(patrol_id=patrol_id, at=not_in_future(data.at, clock_skew, "body.at") or utcnow(), by=actor,
                        lat=data.lat, lon=data.lon, note=data.note, client_id=data.client_id,
                        client_digest=resend_digest(data) if data.client_id else None, clock_offset_s=data.clock_offset_s)
        try:
            with session.begin_nested():  # the same check-in racing in on another process: the database keeps one
                session.add(entry)
                session.flush()
        except IntegrityError:
            raced = first_copy(session, select(CheckIn).where(CheckIn.by == actor, CheckIn.client_id == data.client_id), data)
            if raced is None:
                raise
            return cast(CheckIn, raced)
    return entry


def check_ins(session: Session, patrol: Patrol) -> list[CheckIn]:
    return list(session.scalars(select(CheckIn).where(CheckIn.patrol_id == patrol.id).order_by(CheckIn.at)))


def patrol_window(patrol: Patrol) -> tuple[datetime, datetime]:
    """The span whose positions make the patrol's track: actual times where known, else planned."""
    start = patrol.started_at or patrol.planned_start
    end = patrol.ended_at or (utcnow() if patrol.status is PatrolStatus.under_way else patrol.planned_end)
    return start, max(end, start)


def _fixes(session: Session, patrol: Patrol, tracker: Tracker) -> list[Any]:
    """The tracker's fixes in the patrol's window as (t_ms, lon, lat, zone_id, alt, speed): those kept
    before older positions were pruned, then the positions stored since."""
    start, end = patrol_window(patrol)
    kept = session.get(KeptTrack, (patrol.id, tracker.id))
    fixes: list[Any] = [tuple(fix) for fix in kept.fixes] if kept is not None else []
    since = max(int(start.timestamp() * 1000), kept.kept_until_ms if kept is not None else 0)
    fixes += session.execute(
        select(Position.t_ms, Position.lon, Position.lat, Position.zone_id, Position.alt, Position.speed)
        .where(Position.tracker_id == tracker.id, Position.t_ms >= since, Position.t_ms <= int(end.timestamp() * 1000))
        .order_by(Position.t_ms)
    ).all()
    return fixes


def keep_tracks(session: Session, before_ms: int) -> int:
    """Copy the tracks of every patrol that went out before ``before_ms`` out of the positions, so that
    pruning the positions older than that loses none of a patrol's evidence; how many tracks were copied.

    A track already kept up to that time is left as it is; one kept before an earlier, shorter prune
    is completed. Committed before any position is pruned."""
    went_out = select(Patrol).where(Patrol.started_at.is_not(None), Patrol.started_at < _moment(before_ms))
    copied = 0
    for patrol in session.scalars(went_out):
        for tracker in patrol.trackers:
            _start, end = patrol_window(patrol)
            upto = min(before_ms, int(end.timestamp() * 1000) + 1)
            kept = session.get(KeptTrack, (patrol.id, tracker.id))
            if kept is not None and kept.kept_until_ms >= upto:
                continue
            fixes = [list(fix) for fix in _fixes(session, patrol, tracker) if fix[0] < upto]
            if kept is None:
                session.add(KeptTrack(patrol_id=patrol.id, tracker_id=tracker.id, kept_until_ms=upto, fixes=fixes))
            else:
                kept.fixes, kept.kept_until_ms = fixes, upto
            copied += 1
    session.commit()
    return copied


def _moment(t_ms: int) -> datetime:
    return datetime.fromtimestamp(t_ms / 1000, UTC)


def patrol_track_fixes(session: Session, patrol: Patrol, trackers: list[Tracker] | None = None) -> list[tuple[str, list[Any]]]:
    """Each tracker's fixes in the patrol's window as (t_ms, lat, lon, alt, speed), for GPX."""
    return [(t.code, [(t_ms, lat, lon, alt, speed) for t_ms, lon, lat, _zone, alt, speed in _fixes(session, patrol, t)])
            for t in (patrol.trackers if trackers is None else trackers)]


def patrol_gpx(session: Session, patrol: Patrol) -> str:
    """The patrol's tracks as GPX, one <trk> per tracker."""
    return write_gpx(patrol.name, patrol_track_fixes(session, patrol))


def patrol_tracks(session: Session, patrol: Patrol) -> list[dict[str, Any]]:
    """One GeoJSON feature per tracker with its distance and its time inside the patrol's area."""
    features = []
    for tracker in patrol.trackers:
        rows = _fixes(session, patrol, tracker)
        t_ms = np.array([r[0] for r in rows], dtype=np.int64)
        lon = np.array([r[1] for r in rows], dtype=np.float64)
        lat = np.array([r[2] for r in rows], dtype=np.float64)
        inside = np.array([r[3] == patrol.zone_id for r in rows], dtype=bool)
        distance, seconds_inside = track_measures(t_ms, lon, lat, inside)
        features.append({
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": np.column_stack([lon, lat]).tolist()} if len(rows) > 1 else None,
            "properties": {
                "tracker": tracker.code, "positions": len(rows), "distance_km": round(distance / 1000, 3),
                "minutes_inside_area": round(seconds_inside / 60, 1),
                "first": rows[0][0] if rows else None, "last": rows[-1][0] if rows else None,
            },
        })
    return features


# --- recurring plans ---------------------------------------------------------------------------


def create_plan(session: Session, actor: str, data: PlanIn) -> PatrolPlan:
    with transaction(session, actor):
        _check_refs(session, data.unit_id, data.zone_id)
        if session.scalar(select(PatrolPlan.id).where(PatrolPlan.name == data.name)) is not None:
            raise Conflict("a plan named '{data_name}' exists", field="body.name", data_name=data.name)
        starts = as_utc(data.starts, field="body.starts")
        try:
            occurrences(data.rrule, starts, starts, starts)  # type: ignore[arg-type]  # dateutil is untyped; the rule is checked by letting it parse
        except (ValueError, TypeError) as exc:
            raise Invalid("not an RFC 5545 recurrence rule: {exc}", field="body.rrule", exc=exc) from None
        _trackers(session, data.trackers)
        route = _route(data.route)
        check_geometry(route, field="body.route")
        plan = PatrolPlan(
            name=data.name, unit_id=data.unit_id, zone_id=data.zone_id, route=route, rrule=data.rrule, starts=starts,
            duration_minutes=data.duration_minutes, vehicles=data.vehicles, tracker_codes=data.trackers,
            visibility=data.visibility, **{k: getattr(data, k) for k in RULE_FIELDS},
        )
        session.add(plan)
    return plan


def list_plans(session: Session, readable: Scope) -> list[PatrolPlan]:
    query = select(PatrolPlan).order_by(PatrolPlan.id)
    return list(session.scalars(where_visible(query, PatrolPlan.visibility, readable)))


def get_plan(session: Session, plan_id: int, readable: Scope) -> PatrolPlan:
    return get_visible(session, PatrolPlan, plan_id, readable, "patrol plan")


def generate_patrols(session: Session, actor: str, plan_id: int, data: GenerateIn) -> tuple[list[Patrol], int]:
    """Patrols for each occurrence of the plan in the span; occurrences already generated are kept."""
    since, until = as_utc(data.since, field="body.since"), as_utc(data.until, field="body.until")
    assert since is not None and until is not None
    if until <= since:
        raise Invalid("until must be after since", field="body.until")
    with transaction(session, actor):
        plan = get_plan(session, plan_id, None)
        existing = set(session.scalars(select(Patrol.planned_start).where(Patrol.plan_id == plan_id)))
        trackers = _trackers(session, plan.tracker_codes)
        created: list[Patrol] = []
        starts = occurrences(plan.rrule, plan.starts, since, until)
        for start in starts:
            if start in existing:
                continue
            begin, end = window_of(start, plan.duration_minutes)
            patrol = Patrol(
                name=f"{plan.name} {start:%Y-%m-%d %H:%M}", unit_id=plan.unit_id, zone_id=plan.zone_id, route=plan.route,
                planned_start=begin, planned_end=end, vehicles=list(plan.vehicles), trackers=list(trackers),
                plan_id=plan.id, visibility=plan.visibility, **{k: getattr(plan, k) for k in RULE_FIELDS},
            )
            session.add(patrol)
            created.append(patrol)
    return created, len(starts) - len(created)


PLANNER = "system:planner"


def generate_ahead(session: Session, now: datetime, hours: int) -> int:
    """The patrols of every recurring plan for the next ``hours``, so the day's patrols are on the board
    without a planner generating them by hand; occurrences already generated are kept. Returns how many were made."""
    window = GenerateIn(since=now, until=now + timedelta(hours=hours))
    return sum(len(generate_patrols(session, PLANNER, plan_id, window)[0])
               for plan_id in list(session.scalars(select(PatrolPlan.id).order_by(PatrolPlan.id))))
