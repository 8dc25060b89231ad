"""A day of patrols on 14 November 2020, the first day of military police patrols, for the demo.

Vehicles drive out and back along roads between the scenario's places at about 30 km/h, one fix
every 10 seconds. Some things go wrong, so the alerts have something to say:
- N1 strays east out of the North area, close to the line of contact, and comes back;
- N2 stands for half an hour in the open, away from any post;
- S2 falls silent at 10:30 and is not back at the end of its window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np
from pyproj import Geod
from shapely.geometry import LineString

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from peacewatch.core.settings import AlertSettings

DAY = datetime(2020, 11, 14, tzinfo=UTC)
START, END = DAY + timedelta(hours=8), DAY + timedelta(hours=12)
FIX_SECONDS = 10
PATROL_COMMANDER = "patrol"  # the demo user whose devices report for the day's patrol vehicles
SPEED_MPS = 8.5
_GEOD = Geod(ellps="WGS84")


@dataclass
class PatrolScript:
    code: str
    name: str
    zone: str
    unit: str
    route: list[tuple[float, float]]  # (lon, lat) outbound; the patrol comes back the same way
    detour: list[tuple[float, float]] = field(default_factory=list)  # driven out and back at the route's end
    stand_minutes: int = 0  # a halt half way out
    silent_after: datetime | None = None
    completes: bool = True


SCRIPTS = [
    PatrolScript("N1", "N1 Martakert - Askeran", "north", "Military Police Company North",
                 [(46.810, 40.213), (46.78, 40.10), (46.833, 39.933)], detour=[(46.92, 39.99), (47.00, 40.00)]),
    PatrolScript("N2", "N2 Martakert - west", "north", "Military Police Company North",
                 [(46.810, 40.213), (46.70, 40.25), (46.60, 40.20), (46.50, 40.15)], stand_minutes=35),
    PatrolScript("S1", "S1 Stepanakert - Martuni", "south", "Military Police Company South",
                 [(46.752, 39.815), (46.85, 39.80), (46.95, 39.80), (47.113, 39.795)]),
    PatrolScript("S2", "S2 Stepanakert - south", "south", "Military Police Company South",
                 [(46.752, 39.815), (46.78, 39.72), (46.85, 39.68), (46.95, 39.66)],
                 silent_after=DAY + timedelta(hours=10, minutes=30), completes=False),
]


def _walk(path: list[tuple[float, float]], start: datetime, until: datetime) -> tuple[list[datetime], np.ndarray]:
    """Fixes along ``path`` at SPEED_MPS, every FIX_SECONDS, from ``start``; stops at the path's end or ``until``."""
    lons, lats = zip(*path)
    length = _GEOD.line_length(lons, lats)
    line = LineString(path)
    steps = int(min(length / SPEED_MPS, (until - start).total_seconds()) // FIX_SECONDS) + 1
    points = np.array([line.interpolate(i / max(steps - 1, 1), normalized=True).coords[0] for i in range(steps)])
    return [start + timedelta(seconds=FIX_SECONDS * i) for i in range(steps)], points


def _seconds_to_drive(path: list[tuple[float, float]]) -> float:
    lons, lats = zip(*path)
    return _GEOD.line_length(lons, lats) / SPEED_MPS


def track(script: PatrolScript) -> tuple[list[datetime], np.ndarray]:
    """The whole day's fixes of one patrol: out (with its halt half way), its detour, back; then more
    round trips while one still fits in the window; and its silence, if it has one."""
    out, back = script.route, list(reversed(script.route))
    half = len(out) // 2
    times: list[datetime] = []
    points: list[np.ndarray] = []

    def drive(leg: list[tuple[float, float]], clock: datetime) -> datetime:
        leg_times, leg_points = _walk(leg, clock, END)
        times.extend(leg_times)
        points.append(leg_points)
        return leg_times[-1] + timedelta(seconds=FIX_SECONDS)

    clock = drive(out[: half + 1], START)
    if script.stand_minutes:
        stand = int(script.stand_minutes * 60 / FIX_SECONDS)
        times.extend(clock + timedelta(seconds=FIX_SECONDS * i) for i in range(stand))
        points.append(np.repeat(points[-1][-1:], stand, axis=0))
        clock = times[-1] + timedelta(seconds=FIX_SECONDS)
    clock = drive(out[half:], clock)
    if script.detour:
        clock = drive([out[-1], *script.detour], clock)
        clock = drive([*reversed(script.detour), out[-1]], clock)
    clock = drive(back, clock)
    round_trip = timedelta(seconds=2 * _seconds_to_drive(out))
    while clock + round_trip < END:
        clock = drive(back, drive(out, clock))
    all_points = np.concatenate(points)
    keep = [i for i, t in enumerate(times) if t < END and (script.silent_after is None or t < script.silent_after)]
    return [times[i] for i in keep], all_points[keep]


def load(session: Session, *, h3_resolution: int, rules: AlertSettings) -> int:
    """Plan, run and record the day through the same services as the API; patrols already there are kept.

    Returns the number of alerts raised.
    """
    from sqlalchemy import select

    from peacewatch.alerts.service import sweep
    from peacewatch.core.auth import User
    from peacewatch.force.models import Unit
    from peacewatch.geography.models import Zone
    from peacewatch.live.ingest import Ingest
    from peacewatch.patrols.models import Patrol
    from peacewatch.patrols.schemas import CheckInIn, PatrolIn, Transition
    from peacewatch.patrols.service import check_in, create_patrol, transition
    from peacewatch.tracking.columns import PositionColumns
    from peacewatch.tracking.models import Tracker, TrackerKind
    from peacewatch.tracking.schemas import TrackerIn
    from peacewatch.tracking.service import create_tracker

    actor = "system:demo"
    raised = 0
    created: list[int] = []
    for script in SCRIPTS:
        if session.scalar(select(Patrol.id).where(Patrol.name == script.name)) is not None:
            continue
        code = f"MP-{script.code}"
        if session.scalar(select(Tracker.id).where(Tracker.code == code)) is None:
            # the demo's patrol commander carries the vehicles' handhelds: their TAK sign-in and the field page report for them
            bound = [PATROL_COMMANDER] if session.scalar(select(User.id).where(User.username == PATROL_COMMANDER)) else []
            create_tracker(session, actor, TrackerIn(code=code, name=f"Patrol vehicle {script.code}", kind=TrackerKind.vehicle,
                                                     cot_uid=f"ANDROID-{code}", bound_users=bound))
        unit_id = session.scalar(select(Unit.id).where(Unit.name == script.unit))
        zone_id = session.scalar(select(Zone.id).where(Zone.code == script.zone))
        patrol = create_patrol(session, actor, PatrolIn.model_validate({
            "name": script.name, "unit_id": unit_id, "zone_id": zone_id,
            "route": {"type": "LineString", "coordinates": script.route},
            "planned_start": START, "planned_end": END, "vehicles": [f"BTR-82A {script.code}"], "trackers": [code],
            "visibility": "public",  # the first day's patrols were announced, with their areas
        }))
        created.append(patrol.id)
        transition(session, actor, patrol.id, "start", Transition(at=START))
        times, points = track(script)
        columns = PositionColumns(
            [code], np.zeros(len(times), dtype=np.int32), np.array([int(t.timestamp() * 1000) for t in times], dtype=np.int64),
            points[:, 1].copy(), points[:, 0].copy(), *(np.full(len(times), np.nan) for _ in range(2)),
            np.full(len(times), np.nan), np.full(len(times), 10.0),
        )
        raised += Ingest(h3_resolution, rules).record(session, actor, "demo", columns).alerts
        for hour in (9, 10, 11):
            moment = DAY + timedelta(hours=hour)
            if moment <= times[-1]:
                check_in(session, actor, patrol.id, CheckInIn(at=moment, note="all quiet"))
        if script.completes:
            transition(session, actor, patrol.id, "complete", Transition(at=times[-1] + timedelta(minutes=5)))
    if created:  # the day's own patrols only: live ones must not be judged by a clock of 2020
        raised += len(sweep(session, END + timedelta(minutes=30), patrol_ids=created))
    return raised


