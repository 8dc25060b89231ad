"""Pure alert kernels on arrays of positions sorted by (tracker, time): no database, no loops per point."""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry


def edges(flags: np.ndarray, group_start: np.ndarray, was_on: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows where a condition turns on and where it turns off, per tracker.

    ``flags`` is the condition per row; ``group_start`` marks each tracker's first row in the batch;
    ``was_on`` is, per row, whether that tracker's condition was on before the batch (only read at
    group starts). An episode that started in an earlier batch is not opened again.
    """
    previous = np.empty_like(flags)
    previous[1:] = flags[:-1]
    previous[group_start] = was_on[group_start]
    return np.flatnonzero(flags & ~previous), np.flatnonzero(~flags & previous)


def group_starts(tracker: np.ndarray) -> np.ndarray:
    starts = np.ones(len(tracker), dtype=bool)
    starts[1:] = tracker[1:] != tracker[:-1]
    return starts


def metres_from(geometry: BaseGeometry, lon: np.ndarray, lat: np.ndarray, to_utm: Transformer) -> np.ndarray:
    """Distance in metres from each point to ``geometry``, in one UTM projection, vectorised."""
    x, y = to_utm.transform(lon, lat)
    projected = shapely.transform(geometry, to_utm.transform, interleaved=False)
    return shapely.distance(projected, shapely.points(x, y))


STANDING_MPS = 0.5


def standing_since(
    t_ms: np.ndarray, x: np.ndarray, y: np.ndarray, group_start: np.ndarray,
    prev_t: np.ndarray, prev_x: np.ndarray, prev_y: np.ndarray, prev_since: np.ndarray,
) -> np.ndarray:
    """When each tracker's current stop began, at every fix (ms), or -1 while it moves.

    A fix is "standing" when the speed from the previous fix is under STANDING_MPS. The previous fix
    of a tracker's first row comes from the last batch (``prev_*``, NaN or -1 when unknown), so a
    stop carries on across batches.
    """
    last_t = np.empty_like(t_ms)
    last_t[1:] = t_ms[:-1]
    last_x, last_y = np.empty_like(x), np.empty_like(y)
    last_x[1:], last_y[1:] = x[:-1], y[:-1]
    last_t[group_start], last_x[group_start], last_y[group_start] = prev_t[group_start], prev_x[group_start], prev_y[group_start]
    seconds = (t_ms - last_t) / 1000
    with np.errstate(invalid="ignore", divide="ignore"):
        speed = np.hypot(x - last_x, y - last_y) / np.maximum(seconds, 1e-3)
    standing = (speed < STANDING_MPS) & (last_t >= 0)
    # the time a stop began: the previous fix's time where a run of standing fixes begins
    starts_here = standing & (~np.concatenate(([False], standing[:-1])) | group_start)
    start_time = np.where(starts_here, np.where(group_start & (prev_since >= 0), prev_since, last_t), -1)
    # carry each run's start forward along the run (runs never cross trackers: group starts reset them)
    index = np.where(starts_here | ~standing, np.arange(len(t_ms)), 0)
    np.maximum.accumulate(index, out=index)
    since = np.where(standing, start_time[index], -1)
    return since
