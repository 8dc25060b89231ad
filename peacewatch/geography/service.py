"""Zones and posts: every geometry checked, every reference resolved, every write one transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from threading import Lock
from typing import Any

from shapely.geometry import box
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from peacewatch.core.db import transaction, utcnow
from peacewatch.core.geo import BBox, Fence, buffer_metres, corridor_from_centreline, geometry_from_geojson
from peacewatch.core.i18n import Sentence
from peacewatch.core.paging import Paged, paged
from peacewatch.core.problems import Conflict, FieldError, Invalid, NotFound, validated
from peacewatch.core.visibility import Scope, Visibility, get_visible, where_visible
from peacewatch.geography.features import post_feature, post_input, zone_feature, zone_input
from peacewatch.geography.formats import import_properties, read_layer_file
from peacewatch.geography.models import Place, Post, PostKind, Zone, ZoneKind
from peacewatch.geography.schemas import (
    PlaceIn,
    PlacePatch,
    PostIn,
    PostPatch,
    PostProperties,
    ZoneIn,
    ZonePatch,
    ZoneProperties,
)

ZONE_GEOMETRIES: dict[ZoneKind, tuple[str, ...]] = {
    ZoneKind.area_of_responsibility: ("Polygon", "MultiPolygon"),
    ZoneKind.corridor: ("Polygon", "MultiPolygon", "LineString"),
    ZoneKind.line_of_contact: ("LineString", "MultiLineString"),
    ZoneKind.restricted_zone: ("Polygon", "MultiPolygon"),
    ZoneKind.district: ("Polygon", "MultiPolygon"),
}
POLYGONAL = ("Polygon", "MultiPolygon")


# --- zones -------------------------------------------------------------------------------------


def list_zones(
    session: Session,
    readable: Scope,
    *,
    kind: ZoneKind | None = None,
    bbox: BBox | None = None,
    on: date | None = None,
    limit: int = 1000,
    offset: int = 0,
) -> list[Zone]:
    return page_zones(session, readable, kind=kind, bbox=bbox, on=on, limit=limit, offset=offset).items


def page_zones(
    session: Session,
    readable: Scope,
    *,
    kind: ZoneKind | None = None,
    bbox: BBox | None = None,
    on: date | None = None,
    limit: int = 1000,
    offset: int = 0,
) -> Paged[Zone]:
    """A page of zones and how many match: a bounding box is tested on the exact shapes, so all are read."""
    query = where_visible(select(Zone).order_by(Zone.id), Zone.visibility, readable)
    if kind is not None:
        query = query.where(Zone.kind == kind)
    if on is not None:
        query = query.where(or_(Zone.valid_from.is_(None), Zone.valid_from <= on))
        query = query.where(or_(Zone.valid_to.is_(None), Zone.valid_to > on))
    zones: Sequence[Zone] = session.scalars(_in_bbox(query, Zone, bbox)).all()
    if bbox is not None:
        window = box(*bbox)
        zones = [z for z in zones if z.geometry.intersects(window)]
    return Paged(list(zones[offset : offset + limit]), len(zones))


def _in_bbox(query: Select[Any], model: type[Zone] | type[Post], bbox: BBox | None) -> Select[Any]:
    if bbox is None:
        return query
    minx, miny, maxx, maxy = bbox
    return query.where(model.max_lon >= minx, model.min_lon <= maxx, model.max_lat >= miny, model.min_lat <= maxy)


def get_zone(session: Session, zone_id: int, readable: Scope, kind: ZoneKind | None = None) -> Zone:
    zone = session.get(Zone, zone_id)
    if zone is None or (kind is not None and zone.kind != kind) or (readable is not None and zone.visibility not in readable):
        label = kind.value.replace("_", " ") if kind is not None else "zone"
        raise NotFound("{label} {zone_id} not found", label=label, zone_id=zone_id)
    return zone


def _zone_geometry(kind: ZoneKind, geometry: Any, width_m: float | None, where: str) -> tuple[Any, float | None]:
    geom = geometry_from_geojson(geometry.model_dump(exclude_none=True), field=f"{where}.geometry", expect=ZONE_GEOMETRIES[kind])
    if kind is ZoneKind.corridor and geom.geom_type == "LineString":
        if width_m is None:
            raise Invalid("a corridor given as its centreline needs width_m", field=f"{where}.properties.width_m")
        return corridor_from_centreline(geom, width_m), width_m
    return geom, width_m


def _check_code_free(session: Session, model: type[Zone] | type[Post], code: str, record_id: int | None, where: str) -> None:
    other = session.scalar(select(model.id).where(model.code == code))
    if other is not None and other != record_id:
        raise Conflict("code '{code}' is already used by record {other}", field=f"{where}.properties.code", code=code, other=other)


def _check_span(start: date | None, end: date | None, field: str) -> None:
    if start is not None and end is not None and end < start:
        raise Invalid("{end} is before {start}", field=field, end=end.isoformat(), start=start.isoformat())


def _apply_zone(session: Session, zone: Zone, kind: ZoneKind, data: ZoneIn, where: str, *, code_checked: bool = False) -> Zone:
    props = data.properties
    if not code_checked:
        _check_code_free(session, Zone, props.code, zone.id, where)
    _check_span(props.valid_from, props.valid_to, f"{where}.properties.valid_to")
    geometry, width = _zone_geometry(kind, data.geometry, props.width_m, where)
    zone.kind = kind
    zone.geometry = geometry
    for key, value in props.model_dump(exclude={"width_m"}).items():
        setattr(zone, key, value)
    zone.width_m = width
    return zone


def create_zone(session: Session, actor: str, kind: ZoneKind, data: ZoneIn) -> Zone:
    with transaction(session, actor):
        zone = _apply_zone(session, Zone(), kind, data, "body")
        session.add(zone)
    return zone


def update_zone(session: Session, actor: str, kind: ZoneKind, zone_id: int, patch: ZonePatch) -> Zone:
    with transaction(session, actor):
        zone = get_zone(session, zone_id, None, kind)
        merged = zone_input(zone).model_dump()
        merged["properties"].update(patch.properties.model_dump(exclude_unset=True))
        if patch.geometry is not None:
            merged["geometry"] = patch.geometry.model_dump(exclude_none=True)
        _apply_zone(session, zone, kind, validated(ZoneIn, merged, "body"), "body")
        _recheck_posts_in(session, zone)
    return zone


def _recheck_posts_in(session: Session, zone: Zone) -> None:
    """A zone whose shape changes must still hold its posts (unless a post carries an override)."""
    if zone.geometry.geom_type not in POLYGONAL:
        return
    for post in session.scalars(select(Post).where(Post.zone_id == zone.id, Post.outside_zone_override.is_(False))):
        if not zone.geometry.covers(post.geometry):
            raise Invalid(
                "the new shape leaves post {post_code} outside zone {zone_code}", field="body.geometry", post_code=post.code, zone_code=zone.code
            )


def delete_zone(session: Session, actor: str, kind: ZoneKind, zone_id: int) -> None:
    with transaction(session, actor):
        zone = get_zone(session, zone_id, None, kind)
        posts = session.scalars(select(Post.code).where(Post.zone_id == zone_id).limit(5)).all()
        if posts:
            raise Conflict("zone {zone_code} still holds posts ({posts}); move or delete them first", zone_code=zone.code, posts=', '.join(posts))
        session.delete(zone)


# --- posts -------------------------------------------------------------------------------------


def list_posts(
    session: Session,
    readable: Scope,
    *,
    bbox: BBox | None = None,
    on: date | None = None,
    kind: PostKind | None = None,
    zone_id: int | None = None,
    limit: int = 1000,
    offset: int = 0,
) -> list[Post]:
    """Posts in ``bbox`` (points, so the bounding-box test is exact) and, given ``on``, open that day."""
    query = _posts_matching(readable, bbox, on, kind, zone_id)
    return list(session.scalars(query.limit(limit).offset(offset)))


def page_posts(session: Session, readable: Scope, *, bbox: BBox | None = None, on: date | None = None,
               kind: PostKind | None = None, zone_id: int | None = None, limit: int = 1000, offset: int = 0) -> Paged[Post]:
    """A page of ``list_posts`` and how many posts match in all."""
    return paged(session, _posts_matching(readable, bbox, on, kind, zone_id), limit=limit, offset=offset)


def _posts_matching(readable: Scope, bbox: BBox | None, on: date | None, kind: PostKind | None, zone_id: int | None) -> Select[Any]:
    query = where_visible(select(Post).order_by(Post.id), Post.visibility, readable)
    query = _in_bbox(query, Post, bbox)
    if on is not None:
        query = query.where(Post.opened_on <= on, or_(Post.closed_on.is_(None), Post.closed_on > on))
    if kind is not None:
        query = query.where(Post.kind == kind)
    if zone_id is not None:
        query = query.where(Post.zone_id == zone_id)
    return query


def get_post(session: Session, post_id: int, readable: Scope) -> Post:
    return get_visible(session, Post, post_id, readable, "post")


class ZoneIndex:
    """Zones by code and id: from the database one at a time, or preloaded for a whole import."""

    def __init__(self, session: Session, *, preload: bool = False) -> None:
        self.session = session
        self.by_code: dict[str, Zone] | None = None
        if preload:
            self.by_code = {z.code: z for z in session.scalars(select(Zone))}
            self.by_id = {z.id: z for z in self.by_code.values()}

    def code(self, code: str) -> Zone | None:
        if self.by_code is not None:
            return self.by_code.get(code)
        return self.session.scalar(select(Zone).where(Zone.code == code))

    def id(self, zone_id: int) -> Zone | None:
        return self.by_id.get(zone_id) if self.by_code is not None else self.session.get(Zone, zone_id)


def _resolve_zone(zones: ZoneIndex, zone_id: int | None, zone_code: str | None, where: str) -> Zone:
    if zone_code is not None:
        zone = zones.code(zone_code)
        if zone is None:
            raise Invalid("no zone has code '{zone_code}'", field=f"{where}.properties.zone_code", zone_code=zone_code)
        if zone_id is not None and zone_id != zone.id:
            raise Invalid("zone_id {zone_id} and zone_code '{zone_code}' name different zones",
                          field=f"{where}.properties.zone_id", zone_id=zone_id, zone_code=zone_code)
    elif zone_id is not None:
        zone = zones.id(zone_id)
        if zone is None:
            raise Invalid("zone {zone_id} does not exist", field=f"{where}.properties.zone_id", zone_id=zone_id)
    else:
        raise Invalid("a post needs its zone: zone_id or zone_code", field=f"{where}.properties.zone_id")
    if zone.geometry.geom_type not in POLYGONAL:
        raise Invalid(
            "zone {zone_code} is a {kind}; a post belongs to an area or a corridor",
            field=f"{where}.properties.zone_id", zone_code=zone.code, kind=zone.kind.value.replace('_', ' '),
        )
    return zone


def _apply_post(session: Session, post: Post, data: PostIn, where: str, zones: ZoneIndex | None = None) -> Post:
    """Check and copy a post's fields; ``zones`` given means the caller has already checked the code."""
    props = data.properties
    if zones is None:
        _check_code_free(session, Post, props.code, post.id, where)
    _check_span(props.opened_on, props.closed_on, f"{where}.properties.closed_on")
    zone = _resolve_zone(zones or ZoneIndex(session), props.zone_id, props.zone_code, where)
    point = geometry_from_geojson(data.geometry.model_dump(exclude_none=True), field=f"{where}.geometry", expect=("Point",))
    inside = zone.geometry.covers(point)
    if not inside and not props.override_outside_zone:
        raise Invalid(
            "post {props_code} at {y:.5f}, {x:.5f} lies outside zone {zone_code}; set override_outside_zone with override_reason to accept it",
            field=f"{where}.geometry", props_code=props.code, y=point.y, x=point.x, zone_code=zone.code,
        )
    if not inside and not (props.override_reason or "").strip():
        raise Invalid("an override needs a reason", field=f"{where}.properties.override_reason")
    post.zone = zone
    post.geometry = point
    for key in ("code", "name", "name_ru", "kind", "opened_on", "closed_on", "permanent", "visibility", "notes"):
        setattr(post, key, getattr(props, key))
    post.outside_zone_override = not inside
    post.override_reason = None if inside else props.override_reason
    return post


def create_post(session: Session, actor: str, data: PostIn) -> Post:
    with transaction(session, actor):
        post = _apply_post(session, Post(), data, "body")
        session.add(post)
    return post


def update_post(session: Session, actor: str, post_id: int, patch: PostPatch) -> Post:
    with transaction(session, actor):
        post = get_post(session, post_id, None)
        merged = post_input(post).model_dump()
        changes = patch.properties.model_dump(exclude_unset=True)
        if "zone_id" in changes or "zone_code" in changes:
            merged["properties"]["zone_id"] = merged["properties"]["zone_code"] = None
        merged["properties"].update(changes)
        if patch.geometry is not None:
            merged["geometry"] = patch.geometry.model_dump(exclude_none=True)
        _apply_post(session, post, validated(PostIn, merged, "body"), "body")
    return post


def delete_post(session: Session, actor: str, post_id: int) -> None:
    with transaction(session, actor):
        session.delete(get_post(session, post_id, None))


# --- layers: import ----------------------------------------------------------------------------


def import_features(
    session: Session,
    actor: str,
    layer: str,
    features: list[dict[str, Any]],
    progress: Callable[[int], None] | None = None,
) -> tuple[int, int, list[str]]:
    """Create or update (by code) every feature of a layer, all or nothing."""
    with transaction(session, actor):
        return upsert_features(session, layer, features, progress)


@dataclass
class RefusedFeature:
    index: int
    name: str
    reason: str
    field: str = ""  # where in the feature, when known: features[3].properties.closed_on
    said: Sentence | None = None  # the reason, to be said in a reader's language

    def as_error(self) -> FieldError:
        return FieldError.of(self.field or f"features[{self.index}]", "{name}: {reason}", name=self.name or "unnamed",
                             reason=self.said or self.reason)


@dataclass
class LayerImport:
    """What an import of a file did with each of its features."""

    created: int = 0
    updated: int = 0
    codes: list[str] = field(default_factory=list)
    refused: list[RefusedFeature] = field(default_factory=list)
    ignored_properties: list[str] = field(default_factory=list)


def upsert_features(
    session: Session,
    layer: str,
    features: list[dict[str, Any]],
    progress: Callable[[int], None] | None = None,
    *,
    outcome: LayerImport | None = None,
    indices: Sequence[int] | None = None,
) -> tuple[int, int, list[str]]:
    """The body of an import, inside the caller's transaction; a feature's code is its identity.

    Existing codes and zones are read once up front and the rows are flushed together at the
    end, so an import costs a few statements rather than several per feature. Without ``outcome``
    the first bad feature refuses them all (the scenario's own data); with it, a bad feature is
    noted there with its index in the file (``indices``) and the reason, and the others are imported.
    """
    model: type[Zone] | type[Post] = Post if layer == "posts" else Zone
    existing: dict[str, Any] = {r.code: r for r in session.scalars(select(model))}
    zones = ZoneIndex(session, preload=True) if layer == "posts" else None
    created = updated = 0
    codes: list[str] = []
    seen: set[str] = set()
    with session.no_autoflush:
        for position, feature in enumerate(features):
            index = indices[position] if indices is not None else position
            where = f"features[{index}]"
            record, new = None, False
            try:
                data = validated(PostIn if layer == "posts" else ZoneIn, feature, where)
                code = data.properties.code
                if code in seen:
                    raise Conflict("code '{code}' appears twice in the file", field=f"{where}.properties.code", code=code)
                record = existing.get(code)
                if record is None:
                    record, new = (Post() if layer == "posts" else Zone()), True
                    session.add(record)
                if layer == "posts":
                    _apply_post(session, record, data, where, zones)
                else:
                    if record.kind is not None and record.kind != LAYER_KINDS[layer]:
                        raise Conflict("code '{code}' belongs to a {kind}", field=f"{where}.properties.code", code=code, kind=record.kind.value)
                    _apply_zone(session, record, LAYER_KINDS[layer], data, where, code_checked=True)
            except (Invalid, Conflict) as exc:
                if outcome is None:
                    raise
                if record is not None:  # undo what was applied of it: nothing of a refused feature is stored
                    session.expunge(record) if new else session.expire(record)
                name = str((feature.get("properties") or {}).get("name", ""))
                if exc.errors:  # the field is said once, as the error's field: its message is the reason
                    first = exc.errors[0]
                    outcome.refused.append(RefusedFeature(index, name, first.message, first.field,
                                                          first._said if first._said is not None else Sentence(first.message)))
                else:
                    outcome.refused.append(RefusedFeature(index, name, exc.detail, "", exc.sentence))
                continue
            created, updated = created + new, updated + (not new)
            codes.append(code)
            seen.add(code)
            if progress is not None:
                progress(position + 1)
    session.flush()
    return created, updated, codes


def import_layer_file(
    session: Session,
    actor: str,
    layer: str,
    data: bytes,
    *,
    filename: str | None = None,
    content_type: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    all_or_nothing: bool = False,
) -> LayerImport:
    """Read a GeoJSON, KML or KMZ file (as exported here or by a GIS, Google Earth, TAK) and import each
    feature that can be, in one transaction; each other one is refused with its index and reason
    (``all_or_nothing``: then nothing is imported). Properties the layer does not know are ignored and
    named. A file of which nothing can be imported is refused whole."""
    placemarks = read_layer_file(data, filename, content_type)
    outcome = LayerImport(refused=[RefusedFeature(p.index, p.name, p.reason or "", f"features[{p.index}].geometry")
                                   for p in placemarks if p.feature is None])
    known = frozenset((PostProperties if layer == "posts" else ZoneProperties).model_fields)
    readable = [p for p in placemarks if p.feature is not None]
    features, ignored = [], set()
    for placemark in readable:
        assert placemark.feature is not None
        properties, unknown = import_properties(layer, placemark.feature.get("properties") or {}, known)
        ignored.update(unknown)
        features.append({**placemark.feature, "properties": properties})
    outcome.ignored_properties = sorted(ignored)
    total = len(features)
    with transaction(session, actor):
        outcome.created, outcome.updated, outcome.codes = upsert_features(
            session, layer, features, None if progress is None else lambda done: progress(done, total),
            outcome=outcome, indices=[p.index for p in readable])
        outcome.refused.sort(key=lambda refused: refused.index)
        if outcome.refused and (all_or_nothing or not outcome.codes):
            session.rollback()
            first = outcome.refused[0]
            raise Invalid(
                "nothing imported: {count_refused} of the file's {count_placemarks} feature(s) refused; first: {value}: {reason}",
                errors=[refused.as_error() for refused in outcome.refused[:50]], count_refused=len(outcome.refused),
                count_placemarks=len(placemarks), value=first.field or f"features[{first.index}]",
                reason=first.said or first.reason,
            )
    return outcome


def layer_features(
    session: Session, readable: Scope, layer: str, on: date | None
) -> list[dict[str, Any]]:
    """Every feature of a layer the reader may see, as GeoJSON dicts, for export."""
    if layer == "posts":
        status_on = on or utcnow().date()
        return [post_feature(p, status_on) for p in list_posts(session, readable, on=on, limit=2**31)]
    zones = list_zones(session, readable, kind=LAYER_KINDS[layer], on=on, limit=2**31)
    return [zone_feature(z) for z in zones]


_fence_lock = Lock()
_fence_cache: dict[tuple[ZoneKind, float | None], tuple[tuple[Any, ...], Fence]] = {}


def zone_fence(session: Session, kind: ZoneKind, buffer_m: float | None = None) -> Fence:
    """Zones of one kind as prepared polygons (lines buffered by ``buffer_m``), for vectorised point tests.

    Preparing costs far more than a test, so the fence is kept until a zone of that kind is added,
    changed or removed (its ids and update times are the key).
    """
    stamp = session.execute(select(Zone.id, Zone.updated_at).where(Zone.kind == kind).order_by(Zone.id)).all()
    key = (str(session.get_bind().url), *(tuple(row) for row in stamp))
    with _fence_lock:
        cached = _fence_cache.get((kind, buffer_m))
        if cached is not None and cached[0] == key:
            return cached[1]
    zones = session.scalars(select(Zone).where(Zone.kind == kind).order_by(Zone.id)).all()
    fence = Fence([z.id for z in zones], [buffer_metres(z.geometry, buffer_m) if buffer_m else z.geometry for z in zones])
    with _fence_lock:
        _fence_cache[(kind, buffer_m)] = (key, fence)
    return fence


LAYER_KINDS: dict[str, ZoneKind] = {
    "areas": ZoneKind.area_of_responsibility,
    "corridors": ZoneKind.corridor,
    "lines-of-contact": ZoneKind.line_of_contact,
    "restricted-zones": ZoneKind.restricted_zone,
    "districts": ZoneKind.district,
}


# --- places ------------------------------------------------------------------------------------


@dataclass
class MarkedPlace:
    """A place as a GPS or a map tool marked it."""

    name: str
    lat: float
    lon: float
    elevation: float | None = None
    notes: str = ""
    name_ru: str = ""


def keep_places(session: Session, actor: str, marks: Sequence[MarkedPlace], source: str,
                visibility: Visibility = Visibility.internal) -> tuple[int, int]:
    """Keep each named place once (name and spot, to 1e-7 degree, are its identity), visible as ``visibility`` says
    (a GPS's marks: the mission's staff; a gazetteer of towns: everyone); how many were new and how many were
    known already. One transaction."""
    with transaction(session, actor):
        known = {(p.name, round(p.lat, 7), round(p.lon, 7)) for p in session.scalars(
            select(Place).where(Place.name.in_(sorted({m.name for m in marks}))))}
        created = 0
        for mark in marks:
            key = (mark.name, round(mark.lat, 7), round(mark.lon, 7))
            if key in known:
                continue
            known.add(key)
            session.add(Place(name=mark.name, name_ru=mark.name_ru[:200], lat=key[1], lon=key[2], elevation=mark.elevation, notes=mark.notes[:10_000],
                              source=source[:200], visibility=visibility))
            created += 1
    return created, len(marks) - created


def get_place(session: Session, place_id: int, readable: Scope) -> Place:
    return get_visible(session, Place, place_id, readable, "place")


def _apply_place(session: Session, place: Place, name: str, lat: float, lon: float, where: str) -> None:
    """A place is its name at its spot: a second marker of the same name on the same spot is refused, not doubled
    (the database's unique index holds it against two writers at once)."""
    lat, lon = round(lat, 7), round(lon, 7)
    taken = session.scalar(select(Place.id).where(Place.name == name, Place.lat == lat, Place.lon == lon, Place.id != place.id))
    if taken is not None:
        raise Conflict("a place named '{name}' is already marked at this spot", field=f"{where}.properties.name", name=name)
    place.name, place.lat, place.lon = name, lat, lon


def create_place(session: Session, actor: str, data: PlaceIn) -> Place:
    """A marker put on the map by the operations centre, shared with whom its visibility says."""
    lon, lat = data.geometry.coordinates[0], data.geometry.coordinates[1]
    with transaction(session, actor):
        place = Place(name_ru=data.properties.name_ru, notes=data.properties.notes, visibility=data.properties.visibility,
                      source=f"marked on the map by {actor}"[:200])
        _apply_place(session, place, data.properties.name, lat, lon, "body")
        session.add(place)
    return place


def update_place(session: Session, actor: str, place_id: int, patch: PlacePatch) -> Place:
    with transaction(session, actor):
        place = get_place(session, place_id, None)
        changes = patch.properties.model_dump(exclude_unset=True)
        lon, lat = (patch.geometry.coordinates[0], patch.geometry.coordinates[1]) if patch.geometry else (place.lon, place.lat)
        _apply_place(session, place, changes.pop("name", None) or place.name, lat, lon, "body")
        for key, value in changes.items():
            if value is not None:
                setattr(place, key, value)
    return place


def delete_place(session: Session, actor: str, place_id: int) -> None:
    with transaction(session, actor):
        session.delete(get_place(session, place_id, None))


def list_places(session: Session, readable: Scope, *, limit: int = 1000, offset: int = 0) -> Paged[Place]:
    query = where_visible(select(Place).order_by(Place.name, Place.id), Place.visibility, readable)
    return paged(session, query, limit=limit, offset=offset)
