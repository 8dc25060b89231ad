"""Alert rules run inside the ingest transaction, on the whole batch at once.

Only fixes newer than a tracker's last evaluated fix are judged (a late or resent fix is stored
but raises nothing), so episodes follow time. Each rule yields one boolean per fix; an alert opens
where its rule turns true and its episode ends where it turns false again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import shapely
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from peacewatch.alerts.models import Alert, AlertKind
from peacewatch.alerts.rules import edges, group_starts, metres_from, standing_since
from peacewatch.core.geo import NO_ZONE, utm_transformers
from peacewatch.core.settings import AlertSettings
from peacewatch.core.visibility import Visibility
from peacewatch.geography.models import Post, ZoneKind
from peacewatch.geography.service import zone_fence
from peacewatch.patrols.models import Patrol, PatrolStatus, patrol_trackers
from peacewatch.tracking.models import Tracker, TrackerState
from peacewatch.tracking.store import upsert_rows

POSITION_KINDS = (AlertKind.left_area, AlertKind.near_line_of_contact, AlertKind.in_restricted_zone,
                  AlertKind.long_stop, AlertKind.off_route)


def _at(t_ms: int) -> datetime:
    return datetime.fromtimestamp(t_ms / 1000, tz=UTC)


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
    state = _load_states(session, unique)
    where = np.searchsorted(unique, tracker)  # each row's tracker, as an index into the per-tracker arrays
    fresh = t_ms > state["t_ms"][where]
    if not fresh.any():
        return []
    tracker, t_ms, lon, lat, zone, where = tracker[fresh], t_ms[fresh], lon[fresh], lat[fresh], zone[fresh], where[fresh]
    start = group_starts(tracker)

    to_utm, _ = utm_transformers(round(float(lon[0])), round(float(lat[0])))
    patrols = _patrols_under_way(session, unique.tolist())
    on_duty = [patrols.get(int(t)) for t in unique.tolist()]
    patrol_of = np.array([p.id if p else -1 for p in on_duty], dtype=np.int64)[where]
    patrol_zone = np.array([p.zone_id if p else NO_ZONE for p in on_duty], dtype=np.int64)[where]
    on_patrol = patrol_of >= 0
    # where a tracker stands still matters only on patrol: project just those rows to metres
    since = np.full(len(t_ms), -1, dtype=np.int64)
    if on_patrol.any():
        rows = np.flatnonzero(on_patrol)
        x, y = to_utm.transform(lon[rows], lat[rows])
        prev_x, prev_y = to_utm.transform(state["lon"][where[rows]], state["lat"][where[rows]])
        since[rows] = standing_since(t_ms[rows], np.asarray(x), np.asarray(y), group_starts(tracker[rows]),
                                     state["t_ms"][where[rows]], np.asarray(prev_x), np.asarray(prev_y),
                                     state["since"][where[rows]])
    flags: dict[AlertKind, np.ndarray] = {
        AlertKind.left_area: on_patrol & (zone != patrol_zone),
        AlertKind.near_line_of_contact: zone_fence(session, ZoneKind.line_of_contact, settings.loc_buffer_m).inside_any(lon, lat),
        AlertKind.in_restricted_zone: zone_fence(session, ZoneKind.restricted_zone).inside_any(lon, lat),
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

    raised = _apply_edges(session, flags, tracker, t_ms, lon, lat, zone, start, patrols, unique, where)
    _save_states(session, tracker, t_ms, lon, lat, since, start)
    return raised


def claim_trackers(session: Session, trackers: list[int]) -> None:
    """Hold each tracker's state until this transaction ends, before anything of the batch is read or written.

    Two batches of one tracker arriving at two server processes at once are then judged one after
    the other, the second seeing the first's fixes, state and alerts: an episode raises one alert,
    and a tracker's state never goes back in time. On PostgreSQL the state rows are locked (created
    first if new, so that there is a row to lock), in tracker order so two batches never deadlock;
    on SQLite, the insert takes the database's single write lock for the transaction.
    """
    if not trackers:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(
            "INSERT INTO tracker_state (tracker_id, t_ms, lon, lat, standing_since_ms) "
            "SELECT id, -1, 0, 0, -1 FROM unnest(%s::integer[]) AS id ORDER BY id ON CONFLICT (tracker_id) DO NOTHING",
            (trackers,),
        )
        connection.exec_driver_sql(
            "SELECT 1 FROM tracker_state WHERE tracker_id = ANY(%s::integer[]) ORDER BY tracker_id FOR UPDATE", (trackers,)
        )
    else:
        connection.exec_driver_sql(
            "INSERT INTO tracker_state (tracker_id, t_ms, lon, lat, standing_since_ms) VALUES (?, -1, 0, 0, -1) "
            "ON CONFLICT (tracker_id) DO NOTHING", [(t,) for t in trackers],
        )


# statements run with every batch: their lists of trackers are bound at execution, not compiled each time
_TRACKERS = bindparam("trackers", expanding=True)
_STATES = (select(TrackerState.tracker_id, TrackerState.t_ms, TrackerState.standing_since_ms, TrackerState.lon, TrackerState.lat)
           .where(TrackerState.tracker_id.in_(_TRACKERS), TrackerState.t_ms >= 0))  # -1: claimed, never judged
_UNDER_WAY = (select(patrol_trackers.c.tracker_id, Patrol)
              .join(Patrol, Patrol.id == patrol_trackers.c.patrol_id)
              .where(patrol_trackers.c.tracker_id.in_(_TRACKERS), Patrol.status == PatrolStatus.under_way)
              .order_by(Patrol.started_at))


def _load_states(session: Session, unique: np.ndarray) -> dict[str, np.ndarray]:
    """Each tracker's last evaluated fix as arrays aligned with ``unique`` (-1 / NaN where none)."""
    out = {"t_ms": np.full(len(unique), -1, dtype=np.int64), "since": np.full(len(unique), -1, dtype=np.int64),
           "lon": np.full(len(unique), np.nan), "lat": np.full(len(unique), np.nan)}
    rows = session.connection().execute(_STATES, {"trackers": unique.tolist()}).all()
    if rows:
        found = np.array([tuple(r) for r in rows], dtype=np.float64)
        index = np.searchsorted(unique, found[:, 0].astype(np.int64))
        out["t_ms"][index], out["since"][index] = found[:, 1].astype(np.int64), found[:, 2].astype(np.int64)
        out["lon"][index], out["lat"][index] = found[:, 3], found[:, 4]
    return out


def _patrols_under_way(session: Session, trackers: list[int]) -> dict[int, Patrol]:
    rows = session.execute(_UNDER_WAY, {"trackers": trackers}).all()
    return {tracker_id: patrol for tracker_id, patrol in rows}  # the latest started wins


def _near_open_post(session: Session, lon: np.ndarray, lat: np.ndarray, t_ms: np.ndarray, to_utm: Any, radius: float) -> np.ndarray:
    day = _at(int(t_ms.max())).date()
    posts = session.scalars(select(Post).where(Post.opened_on <= day, (Post.closed_on.is_(None)) | (Post.closed_on > day))).all()
    if not posts:
        return np.zeros(len(lon), dtype=bool)
    return metres_from(shapely.multipoints([p.geometry for p in posts]), lon, lat, to_utm) <= radius


def _apply_edges(
    session: Session, flags: dict[AlertKind, np.ndarray], tracker: np.ndarray, t_ms: np.ndarray, lon: np.ndarray,
    lat: np.ndarray, zone: np.ndarray, start: np.ndarray, patrols: dict[int, Patrol], unique: np.ndarray, where: np.ndarray,
) -> list[Alert]:
    # open episodes are few, whatever the batch: fetch them all rather than ask with every tracker id
    open_episodes: dict[tuple[int, AlertKind], Alert] = {
        (a.tracker_id, a.kind): a
        for a in session.scalars(select(Alert).where(Alert.ended_at.is_(None), Alert.kind.in_(POSITION_KINDS)))
        if a.tracker_id is not None
    }
    raised = []
    for kind, flag in flags.items():
        if not flag.any() and not any(k == kind for _, k in open_episodes):
            continue
        on_before = np.array([(int(t), kind) in open_episodes for t in unique.tolist()], dtype=bool)
        was_on = on_before[where]
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
            device = session.get(Tracker, tracker_id)  # the identity map makes repeats free
            assert device is not None  # rows come from registered trackers only
            alert = Alert(
                kind=kind, tracker_id=tracker_id, patrol_id=patrol.id if patrol else None,
                zone_id=int(zone[row]) if zone[row] != NO_ZONE else None, started_at=_at(int(t_ms[row])),
                lat=float(lat[row]), lon=float(lon[row]), visibility=Visibility.internal,  # operational: shared by an operator only
                message=_message(kind, device.code, patrol),
                details={"tracker": device.code, **({"patrol": patrol.name} if patrol else {})},  # pages word it in their language
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
    session: Session, tracker: np.ndarray, t_ms: np.ndarray, lon: np.ndarray, lat: np.ndarray, since: np.ndarray,
    start: np.ndarray,
) -> None:
    """Upsert each tracker's last fix in one statement: hundreds of trackers per batch, no ORM objects."""
    last_rows = np.append(np.flatnonzero(start)[1:] - 1, len(tracker) - 1)
    rows = list(zip(tracker[last_rows].tolist(), t_ms[last_rows].tolist(), lon[last_rows].tolist(),
                    lat[last_rows].tolist(), since[last_rows].tolist()))
    upsert_rows(
        session, "tracker_state", ("tracker_id", "t_ms", "lon", "lat", "standing_since_ms"), ("tracker_id",), rows,
        only_if="tracker_state.t_ms < excluded.t_ms",  # never back in time, whoever wrote last
    )
