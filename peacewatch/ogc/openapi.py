"""The OpenAPI 3.0 definition of ``/ogc``, self-contained (no schema fetched from the internet: the site may be air-gapped)."""

from __future__ import annotations

from typing import Any

from peacewatch import __version__

GEOJSON, JSON, HTML = "application/geo+json", "application/json", "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"


def _parameter(name: str, description: str, schema: dict[str, Any], *, where: str = "query", style: str | None = None,
               explode: bool | None = None, required: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "in": where, "description": description, "required": required or where == "path",
                           "schema": schema}
    if style is not None:
        out["style"] = style
    if explode is not None:
        out["explode"] = explode
    return out


def _ok(description: str, *kinds: str, schema: str | None = None) -> dict[str, Any]:
    content = {kind: ({"schema": {"$ref": f"#/components/schemas/{schema}"}} if schema and kind != HTML else {"schema": {"type": "string"}})
               for kind in kinds}
    return {"200": {"description": description, "content": content},
            "400": {"$ref": "#/components/responses/InvalidParameter"}}


def definition(server: str, collection_ids: list[str]) -> dict[str, Any]:
    f = _parameter("f", "The representation: json or html (or use the Accept header)", {"type": "string", "enum": ["json", "html"]})
    collection_id = _parameter("collectionId", "The collection", {"type": "string", "enum": collection_ids}, where="path")
    crs = _parameter("crs", "The CRS of the answer's geometries", {"type": "string", "format": "uri"})
    items_parameters = [
        collection_id, f, crs,
        _parameter("bbox", "Features intersecting the box: min_lon,min_lat,max_lon,max_lat (with heights: six numbers)",
                   {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}}, style="form", explode=False),
        _parameter("bbox-crs", "The CRS of bbox", {"type": "string", "format": "uri"}),
        _parameter("datetime", "An instant or an interval (RFC 3339, '..' for an open end)", {"type": "string"}),
        _parameter("limit", "Features per page", {"type": "integer", "minimum": 1, "maximum": 10000, "default": 10}),
        _parameter("offset", "Features to skip (the next and prev links set it)", {"type": "integer", "minimum": 0, "default": 0}),
        _parameter("filter", "A CQL2-text filter on the collection's queryables", {"type": "string"}),
        _parameter("filter-lang", "The filter's language", {"type": "string", "enum": ["cql2-text"], "default": "cql2-text"}),
    ]
    link = {"type": "object", "required": ["href"], "properties": {k: {"type": "string"} for k in ("href", "rel", "type", "title")}}
    feature = {"type": "object", "required": ["type", "geometry", "properties"],
               "properties": {"type": {"type": "string", "enum": ["Feature"]}, "id": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
                              "geometry": {"type": "object", "nullable": True}, "properties": {"type": "object", "nullable": True},
                              "links": {"type": "array", "items": {"$ref": "#/components/schemas/link"}}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "PeaceWatch OGC API - Features", "version": __version__,
                 "description": "Areas of responsibility, corridors, lines of contact, posts, patrol tracks, incidents and "
                                "the official map. Anonymous clients read public features; a bearer token or an "
                                "X-API-Key header gives a role's view."},
        "servers": [{"url": server}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
            "schemas": {
                "link": link,
                "landingPage": {"type": "object", "required": ["links"], "properties": {
                    "title": {"type": "string"}, "description": {"type": "string"},
                    "links": {"type": "array", "items": {"$ref": "#/components/schemas/link"}}}},
                "confClasses": {"type": "object", "required": ["conformsTo"],
                                "properties": {"conformsTo": {"type": "array", "items": {"type": "string"}}}},
                "collection": {"type": "object", "required": ["id", "links"], "properties": {
                    "id": {"type": "string"}, "title": {"type": "string"}, "description": {"type": "string"},
                    "links": {"type": "array", "items": {"$ref": "#/components/schemas/link"}},
                    "extent": {"type": "object"}, "itemType": {"type": "string"},
                    "crs": {"type": "array", "items": {"type": "string"}}, "storageCrs": {"type": "string"}}},
                "collections": {"type": "object", "required": ["links", "collections"], "properties": {
                    "links": {"type": "array", "items": {"$ref": "#/components/schemas/link"}},
                    "collections": {"type": "array", "items": {"$ref": "#/components/schemas/collection"}}}},
                "featureGeoJSON": feature,
                "featureCollectionGeoJSON": {"type": "object", "required": ["type", "features"], "properties": {
                    "type": {"type": "string", "enum": ["FeatureCollection"]},
                    "features": {"type": "array", "items": {"$ref": "#/components/schemas/featureGeoJSON"}},
                    "links": {"type": "array", "items": {"$ref": "#/components/schemas/link"}},
                    "timeStamp": {"type": "string", "format": "date-time"},
                    "numberMatched": {"type": "integer", "minimum": 0}, "numberReturned": {"type": "integer", "minimum": 0}}},
                "exception": {"type": "object", "required": ["title"], "properties": {
                    "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                    "detail": {"type": "string"}}},
            },
            "responses": {
                "InvalidParameter": {"description": "A query parameter is unknown or has a bad value",
                                     "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/exception"}}}},
                "NotFound": {"description": "No such collection or feature (or not in the caller's scope)",
                             "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/exception"}}}},
            },
        },
        "paths": {
            "/": {"get": {"summary": "Landing page", "operationId": "getLandingPage", "parameters": [f],
                          "responses": _ok("The landing page", JSON, HTML, schema="landingPage")}},
            "/conformance": {"get": {"summary": "Conformance classes", "operationId": "getConformanceDeclaration", "parameters": [f],
                                     "responses": _ok("The conformance classes", JSON, HTML, schema="confClasses")}},
            "/api": {"get": {"summary": "This document", "operationId": "getAPI", "parameters": [f],
                             "responses": _ok("The API definition", OPENAPI, HTML)}},
            "/collections": {"get": {"summary": "The collections", "operationId": "getCollections", "parameters": [f],
                                     "responses": _ok("The collections", JSON, HTML, schema="collections")}},
            "/collections/{collectionId}": {"get": {
                "summary": "One collection", "operationId": "describeCollection", "parameters": [collection_id, f],
                "responses": {**_ok("The collection", JSON, HTML, schema="collection"), "404": {"$ref": "#/components/responses/NotFound"}}}},
            "/collections/{collectionId}/queryables": {"get": {
                "summary": "What a filter may ask about", "operationId": "getQueryables", "parameters": [collection_id, f],
                "responses": {**_ok("The queryables, as JSON Schema", "application/schema+json", HTML),
                              "404": {"$ref": "#/components/responses/NotFound"}}}},
            "/collections/{collectionId}/items": {"get": {
                "summary": "The features", "operationId": "getFeatures", "parameters": items_parameters,
                "responses": {**_ok("A page of features", GEOJSON, HTML, schema="featureCollectionGeoJSON"),
                              "404": {"$ref": "#/components/responses/NotFound"}}}},
            "/collections/{collectionId}/items/{featureId}": {"get": {
                "summary": "One feature", "operationId": "getFeature",
                "parameters": [collection_id, _parameter("featureId", "The feature", {"type": "string"}, where="path"), f, crs],
                "responses": {**_ok("The feature", GEOJSON, HTML, schema="featureGeoJSON"),
                              "404": {"$ref": "#/components/responses/NotFound"}}}},
        },
    }
