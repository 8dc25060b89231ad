"""Geometry shared by both databases: WKB in a binary column plus a bounding box.

Spatial predicates run in Shapely, never in SQL, so SQLite and PostgreSQL take
one code path; the bounding-box columns let SQL narrow a query before Shapely
decides exactly.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import mgrs
import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry import MultiLineString, mapping, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import LargeBinary
from sqlalchemy.types import TypeDecorator

from peacewatch.core.problems import Invalid

BBox = tuple[float, float, float, float]


class Geometry(TypeDecorator[BaseGeometry]):
    """A Shapely geometry stored as WKB (WGS84 longitude/latitude)."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: BaseGeometry | None, dialect: object) -> bytes | None:
        return None if value is None else shapely.to_wkb(value)

    def process_result_value(self, value: bytes | None, dialect: object) -> BaseGeometry | None:
        return None if value is None else shapely.from_wkb(bytes(value))

    def compare_values(self, x: Any, y: Any) -> bool:
        if x is None or y is None:
            return x is y
        return bool(shapely.equals_exact(x, y, tolerance=0))


def geometry_from_geojson(data: dict[str, Any], *, field: str, expect: tuple[str, ...]) -> BaseGeometry:
    """Parse and check a GeoJSON geometry; raise :class:`Invalid` naming ``field`` when it is unusable."""
    try:
        geom = shape(data)
    except (ValueError, TypeError, AttributeError, IndexError, shapely.errors.GEOSException) as exc:
        raise Invalid("not a readable GeoJSON geometry: {exc}", field=field, exc=exc) from None
    if geom.geom_type not in expect:
        raise Invalid("expected {expect}, got {geom_type}", field=field, expect=' or '.join(expect), geom_type=geom.geom_type)
    check_geometry(geom, field=field)
    return geom


def check_geometry(geom: BaseGeometry, *, field: str) -> None:
    """Refuse empty geometries, coordinates off the globe, and invalid (self-intersecting) shapes."""
    if geom.is_empty:
        raise Invalid("geometry is empty", field=field)
    coords = shapely.get_coordinates(geom)
    if not np.isfinite(coords).all():
        raise Invalid("coordinates must be finite numbers", field=field)
    lon, lat = coords[:, 0], coords[:, 1]
    if (lon < -180).any() or (lon > 180).any():
        raise Invalid("longitude out of range [-180, 180]", field=field)
    if (lat < -90).any() or (lat > 90).any():
        raise Invalid("latitude out of range [-90, 90]", field=field)
    if not geom.is_valid:
        raise Invalid("invalid geometry: {value}", field=field, value=shapely.is_valid_reason(geom))


def to_geojson(geom: BaseGeometry) -> dict[str, Any]:
    return mapping(geom)


def bbox_of(geom: BaseGeometry) -> BBox:
    minx, miny, maxx, maxy = geom.bounds
    return (minx, miny, maxx, maxy)


def parse_bbox(text: str, *, field: str = "bbox") -> BBox:
    """Parse ``min_lon,min_lat,max_lon,max_lat`` as OGC API and most GIS clients send it."""
    parts = text.split(",")
    if len(parts) != 4:
        raise Invalid("bbox needs four numbers: min_lon,min_lat,max_lon,max_lat", field=field)
    try:
        minx, miny, maxx, maxy = (float(p) for p in parts)
    except ValueError:
        raise Invalid("bbox values must be numbers", field=field) from None
    if not all(map(lambda v: v == v and abs(v) != float("inf"), (minx, miny, maxx, maxy))):
        raise Invalid("bbox values must be finite", field=field)
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90 and -90 <= maxy <= 90):
        raise Invalid("bbox out of range", field=field)
    if minx > maxx or miny > maxy:
        raise Invalid("bbox minimum is greater than its maximum", field=field)
    return (minx, miny, maxx, maxy)


_MGRS = mgrs.MGRS()


@lru_cache(maxsize=65_536)
def to_mgrs(lat: float, lon: float, precision: int = 5) -> str | None:
    """MGRS at 1 m precision (UPS near the poles); None for a coordinate the library refuses.

    Kept for the last places asked: a list of reports asks for the same places again and again,
    and the conversion costs more than the rest of a report's fields together."""
    try:
        return _MGRS.toMGRS(lat, lon, MGRSPrecision=precision)
    except Exception:
        return None


_GRID_REFERENCE = re.compile(r"(\d{1,2}[C-HJ-NP-X])([A-HJ-NP-Z]{2})(\d{0,10})")


def from_mgrs(reference: str, field: str = "mgrs") -> tuple[float, float]:
    """The middle of an MGRS grid square as (lat, lon), from a reference as people write it ("38T NK 638 093",
    lower case, any precision from the 100 km square to 1 m): a watch officer who types a 1 km reference means
    the square, and the library answers its middle."""
    compact = "".join(reference.split()).upper()
    found = _GRID_REFERENCE.fullmatch(compact)
    if found is None or len(found.group(3)) % 2:
        raise Invalid("not an MGRS grid reference (for example 38TNK 63879 09360)", field=field)
    try:
        with warnings.catch_warnings():  # a square straddling its latitude band is still a place to go to
            warnings.simplefilter("ignore", RuntimeWarning)
            lat, lon = _MGRS.toLatLon(compact)
    except Exception:
        raise Invalid("no such MGRS grid square", field=field) from None
    return float(lat), float(lon)


def representative_mgrs(geom: BaseGeometry) -> str | None:
    """The grid reference of a place inside the geometry that does not depend on how it was drawn: a point itself,
    a line's middle by length (the same whichever end it starts from), an area's representative point."""
    if geom.geom_type == "Point":
        point = geom
    elif geom.geom_type in ("LineString", "LinearRing"):
        point = geom.interpolate(0.5, normalized=True)
    elif isinstance(geom, MultiLineString):
        point = max(geom.geoms, key=lambda part: part.length).interpolate(0.5, normalized=True)  # the longest part's middle
    else:
        point = geom.representative_point()
    return to_mgrs(point.y, point.x)


@lru_cache(maxsize=64)
def utm_transformers(lon: float, lat: float) -> tuple[Transformer, Transformer]:
    zone = int((lon + 180) // 6) % 60 + 1
    utm = CRS.from_dict({"proj": "utm", "zone": zone, "south": lat < 0})
    wgs84 = CRS.from_epsg(4326)
    return (
        Transformer.from_crs(wgs84, utm, always_xy=True),
        Transformer.from_crs(utm, wgs84, always_xy=True),
    )


def buffer_metres(geom: BaseGeometry, metres: float) -> BaseGeometry:
    """Buffer in metres, in the UTM zone of the geometry's centre (good to well under 1% inside a zone)."""
    centre = geom.centroid
    forward, back = utm_transformers(round(centre.x, 0), round(centre.y, 0))
    projected = shapely.transform(geom, forward.transform, interleaved=False)
    return shapely.transform(projected.buffer(metres), back.transform, interleaved=False)


def corridor_from_centreline(centreline: BaseGeometry, width_m: float) -> BaseGeometry:
    """The corridor polygon: a strip ``width_m`` wide centred on the road."""
    if width_m <= 0:
        raise Invalid("corridor width must be positive", field="width_m")
    return buffer_metres(centreline, width_m / 2)


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


# --- heights: above mean sea level (GPX <ele>) and above the ellipsoid (CoT hae, the stored positions) -----

GEOID_GRIDS = (Path(__file__).parent / "data" / "egm96_caucasus.gtx",  # shipped: the mission's region, 18 KB
               Path("/usr/share/proj/egm96_15.gtx"))  # the whole world, where Debian's proj-data is installed


@lru_cache(maxsize=4)
def _geoid_shifts(direction: int) -> tuple[Transformer, ...]:
    """PROJ pipelines adding (1) or removing (-1) the EGM96 geoid's height above the WGS84 ellipsoid, grid by grid."""
    return tuple(
        Transformer.from_pipeline(
            "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad "
            f"+step +proj=vgridshift +grids={grid} +multiplier={direction} +step +proj=unitconvert +xy_in=rad +xy_out=deg")
        for grid in GEOID_GRIDS if grid.exists())


def _shift_heights(lon: np.ndarray, lat: np.ndarray, heights: np.ndarray, direction: int) -> np.ndarray:
    out = np.full(len(heights), np.nan)
    todo = ~np.isnan(heights)
    for transformer in _geoid_shifts(direction):
        if not todo.any():
            break
        _x, _y, shifted = transformer.transform(lon[todo], lat[todo], heights[todo], errcheck=False)
        shifted = np.asarray(shifted, dtype=np.float64)
        done = np.isfinite(shifted)
        rows = np.flatnonzero(todo)[done]
        out[rows] = shifted[done]
        todo[rows] = False
    return out


def ellipsoidal_heights(lon: np.ndarray, lat: np.ndarray, above_sea: np.ndarray) -> np.ndarray:
    """Heights above mean sea level (the EGM96 geoid, as GPS units write GPX ``<ele>``) as heights above the
    WGS84 ellipsoid, as CoT's ``hae`` and the stored positions are: about 14 m more around Stepanakert.
    NaN where the height was unknown, or no geoid grid covers the point (the caller says so)."""
    return _shift_heights(lon, lat, above_sea, 1)


def heights_above_sea(lon: np.ndarray, lat: np.ndarray, ellipsoidal: np.ndarray) -> np.ndarray:
    """The inverse of :func:`ellipsoidal_heights`, for GPX written out."""
    return _shift_heights(lon, lat, ellipsoidal, -1)
