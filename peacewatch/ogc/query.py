"""The query parameters of OGC API - Features, pure: bbox, datetime, limit, offset, crs, and CQL2-text filters.

Every error is a 400 naming the parameter, as the standard asks (not FastAPI's 422). Filters are
parsed by ``cql2`` (the OGC reference grammar, in Rust) and held to the subset we declare: property
comparisons, ``AND``/``OR``/``NOT``, ``BETWEEN``, ``IN``, ``IS NULL``, ``LIKE`` and the temporal
functions on the collection's queryables.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

import cql2

from peacewatch.core.problems import Problem

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
CRSES = (CRS84, EPSG4326)
CRS_ALIASES = {CRS84: CRS84, "CRS84": CRS84, "OGC:CRS84": CRS84, EPSG4326: EPSG4326, "EPSG:4326": EPSG4326}
MAX_LIMIT, DEFAULT_LIMIT = 10_000, 10
# the CQL2 operators the filter may use: basic CQL2, and the temporal functions
COMPARISONS = {"=", "<>", "<", "<=", ">", ">=", "between", "in", "like", "isNull"}
LOGICAL = {"and", "or", "not"}
SPATIAL = {"s_intersects", "s_equals", "s_disjoint", "s_touches", "s_within", "s_overlaps", "s_crosses", "s_contains"}
TEMPORAL = {"t_after", "t_before", "t_contains", "t_disjoint", "t_during", "t_equals", "t_finishedBy", "t_finishes",
            "t_intersects", "t_meets", "t_metBy", "t_overlappedBy", "t_overlaps", "t_startedBy", "t_starts"}
LITERALS = {"interval", "timestamp", "date", "bbox", "type", "coordinates"}


class BadParameter(Problem):
    """A query parameter the standard says to answer with 400."""


@dataclass(frozen=True)
class Window:
    """Where and when: a CRS84 bounding box and a closed time interval, each open when None."""

    bbox: tuple[float, float, float, float] | None = None
    start: datetime | None = None
    end: datetime | None = None


def crs_of(value: str | None, parameter: str) -> str:
    if value is None:
        return CRS84
    crs = CRS_ALIASES.get(value.strip().strip("<>"))
    if crs is None:
        raise BadParameter("{parameter}: '{value}' is not offered; use {CRSES}",
                           field=f"query.{parameter}", parameter=parameter, value=value, CRSES=' or '.join(CRSES))
    return crs


def parse_bbox(text: str | None, crs: str = CRS84) -> tuple[float, float, float, float] | None:
    """``minx,miny,maxx,maxy`` (or with heights, six numbers) in ``crs``, as a CRS84 box."""
    if text is None:
        return None
    try:
        numbers = [float(part) for part in text.split(",")]
    except ValueError:
        raise BadParameter("bbox: the values must be numbers", field="query.bbox") from None
    if len(numbers) not in (4, 6) or not all(math.isfinite(n) for n in numbers):
        raise BadParameter("bbox: four numbers (or six, with heights): min_lon,min_lat,max_lon,max_lat", field="query.bbox")
    west, south, east, north = (numbers[0], numbers[1], numbers[2], numbers[3]) if len(numbers) == 4 else \
        (numbers[0], numbers[1], numbers[3], numbers[4])
    if crs == EPSG4326:  # latitude first in EPSG:4326
        west, south, east, north = south, west, north, east
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= 90 and -90 <= north <= 90):
        raise BadParameter("bbox: out of range for longitude and latitude", field="query.bbox")
    if south > north:
        raise BadParameter("bbox: the lower latitude is above the upper", field="query.bbox")
    return west, south, east, north


def instant(text: str, *, end: bool) -> datetime:
    """An RFC 3339 date-time (a zone required, or taken as UTC) or a date (its first or last instant)."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day, time.max if end else time.min, tzinfo=UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadParameter("datetime: '{text}' is not an RFC 3339 date or date-time", field="query.datetime", text=text) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_datetime(text: str | None) -> tuple[datetime | None, datetime | None]:
    """An instant, or an interval ``start/end`` with ``..`` (or nothing) for an open end."""
    if text is None:
        return None, None
    if "/" not in text:
        return instant(text, end=False), instant(text, end=True)
    first, _, second = text.partition("/")
    start = None if first in ("", "..") else instant(first, end=False)
    end = None if second in ("", "..") else instant(second, end=True)
    if start is not None and end is not None and end < start:
        raise BadParameter("datetime: the interval ends before it starts", field="query.datetime")
    if start is None and end is None and text.strip() not in ("../..", "/"):
        raise BadParameter("datetime: give an instant or an interval such as 2020-11-14/..", field="query.datetime")
    return start, end


def parse_int(text: str | None, parameter: str, default: int, low: int, high: int) -> int:
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise BadParameter("{parameter}: '{text}' is not a whole number", field=f"query.{parameter}", parameter=parameter, text=text) from None
    if not low <= value <= high:
        raise BadParameter("{parameter}: must be between {low} and {high:,}", field=f"query.{parameter}", parameter=parameter, low=low, high=high)
    return value


def overlaps(start: datetime | None, end: datetime | None, window: Window) -> bool:
    """Whether a record's time span (open ends: always) meets the window's."""
    if window.start is not None and end is not None and end < window.start:
        return False
    return not (window.end is not None and start is not None and start > window.end)


# --- filters ---------------------------------------------------------------------------------------

def _walk(node: Any, found: set[str]) -> None:
    """Collect the property names ``node`` uses into ``found``; refuse an operator outside the declared subset."""
    if isinstance(node, list):
        for item in node:
            _walk(item, found)
        return
    if not isinstance(node, dict):
        return
    if "property" in node:
        found.add(node["property"])
        return
    op = node.get("op")
    if op is not None and op not in COMPARISONS | LOGICAL | TEMPORAL | SPATIAL:
        raise BadParameter("filter: '{op}' is not supported here; comparisons, AND, OR, NOT, the temporal and the spatial functions are",
                           field="query.filter", op=op)
    for key, value in node.items():
        if key not in LITERALS:
            _walk(value, found)


Test = Callable[[dict[str, Any] | None, dict[str, Any]], bool]


@dataclass(frozen=True)
class Filter:
    """A checked filter: its tree (cql2's JSON, for SQL) and the same as a test on one feature (for the
    collections read in Python)."""

    tree: dict[str, Any]
    test: Test


def compile_filter(text: str | None, language: str | None, queryables: Mapping[str, Any],
                   equalities: Mapping[str, str] | None = None) -> Filter | None:
    """A CQL2-text filter, and queryables given as query parameters (``status=confirmed``), as one filter on a feature's
    geometry and properties; every name is checked against the queryables first."""
    if language not in (None, "cql2-text"):
        raise BadParameter("filter-lang: '{language}' is not offered; use cql2-text", field="query.filter-lang", language=language)
    clauses = [_equality(name, value, queryables[name]) for name, value in (equalities or {}).items()]
    if text is not None:
        clauses.append(_parsed(text, queryables))
    if not clauses:
        return None
    tree = clauses[0] if len(clauses) == 1 else {"op": "and", "args": clauses}
    expression = cql2.Expr(tree)

    def test(geometry: dict[str, Any] | None, properties: dict[str, Any]) -> bool:
        # cql2 reads a name at the top of the item before its properties: the properties alone at the top, and the geometry.
        # A comparison with a property the feature lacks cannot be decided: it does not match, as NULL in SQL.
        try:
            return bool(expression.matches({**{k: v for k, v in properties.items() if v is not None}, "geometry": geometry}))
        except Exception:
            return False

    return Filter(tree, test)


def _parsed(text: str, queryables: Mapping[str, Any]) -> dict[str, Any]:
    try:
        tree = cql2.Expr(text).to_json()
    except Exception as exc:
        lines = str(exc).strip().splitlines()
        raise BadParameter("filter: not CQL2 text ({lines})", field="query.filter", lines=' '.join(line.strip() for line in lines[:4])) from None
    used: set[str] = set()
    _walk(tree, used)
    unknown = sorted(used - set(queryables))
    if unknown:
        raise BadParameter("filter: '{unknown}' is not a queryable of this collection; queryables: {queryables}",
                           field="query.filter", unknown=unknown[0], queryables=', '.join(sorted(queryables)))
    return tree


def _equality(name: str, value: str, schema: Mapping[str, Any]) -> dict[str, Any]:
    """``name=value`` as a CQL2 equality, the value read as the queryable's type."""
    typed: Any = value
    if schema.get("type") in ("integer", "number"):
        try:
            typed = float(value)
        except ValueError:
            raise BadParameter("{name}: '{value}' is not a number", field=f"query.{name}", name=name, value=value) from None
    return {"op": "=", "args": [{"property": name}, typed]}


def unknown_parameters(given: Iterable[str], allowed: Iterable[str]) -> None:
    extra = sorted(set(given) - set(allowed))
    if extra:
        raise BadParameter("unknown query parameter '{extra}'; this resource takes: {allowed}",
                           field=f"query.{extra[0]}", extra=extra[0], allowed=', '.join(sorted(allowed)))


def swap_axes(geometry: dict[str, Any] | None) -> dict[str, Any] | None:
    """A GeoJSON geometry with latitude first, as EPSG:4326 orders its axes."""
    if geometry is None:
        return None

    def flip(coordinates: Any) -> Any:
        if coordinates and isinstance(coordinates[0], (int, float)):
            return [coordinates[1], coordinates[0], *coordinates[2:]]
        return [flip(c) for c in coordinates]

    if geometry["type"] == "GeometryCollection":
        return {**geometry, "geometries": [swap_axes(g) for g in geometry["geometries"]]}
    return {**geometry, "coordinates": flip(geometry["coordinates"])}
