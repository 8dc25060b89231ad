"""CQL2 filters as SQL: the ``cql2`` library's JSON tree translated into one SQLAlchemy condition.

Why SQL: evaluating the expression once per feature in Python cost most of a filtered request, and a
page had to read the whole collection to count its matches. Here the database narrows and counts.

The queryables are the whitelist: a property becomes the column a collection names for it, and a
literal is checked against the queryable's type first (a date where a timestamp is asked for is a 400,
not a silent mismatch). One translation serves SQLite and PostgreSQL; the only differences are
spelled here: LIKE is case-sensitive on both (GLOB on SQLite) and strings compare by code point
(``COLLATE "C"`` on PostgreSQL), as the Python evaluation does.

Spatial operators cannot run in SQL on our databases (no PostGIS, no SpatiaLite): each narrows the
rows by the stored bounding box, and the exact test runs afterwards on the candidates only, in bulk
(see :func:`exact_spatial`). Temporal operators follow CQL2's interval relations; an open end ``..``
of a literal interval is unbounded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import shapely
from shapely.geometry import box, shape
from sqlalchemy import ColumnElement, and_, false, literal, not_, or_, true
from sqlalchemy.sql.expression import ColumnClause

from peacewatch.ogc.query import SPATIAL, BadParameter

NEGATIVE_INFINITY, POSITIVE_INFINITY = object(), object()  # the open ends of a literal interval


@dataclass(frozen=True)
class Columns:
    """What a filter may name: each queryable's column and its JSON Schema, and the bounding-box columns."""

    queryables: Mapping[str, Any]  # name -> SQL expression
    schemas: Mapping[str, Mapping[str, Any]]  # name -> JSON Schema of the queryable
    bbox: tuple[Any, Any, Any, Any]  # min x, min y, max x, max y columns
    dialect: str  # "sqlite" or "postgresql"


@dataclass
class Translation:
    """The SQL condition, and what only an exact geometric test can decide on the rows it keeps."""

    where: ColumnElement[bool]
    spatial: list[dict[str, Any]] = field(default_factory=list)  # the spatial conditions, all of which must hold
    exact_in_python: bool = False  # a spatial condition under OR or NOT: the whole filter is checked per candidate


def translate(tree: Mapping[str, Any] | None, columns: Columns) -> Translation:
    """The filter ``tree`` (cql2's JSON) as a SQL condition on ``columns``; raises BadParameter for a mistyped filter."""
    if tree is None:
        return Translation(true())
    found = Translation(true())
    found.where = _condition(tree, columns, found, positive=True)
    return found


# --- conditions -------------------------------------------------------------------------------------

def _condition(node: Any, columns: Columns, found: Translation, *, positive: bool) -> ColumnElement[bool]:
    if isinstance(node, bool):
        return true() if node else false()
    if not isinstance(node, Mapping) or "op" not in node:
        raise BadParameter("filter: a condition was expected", field="query.filter")
    op, args = node["op"], node.get("args", [])
    if op == "and":
        return and_(*(_condition(a, columns, found, positive=positive) for a in args))
    if op in ("or", "not") and _has_spatial(node):
        # no box can narrow a spatial test under OR or NOT: these rows are all candidates, and the filter is
        # checked whole on each (the conditions around it still narrow in SQL)
        found.exact_in_python = True
        return true()
    if op == "or":
        return or_(*(_condition(a, columns, found, positive=False) for a in args))
    if op == "not":
        return not_(_condition(args[0], columns, found, positive=False))
    if op in SPATIAL:
        return _spatial(op, args, columns, found)
    if op.startswith("t_"):
        return _temporal(op, args, columns)
    if op == "isNull":
        return _operand(args[0], columns, None).is_(None)
    if op == "like":
        return _like(args, columns)
    if op == "between":
        subject, kind = _subject(args[0], columns)
        low, high = (_literal(a, kind, columns, args[0]) for a in args[1:3])
        return and_(_ordered(subject, columns, kind) >= low, _ordered(subject, columns, kind) <= high)
    if op == "in":
        subject, kind = _subject(args[0], columns)
        values = [_literal(v, kind, columns, args[0]) for v in args[1]]
        return subject.in_(values) if values else false()
    if op in ("=", "<>", "<", "<=", ">", ">="):
        return _comparison(op, args, columns)
    raise BadParameter("filter: '{op}' is not supported here", field="query.filter", op=op)


def _comparison(op: str, args: Sequence[Any], columns: Columns) -> ColumnElement[bool]:
    left, right = args
    if not _is_property(left) and _is_property(right):  # 5 < a reads as a > 5
        left, right = right, left
        op = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(op, op)
    subject, kind = _subject(left, columns)
    value = _operand(right, columns, kind)
    if op in ("<", "<=", ">", ">="):
        subject = _ordered(subject, columns, kind)
        value = _ordered(value, columns, kind) if _is_property(right) else value
    return {"=": subject == value, "<>": subject != value, "<": subject < value, "<=": subject <= value,
            ">": subject > value, ">=": subject >= value}[op]


def _like(args: Sequence[Any], columns: Columns) -> ColumnElement[bool]:
    subject, kind = _subject(args[0], columns)
    pattern = args[1]
    if kind != "string" or not isinstance(pattern, str):
        raise BadParameter("filter: LIKE compares a text queryable with a text pattern", field="query.filter")
    if columns.dialect == "sqlite":  # SQLite's LIKE ignores case; GLOB does not, as CQL2's LIKE
        return subject.op("GLOB", is_comparison=True)(literal(_glob(pattern)))
    return subject.like(pattern, escape="\\")


def _glob(pattern: str) -> str:
    """A LIKE pattern (``%``, ``_``, ``\\`` escaping) as a GLOB pattern, GLOB's own wildcards made literal."""
    out, escaped = [], False
    for char in pattern:
        if escaped:
            out.append(f"[{char}]" if char in "*?[" else char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "%":
            out.append("*")
        elif char == "_":
            out.append("?")
        else:
            out.append(f"[{char}]" if char in "*?[" else char)
    return "".join(out)


# --- temporal ------------------------------------------------------------------------------------------

def _temporal(op: str, args: Sequence[Any], columns: Columns) -> ColumnElement[bool]:
    """CQL2's temporal relations of two intervals (an instant is an interval of no length)."""
    (a1, a2), first = _interval(args[0], columns)
    (b1, b2), second = _interval(args[1], columns)
    if first and second and first != second:
        raise BadParameter("filter: a temporal function compares dates with dates and instants with instants "
                           "(DATE('...') or TIMESTAMP('...'))", field="query.filter")
    relations = {
        "t_after": lambda: _gt(a1, b2), "t_before": lambda: _lt(a2, b1),
        "t_contains": lambda: and_(_lt(a1, b1), _gt(a2, b2)), "t_during": lambda: and_(_gt(a1, b1), _lt(a2, b2)),
        "t_disjoint": lambda: or_(_lt(a2, b1), _gt(a1, b2)), "t_intersects": lambda: and_(_le(a1, b2), _ge(a2, b1)),
        "t_equals": lambda: and_(_eq(a1, b1), _eq(a2, b2)),
        "t_finishedBy": lambda: and_(_lt(a1, b1), _eq(a2, b2)), "t_finishes": lambda: and_(_gt(a1, b1), _eq(a2, b2)),
        "t_meets": lambda: _eq(a2, b1), "t_metBy": lambda: _eq(a1, b2),
        "t_overlappedBy": lambda: and_(_gt(a1, b1), _lt(a1, b2), _gt(a2, b2)),
        "t_overlaps": lambda: and_(_lt(a1, b1), _gt(a2, b1), _lt(a2, b2)),
        "t_startedBy": lambda: and_(_eq(a1, b1), _gt(a2, b2)), "t_starts": lambda: and_(_eq(a1, b1), _lt(a2, b2)),
    }
    return relations[op]()


def _interval(node: Any, columns: Columns) -> tuple[tuple[Any, Any], str | None]:
    """Both ends of an interval (an instant's are the same), and whether they are dates or instants."""
    if isinstance(node, Mapping) and "interval" in node:
        ends = node["interval"]
        (start, first), (end, second) = _end(ends[0], columns, NEGATIVE_INFINITY), _end(ends[1], columns, POSITIVE_INFINITY)
        if first and second and first != second:
            raise BadParameter("filter: an interval runs from a date to a date or from an instant to an instant",
                               field="query.filter")
        return (start, end), first or second
    value, kind = _end(node, columns, None)
    return (value, value), kind


def _end(node: Any, columns: Columns, open_end: object) -> tuple[Any, str | None]:
    if node == ".." and open_end is not None:
        return open_end, None
    if _is_property(node):
        subject, kind = _subject(node, columns)
        if kind not in ("date", "date-time"):
            raise BadParameter("filter: '{property}' is not a date or an instant", field="query.filter", property=node['property'])
        return subject, kind
    if isinstance(node, Mapping) and ("timestamp" in node or "date" in node):
        return _moment(node.get("timestamp") or node["date"]), "date-time" if "timestamp" in node else "date"
    if isinstance(node, str):
        moment = _moment(node)
        return moment, "date-time" if isinstance(moment, datetime) else "date"
    raise BadParameter("filter: a temporal function compares instants, dates or intervals", field="query.filter")


def _infinite(value: Any) -> bool:
    return value is NEGATIVE_INFINITY or value is POSITIVE_INFINITY


def _order(a: Any, b: Any, compare: str) -> ColumnElement[bool]:
    """``a compare b`` where either may be an open end; SQL only for the finite ones."""
    if _infinite(a) or _infinite(b):
        rank = {id(NEGATIVE_INFINITY): -1, id(POSITIVE_INFINITY): 1}
        left, right = rank.get(id(a), 0), rank.get(id(b), 0)
        if left == right:  # two open ends of the same side: equal; never both finite here
            holds = compare in ("=", "<=", ">=")
        else:
            holds = {"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right, "=": False}[compare]
        return true() if holds else false()
    holds = {"<": lambda: a < b, ">": lambda: a > b, "<=": lambda: a <= b, ">=": lambda: a >= b, "=": lambda: a == b}[compare]()
    if isinstance(holds, bool):  # two literals: decided here
        return true() if holds else false()
    return holds


def _lt(a: Any, b: Any) -> ColumnElement[bool]:
    return _order(a, b, "<")


def _gt(a: Any, b: Any) -> ColumnElement[bool]:
    return _order(a, b, ">")


def _le(a: Any, b: Any) -> ColumnElement[bool]:
    return _order(a, b, "<=")


def _ge(a: Any, b: Any) -> ColumnElement[bool]:
    return _order(a, b, ">=")


def _eq(a: Any, b: Any) -> ColumnElement[bool]:
    return _order(a, b, "=")


def _moment(text: str) -> Any:
    """A literal instant (or a date: its first instant, as the evaluation reads it)."""
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadParameter("filter: '{text}' is not an RFC 3339 date or instant", field="query.filter", text=text) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# --- spatial -----------------------------------------------------------------------------------------

def _has_spatial(node: Any) -> bool:
    if isinstance(node, Mapping):
        return node.get("op") in SPATIAL or any(_has_spatial(a) for a in node.get("args", []))
    return False


def _spatial(op: str, args: Sequence[Any], columns: Columns, found: Translation) -> ColumnElement[bool]:
    """Narrow by box in SQL; remember the exact test for the candidates."""
    first, second = args
    if _is_property(second) and not _is_property(first):
        first, second = second, first
        op = {"s_within": "s_contains", "s_contains": "s_within"}.get(op, op)
    if not _is_property(first) or first["property"] != "geometry" or _is_property(second):
        raise BadParameter("filter: a spatial function compares the geometry with a literal geometry or BBOX",
                           field="query.filter")
    geometry = literal_geometry(second)
    found.spatial.append({"op": op, "geometry": geometry})
    if op == "s_disjoint":
        return true()
    west, south, east, north = geometry.bounds
    min_x, min_y, max_x, max_y = columns.bbox
    return and_(min_x <= east, max_x >= west, min_y <= north, max_y >= south)


def literal_geometry(node: Mapping[str, Any]) -> Any:
    """A CQL2 literal (GeoJSON geometry or BBOX) as a Shapely geometry."""
    if "bbox" in node:
        values = node["bbox"]
        west, south, east, north = (values[0], values[1], values[2], values[3]) if len(values) == 4 else \
            (values[0], values[1], values[3], values[4])
        return box(west, south, east, north)
    try:
        return shape(node)
    except Exception:
        raise BadParameter("filter: the literal geometry is not valid", field="query.filter") from None


PREDICATES = {"s_intersects": shapely.intersects, "s_equals": shapely.equals, "s_disjoint": shapely.disjoint,
              "s_touches": shapely.touches, "s_within": shapely.within, "s_overlaps": shapely.overlaps,
              "s_crosses": shapely.crosses, "s_contains": shapely.contains}


def exact_spatial(conditions: Sequence[Mapping[str, Any]], geometries: np.ndarray) -> np.ndarray:
    """Which of the candidates' ``geometries`` meet every spatial condition: one vectorised predicate each."""
    keep = np.ones(len(geometries), dtype=bool)
    for condition in conditions:
        keep &= PREDICATES[condition["op"]](geometries, condition["geometry"])
    return keep


# --- operands ----------------------------------------------------------------------------------------

def _is_property(node: Any) -> bool:
    return isinstance(node, Mapping) and "property" in node


def _kind(schema: Mapping[str, Any]) -> str:
    if schema.get("type") in ("integer", "number"):
        return "number"
    if schema.get("type") == "boolean":
        return "boolean"
    return {"date": "date", "date-time": "date-time"}.get(str(schema.get("format")), "string")


def _subject(node: Any, columns: Columns) -> tuple[Any, str]:
    if not _is_property(node):
        raise BadParameter("filter: a comparison names a queryable", field="query.filter")
    name = node["property"]
    if name not in columns.queryables:
        raise BadParameter("filter: '{name}' cannot be compared here", field="query.filter", name=name)
    return columns.queryables[name], _kind(columns.schemas[name])


def _operand(node: Any, columns: Columns, kind: str | None) -> Any:
    if _is_property(node):
        return _subject(node, columns)[0]
    return _literal(node, kind, columns, None)


def _ordered(value: Any, columns: Columns, kind: str) -> Any:
    """Strings compare by code point on both databases, as in Python."""
    if kind == "string" and columns.dialect == "postgresql" and isinstance(value, ColumnElement | ColumnClause):
        return value.collate("C")
    return value


def _literal(node: Any, kind: str | None, columns: Columns, subject: Any) -> Any:
    """A literal of the queryable's type, or a 400 naming the mismatch."""
    name = subject["property"] if _is_property(subject) else "the queryable"
    if kind == "number":
        if isinstance(node, bool) or not isinstance(node, (int, float)):
            raise BadParameter("filter: '{name}' is a number; compare it with a number", field="query.filter", name=name)
        return node
    if kind == "boolean":
        if not isinstance(node, bool):
            raise BadParameter("filter: '{name}' is true or false", field="query.filter", name=name)
        return node
    if kind == "date-time":
        if not (isinstance(node, Mapping) and "timestamp" in node):
            raise BadParameter("filter: '{name}' is an instant; compare it with TIMESTAMP('...')", field="query.filter", name=name)
        return _moment(node["timestamp"])
    if kind == "date":
        if not (isinstance(node, Mapping) and "date" in node):
            raise BadParameter("filter: '{name}' is a date; compare it with DATE('...')", field="query.filter", name=name)
        return _moment(node["date"])
    if kind == "string" and not isinstance(node, str):
        raise BadParameter("filter: '{name}' is text; compare it with a quoted string", field="query.filter", name=name)
    if kind is None and isinstance(node, Mapping):
        raise BadParameter("filter: a literal was expected", field="query.filter")
    return node
