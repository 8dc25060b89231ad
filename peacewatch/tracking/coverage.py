"""Coverage of each area of responsibility on H3 cells: which share was visited in a window, which never."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from h3.api import basic_int as h3
from shapely import wkb
from sqlalchemy import select
from sqlalchemy.orm import Session

from peacewatch.core.db import moment_before
from peacewatch.geography.models import Zone
from peacewatch.tracking.models import CoverageCell
from peacewatch.tracking.store import HOUR_MS

WINDOWS = {"24h": timedelta(hours=24), "7d": timedelta(days=7)}


def window_start(at: datetime, window: str) -> datetime | None:
    """Where ``window`` before ``at`` begins (None for "ever"); one reaching before year 1 begins there."""
    span = WINDOWS.get(window)
    return None if span is None else moment_before(at, span)


@lru_cache(maxsize=32)
def _cells_of(geometry_wkb: bytes, resolution: int) -> frozenset[int]:
    return frozenset(h3.geo_to_cells(wkb.loads(geometry_wkb), resolution))


def area_cells(zone: Zone, resolution: int) -> frozenset[int]:
    """Every H3 cell whose centre lies in the area (cached by the area's exact shape)."""
    return _cells_of(wkb.dumps(zone.geometry), resolution)


def visited_cells(session: Session, zone_id: int, since: datetime | None, until: datetime) -> set[int]:
    query = select(CoverageCell.cell).distinct().where(CoverageCell.zone_id == zone_id,
                                                       CoverageCell.hour_ms < int(until.timestamp() * 1000))
    if since is not None:
        query = query.where(CoverageCell.hour_ms >= int(since.timestamp() * 1000) // HOUR_MS * HOUR_MS)
    return set(session.scalars(query))


def coverage_of(session: Session, zone: Zone, at: datetime, resolution: int) -> dict[str, Any]:
    cells = area_cells(zone, resolution)
    summary: dict[str, Any] = {"zone_id": zone.id, "code": zone.code, "name": zone.name, "at": at,
                               "resolution": resolution, "cells": len(cells)}
    for key, window in (("last_24h", "24h"), ("last_7d", "7d"), ("ever", "ever")):
        visited = len(visited_cells(session, zone.id, window_start(at, window), at) & cells)
        summary[key] = {"visited": visited, "share": round(visited / len(cells), 4) if cells else 0.0}
    return summary


def cell_features(cells: set[int] | frozenset[int]) -> list[dict[str, Any]]:
    """Cells as GeoJSON polygons (H3 gives (lat, lng) rings; GeoJSON wants (lng, lat), closed)."""
    features = []
    for cell in sorted(cells):
        ring = [[lng, lat] for lat, lng in h3.cell_to_boundary(cell)]
        features.append({"type": "Feature", "id": h3.int_to_str(cell),
                         "geometry": {"type": "Polygon", "coordinates": [ring + ring[:1]]},
                         "properties": {"cell": h3.int_to_str(cell)}})
    return features
