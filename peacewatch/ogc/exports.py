"""Files for GIS officers and analysts: any collection as GeoJSON, KML, GPX or CSV (incidents also in ACLED's columns).

The same sources and the same scope as OGC API - Features, filtered by time, by area of
responsibility and by type. KML is checked against the KML 2.2 schema before it leaves.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

import gpxpy.gpx
import orjson
from shapely.geometry import shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from peacewatch.core.problems import Invalid
from peacewatch.core.settings import Settings
from peacewatch.core.tabular import cell, table_csv
from peacewatch.geography.formats import write_kml
from peacewatch.geography.models import Zone, ZoneKind
from peacewatch.incidents.acled import Mission as AcledMission
from peacewatch.incidents.acled import acled_csv
from peacewatch.incidents.event_summaries import report_rows, zone_names
from peacewatch.incidents.figures import summarise
from peacewatch.ogc.collections import Collection, Readable, start_and_end
from peacewatch.ogc.query import Window, overlaps
from peacewatch.ogc.service import get_collection
from peacewatch.patrols.service import get_patrol, patrol_track_fixes
from peacewatch.tracking.gpx import TRACK_NAME_SEPARATOR, write_gpx


class ExportFormat(str, enum.Enum):
    geojson = "geojson"
    kml = "kml"
    gpx = "gpx"
    csv = "csv"
    acled = "acled"  # incidents only


FORMATS = {"geojson": "application/geo+json", "kml": "application/vnd.google-earth.kml+xml", "gpx": "application/gpx+xml",
           "csv": "text/csv; charset=utf-8", "acled": "text/csv; charset=utf-8"}
EXTENSIONS = {"geojson": "geojson", "kml": "kml", "gpx": "gpx", "csv": "csv", "acled": "csv"}
TYPE_PROPERTIES = ("type", "kind", "status")  # what "type" filters on, the first a collection has


@dataclass(frozen=True)
class Filters:
    since: date | None = None
    until: date | None = None
    area: str | None = None  # an area of responsibility's (or corridor's) code
    type: str | None = None


@dataclass(frozen=True)
class Export:
    body: bytes
    media_type: str
    filename: str
    count: int


def _window(filters: Filters) -> Window:
    if filters.since and filters.until and filters.until < filters.since:
        raise Invalid("until is before since", field="query.until")
    start = None if filters.since is None else datetime.combine(filters.since, time.min, tzinfo=UTC)
    end = None if filters.until is None else datetime.combine(filters.until, time.max, tzinfo=UTC)
    return Window(None, start, end)


def _area_shape(session: Session, readable: Readable, code: str) -> Any:
    query = select(Zone).where(Zone.code == code, Zone.kind.in_([ZoneKind.area_of_responsibility, ZoneKind.corridor]))
    zone = session.scalar(query)
    if zone is None or (readable is not None and zone.visibility not in readable):
        raise Invalid("no area of responsibility or corridor '{code}'", field="query.area", code=code)
    return zone.geometry


def features_for(session: Session, settings: Settings, readable: Readable, collection: Collection, filters: Filters) -> list[dict[str, Any]]:
    """The collection's features in the reader's scope that meet the filters."""
    window = _window(filters)
    area = None if filters.area is None else _area_shape(session, readable, filters.area)
    timed = collection.temporal is not None and (window.start is not None or window.end is not None)
    kept = []
    for feature in collection.source(session, readable, settings, window):
        if timed and not overlaps(*start_and_end(feature, collection), window):
            continue
        if area is not None and (feature["geometry"] is None or not shape(feature["geometry"]).intersects(area)):
            continue
        if filters.type is not None and not any(feature["properties"].get(p) == filters.type for p in TYPE_PROPERTIES):
            continue
        kept.append(feature)
    return kept


def export(session: Session, settings: Settings, readable: Readable, collection_id: str, fmt: str, filters: Filters) -> Export:
    collection = get_collection(collection_id)
    if fmt not in FORMATS:
        raise Invalid("'{fmt}' is not a format; formats: {FORMATS}", field="query.format", fmt=fmt, FORMATS=', '.join(FORMATS))
    if fmt == "acled" and collection.id != "incidents":
        raise Invalid("ACLED's columns are for incidents only", field="query.format")
    features = features_for(session, settings, readable, collection, filters)
    name = f"peacewatch-{collection.id}" + "".join(f"-{v}" for v in (filters.since, filters.until, filters.area, filters.type) if v)
    if fmt == "geojson":
        body = orjson.dumps({"type": "FeatureCollection", "name": collection.id, "features": features})
    elif fmt == "kml":
        body = write_kml(features, f"PeaceWatch {collection.title}").encode()
    elif fmt == "gpx" and collection.id == "patrol-tracks":
        body = _patrol_tracks_gpx(session, readable, features, f"PeaceWatch {collection.title}").encode()
    elif fmt == "gpx":
        body = write_gpx_features(features, f"PeaceWatch {collection.title}").encode()
    elif fmt == "acled":
        body = _acled(session, settings, readable, {f["id"] for f in features}).encode()
    else:
        body = write_csv(features).encode()
    return Export(body, FORMATS[fmt], f"{name}.{EXTENSIONS[fmt]}", len(features))


def write_csv(features: list[dict[str, Any]]) -> str:
    """One row per feature: its id, its properties (lists joined by ';'), then longitude and latitude for points or WKT."""
    columns = list(dict.fromkeys(k for f in features for k in f["properties"] if k != "id"))
    rows = []
    for feature in features:
        geometry = None if feature["geometry"] is None else shape(feature["geometry"])
        cells = [cell(feature["properties"].get(c)) for c in columns]
        lon_lat = [geometry.x, geometry.y] if geometry is not None and geometry.geom_type == "Point" else ["", ""]
        rows.append([feature["id"], *cells, *lon_lat, "" if geometry is None else geometry.wkt])
    return table_csv(["id", *columns, "lon", "lat", "wkt"], rows)


def _patrol_tracks_gpx(session: Session, readable: Readable, features: list[dict[str, Any]], name: str) -> str:
    """Patrols' tracks as GPS tracks: each point with its time, height and speed, one <trk> per patrol and tracker."""
    tracks = []
    for feature in features:
        patrol = get_patrol(session, int(feature["id"]), readable)
        shown = [t for t in patrol.trackers if t.code in feature["properties"]["trackers"]]  # those the reader may see
        # named "<patrol> · <tracker>": the GPX import's tracks=by_name reads the tracker back from the name
        tracks += [(f"{patrol.name}{TRACK_NAME_SEPARATOR}{code}", fixes) for code, fixes in patrol_track_fixes(session, patrol, shown)]
    return write_gpx(name, tracks)


def write_gpx_features(features: list[dict[str, Any]], name: str) -> str:
    """Points as waypoints, lines as routes (planned paths, boundaries: no times, so not tracks, which are
    where a device went and when); areas have no place in GPX."""
    gpx = gpxpy.gpx.GPX()
    gpx.name = name
    for feature in features:
        if feature["geometry"] is None:
            continue
        geometry = shape(feature["geometry"])
        label = str(feature["properties"].get("name") or feature["properties"].get("code") or feature["id"])
        if geometry.geom_type == "Point":
            gpx.waypoints.append(gpxpy.gpx.GPXWaypoint(geometry.y, geometry.x, name=label,
                                                       type=str(feature["properties"].get("type") or feature["properties"].get("kind") or "")))
        elif geometry.geom_type in ("LineString", "MultiLineString"):
            lines = list(getattr(geometry, "geoms", [geometry]))
            for part, line in enumerate(lines):
                route = gpxpy.gpx.GPXRoute(name=label if len(lines) == 1 else f"{label} ({part + 1}/{len(lines)})")
                route.points = [gpxpy.gpx.GPXRoutePoint(lat, lon) for lon, lat, *_ in line.coords]
                gpx.routes.append(route)
        else:
            raise Invalid("GPX holds routes and waypoints: feature {id} is a {geom_type}; export it as GeoJSON, KML or CSV",
                          field="query.format", id=feature['id'], geom_type=geometry.geom_type)
    return gpx.to_xml(version="1.1")


def _acled(session: Session, settings: Settings, readable: Readable, event_ids: set[Any]) -> str:
    events = [e for e in summarise(report_rows(session, readable=readable)) if e.id in event_ids]
    mission = AcledMission(country=settings.acled_country, iso=settings.acled_iso, region=settings.acled_region,
                           id_prefix=settings.acled_id_prefix, admin1=settings.acled_admin1, side_a=settings.acled_side_a,
                           side_b=settings.acled_side_b, zone=settings.zone)
    return acled_csv(events, mission, zone_names(session))
