"""Layer files: GeoJSON, KML and KMZ in (see :mod:`peacewatch.geography.kml`), GeoJSON and KML out."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import fastkml
import simplekml
from lxml import etree
from shapely.geometry import shape

from peacewatch.core.problems import Invalid
from peacewatch.geography.kml import VISIBILITY_PROPERTY, Placemark, read_kml, read_kmz

MAX_LAYER_BYTES = 20 * 1024 * 1024
ID_ATTRIBUTE = re.compile(r'(\sid=)"(\d[^"]*)"')
STYLE_REFERENCE = re.compile(r"(<styleUrl>#)(\d)")

# Output-only properties dropped on import, so an exported file imports back unchanged.
OUTPUT_ONLY = frozenset(
    {"id", "kind_label", "area_km2", "length_km", "mgrs", "updated_at", "status", "status_on", "lat", "lon"}
)
RENAMED = {"outside_zone_override": "override_outside_zone"}


def import_properties(layer: str, properties: dict[str, Any], known: frozenset[str]) -> tuple[dict[str, Any], list[str]]:
    """The properties the layer takes, and the names of those it does not (a GIS adds its own: fid, OBJECTID, ...)."""
    props = {RENAMED.get(k, k): v for k, v in properties.items() if k not in OUTPUT_ONLY and v is not None and v != ""}
    if layer == "posts":
        if "zone_code" in props:
            props.pop("zone_id", None)
    else:
        props.pop("kind", None)
    ignored = sorted(k for k in props if k not in known)
    return {k: v for k, v in props.items() if k in known}, ignored


def read_geojson(data: bytes) -> list[Placemark]:
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Invalid("not valid JSON: {exc}", field="file", exc=exc) from None
    if isinstance(doc, dict) and doc.get("type") == "Feature":
        doc = {"type": "FeatureCollection", "features": [doc]}
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise Invalid("expected a GeoJSON FeatureCollection", field="file")
    found = []
    for index, feature in enumerate(doc["features"]):
        if not isinstance(feature, dict) or not isinstance(feature.get("properties") or {}, dict):
            found.append(Placemark(index, "", reason="not a GeoJSON Feature"))
            continue
        name = str((feature.get("properties") or {}).get("name", ""))
        if feature.get("geometry") is None:
            found.append(Placemark(index, name, reason="no geometry"))
            continue
        found.append(Placemark(index, name, feature=feature))
    return found


def is_kmz(data: bytes, filename: str, content_type: str) -> bool:
    return filename.endswith(".kmz") or "kmz" in content_type or data[:4] == b"PK\x03\x04"


def read_layer_file(data: bytes, filename: str | None, content_type: str | None) -> list[Placemark]:
    """Every feature of a GeoJSON, KML or KMZ file, each either readable or refused with its reason."""
    if len(data) > MAX_LAYER_BYTES:
        raise Invalid("file larger than {value} MiB", field="file", value=MAX_LAYER_BYTES // (1024 * 1024))
    name = (filename or "").lower()
    kind = (content_type or "").lower()
    if is_kmz(data, name, kind):
        return read_kmz(data, MAX_LAYER_BYTES)
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
        if props.get("notes"):
            placemark.description = NOT_XML.sub("", str(props["notes"]))
        for key, value in props.items():
            if value is not None and key not in ("name", "notes"):
                placemark.extendeddata.newdata(VISIBILITY_PROPERTY if key == "visibility" else key, _kml_value(value))
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
