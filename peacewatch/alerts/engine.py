"""Alert rules run inside the ingest transaction, on the whole batch at once.

Only fixes newer than a tracker's last evaluated fix are judged (a late or resent fix is stored
but raises nothing), so episodes follow time. Each rule yields one boolean per fix; an alert opens
where its rule turns true and its episode ends where it turns false again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from threading import Lock
from typing import Any

import numpy as np
import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from peacewatch.alerts.models import Alert, AlertKind, TrackerState
from peacewatch.alerts.rules import edges, group_starts, metres_from, standing_since
from peacewatch.core.geo import buffer_metres, utm_transformers
from peacewatch.geography.models import Post, Zone, ZoneKind
from peacewatch.patrols.models import Patrol, PatrolStatus, patrol_trackers
from peacewatch.tracking.geofence import NO_ZONE, Fence
from peacewatch.tracking.models import Tracker

POSITION_KINDS = (AlertKind.left_area, AlertKind.near_line_of_contact, AlertKind.in_restricted_zone,
                  AlertKind.long_stop, AlertKind.off_route)


@dataclass(frozen=True)
class AlertSettings:
    loc_buffer_m: float = 1000.0
    post_radius_m: float = 300.0


def _at(t_ms: int) -> datetime:
    return datetime.fromtimestamp(t_ms / 1000, tz=timezone.utc)


_cache_lock = Lock()
_fence_cache: dict[str, tuple[Any, Fence]] = {}


def _zone_fence(session: Session, kind: ZoneKind, buffer_m: float | None) -> Fence:
    """Prepared polygons of one zone kind (lines buffered to polygons), rebuilt only when a zone changes."""
    stamp = session.execute(select(func.count(Zone.id), func.max(Zone.updated_at)).where(Zone.kind == kind)).one()
    key = (str(session.get_bind().url), tuple(stamp), buffer_m)
    with _cache_lock:
        cached = _fence_cache.get(kind.value)
        if cached is not None and cached[0] == key:
            return cached[1]
    zones = session.scalars(select(Zone).where(Zone.kind == kind).order_by(Zone.id)).all()
    fence = Fence([z.id for z in zones], [buffer_metres(z.geometry, buffer_m) if buffer_m else z.geometry for z in zones])
    with _cache_lock:
        _fence_cache[kind.value] = (key, fence)
    return fence


def evaluate(
    session: Session,
    settings: AlertSettings,
    tracker: np.ndarray,
    t_ms: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    zone: np.ndarray,
) -> list[Alert]:
    """Judge a batch sorted by (tracker, time); add the alerts it opens and end the episodes it closes."""
    unique = np.unique(tracker)
    states = {s.tracker_id: s for s in session.scalars(select(TrackerState).where(TrackerState.tracker_id.in_(unique.tolist())))}
    last_t = np.array([states[t].t_ms if t in states else -1 for t in tracker.tolist()], dtype=np.int64)
    fresh = t_ms > last_t
    if not fresh.any():
        return []
    tracker, t_ms, lon, lat, zone = tracker[fresh], t_ms[fresh], lon[fresh], lat[fresh], zone[fresh]
    start = group_starts(tracker)
    state_rows = [states.get(t) for t in tracker.tolist()]

    to_utm, _ = utm_transformers(round(float(lon[0])), round(float(lat[0])))
    x, y = to_utm.transform(lon, lat)
    prev_lon = np.array([s.lon if s else np.nan for s in state_rows])
    prev_lat = np.array([s.lat if s else np.nan for s in state_rows])
    prev_x, prev_y = to_utm.transform(prev_lon, prev_lat)
    prev_t = np.array([s.t_ms if s else -1 for s in state_rows], dtype=np.int64)
    prev_since = np.array([s.standing_since_ms if s else -1 for s in state_rows], dtype=np.int64)
    since = standing_since(t_ms, x, y, start, prev_t, np.asarray(prev_x), np.asarray(prev_y), prev_since)

    patrols = _patrols_under_way(session, unique.tolist())
    patrol_of = np.array([patrols[t].id if t in patrols else -1 for t in tracker.tolist()], dtype=np.int64)
    on_patrol = patrol_of >= 0
    flags: dict[AlertKind, np.ndarray] = {
        AlertKind.left_area: on_patrol & (zone != np.array([patrols[t].zone_id if t in patrols else NO_ZONE for t in tracker.tolist()])),
        AlertKind.near_line_of_contact: _zone_fence(session, ZoneKind.line_of_contact, settings.loc_buffer_m).inside_any(lon, lat),
        AlertKind.in_restricted_zone: _zone_fence(session, ZoneKind.restricted_zone, None).inside_any(lon, lat),
        AlertKind.off_route: np.zeros(len(t_ms), dtype=bool),
        AlertKind.long_stop: np.zeros(len(t_ms), dtype=bool),
    }
    for patrol in {p.id: p for p in patrols.values()}.values():
        rows = patrol_of == patrol.id
        if patrol.route is not None:
            flags[AlertKind.off_route][rows] = metres_from(patrol.route, lon[rows], lat[rows], to_utm) > patrol.route_tolerance_m
        stood = np.where(since[rows] >= 0, t_ms[rows] - since[rows], 0)
        flags[AlertKind.long_stop][rows] = stood > patrol.max_stop_minutes * 60_000
    if flags[AlertKind.long_stop].any():
        flags[AlertKind.long_stop] &= ~_near_open_post(session, lon, lat, t_ms, to_utm, settings.post_radius_m)

    raised = _apply_edges(session, flags, tracker, t_ms, lon, lat, zone, start, patrols)
    _save_states(session, states, tracker, t_ms, lon, lat, since, start)
    return raised


def _patrols_under_way(session: Session, trackers: list[int]) -> dict[int, Patrol]:
    rows = session.execute(
        select(patrol_trackers.c.tracker_id, Patrol)
        .join(Patrol, Patrol.id == patrol_trackers.c.patrol_id)
        .where(patrol_trackers.c.tracker_id.in_(trackers), Patrol.status == PatrolStatus.under_way)
        .order_by(Patrol.started_at)
    ).all()
    return {tracker_id: patrol for tracker_id, patrol in rows}  # the latest started wins


def _near_open_post(session: Session, lon: np.ndarray, lat: np.ndarray, t_ms: np.ndarray, to_utm: Any, radius: float) -> np.ndarray:
    day = _at(int(t_ms.max())).date()
    posts = session.scalars(select(Post).where(Post.opened_on <= day, (Post.closed_on.is_(None)) | (Post.closed_on > day))).all()
    if not posts:
        return np.zeros(len(lon), dtype=bool)
    return metres_from(shapely.multipoints([p.geometry for p in posts]), lon, lat, to_utm) <= radius


def _apply_edges(
    session: Session, flags: dict[AlertKind, np.ndarray], tracker: np.ndarray, t_ms: np.ndarray, lon: np.ndarray,
    lat: np.ndarray, zone: np.ndarray, start: np.ndarray, patrols: dict[int, Patrol],
) -> list[Alert]:
    open_episodes: dict[tuple[int, AlertKind], Alert] = {
        (a.tracker_id, a.kind): a
        for a in session.scalars(select(Alert).where(
            Alert.tracker_id.in_(np.unique(tracker).tolist()), Alert.kind.in_(POSITION_KINDS), Alert.ended_at.is_(None)))
    }
    trackers = {t.id: t for t in session.scalars(select(Tracker).where(Tracker.id.in_(np.unique(tracker).tolist())))}
    raised = []
    for kind, flag in flags.items():
        was_on = np.array([(t, kind) in open_episodes for t in tracker.tolist()], dtype=bool)
        opens, closes = edges(flag, start, was_on)
        events = sorted([(row, True) for row in opens.tolist()] + [(row, False) for row in closes.tolist()])
        for row, opening in events:  # in time order: a batch may hold a whole episode, or several
            tracker_id = int(tracker[row])
            if not opening:
                episode = open_episodes.pop((tracker_id, kind), None)
                if episode is not None:
                    episode.ended_at = _at(int(t_ms[row]))
                continue
            patrol = patrols.get(tracker_id)
            device = trackers[tracker_id]
            alert = Alert(
                kind=kind, tracker_id=tracker_id, patrol_id=patrol.id if patrol else None,
                zone_id=int(zone[row]) if zone[row] != NO_ZONE else None, started_at=_at(int(t_ms[row])),
                lat=float(lat[row]), lon=float(lon[row]), visibility=patrol.visibility if patrol else device.visibility,
                message=_message(kind, device.code, patrol), details={},
            )
            session.add(alert)
            open_episodes[(tracker_id, kind)] = alert
            raised.append(alert)
    return raised


def _message(kind: AlertKind, code: str, patrol: Patrol | None) -> str:
    of = f" (patrol {patrol.name})" if patrol else ""
    return {
        AlertKind.left_area: f"{code} left its area of responsibility{of}",
        AlertKind.near_line_of_contact: f"{code} is within the buffer of the line of contact{of}",
        AlertKind.in_restricted_zone: f"{code} entered a restricted zone{of}",
        AlertKind.long_stop: f"{code} has stopped longer than allowed away from a post{of}",
        AlertKind.off_route: f"{code} strayed from the planned route{of}",
    }[kind]


def _save_states(
    session: Session, states: dict[int, TrackerState], tracker: np.ndarray, t_ms: np.ndarray, lon: np.ndarray,
    lat: np.ndarray, since: np.ndarray, start: np.ndarray,
) -> None:
    last_rows = np.append(np.flatnonzero(start)[1:] - 1, len(tracker) - 1)
    for row in last_rows.tolist():
        tracker_id = int(tracker[row])
        state = states.get(tracker_id) or TrackerState(tracker_id=tracker_id)
        state.t_ms, state.lon, state.lat, state.standing_since_ms = int(t_ms[row]), float(lon[row]), float(lat[row]), int(since[row])
        session.add(state)
