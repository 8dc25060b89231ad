"""Pure patrol arithmetic: life-cycle transitions, recurrence, and what a track measures."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
from dateutil.rrule import rrulestr
from pyproj import Geod
from shapely.geometry.base import BaseGeometry

from peacewatch.patrols.models import PatrolStatus

TRANSITIONS: dict[str, tuple[frozenset[PatrolStatus], PatrolStatus]] = {
    "start": (frozenset({PatrolStatus.planned}), PatrolStatus.under_way),
    "complete": (frozenset({PatrolStatus.under_way}), PatrolStatus.completed),
    "abort": (frozenset({PatrolStatus.planned, PatrolStatus.under_way}), PatrolStatus.aborted),
}
MAX_OCCURRENCES = 1000
_GEOD = Geod(ellps="WGS84")


ROUTE_TOLERANCE_M = 100.0  # a route drawn along the area's edge is not "leaving" it


def metres_outside(route: BaseGeometry, area: BaseGeometry) -> float:
    """How much of a planned route (metres, geodesic) lies outside its area: a North patrol planned across the
    South, or over the line of contact, is worth a second look before it sets out."""
    outside = route.difference(area)
    if outside.is_empty:
        return 0.0
    length = float(_GEOD.geometry_length(outside))
    return length if length > ROUTE_TOLERANCE_M else 0.0


def next_status(current: PatrolStatus, action: str) -> PatrolStatus | None:
    """The status after ``action``, or None when the action is not allowed from ``current``."""
    allowed, target = TRANSITIONS[action]
    return target if current in allowed else None


def occurrences(rule: str, starts: datetime, since: datetime, until: datetime) -> list[datetime]:
    """Start times of a recurring plan within [since, until); the rule is RFC 5545 (RRULE)."""
    recurrence = rrulestr(rule.removeprefix("RRULE:"), dtstart=starts)
    found = recurrence.between(since, until, inc=True)
    return [t for t in found if since <= t < until][:MAX_OCCURRENCES]


def track_measures(t_ms: np.ndarray, lon: np.ndarray, lat: np.ndarray, inside: np.ndarray) -> tuple[float, float]:
    """Distance driven (metres, geodesic) and time spent inside the area (seconds).

    A leg counts as inside when both of its ends are.
    """
    if len(t_ms) < 2:
        return 0.0, 0.0
    _, _, legs = _GEOD.inv(lon[:-1], lat[:-1], lon[1:], lat[1:])
    durations = np.diff(t_ms) / 1000
    both_inside = inside[:-1] & inside[1:]
    return float(np.sum(legs)), float(np.sum(durations[both_inside]))


def window_of(start: datetime, minutes: int) -> tuple[datetime, datetime]:
    return start, start + timedelta(minutes=minutes)
