"""Items of a collection: the box, the time, the filter, the page and the axis order.

A collection with rows (the incidents' events) is narrowed, counted and paged by the database, and
only the page's features are built; only an exact geometric test the box cannot decide runs here, on
the candidates, in bulk. The others (small, or built from tracks) are read whole and filtered here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry import box, shape
from sqlalchemy import ColumnElement, Subquery, and_, func, or_, select
from sqlalchemy.orm import Session

from peacewatch.core.problems import NotFound
from peacewatch.core.settings import Settings
from peacewatch.ogc.collections import COLLECTIONS, Collection, Readable, start_and_end
from peacewatch.ogc.cql2sql import Columns, exact_spatial, translate
from peacewatch.ogc.query import CRS84, EPSG4326, Filter, Window, overlaps, swap_axes


@dataclass(frozen=True)
class ItemsQuery:
    window: Window = Window()
    limit: int = 10
    offset: int = 0
    crs: str = CRS84
    filter: Filter | None = None


@dataclass
class Page:
    features: list[dict[str, Any]]
    matched: int


def get_collection(collection_id: str) -> Collection:
    collection = COLLECTIONS.get(collection_id)
    if collection is None:
        raise NotFound("no collection '{collection_id}'; collections: {COLLECTIONS}", collection_id=collection_id, COLLECTIONS=', '.join(COLLECTIONS))
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
    if collection.rows is not None:
        return _items_in_sql(session, settings, readable, collection, query)
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
        if query.filter is not None and not query.filter.test(feature["geometry"], feature["properties"]):
            continue
        kept.append(feature)
    page = kept[query.offset:query.offset + query.limit]
    return Page([in_crs(f, query.crs) for f in page], len(kept))


def _items_in_sql(session: Session, settings: Settings, readable: Readable, collection: Collection, query: ItemsQuery) -> Page:
    """Narrow, count and page in the database; build the page's features only."""
    assert collection.rows is not None
    rows, window = collection.rows, query.window
    table = rows.table(session, readable, window)
    columns = Columns({name: table.c[name] for name in collection.queryables}, collection.queryables,
                      (table.c.min_x, table.c.min_y, table.c.max_x, table.c.max_y), session.get_bind().dialect.name)
    translation = translate(query.filter.tree if query.filter is not None else None, columns)
    conditions = [translation.where, *_in_window(table, collection, window)]
    exact = translation.spatial or translation.exact_in_python or (window.bbox is not None and not rows.points)
    ordered = select(table.c.id, table.c.key).where(*conditions).order_by(table.c.id)
    if not exact and rows.count is not None and query.filter is None and not _in_window(table, collection, window):
        # nothing narrows: the page by the index, the count as the rows were counted when built
        page = session.execute(ordered.limit(query.limit).offset(query.offset)).all()
        matched = rows.count(session, readable)
        features = rows.features(session, readable, settings, window, [row.key for row in page], [row.id for row in page])
        return Page([in_crs(f, query.crs) for f in features], matched)
    if not exact:  # the database decides alone: one page, and the count of all matches in the same pass
        page = session.execute(ordered.add_columns(func.count().over().label("matched"))
                               .limit(query.limit).offset(query.offset)).all()
        matched = page[0].matched if page else \
            (session.scalar(select(func.count()).select_from(table).where(*conditions)) or 0 if query.offset else 0)
        features = rows.features(session, readable, settings, window, [row.key for row in page], [row.id for row in page])
        return Page([in_crs(f, query.crs) for f in features], matched)
    candidates = session.execute(ordered.add_columns(table.c.min_x, table.c.min_y)).all()
    keys, ids = [row.key for row in candidates], [row.id for row in candidates]
    built: list[dict[str, Any]] | None = None
    if rows.points:
        geometries = shapely.points(np.array([(row.min_x, row.min_y) for row in candidates], dtype=float).reshape(-1, 2))
    else:
        built = rows.features(session, readable, settings, window, keys, ids)
        geometries = np.array([None if f["geometry"] is None else shape(f["geometry"]) for f in built], dtype=object)
    keep = exact_spatial(translation.spatial, geometries)
    boxes = _boxes(window)
    if boxes and not rows.points:
        keep &= np.logical_or.reduce([shapely.intersects(geometries, b) for b in boxes])
    if translation.exact_in_python and query.filter is not None:
        built = built if built is not None else rows.features(session, readable, settings, window, keys, ids)
        keep &= np.array([query.filter.test(f["geometry"], f["properties"]) for f in built], dtype=bool)
    chosen = np.flatnonzero(keep)[query.offset:query.offset + query.limit]
    if built is not None:
        page = [built[i] for i in chosen]
    else:
        page = rows.features(session, readable, settings, window, [keys[i] for i in chosen], [ids[i] for i in chosen])
    return Page([in_crs(f, query.crs) for f in page], int(keep.sum()))


def _in_window(table: Subquery, collection: Collection, window: Window) -> list[ColumnElement[bool]]:
    """The box (two when it crosses the antimeridian) on the bounding-box columns, and the time span's overlap
    with the window's, as ``overlaps`` reads it (an open end always overlaps; a closing date is exclusive)."""
    conditions: list[ColumnElement[bool]] = []
    if window.bbox is not None:
        west, south, east, north = window.bbox
        spans = [(west, east)] if west <= east else [(west, 180.0), (-180.0, east)]
        conditions.append(and_(table.c.min_y <= north, table.c.max_y >= south,
                               or_(*(and_(table.c.min_x <= e, table.c.max_x >= w) for w, e in spans))))
    if collection.temporal is not None:
        first, last = (table.c[name] for name in collection.temporal)
        dated = {name: collection.queryables[name].get("format") == "date" for name in collection.temporal}
        if window.start is not None:
            end = last > window.start.date() if dated[collection.temporal[1]] else last >= window.start
            conditions.append(or_(last.is_(None), end))
        if window.end is not None:
            start = first <= window.end.date() if dated[collection.temporal[0]] else first <= window.end
            conditions.append(or_(first.is_(None), start))
    return conditions


def item(session: Session, settings: Settings, readable: Readable, collection: Collection, feature_id: str, crs: str) -> dict[str, Any]:
    """One feature by its id, in the reader's scope: one out of scope is not found, as one that does not exist."""
    if collection.rows is not None:
        table = collection.rows.table(session, readable, Window())
        number = int(feature_id) if feature_id.isascii() and feature_id.isdigit() and len(feature_id) < 19 else None
        key = None if number is None else session.scalar(select(table.c.key).where(table.c.id == number))
        found = [] if key is None else collection.rows.features(session, readable, settings, Window(), [key], [number])
        if found:  # none when its reports changed scope since the rows were read: not found, as any other
            return in_crs(found[0], crs)
        raise NotFound("no feature '{feature_id}' in '{collection}'", feature_id=feature_id, collection=collection.id)
    for feature in collection.source(session, readable, settings, Window()):
        if str(feature["id"]) == feature_id:
            return in_crs(feature, crs)
    raise NotFound("no feature '{feature_id}' in '{collection}'", feature_id=feature_id, collection=collection.id)


__all__ = ["EPSG4326", "ItemsQuery", "Page", "get_collection", "item", "items"]
