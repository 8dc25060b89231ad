"""Layer files: GeoJSON and KML in and out.

KML is read with fastkml after defusedxml has refused any DTD or entity, so a
hostile file cannot expand entities or reach for external resources.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import shapely
import simplekml
import fastkml
from fastkml import KML
from lxml import etree
from shapely.geometry import mapping, shape

from peacewatch.core.safexml import refuse_hostile_xml
from peacewatch.core.problems import Invalid

MAX_LAYER_BYTES = 20 * 1024 * 1024
ID_ATTRIBUTE = re.compile(r'(\sid=)"(\d[^"]*)"')
STYLE_REFERENCE = re.compile(r"(<styleUrl>#)(\d)")

# Output-only properties dropped on import, so an exported file imports back unchanged.
OUTPUT_ONLY = frozenset(
    {"id", "kind_label", "area_km2", "length_km", "mgrs", "updated_at", "status", "status_on", "lat", "lon"}
)


def import_properties(layer: str, properties: dict[str, Any]) -> dict[str, Any]:
    props = {k: v for k, v in properties.items() if k not in OUTPUT_ONLY and v is not None and v != ""}
    if layer == "posts":
        if "outside_zone_override" in props:
            props["override_outside_zone"] = props.pop("outside_zone_override")
        if "zone_code" in props:
            props.pop("zone_id", None)
    else:
        props.pop("kind", None)
    return props


def read_geojson(data: bytes) -> list[dict[str, Any]]:
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Invalid(f"not valid JSON: {exc}", field="file") from None
    if isinstance(doc, dict) and doc.get("type") == "Feature":
        doc = {"type": "FeatureCollection", "features": [doc]}
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise Invalid("expected a GeoJSON FeatureCollection", field="file")
    features = []
    for index, feature in enumerate(doc["features"]):
        if not isinstance(feature, dict) or not isinstance(feature.get("properties") or {}, dict):
            raise Invalid("not a GeoJSON Feature", field=f"features[{index}]")
        features.append(feature)
    return features


def _placemarks(node: Any) -> Any:
    for child in getattr(node, "features", None) or []:
        yield from _placemarks(child)
    if getattr(node, "geometry", None) is not None:
        yield node


def read_kml(data: bytes) -> list[dict[str, Any]]:
    """Placemarks as GeoJSON features; ExtendedData becomes properties, heights are dropped."""
    refuse_hostile_xml(data, "KML")
    try:
        doc = KML.from_string(data, strict=False)  # type: ignore[arg-type]  # bytes keep the encoding declaration legal
    except Exception as exc:  # noqa: BLE001 - fastkml raises many kinds on malformed KML
        raise Invalid(f"not readable KML: {exc}", field="file") from None
    features = []
    for index, placemark in enumerate(_placemarks(doc)):
        try:
            geom = shapely.force_2d(shape(placemark.geometry.__geo_interface__))
        except (ValueError, TypeError, AttributeError) as exc:
            raise Invalid(f"unreadable geometry: {exc}", field=f"features[{index}].geometry") from None
        properties: dict[str, Any] = {}
        if placemark.name:
            properties["name"] = placemark.name
        extended = getattr(placemark, "extended_data", None)
        for element in getattr(extended, "elements", None) or []:
            if getattr(element, "name", None) is not None and getattr(element, "value", None) is not None:
                properties[element.name] = element.value
        features.append({"type": "Feature", "geometry": mapping(geom), "properties": properties})
    return features


def read_layer_file(data: bytes, filename: str | None, content_type: str | None) -> list[dict[str, Any]]:
    if len(data) > MAX_LAYER_BYTES:
        raise Invalid(f"file larger than {MAX_LAYER_BYTES // (1024 * 1024)} MiB", field="file")
    name = (filename or "").lower()
    kind = (content_type or "").lower()
    if name.endswith(".kml") or "kml" in kind or data.lstrip()[:1] == b"<":
        return read_kml(data)
    return read_geojson(data)


def _kml_coords(geom: Any) -> list[tuple[float, float]]:
    return [(x, y) for x, y, *_ in geom.coords]


def _add_geometry(container: Any, geom: Any, name: str) -> Any:
    kind = geom.geom_type
    if kind == "Point":
        return container.newpoint(name=name, coords=[(geom.x, geom.y)])
    if kind == "LineString":
        return container.newlinestring(name=name, coords=_kml_coords(geom))
    if kind == "Polygon":
        return container.newpolygon(
            name=name,
            outerboundaryis=_kml_coords(geom.exterior),
            innerboundaryis=[_kml_coords(ring) for ring in geom.interiors],
        )
    multi = container.newmultigeometry(name=name)
    for part in geom.geoms:
        _add_geometry(multi, part, name)
    return multi


# characters XML 1.0 cannot carry at all, even escaped: a name typed with one must not break the export
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def write_kml(features: list[dict[str, Any]], title: str) -> str:
    """Features as KML placemarks carrying their properties as ExtendedData; valid against the KML 2.2 schema."""
    kml = simplekml.Kml(name=NOT_XML.sub("", title))
    folder = kml.newfolder(name=NOT_XML.sub("", title))
    for feature in features:
        if feature["geometry"] is None:
            continue
        props = feature["properties"]
        geom = shape(feature["geometry"])
        placemark = _add_geometry(folder, geom, NOT_XML.sub("", str(props.get("name", ""))))
        for key, value in props.items():
            if value is not None and key != "name":
                placemark.extendeddata.newdata(key, _kml_value(value))
    return _schema_ids(kml.kml())


def _schema_ids(text: str) -> str:
    """simplekml numbers its elements' ids ("4"), which the schema's xs:ID refuses: prefix them, and their references."""
    return STYLE_REFERENCE.sub(r"\1pw-\2", ID_ATTRIBUTE.sub(r'\1"pw-\2"', text))


@cache
def kml_schema() -> etree.XMLSchema:
    """The OGC KML 2.2 schema, as fastkml ships it (no download: the site may be air-gapped)."""
    return etree.XMLSchema(etree.parse(str(Path(fastkml.__file__).parent / "schema" / "ogckml22.xsd")))


def kml_problems(text: str | bytes) -> list[str]:
    """What makes a KML document invalid against the KML 2.2 schema (nothing, for a valid one)."""
    document = etree.fromstring(text.encode() if isinstance(text, str) else text, etree.XMLParser(resolve_entities=False, no_network=True))
    schema = kml_schema()
    return [] if schema.validate(document) else [f"line {e.line}: {e.message}" for e in schema.error_log]


def _kml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return NOT_XML.sub("", str(value))
