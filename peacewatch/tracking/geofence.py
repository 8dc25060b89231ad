"""Vectorised geofencing and H3 binning: whole arrays of points at once, no per-point Python geometry."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import repeat

import numpy as np
import shapely
from h3.api import basic_int as h3
from shapely.geometry.base import BaseGeometry

NO_ZONE = -1


@dataclass
class Fence:
    """Prepared polygons with the ids they stand for; a point takes the first polygon holding it."""

    ids: list[int]
    polygons: list[BaseGeometry] = field(repr=False)

    def __post_init__(self) -> None:
        for polygon in self.polygons:
            shapely.prepare(polygon)

    def locate(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Id of the polygon each point falls in (boundary included), or NO_ZONE."""
        found = np.full(lon.shape, NO_ZONE, dtype=np.int64)
        for zone_id, polygon in zip(self.ids, self.polygons):
            open_rows = found == NO_ZONE
            if not open_rows.any():
                break
            inside = shapely.intersects_xy(polygon, lon, lat) & open_rows
            found[inside] = zone_id
        return found

    def inside_any(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        return self.locate(lon, lat) != NO_ZONE


def h3_cells(lat: np.ndarray, lon: np.ndarray, resolution: int) -> np.ndarray:
    """H3 cell of each point as int64. h3 4 has no array call; mapping the C call over plain lists
    runs at about 2.1 M points/s here, a generator expression at half that."""
    return np.fromiter(map(h3.latlng_to_cell, lat.tolist(), lon.tolist(), repeat(resolution)), dtype=np.int64, count=len(lat))


def episodes(flags: Sequence[bool] | np.ndarray) -> list[tuple[int, int]]:
    """(start, end) row spans where ``flags`` is true, end exclusive: the unit of "once per episode"."""
    array = np.asarray(flags, dtype=np.int8)
    if array.size == 0:
        return []
    edges = np.diff(np.concatenate(([0], array, [0])))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()))
