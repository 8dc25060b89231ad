"""The forms built from the API's OpenAPI document, and validation errors in plain words: no database."""

from __future__ import annotations

from typing import Any

import pytest

from peacewatch.core.i18n import translations
from peacewatch.core.plain_words import plain_message
from peacewatch.ui.forms import ITEM, FormField, body_rules, label_of, tasks

DOCUMENT: dict[str, Any] = {
    "paths": {
        "/api/v1/recoveries": {"post": {
            "operationId": "record_recovery", "summary": "Record a recovery", "tags": ["remains"], "x-roles": ["humanitarian", "admin"],
            "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/RecoveryIn"}}}}}},
        "/api/v1/tokens/{token_id}/revoke": {"post": {
            "operationId": "revoke_api_token", "summary": "Revoke", "x-roles": ["admin"],
            "parameters": [{"name": "token_id", "in": "path", "required": True, "schema": {"type": "integer"}}]}},
        "/api/v1/auth/token": {"post": {"operationId": "sign_in", "summary": "Sign in"}},  # any caller: not a task
        "/api/v1/things": {"get": {"operationId": "list", "x-roles": ["admin"]}},  # a read: not a task
    },
    "components": {"schemas": {
        "Side": {"type": "string", "enum": ["A", "B"], "title": "Side"},
        "Point": {"title": "Point", "type": "object", "properties": {"type": {"const": "Point"}}},
        "Polygon": {"title": "Polygon", "type": "object", "properties": {"type": {"const": "Polygon"}}},
        "BodyIn": {"type": "object", "properties": {
            "kind": {"type": "string", "enum": ["body", "body_part"], "default": "body"},
            "marks": {"type": "array", "items": {"type": "string", "maxLength": 300}}}},
        "RecoveryIn": {"type": "object", "required": ["recovered_at", "site", "side", "team"], "properties": {
            "recovered_at": {"type": "string", "format": "date-time"},
            "site": {"anyOf": [{"$ref": "#/components/schemas/Point"}, {"$ref": "#/components/schemas/Polygon"}]},
            "side": {"$ref": "#/components/schemas/Side", "description": "The side whose area the site is in"},
            "team": {"type": "string", "minLength": 1, "maxLength": 200},
            "notes": {"type": "string", "maxLength": 5000, "default": ""},
            "bodies_found": {"type": "integer", "minimum": 0, "maximum": 1000},
            "unit_id": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
            "bodies": {"type": "array", "items": {"$ref": "#/components/schemas/BodyIn"}},
            "checked": {"type": "boolean", "default": False},
            "dental": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/Tooth"}},
            "groups": {"anyOf": [{"type": "array", "items": {"type": "array", "items": {"type": "integer"}}}, {"type": "null"}]},
            "bound_tokens": {"type": "array", "items": {"type": "integer"}},
            "bodies_handed": {"type": "array", "items": {"type": "object"}},
        }},
        "Tooth": {"type": "string", "enum": ["sound", "filled", "crowned", "extracted", "unknown"]},
    }},
}


def by_path(fields: tuple[FormField, ...]) -> dict[str, FormField]:
    found = {}
    for field in fields:
        found[field.path] = field
        found.update(by_path(field.fields))
    return found


def test_only_writes_that_state_their_roles_become_tasks() -> None:
    found = {t.operation_id: t for t in tasks(DOCUMENT)}
    assert set(found) == {"record_recovery", "revoke_api_token"}
    assert found["revoke_api_token"].irreversible and not found["record_recovery"].irreversible
    assert found["record_recovery"].admits("humanitarian") and found["record_recovery"].admits("admin")
    assert not found["record_recovery"].admits("press")


def test_a_schema_becomes_fields_with_kinds_limits_and_choices() -> None:
    recovery = next(t for t in tasks(DOCUMENT) if t.operation_id == "record_recovery")
    fields = by_path(recovery.fields)
    assert fields["body.recovered_at"].kind == "datetime" and fields["body.recovered_at"].required
    assert fields["body.site"].kind == "geometry" and fields["body.site"].geometry_types == ("Point", "Polygon")
    assert fields["body.side"].kind == "select" and fields["body.side"].options == ("A", "B")
    assert fields["body.side"].help == "The side whose area the site is in"
    assert fields["body.team"].kind == "text" and fields["body.team"].max_length == 200
    assert fields["body.notes"].kind == "textarea" and not fields["body.notes"].required
    assert (fields["body.bodies_found"].minimum, fields["body.bodies_found"].maximum) == (0, 1000)
    assert fields["body.unit_id"].kind == "reference" and not fields["body.unit_id"].required
    assert fields["body.unit_id"].source == ("/api/v1/units", "name")
    assert fields["body.bodies"].kind == "list"
    assert fields[f"body.bodies.{ITEM}.kind"].kind == "select"
    assert fields[f"body.bodies.{ITEM}.marks"].kind == "lines"
    assert fields["body.checked"].kind == "checkbox"
    # nothing typed as JSON: a tooth chart, reports sorted into events, device tokens ticked by name
    assert fields["body.dental"].kind == "dental" and fields["body.dental"].options[:2] == ("sound", "filled")
    assert fields["body.groups"].kind == "events" and not fields["body.groups"].required
    assert fields["body.bound_tokens"].kind == "choices" and fields["body.bound_tokens"].numeric
    assert fields["body.bound_tokens"].source == ("/api/v1/trackers/device-tokens", "name")
    assert fields["body.bodies_handed"].kind == "json"  # a shape no form knows is still offered, as JSON
    revoke = next(t for t in tasks(DOCUMENT) if t.operation_id == "revoke_api_token")
    assert [f.path for f in revoke.fields] == ["path.token_id"] and revoke.fields[0].kind == "reference"


def test_a_devices_rules_are_the_bodys_top_fields_with_their_limits() -> None:
    recovery = next(t for t in tasks(DOCUMENT) if t.operation_id == "record_recovery")
    rules = body_rules(recovery)
    assert rules["recovered_at"] == {"kind": "datetime", "required": True}
    assert rules["side"] == {"kind": "select", "required": True, "options": ["A", "B"]}
    assert rules["bodies_found"] == {"kind": "integer", "required": False, "minimum": 0, "maximum": 1000}
    assert rules["team"]["max_length"] == 200 and rules["team"]["required"]
    assert not any("." in name for name in rules)  # a list item's fields are the server's to check


@pytest.mark.parametrize(("name", "label"), [("planned_start", "Planned start"), ("unit_id", "Unit"),
                                             ("client_id", "The number your device gave it"), ("width_m", "Width (m)")])
def test_labels_are_words(name: str, label: str) -> None:
    assert label_of(name) == label


@pytest.mark.parametrize(("error", "english"), [
    ({"type": "missing", "msg": "Field required"}, "Fill this in."),
    ({"type": "string_too_short", "msg": "String should have at least 1 character", "ctx": {"min_length": 1}}, "Fill this in."),
    ({"type": "greater_than_equal", "msg": "Input should be greater than or equal to 1", "ctx": {"ge": 1.0}}, "Must be 1 or more."),
    ({"type": "string_too_long", "msg": "…", "ctx": {"max_length": 200}}, "At most 200 characters."),
    ({"type": "enum", "msg": "Input should be 'A' or 'B'", "ctx": {"expected": "'A' or 'B'"}}, "Choose one of: 'A' or 'B'."),
    ({"type": "value_error", "msg": "Value error, the end is before the start"}, "the end is before the start"),
    ({"type": "some_new_kind", "msg": "whatever pydantic says"}, "whatever pydantic says"),
])
def test_validation_errors_in_plain_words(error: dict[str, Any], english: str) -> None:
    assert plain_message(error, str) == english


def test_plain_words_in_russian() -> None:
    russian = translations("ru").gettext
    assert plain_message({"type": "missing", "msg": "Field required"}, russian) != "Fill this in."
    assert "200" in plain_message({"type": "string_too_long", "msg": "…", "ctx": {"max_length": 200}}, russian)
