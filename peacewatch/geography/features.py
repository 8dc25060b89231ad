"""Records as GeoJSON features and back: the one mapping shared by the API, exports and imports."""

from __future__ import annotations

from datetime import date
from typing import Any

from pyproj import Geod

from peacewatch.core.geo import representative_mgrs, to_geojson, to_mgrs
from peacewatch.geography.models import Place, Post, Zone
from peacewatch.geography.schemas import PostIn, ZoneIn

_GEOD = Geod(ellps="WGS84")


def geodesic_measures(zone: Zone) -> tuple[float | None, float | None]:
    """Area in km² of a polygonal zone, length in km of a line, on the WGS84 ellipsoid."""
    area, perimeter = _GEOD.geometry_area_perimeter(zone.geometry)
    if zone.geometry.geom_type in ("Polygon", "MultiPolygon"):
        return round(abs(area) / 1e6, 3), None
    return None, round(_GEOD.geometry_length(zone.geometry) / 1000, 3)


def zone_feature(zone: Zone) -> dict[str, Any]:
    area_km2, length_km = geodesic_measures(zone)
    return {
        "type": "Feature",
        "id": zone.id,
        "geometry": to_geojson(zone.geometry),
        "properties": {
            "id": zone.id,
            "kind": zone.kind.value,
            "code": zone.code,
            "name": zone.name,
            "name_ru": zone.name_ru,
            "visibility": zone.visibility.value,
            "valid_from": zone.valid_from,
            "valid_to": zone.valid_to,
            "width_m": zone.width_m,
            "notes": zone.notes,
            "area_km2": area_km2,
            "length_km": length_km,
            "mgrs": representative_mgrs(zone.geometry),
            "updated_at": zone.updated_at,
        },
    }


def post_feature(post: Post, on: date) -> dict[str, Any]:
    point = post.geometry
    return {
        "type": "Feature",
        "id": post.id,
        "geometry": to_geojson(point),
        "properties": {
            "id": post.id,
            "kind": post.kind.value,
            "code": post.code,
            "name": post.name,
            "name_ru": post.name_ru,
            "zone_id": post.zone_id,
            "zone_code": post.zone.code,
            "opened_on": post.opened_on,
            "closed_on": post.closed_on,
            "permanent": post.permanent,
            "status": post.status_on(on).value,
            "status_on": on,
            "visibility": post.visibility.value,
            "notes": post.notes,
            "outside_zone_override": post.outside_zone_override,
            "override_reason": post.override_reason,
            "lat": point.y,
            "lon": point.x,
            "mgrs": to_mgrs(point.y, point.x),
            "updated_at": post.updated_at,
        },
    }


def collection(features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}


def zone_input(zone: Zone) -> ZoneIn:
    """The zone as it would be posted: the base a partial update is merged onto."""
    return ZoneIn.model_validate(
        {
            "type": "Feature",
            "geometry": to_geojson(zone.geometry),
            "properties": {
                "code": zone.code,
                "name": zone.name,
                "name_ru": zone.name_ru,
                "visibility": zone.visibility,
                "valid_from": zone.valid_from,
                "valid_to": zone.valid_to,
                "width_m": zone.width_m,
                "notes": zone.notes,
            },
        }
    )


def post_input(post: Post) -> PostIn:
    return PostIn.model_validate(
        {
            "type": "Feature",
            "geometry": to_geojson(post.geometry),
            "properties": {
                "code": post.code,
                "name": post.name,
                "name_ru": post.name_ru,
                "kind": post.kind,
                "zone_id": post.zone_id,
                "opened_on": post.opened_on,
                "closed_on": post.closed_on,
                "permanent": post.permanent,
                "visibility": post.visibility,
                "notes": post.notes,
                "override_outside_zone": post.outside_zone_override,
                "override_reason": post.override_reason,
            },
        }
    )


def place_feature(place: Place) -> dict[str, Any]:
    """A marked place as a point feature: its names, notes, where it came from and who may see it."""
    return {"type": "Feature", "id": place.id, "geometry": {"type": "Point", "coordinates": [place.lon, place.lat]},
            "properties": {"id": place.id, "name": place.name, "name_ru": place.name_ru, "elevation": place.elevation,
                           "notes": place.notes, "source": place.source, "visibility": place.visibility.value,
                           "mgrs": to_mgrs(place.lat, place.lon)}}
