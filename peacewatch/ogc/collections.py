"""The feature collections GIS clients read: each a source of GeoJSON features in the reader's scope.

A source returns every feature its window may hold (it narrows in SQL where that is cheap); the
service then applies the box, the time, the filter and the page, so every collection answers the
same parameters the same way. Readers outside the mission see what the official map shows of a
record: no notes, no audit times.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from threading import Lock
from typing import Any

import orjson
from shapely.geometry import MultiLineString, mapping
from sqlalchemy import String, Subquery, and_, case, select, type_coerce
from sqlalchemy.orm import Session

from peacewatch.core.changes import versions
from peacewatch.core.db import utcnow
from peacewatch.core.settings import Settings
from peacewatch.core.visibility import Scope, where_visible
from peacewatch.geography.features import post_feature, zone_feature
from peacewatch.geography.models import Post, PostKind, PostStatus, Zone, ZoneKind
from peacewatch.geography.service import list_posts, list_zones
from peacewatch.incidents.event_summaries import event_feature, report_rows, zone_names
from peacewatch.incidents.figures import summarise
from peacewatch.incidents.models import EventRow, IncidentStatus, IncidentType
from peacewatch.incidents.rows import KEPT, kept_event_count, kept_event_rows
from peacewatch.ogc.query import Window, instant
from peacewatch.patrols.models import Patrol, PatrolStatus
from peacewatch.patrols.service import patrol_tracks
from peacewatch.publication.service import POST_FIELDS, ZONE_FIELDS, official_features

Readable = Scope
Source = Callable[[Session, Readable, Settings, Window], list[dict[str, Any]]]


@dataclass(frozen=True)
class Rows:
    """A collection the database filters, counts and pages.

    ``table`` is a subquery of the reader's features with ``id`` (the feature's id, the page's order),
    ``key`` (what ``features`` takes), ``min_x``, ``min_y``, ``max_x``, ``max_y`` and a column per
    queryable; ``features`` builds the features of some keys (their ids beside them), in the order given.
    """

    table: Callable[[Session, Readable, Window], Subquery]
    features: Callable[[Session, Readable, Settings, Window, Sequence[Any], Sequence[Any]], list[dict[str, Any]]]
    points: bool  # each geometry is the point (min_x, min_y): the box decides alone
    count: Callable[[Session, Readable], int] | None = None  # all the reader's features, known without a scan

STRING, NUMBER, INTEGER = {"type": "string"}, {"type": "number"}, {"type": "integer"}
DATE, INSTANT = {"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}


@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str
    queryables: dict[str, dict[str, Any]]
    temporal: tuple[str, str] | None  # the properties holding each feature's start and end
    source: Source
    geometry: str  # the JSON Schema "format" of its geometries
    tables: tuple[str, ...] = ()  # the versioned tables its features are read from: its pages are kept until they change
    rows: Rows | None = None  # how the database filters it, when it can


def _feature(id_: Any, geometry: dict[str, Any] | None, properties: dict[str, Any]) -> dict[str, Any]:
    """A GeoJSON feature with JSON's types only (dates as ISO text, enums as their values), as clients read it."""
    return {"type": "Feature", "id": id_, "geometry": geometry, "properties": orjson.loads(orjson.dumps(properties, default=_plain))}


def _plain(value: Any) -> Any:
    """What orjson cannot write itself: tuples of enums are fine; sets and decimals are not in our records."""
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    return str(value)


def _trim(feature: dict[str, Any], fields: tuple[str, ...], readable: Readable) -> dict[str, Any]:
    """The mission's staff read a record whole; others what the official map shows of it."""
    properties = feature["properties"]
    if readable is not None:
        properties = {k: properties[k] for k in ("id", *fields) if k in properties}
    return _feature(feature["id"], feature["geometry"], properties)


def zones(kind: ZoneKind) -> Source:
    def source(session: Session, readable: Readable, settings: Settings, window: Window) -> list[dict[str, Any]]:
        return [_trim(zone_feature(z), ZONE_FIELDS, readable)
                for z in list_zones(session, readable, kind=kind, bbox=window.bbox, limit=2**31)]
    return source


def _box_columns(model: type[Zone] | type[Post]) -> list[Any]:
    return [model.id.label("id"), model.id.label("key"), model.min_lon.label("min_x"), model.min_lat.label("min_y"),
            model.max_lon.label("max_x"), model.max_lat.label("max_y")]


def zone_rows(kind: ZoneKind) -> Rows:
    """The zones of ``kind`` the reader may see, filtered in SQL on their stored boxes; the exact
    geometric tests run on the candidates' shapes, in bulk."""
    def table(session: Session, readable: Readable, window: Window) -> Subquery:
        query = select(*_box_columns(Zone), Zone.code.label("code"), Zone.name.label("name"), Zone.valid_from.label("valid_from"),
                       Zone.valid_to.label("valid_to"), Zone.width_m.label("width_m")).where(Zone.kind == kind)
        return where_visible(query, Zone.visibility, readable).subquery("zone_rows")

    def features(session: Session, readable: Readable, settings: Settings, window: Window, keys: Sequence[Any],
                 ids: Sequence[Any]) -> list[dict[str, Any]]:
        found = {z.id: z for z in session.scalars(select(Zone).where(Zone.id.in_(list(keys))))}
        return [_trim(zone_feature(found[k]), ZONE_FIELDS, readable) for k in keys]

    return Rows(table, features, points=False)


def _post_status(on: date) -> Any:
    """``Post.status_on(on)`` in SQL."""
    return case((Post.opened_on > on, PostStatus.planned.value),
                (and_(Post.closed_on.is_not(None), Post.closed_on <= on), PostStatus.closed.value), else_=PostStatus.open.value)


def _post_table(session: Session, readable: Readable, window: Window) -> Subquery:
    """The posts the reader may see with their zone's code, and their status on the window's last day (today when open)."""
    on = (window.end or utcnow()).date()
    query = select(*_box_columns(Post), Post.code.label("code"), Post.name.label("name"),
                   type_coerce(Post.kind, String(32)).label("kind"), Zone.code.label("zone_code"),
                   type_coerce(_post_status(on), String(16)).label("status"), Post.opened_on.label("opened_on"),
                   Post.closed_on.label("closed_on")).join(Zone, Post.zone_id == Zone.id)
    return where_visible(query, Post.visibility, readable).subquery("post_rows")


def _post_features(session: Session, readable: Readable, settings: Settings, window: Window, keys: Sequence[Any],
                   ids: Sequence[Any]) -> list[dict[str, Any]]:
    on = (window.end or utcnow()).date()
    found = {p.id: p for p in session.scalars(select(Post).where(Post.id.in_(list(keys))))}
    return [_trim(post_feature(found[k], on), POST_FIELDS + ("closed_on", "permanent"), readable) for k in keys]


def posts(session: Session, readable: Readable, settings: Settings, window: Window) -> list[dict[str, Any]]:
    """Observation posts and checkpoints; ``status`` as on the window's last day (today when open)."""
    on = (window.end or utcnow()).date()
    return [_trim(post_feature(p, on), POST_FIELDS + ("closed_on", "permanent"), readable)
            for p in list_posts(session, readable, bbox=window.bbox, limit=2**31)]


def patrol_track_features(session: Session, readable: Readable, settings: Settings, window: Window) -> list[dict[str, Any]]:
    """One feature per patrol that went out and left a track the reader may see: its trackers' tracks as one MultiLineString."""
    query = select(Patrol).where(Patrol.started_at.is_not(None)).order_by(Patrol.planned_start, Patrol.id)
    query = where_visible(query, Patrol.visibility, readable)
    if window.start is not None:
        query = query.where(Patrol.planned_end >= window.start)
    if window.end is not None:
        query = query.where(Patrol.planned_start <= window.end)
    features = []
    for patrol in session.scalars(query):
        # a track is its tracker's positions: drawn only when the reader may see the tracker too
        tracks = [t for t in patrol_tracks(session, patrol)
                  if readable is None or any(k.code == t["properties"]["tracker"] and k.visibility in readable for k in patrol.trackers)]
        lines = [t["geometry"]["coordinates"] for t in tracks if t["geometry"] is not None]
        if not lines:  # nothing the reader may see was recorded: no track to draw
            continue
        end = patrol.ended_at or (None if patrol.status is PatrolStatus.under_way else patrol.planned_end)
        features.append(_feature(patrol.id, mapping(MultiLineString(lines)), {
            "id": patrol.id, "name": patrol.name, "unit_id": patrol.unit_id, "zone_id": patrol.zone_id,
            "status": patrol.status.value, "planned_start": patrol.planned_start, "planned_end": patrol.planned_end,
            "started_at": patrol.started_at, "ended_at": end, "trackers": [t["properties"]["tracker"] for t in tracks],
            "positions": sum(t["properties"]["positions"] for t in tracks),
            "distance_km": round(sum(t["properties"]["distance_km"] for t in tracks), 3),
        }))
    return features


_EVENTS: OrderedDict[Any, list[dict[str, Any]]] = OrderedDict()  # (scope, fingerprint of the records) -> features
_EVENTS_LOCK = Lock()
EVENTS_KEPT = 4


def incident_events(session: Session, readable: Readable, settings: Settings, window: Window) -> list[dict[str, Any]]:
    """Ceasefire monitoring's events (reports merged), each at its best report's place, from the reports the reader may see.

    Kept until a report, an event or a zone changes (by the versions the database keeps, so a change
    made through any server process counts): a GIS client pages and pans through the same events many times.
    """
    key = (str(session.get_bind().url), readable, versions(session, "incidents", "incident_events", "zones"))
    with _EVENTS_LOCK:
        if key in _EVENTS:
            _EVENTS.move_to_end(key)
            return _EVENTS[key]
    features = _incident_features(session, readable)
    with _EVENTS_LOCK:
        _EVENTS[key] = features
        while len(_EVENTS) > EVENTS_KEPT:
            _EVENTS.popitem(last=False)
    return features


def _event_table(session: Session, readable: Readable, window: Window) -> Subquery:
    """The reader's events as kept rows (brought up to date first), each point its own box."""
    rows = EventRow.__table__.c
    return select(*(rows[c] for c in KEPT), rows.event_id.label("key"), rows.lon.label("min_x"), rows.lat.label("min_y"),
                  rows.lon.label("max_x"), rows.lat.label("max_y")).where(
        rows.scope == kept_event_rows(session, readable)).subquery("incident_events")


_BUILT: OrderedDict[Any, dict[int, dict[str, Any]]] = OrderedDict()  # (scope, versions) -> event id -> feature
_BUILT_LOCK = Lock()
BUILT_KEPT = 8  # scopes (a side's liaison, the public, the staff) whose built events are kept


def _event_features(session: Session, readable: Readable, settings: Settings, window: Window, keys: Sequence[Any],
                    ids: Sequence[Any]) -> list[dict[str, Any]]:
    """The events of ``keys`` (their own ids), named ``ids`` for the reader, in that order (as the table orders them).

    An event's feature is built from its reports once and kept until a report, an event or a zone
    changes (the versions the database keeps, so a change through any process counts): a GIS client
    paging, panning and filtering meets the same events again under other requests.
    """
    if not keys:
        return []
    key = (str(session.get_bind().url), readable, versions(session, "incidents", "incident_events", "zones"))
    with _BUILT_LOCK:
        built = _BUILT.get(key)
        if built is None:
            built = _BUILT[key] = {}
            while len(_BUILT) > BUILT_KEPT:
                _BUILT.popitem(last=False)
        _BUILT.move_to_end(key)
    missing = [k for k in keys if k not in built]
    if missing:
        named = dict(zip(keys, ids))
        event_of = {named[k]: k for k in missing}
        for feature in _incident_features(session, readable, missing, {k: named[k] for k in missing}):
            built[event_of[feature["id"]]] = feature
    return [built[k] for k in keys]


def _incident_features(session: Session, readable: Readable, event_ids: Sequence[int] | None = None,
                       event_names: dict[int, int] | None = None) -> list[dict[str, Any]]:
    names = zone_names(session)
    features = []
    for event in summarise(report_rows(session, readable=readable, event_ids=event_ids, names=event_names)):
        feature = event_feature(event, names)
        properties = feature["properties"]
        properties |= {"subtype": event.representative.subtype, "event_count": event.event_count}
        properties.pop("casualties", None)
        properties |= {f"{kind}_max": high for kind, (_, high) in event.casualties.items()}
        features.append(_feature(event.id, feature["geometry"], properties))
    return features


def official_map(session: Session, readable: Readable, settings: Settings, window: Window) -> list[dict[str, Any]]:
    """The official map's layers as published on the window's last day (today when open): public records only."""
    on = (window.end or utcnow()).date()
    return [_feature(f"{'post' if f['properties']['kind'] in ('observation_post', 'checkpoint') else 'zone'}-{f['id']}",
                     f["geometry"], f["properties"] | {"published_on": on}) for f in official_features(session, on)]


ZONE_QUERYABLES = {"code": STRING, "name": STRING, "valid_from": DATE, "valid_to": DATE}
COLLECTIONS: dict[str, Collection] = {c.id: c for c in (
    Collection("areas", "Areas of responsibility", "The areas the force patrols and monitors, with their dates of validity.",
               ZONE_QUERYABLES, ("valid_from", "valid_to"), zones(ZoneKind.area_of_responsibility), "geometry-polygon-or-multipolygon",
               ("zones",), zone_rows(ZoneKind.area_of_responsibility)),
    Collection("corridors", "Corridors", "Strips along a road kept open under the force's control.",
               ZONE_QUERYABLES | {"width_m": NUMBER}, ("valid_from", "valid_to"), zones(ZoneKind.corridor),
               "geometry-polygon-or-multipolygon", ("zones",), zone_rows(ZoneKind.corridor)),
    Collection("lines-of-contact", "Lines of contact", "The lines separating the sides' forces.",
               ZONE_QUERYABLES, ("valid_from", "valid_to"), zones(ZoneKind.line_of_contact),
               "geometry-linestring-or-multilinestring", ("zones",), zone_rows(ZoneKind.line_of_contact)),
    Collection("posts", "Observation posts and checkpoints", "Posts with the dates they were opened and closed.",
               {"code": STRING, "name": STRING, "kind": {"type": "string", "enum": [k.value for k in PostKind]},
                "zone_code": STRING, "status": {"type": "string", "enum": ["planned", "open", "closed"]},
                "opened_on": DATE, "closed_on": DATE},
               ("opened_on", "closed_on"), posts, "geometry-point", ("posts", "zones"), Rows(_post_table, _post_features, points=True)),
    Collection("patrol-tracks", "Patrol tracks", "Each patrol that went out, with the tracks of its vehicles and handhelds.",
               {"name": STRING, "status": {"type": "string", "enum": [s.value for s in PatrolStatus]}, "unit_id": INTEGER,
                "zone_id": INTEGER, "planned_start": INSTANT, "started_at": INSTANT, "ended_at": INSTANT,
                "positions": INTEGER, "distance_km": NUMBER},
               ("started_at", "ended_at"), patrol_track_features, "geometry-multilinestring"),
    Collection("incidents", "Ceasefire monitoring events", "Events (one or more reports of the same incident) with their verification.",
               {"type": {"type": "string", "enum": [t.value for t in IncidentType]}, "subtype": STRING,
                "status": {"type": "string", "enum": [s.value for s in IncidentStatus]}, "event_count": INTEGER,
                "area": STRING, "district": STRING, "place_name": STRING, "started_at": INSTANT, "ended_at": INSTANT},
               ("started_at", "ended_at"), incident_events, "geometry-point", ("incidents", "incident_events", "zones"),
               Rows(_event_table, _event_features, points=True, count=kept_event_count)),
    Collection("official-map", "Official deployment map", "The published map's layers as of a day (datetime): public records only.",
               {"kind": STRING, "code": STRING, "name": STRING, "zone_code": STRING, "status": STRING},
               None, official_map, "geometry-any", ("posts", "zones")),
)}


def start_and_end(feature: dict[str, Any], collection: Collection) -> tuple[datetime | None, datetime | None]:
    """A feature's time span from its temporal properties (None: open at that end)."""
    if collection.temporal is None:
        return None, None
    first, last = (feature["properties"].get(name) for name in collection.temporal)
    end = None if last is None else instant(last, end=False)
    if end is not None and len(last) == 10:  # a closing date (closed_on, valid_to) is the first day no longer in force
        end -= timedelta(microseconds=1)
    return (None if first is None else instant(first, end=False)), end
