"""Items of a collection: the source's features, then the box, the time, the filter, the page and the axis order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shapely.geometry import box, shape
from sqlalchemy.orm import Session

from peacewatch.core.problems import NotFound
from peacewatch.core.settings import Settings
from peacewatch.ogc.collections import COLLECTIONS, Collection, Readable, start_and_end
from peacewatch.ogc.query import CRS84, EPSG4326, Test, Window, overlaps, swap_axes


@dataclass(frozen=True)
class ItemsQuery:
    window: Window = Window()
    limit: int = 10
    offset: int = 0
    crs: str = CRS84
    test: Test | None = None


@dataclass
class Page:
    features: list[dict[str, Any]]
    matched: int


def get_collection(collection_id: str) -> Collection:
    collection = COLLECTIONS.get(collection_id)
    if collection is None:
        raise NotFound(f"no collection '{collection_id}'; collections: {', '.join(COLLECTIONS)}")
    return collection


def _boxes(window: Window) -> list[Any]:
    """The window's box as shapes: two when it crosses the antimeridian (west > east)."""
    if window.bbox is None:
        return []
    west, south, east, north = window.bbox
    if west <= east:
        return [box(west, south, east, north)]
    return [box(west, south, 180, north), box(-180, south, east, north)]


def in_crs(feature: dict[str, Any], crs: str) -> dict[str, Any]:
    return feature if crs == CRS84 else {**feature, "geometry": swap_axes(feature["geometry"])}


def items(session: Session, settings: Settings, readable: Readable, collection: Collection, query: ItemsQuery) -> Page:
    window = query.window
    straight = window.bbox is not None and window.bbox[0] <= window.bbox[2]
    candidates = collection.source(session, readable, settings, window if straight or window.bbox is None else
                                   Window(None, window.start, window.end))
    boxes = _boxes(window)
    timed = collection.temporal is not None and (window.start is not None or window.end is not None)
    kept = []
    for feature in candidates:
        if boxes and (feature["geometry"] is None or not any(shape(feature["geometry"]).intersects(b) for b in boxes)):
            continue
        if timed and not overlaps(*start_and_end(feature, collection), window):
            continue
        if query.test is not None and not query.test(feature["geometry"], feature["properties"]):
            continue
        kept.append(feature)
    page = kept[query.offset:query.offset + query.limit]
    return Page([in_crs(f, query.crs) for f in page], len(kept))


def item(session: Session, settings: Settings, readable: Readable, collection: Collection, feature_id: str, crs: str) -> dict[str, Any]:
    """One feature by its id, in the reader's scope: one out of scope is not found, as one that does not exist."""
    for feature in collection.source(session, readable, settings, Window()):
        if str(feature["id"]) == feature_id:
            return in_crs(feature, crs)
    raise NotFound(f"no feature '{feature_id}' in '{collection.id}'")


__all__ = ["EPSG4326", "ItemsQuery", "Page", "get_collection", "item", "items"]
