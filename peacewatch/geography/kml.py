"""Reading KML and KMZ as the tools users have write them: Google Earth, QGIS and GDAL, ArcGIS, TAK.

Every placemark of the file comes out either as a GeoJSON feature or as a refusal naming its index,
its name and the reason: nothing is dropped silently. Properties are read from both forms of
``ExtendedData``: ``<Data name><value>`` (Google Earth, PeaceWatch's own export) and
``<SchemaData><SimpleData name>`` (QGIS, GDAL and ArcGIS); ``<description>`` becomes the notes.
Geometries: points, lines, rings, polygons with holes, and ``MultiGeometry`` of one kind (as GDAL
reads them); heights are dropped (the map is 2D). A 3D model or a ``gx:Track`` is refused, not guessed at.

The XML is refused if it declares a DTD or an entity (:mod:`peacewatch.core.safexml`) and read by
an lxml parser that resolves no entity and opens no network connection. A KMZ is a zip holding a
KML document (``doc.kml`` by convention), the icons it uses and, as GDAL's LIBKML driver writes it,
a document per layer behind ``NetworkLink``s: the documents are read in memory, never unpacked to
disk, links are followed only inside the archive, and declared and actual sizes are held to the
layer limit.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from dataclasses import dataclass
from typing import Any

import shapely
from lxml import etree
from shapely.geometry import LinearRing, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon, mapping

from peacewatch.core.problems import Invalid
from peacewatch.core.safexml import refuse_hostile_xml

MAX_KMZ_ENTRIES = 10_000
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True,
                          recover=False)
_COMMA = re.compile(r"\s*,\s*")
SIMPLE = ("Point", "LineString", "LinearRing", "Polygon")
UNSUPPORTED = ("Model", "Track", "MultiTrack")
# KML's own element of that name (shown or hidden in the tree): PeaceWatch's "visibility" (who may see
# a record) travels as this property instead, so GDAL and QGIS do not read one as the other
VISIBILITY_PROPERTY = "pw_visibility"


@dataclass
class Placemark:
    """One placemark of the file, in document order: a feature, or why it is not one."""

    index: int
    name: str
    feature: dict[str, Any] | None = None
    reason: str | None = None


class Refused(ValueError):
    pass


def _local(tag: Any) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _children(element: etree._Element, name: str) -> list[etree._Element]:
    return [child for child in element if _local(child.tag) == name]


def _child(element: etree._Element, name: str) -> etree._Element | None:
    found = _children(element, name)
    return found[0] if found else None


def _text(element: etree._Element | None) -> str:
    return "" if element is None else "".join(element.itertext()).strip()


def coordinates(text: str) -> list[tuple[float, float]]:
    """``lon,lat[,alt]`` tuples separated by white space, as KML writes them (spaces after commas tolerated)."""
    points = []
    for token in _COMMA.sub(",", text.strip()).split():
        parts = token.split(",")
        if len(parts) < 2:
            raise Refused(f"coordinate '{token[:40]}' is not lon,lat[,alt]")
        try:
            lon, lat = float(parts[0]), float(parts[1])
        except ValueError:
            raise Refused(f"coordinate '{token[:40]}' is not a number") from None
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise Refused(f"coordinate {lon},{lat} is off the globe")
        points.append((lon, lat))
    if not points:
        raise Refused("no coordinates")
    return points


def _ring(element: etree._Element | None, what: str) -> list[tuple[float, float]]:
    ring = None if element is None else _child(element, "LinearRing")
    if ring is None:
        raise Refused(f"{what} without a LinearRing")
    try:
        points = coordinates(_text(_child(ring, "coordinates")))
    except Refused as exc:
        raise Refused(f"{what}: {exc}") from None
    if points[0] != points[-1]:
        points.append(points[0])  # some tools leave rings open
    if len(points) < 4:
        raise Refused(f"{what} needs at least three distinct points")
    return points


def geometry(element: etree._Element, where: str | None = None) -> Any:
    """A shapely geometry from a KML geometry element, or Refused saying why not and which geometry (a
    MultiGeometry's third part, a Polygon's inner boundary): a placemark of forty shapes is found by it."""
    kind = _local(element.tag)
    here = where or kind
    try:
        return _geometry(element, kind, here)
    except Refused as exc:
        if str(exc).startswith(here):
            raise
        raise Refused(f"{here}: {exc}") from None


def _geometry(element: etree._Element, kind: str, here: str) -> Any:
    if kind == "Point":
        return Point(coordinates(_text(_child(element, "coordinates")))[0])
    if kind in ("LineString", "LinearRing"):
        points = coordinates(_text(_child(element, "coordinates")))
        if len(points) < 2:
            raise Refused("a line needs at least two points")
        return LineString(points) if kind == "LineString" else Polygon(LinearRing(points))
    if kind == "Polygon":
        outer = _ring(_child(element, "outerBoundaryIs"), "the outer boundary")
        holes = [_ring(inner, "an inner boundary") for inner in _children(element, "innerBoundaryIs")]
        polygon = Polygon(outer, holes)
        if not polygon.is_valid:
            raise Refused(f"invalid polygon: {shapely.is_valid_reason(polygon)}")
        return polygon
    if kind == "MultiGeometry":
        shapes = [child for child in element if _local(child.tag) in (*SIMPLE, "MultiGeometry", *UNSUPPORTED)]
        parts = [geometry(child, f"{here} part {n} ({_local(child.tag)})") for n, child in enumerate(shapes, start=1)]
        flat = [g for part in parts for g in (part.geoms if hasattr(part, "geoms") else [part])]
        if not flat:
            raise Refused("an empty MultiGeometry")
        kinds = {g.geom_type for g in flat}
        if kinds == {"Point"}:
            return MultiPoint(flat) if len(flat) > 1 else flat[0]
        if kinds == {"LineString"}:
            return MultiLineString(flat) if len(flat) > 1 else flat[0]
        if kinds == {"Polygon"}:
            return MultiPolygon(flat) if len(flat) > 1 else flat[0]
        raise Refused(f"a MultiGeometry mixing {', '.join(sorted(kinds))}")
    raise Refused(f"{here}: unsupported geometry")


def properties_of(placemark: etree._Element) -> dict[str, Any]:
    """Name, description (as notes) and both forms of ExtendedData."""
    found: dict[str, Any] = {}
    name = _text(_child(placemark, "name"))
    if name:
        found["name"] = name
    description = _text(_child(placemark, "description"))
    if description:
        found["notes"] = description
    extended = _child(placemark, "ExtendedData")
    if extended is not None:
        for data in _children(extended, "Data"):
            if data.get("name"):
                found[data.get("name")] = _text(_child(data, "value"))
        for schema_data in _children(extended, "SchemaData"):
            for simple in _children(schema_data, "SimpleData"):
                if simple.get("name"):
                    found[simple.get("name")] = _text(simple)
    if VISIBILITY_PROPERTY in found:
        found["visibility"] = found.pop(VISIBILITY_PROPERTY)
    return {key: value for key, value in found.items() if value != ""}


def _document(data: bytes) -> etree._Element:
    refuse_hostile_xml(data, "KML")
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise Invalid("not well-formed KML: {exc}", field="file", exc=exc) from None
    if _local(root.tag) != "kml":
        raise Invalid("not KML: the document is <{value}>", field="file", value=_local(root.tag))
    return root


def read_kml(data: bytes, *, first_index: int = 0, required: bool = True) -> list[Placemark]:
    """Every placemark of a KML document, in document order (folders and documents nested at any depth);
    indices count on from ``first_index`` (the documents of a KMZ are numbered as one file)."""
    root = _document(data)
    placemarks = []
    for index, element in enumerate((e for e in root.iter() if _local(e.tag) == "Placemark"), start=first_index):
        properties = properties_of(element)
        found = Placemark(index, str(properties.get("name", "")))
        shapes = [child for child in element if _local(child.tag) in (*SIMPLE, "MultiGeometry", *UNSUPPORTED)]
        try:
            if not shapes:
                raise Refused("no geometry")
            found.feature = {"type": "Feature", "geometry": mapping(geometry(shapes[0])), "properties": properties}
        except Refused as exc:
            found.reason = str(exc)
        placemarks.append(found)
    if required and not placemarks:
        raise Invalid("the KML document holds no placemark", field="file")
    return placemarks


def read_kmz(data: bytes, max_bytes: int) -> list[Placemark]:
    """The placemarks of a KMZ: its main document's, then those of the documents it links to inside the archive
    (GDAL's LIBKML driver writes one per layer, under ``layers/``, behind a ``NetworkLink``)."""
    placemarks: list[Placemark] = []
    for document in kmz_documents(data, max_bytes):
        placemarks += read_kml(document, first_index=len(placemarks), required=False)
    if not placemarks:
        raise Invalid("the KMZ holds no placemark", field="file")
    return placemarks


def kmz_documents(data: bytes, max_bytes: int) -> list[bytes]:
    """The KMZ's main document (``doc.kml``, else the first ``.kml`` at the top) and the documents of the archive
    its ``NetworkLink``s name, read in memory only, within ``max_bytes`` in all. A link to anything outside the
    archive (a web address, a path climbing out) is not followed: the site may be air-gapped, and it is not data."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise Invalid("not a readable KMZ (zip) file", field="file") from None
    with archive:
        entries = archive.infolist()
        if len(entries) > MAX_KMZ_ENTRIES:
            raise Invalid("a KMZ of more than {MAX_KMZ_ENTRIES} files", field="file", MAX_KMZ_ENTRIES=MAX_KMZ_ENTRIES)
        names = {e.filename: e for e in entries if not e.is_dir()}
        unsafe = [n for n in names if n.startswith(("/", "\\")) or ".." in n.replace("\\", "/").split("/")]
        if unsafe:
            raise Invalid("refused KMZ: entry '{unsafe}' points outside the archive", field="file", unsafe=unsafe[0][:100])
        documents = [n for n in names if n.lower().endswith(".kml")]
        main = next((n for n in documents if n.lower() == "doc.kml"), None) or next(
            (n for n in documents if "/" not in n.strip("/")), documents[0] if documents else None)
        if main is None:
            raise Invalid("the KMZ holds no KML document", field="file")
        budget = [max_bytes]

        def read(name: str) -> bytes:
            entry = names[name]
            if entry.file_size > budget[0]:
                raise Invalid("the KMZ's documents are larger than {value} MiB", field="file", value=max_bytes // 2**20)
            with archive.open(entry) as member:
                content = member.read(budget[0] + 1)  # the declared size may lie: read no more than what is left
            if len(content) > budget[0]:
                raise Invalid("the KMZ's documents are larger than {value} MiB", field="file", value=max_bytes // 2**20)
            budget[0] -= len(content)
            return content

        first = read(main)
        found = [first]
        root = _document(first)
        for link in (e for e in root.iter() if _local(e.tag) == "href" and _local(e.getparent().tag) in ("Link", "Url")):
            target = posixpath.normpath(posixpath.join(posixpath.dirname(main), _text(link)))
            if target in names and target.lower().endswith(".kml") and target != main and len(found) < 1000:
                found.append(read(target))
        return found
