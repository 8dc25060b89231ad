"""Forms for the API's writes, read from its OpenAPI document.

Every write the API offers must be reachable from the pages of the roles it admits. Rather than a
hand-written form per write (and forms that drift from the API), each operation's request body and
path parameters are turned into form fields here: the schema's types, limits, choices and
descriptions become inputs, hints and browser-side limits, and the server's answer to a submit
(problem+json naming each field) is shown next to the field it names. Pure functions, no database.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from peacewatch.core.i18n import N_

GEOMETRY_TYPES = frozenset({"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"})
WRITE_METHODS = ("post", "put", "patch", "delete")
LONG_TEXT = 300  # longer limits get a text area
ITEM = "__i__"  # a list item's index in a field's path, replaced by the page's script for each item added

# a reference to another record: where the page reads the choices (the reader's own view of them), and their label
REFERENCES: dict[str, tuple[str, str]] = {
    "unit_id": ("/api/v1/units", "name"),
    "zone_id": ("/api/v1/areas", "name"),
    "patrol_id": ("/api/v1/patrols", "name"),
    "post_id": ("/api/v1/posts", "code"),
    "tracker_id": ("/api/v1/trackers", "code"),
    "user_id": ("/api/v1/users", "username"),
    "token_id": ("/api/v1/api-tokens", "name"),
    "alert_id": ("/api/v1/alerts?status=open", "message"),
    "incident_id": ("/api/v1/incidents", "id"),
    "flight_id": ("/api/v1/flights", "callsign"),
    "plan_id": ("/api/v1/rotation-plans", "name"),
    "convoy_id": ("/api/v1/convoys", "name"),
    "return_id": ("/api/v1/returns", "route"),
    "clearance_id": ("/api/v1/clearances", "place"),
    "proposal_id": ("/api/v1/merge-proposals?status=open", "id"),
    "identification_id": ("/api/v1/identifications", "id"),
    "number": ("/api/v1/bodies", "number"),
    "report_id": ("/api/v1/cot/reports", "callsign"),
    "body": ("/api/v1/bodies?unidentified=true", "number"),  # an identification is proposed for a body not yet identified
    "missing_person": ("/api/v1/missing-persons", "number"),
    "controller_id": ("/api/v1/trackers", "code"),
    "parent_id": ("/api/v1/units", "name"),
    "escort_unit_id": ("/api/v1/units", "name"),
    "responds_to_id": ("/api/v1/statements", "speaker"),
    "departure": ("/api/v1/airfields", "code"),
    "arrival": ("/api/v1/airfields", "code"),
    "tracker": ("/api/v1/trackers", "code"),
    "username": ("/api/v1/staff", "username"),  # on a roster, a device token: from the people the reader may name
}
# references sent by a name the record is known by rather than its id (an airfield's ICAO code, a tracker's code)
REFERENCE_VALUES: dict[str, str] = {"departure": "code", "arrival": "code", "tracker": "code", "username": "username"}
# a list of references, ticked from what the reader may choose now (bodies still in the mission's custody)
REFERENCE_LISTS: dict[str, tuple[str, str]] = {
    "bodies": ("/api/v1/bodies?awaiting_handover=true", "number"),
    "bound_tokens": ("/api/v1/trackers/device-tokens", "name"),  # device tokens in force, by their names
    "trackers": ("/api/v1/trackers", "code"),  # a patrol's trackers, by their codes
    "bound_users": ("/api/v1/staff", "username"),  # who moves a tracker: the mission's people
}
# a chart of the 32 permanent teeth (FDI 11..48), a quadrant a row, each from the midline back to the wisdom tooth
DENTAL_QUADRANTS: tuple[tuple[str, tuple[int, ...]], ...] = tuple(
    (name, tuple(range(quadrant * 10 + 1, quadrant * 10 + 9)))
    for quadrant, name in ((1, N_("Upper right")), (2, N_("Upper left")), (3, N_("Lower left")),
                            (4, N_("Lower right")))
)
# steps that cannot be undone: the page asks for confirmation first
IRREVERSIBLE = re.compile(r"(revoke|revocation|withdraw|abort|close|delete|termination|handover|split|accept)", re.IGNORECASE)


@dataclass(frozen=True)
class FormField:
    """One input of a form: ``path`` is where its value goes (``body.properties.code``, ``path.patrol_id``)."""

    path: str
    label: str
    kind: str  # text, textarea, integer, number, datetime, date, time, select, choices, checkbox, lines, geometry,
    #            json, file, reference, constant, client_id (hidden, made by the page), group, list,
    #            dental (a tooth chart), events (reports sorted into events)
    required: bool = False
    help: str = ""
    options: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    default: Any = None
    geometry_types: tuple[str, ...] = ()
    source: tuple[str, str] | None = None
    fields: tuple[FormField, ...] = ()
    numeric: bool = False  # the choices' values are record ids (numbers), not names
    value_key: str = ""  # a reference sent as this field of the record (its code), not as its id

    @property
    def element_id(self) -> str:
        return "f-" + re.sub(r"[^A-Za-z0-9_-]", "-", self.path)


@dataclass(frozen=True)
class Task:
    """A write of the API offered as a form."""

    operation_id: str
    method: str
    path: str
    title: str
    description: str
    tag: str
    roles: frozenset[str]
    content_type: str | None
    fields: tuple[FormField, ...] = field(default=())

    @property
    def irreversible(self) -> bool:
        return self.method == "delete" or bool(IRREVERSIBLE.search(self.operation_id))

    def admits(self, role: str) -> bool:
        return role == "admin" or role in self.roles

    @property
    def has_geometry(self) -> bool:
        """Whether the form draws a shape on a map (anywhere in it, a list's items included)."""
        def walk(fields: tuple[FormField, ...]) -> bool:
            return any(f.kind == "geometry" or walk(f.fields) for f in fields)
        return walk(self.fields)


def words_of(found: list[Task]) -> set[str]:
    """Every sentence the tasks pages show from the document (titles, groups, labels, hints): the catalogs
    must translate each (scripts/i18n-update extracts them, a test checks)."""
    words: set[str] = set()

    def walk(fields: tuple[FormField, ...]) -> None:
        for one in fields:
            words.update(w for w in (one.label, one.help) if w)
            walk(one.fields)

    for task in found:
        words.update(w for w in (task.title, task.description, task.tag.capitalize()) if w)
        walk(task.fields)
    return words


# names whose words alone read badly
LABELS = {"lat": "Latitude", "lon": "Longitude", "alt": "Altitude (m)", "t": "Time", "icao": "ICAO code",
          "dna_sampled": "DNA sampled", "family_dna_reference": "Family DNA reference", "rrule": "How often it repeats",
          "cot_uid": "CoT uid", "bbox": "Bounding box", "direction_deg": "Direction (degrees)",
          "last_seen_lat": "Last seen: latitude", "last_seen_lon": "Last seen: longitude", "speed": "Speed (m/s)",
          "heading": "Heading (degrees)", "accuracy": "Accuracy (m)", "sha256": "SHA-256 of the file",
          "record_key": "Record (its id or number)", "client_id": "The number your device gave it",
          "name_ru": "Name in Russian", "bound_tokens": "Device tokens"}


def body_rules(task: Task) -> dict[str, dict[str, Any]]:
    """The rules of a write's body a device can check before it keeps a record (required fields, choices, limits,
    instants), field by field, from the same OpenAPI document the server validates with: a report is corrected on
    the device instead of waiting a day to be refused."""
    rules: dict[str, dict[str, Any]] = {}
    for one in task.fields:
        if not one.path.startswith("body.") or one.path.count(".") != 1:
            continue
        rule: dict[str, Any] = {"kind": one.kind, "required": one.required}
        if one.options:
            rule["options"] = list(one.options)
        for name in ("minimum", "maximum", "max_length"):
            if (value := getattr(one, name)) is not None:
                rule[name] = value
        rules[one.path.removeprefix("body.")] = rule
    return rules


GENERIC_HELP = frozenset({"Record id"})  # a path parameter's description that tells a form's reader nothing


def label_of(name: str) -> str:
    """A field's label: its name in words ("planned_start" → "Planned start", "unit_id" → "Unit")."""
    if name in LABELS:
        return LABELS[name]
    words = name.removesuffix("_id") if name.endswith("_id") and name != "client_id" else name
    words = words.replace("_", " ").strip()
    words = re.sub(r"\b(m|km|cm|s)$", lambda m: f"({m.group(1)})", words)
    return (words[:1].upper() + words[1:]) if words else name


def tasks(document: Mapping[str, Any]) -> list[Task]:
    """Every write of the document that states who may make it (``x-roles``), as a task with its form."""
    found = []
    for path, operations in document.get("paths", {}).items():
        for method in WRITE_METHODS:
            operation = operations.get(method)
            if not operation or "x-roles" not in operation:
                continue
            found.append(task_of(document, path, method, operation))
    return found


def task_of(document: Mapping[str, Any], path: str, method: str, operation: Mapping[str, Any]) -> Task:
    fields = [_parameter_field(document, p) for p in operation.get("parameters", []) if p.get("in") == "path"]
    content = (operation.get("requestBody") or {}).get("content", {})
    content_type = next(iter(content), None)
    if content_type is not None:
        schema = _resolve(document, content[content_type].get("schema", {}))
        if content_type == "text/csv":
            fields.append(FormField("body", "File", "file", required=True, help=content_type))
        else:
            fields.extend(_object_fields(document, schema, "body"))
    summary = str(operation.get("summary") or operation.get("operationId") or path)
    return Task(operation_id=str(operation.get("operationId")), method=method, path=path, title=summary,
                description=str(operation.get("description") or ""), tag=str((operation.get("tags") or ["other"])[0]),
                roles=frozenset(operation["x-roles"]), content_type=content_type, fields=tuple(fields))


def _resolve(document: Mapping[str, Any], schema: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = {**document["components"]["schemas"][name], **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def _parameter_field(document: Mapping[str, Any], parameter: Mapping[str, Any]) -> FormField:
    name = str(parameter["name"])
    schema = _resolve(document, parameter.get("schema", {}))
    if name in REFERENCES:
        help_text = str(parameter.get("description", ""))
        return FormField(f"path.{name}", label_of(name), "reference", required=True, source=REFERENCES[name],
                         help="" if help_text in GENERIC_HELP else help_text)
    return _field(document, f"path.{name}", name, schema, required=True)


def _object_fields(document: Mapping[str, Any], schema: Mapping[str, Any], prefix: str) -> Iterator[FormField]:
    required = set(schema.get("required", []))
    for name, property_schema in schema.get("properties", {}).items():
        if name == "client_id":  # the form's own id for what it sends, made by the page: sent twice, stored once
            yield FormField(f"{prefix}.{name}", label_of(name), "client_id")
            continue
        yield _field(document, f"{prefix}.{name}", name, property_schema, required=name in required)


def _field(document: Mapping[str, Any], path: str, name: str, schema: Mapping[str, Any], *, required: bool) -> FormField:
    schema = _resolve(document, schema)
    help_text = str(schema.get("description", ""))
    if help_text.endswith(" Model") or help_text in GENERIC_HELP:  # geojson-pydantic's "Point Model" says nothing to a user
        help_text = ""
    label = label_of(name)
    variants = [_resolve(document, v) for v in schema.get("anyOf", schema.get("oneOf", []))]
    if variants:
        present = [v for v in variants if v.get("type") != "null"]
        if present and all(str(v.get("title")) in GEOMETRY_TYPES for v in present):
            return FormField(path, label, "geometry", required, help_text,
                             geometry_types=tuple(str(v["title"]) for v in present))
        if len(present) == 1:
            merged = {**present[0], **{k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}}
            return _field(document, path, name, merged, required=required and len(present) == len(variants))
        return FormField(path, label, "json", required, help_text)
    if str(schema.get("title")) in GEOMETRY_TYPES and schema.get("type") == "object":  # one kind of shape: a post's Point
        return FormField(path, label, "geometry", required, help_text, geometry_types=(str(schema["title"]),))
    if "const" in schema:
        return FormField(path, label, "constant", required, default=schema["const"])
    default = schema.get("default")
    if name in REFERENCES and schema.get("type") in ("integer", "string") and path.startswith("body."):
        return FormField(path, label, "reference", required, help_text, source=REFERENCES[name], default=default,
                         value_key=REFERENCE_VALUES.get(name, ""))
    if "enum" in schema:
        return FormField(path, label, "select", required, help_text, options=tuple(map(str, schema["enum"])),
                         default=default)
    kind = schema.get("type")
    if kind == "string":
        form = schema.get("format")
        if "contentMediaType" in schema or form == "binary":
            return FormField(path, label, "file", required, help_text)
        by_format = {"date-time": "datetime", "date": "date", "time": "time"}
        max_length = schema.get("maxLength")
        text = "textarea" if (max_length or 0) > LONG_TEXT else "text"
        return FormField(path, label, by_format.get(str(form), text), required, help_text, max_length=max_length,
                         default=default)
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum"))
        high = schema.get("maximum", schema.get("exclusiveMaximum"))
        return FormField(path, label, str(kind), required, help_text, minimum=low, maximum=high, default=default)
    if kind == "boolean":
        return FormField(path, label, "checkbox", False, help_text, default=default)
    if kind == "array":
        items = _resolve(document, schema.get("items", {}))
        if "enum" in items:
            return FormField(path, label, "choices", required, help_text, options=tuple(map(str, items["enum"])),
                             default=default)
        if name in REFERENCE_LISTS and path.startswith("body.") and items.get("type") in ("string", "integer"):
            return FormField(path, label, "choices", required, help_text, source=REFERENCE_LISTS[name],
                             numeric=items.get("type") == "integer")
        if name == "groups" and items.get("type") == "array" and _resolve(document, items.get("items", {})).get("type") == "integer":
            return FormField(path, "Events", "events", required)  # a split: each report put in the event it is
        if items.get("type") == "string" and "format" not in items:
            return FormField(path, label, "lines", required, help_text, max_length=items.get("maxLength"))
        if items.get("type") == "object" and items.get("properties"):
            return FormField(path, label, "list", required, help_text,
                             fields=tuple(_object_fields(document, items, f"{path}.{ITEM}")))
        return FormField(path, label, "json", required, help_text)
    if kind == "object" and schema.get("properties"):
        return FormField(path, label, "group", required, help_text, fields=tuple(_object_fields(document, schema, path)))
    states = _resolve(document, schema.get("additionalProperties") or {}).get("enum") if kind == "object" else None
    if name == "dental" and states:
        return FormField(path, "Dental chart", "dental", required, options=tuple(map(str, states)))
    return FormField(path, label, "json", required, help_text)
