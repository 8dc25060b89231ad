"""OGC API - Features at ``/ogc``: landing page, conformance, the API definition, collections, queryables, items.

JSON (GeoJSON for features) or HTML, chosen by ``f`` or by the ``Accept`` header (QGIS sends no
``f``). Anonymous clients read public features; a bearer token or an ``X-API-Key`` header gives a
role's view, exactly as the rest of the API. Unknown query parameters are answered with 400.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

import mimeparse
import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session

from peacewatch import __version__
from peacewatch.core.db import utcnow
from peacewatch.core.problems import problem_responses
from peacewatch.core.settings import Settings
from peacewatch.core.tabular import content_disposition
from peacewatch.core.visibility import Scope
from peacewatch.core.web import AnswersDep, Readable, SessionDep, SettingsDep
from peacewatch.ogc import service
from peacewatch.ogc.collections import COLLECTIONS, Collection
from peacewatch.ogc.exports import FORMATS as EXPORT_FORMATS
from peacewatch.ogc.exports import ExportFormat, Filters, export
from peacewatch.ogc.openapi import GEOJSON, HTML, JSON, OPENAPI, definition
from peacewatch.ogc.query import (
    CRS84,
    CRSES,
    DEFAULT_LIMIT,
    MAX_LIMIT,
    BadParameter,
    Window,
    compile_filter,
    crs_of,
    parse_bbox,
    parse_datetime,
    parse_int,
    unknown_parameters,
)

QUERYABLES = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/temporal-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
]
ITEMS_PARAMETERS = ("f", "bbox", "bbox-crs", "datetime", "limit", "offset", "crs", "filter", "filter-lang")
TEMPLATES = Path(__file__).parent / "templates"
ERRORS = problem_responses(400, 404)
EXPORT_TYPES = sorted({kind.split(";")[0] for kind in EXPORT_FORMATS.values()})

router = APIRouter(prefix="/ogc", tags=["ogc"], responses=problem_responses(400))


@cache
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(), trim_blocks=True, lstrip_blocks=True)


# media types a client may ask for, and the format answering each; JSON last, as ties go to the last offered
NEGOTIATED = {HTML: "html", "application/xhtml+xml": "html", "application/schema+json": "json", OPENAPI.split(";")[0]: "json",
              GEOJSON: "json", JSON: "json"}


def _format(request: Request, allowed: tuple[str, ...] = ("json", "html"), extra: tuple[str, ...] = ()) -> str:
    """``f`` if given, else the Accept header's preference (JSON unless HTML is preferred: QGIS sends no ``f``)."""
    unknown_parameters(request.query_params.keys(), ("f", *extra))
    asked = request.query_params.get("f")
    if asked is not None:
        if asked not in allowed:
            raise BadParameter("f: '{asked}' is not offered; use {allowed}", field="query.f", asked=asked, allowed=' or '.join(allowed))
        return asked
    offered = [kind for kind, fmt in NEGOTIATED.items() if fmt in allowed]
    try:
        best = mimeparse.best_match(offered, request.headers.get("accept", ""))
    except mimeparse.MimeTypeParseException:  # a header we cannot read states no preference
        best = ""
    return NEGOTIATED.get(best, "json")


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/ogc"


def _link(href: str, rel: str, kind: str, title: str) -> dict[str, str]:
    return {"href": href, "rel": rel, "type": kind, "title": title}


def _link_header(links: list[dict[str, str]]) -> str:
    """The page's navigation links as an RFC 8288 ``Link`` header too, for clients that read headers."""
    return ", ".join(f'<{link["href"]}>; rel="{link["rel"]}"; type="{link["type"]}"' for link in links
                     if link["rel"] in ("self", "alternate", "next", "prev", QUERYABLES))


def _json(body: Any, media_type: str = JSON, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), media_type=media_type, headers=headers)


def _html(template: str, **context: Any) -> HTMLResponse:
    return HTMLResponse(_environment().get_template(template).render(version=__version__, **context))


def _alternates(url: str, fmt: str, json_type: str = JSON) -> list[dict[str, str]]:
    other = "html" if fmt == "json" else "json"
    this_type, other_type = (json_type, HTML) if fmt == "json" else (HTML, json_type)
    return [_link(f"{url}?f={fmt}", "self", this_type, "This document"),
            _link(f"{url}?f={other}", "alternate", other_type, f"This document as {other.upper()}")]


@router.get("", summary="Landing page", response_class=Response,
            responses={200: {"content": {JSON: {}, HTML: {}}}})
@router.get("/", include_in_schema=False)  # clients that join paths keep the slash (GDAL, the OGC test suites)
def landing(request: Request) -> Response:
    fmt, base = _format(request), _base(request)
    body = {
        "title": "PeaceWatch", "description": "The mission's geography, posts, patrol tracks and incidents as OGC API - Features.",
        "links": [*_alternates(base, fmt),
                  _link(f"{base}/api", "service-desc", OPENAPI, "The API definition (OpenAPI 3.0)"),
                  _link(f"{base}/api?f=html", "service-doc", HTML, "The API documentation"),
                  _link(f"{base}/conformance", "conformance", JSON, "Conformance classes"),
                  _link(f"{base}/collections", "data", JSON, "The collections")],
    }
    return _json(body) if fmt == "json" else _html("landing.html", body=body, base=base)


@router.get("/conformance", summary="The conformance classes", response_class=Response,
            responses={200: {"content": {JSON: {}, HTML: {}}}})
def conformance(request: Request) -> Response:
    fmt = _format(request)
    body = {"conformsTo": CONFORMANCE}
    return _json(body) if fmt == "json" else _html("conformance.html", body=body, base=_base(request))


@router.get("/api", summary="The API definition, OpenAPI 3.0", response_class=Response,
            responses={200: {"content": {OPENAPI: {}, JSON: {}, HTML: {}}}})
def api_definition(request: Request) -> Response:
    fmt = _format(request)
    document = definition(_base(request), list(COLLECTIONS))
    if fmt == "html":
        return _html("api.html", base=_base(request), document=document)
    return _json(document, OPENAPI)


def _collection_body(collection: Collection, base: str, fmt: str) -> dict[str, Any]:
    url = f"{base}/collections/{collection.id}"
    body: dict[str, Any] = {
        "id": collection.id, "title": collection.title, "description": collection.description, "itemType": "feature",
        "links": [*_alternates(url, fmt),
                  _link(f"{url}/items?f=json", "items", GEOJSON, "The features as GeoJSON"),
                  _link(f"{url}/items?f=html", "items", HTML, "The features as HTML"),
                  _link(f"{url}/queryables", QUERYABLES, "application/schema+json",
                        "What the filter may ask about")],
        "extent": {"spatial": {"bbox": [[45.0, 38.8, 48.0, 41.0]], "crs": CRS84}},
        "crs": list(CRSES), "storageCrs": CRS84,
    }
    if collection.temporal is not None:
        body["extent"]["temporal"] = {"interval": [[None, None]], "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}
    return body


@router.get("/collections", summary="The collections", response_class=Response, responses={200: {"content": {JSON: {}, HTML: {}}}})
def collections(request: Request) -> Response:
    fmt, base = _format(request), _base(request)
    body = {"links": _alternates(f"{base}/collections", fmt), "crs": list(CRSES),
            "collections": [_collection_body(c, base, "json") for c in COLLECTIONS.values()]}
    return _json(body) if fmt == "json" else _html("collections.html", body=body, base=base)


@router.get("/collections/{collectionId}", summary="One collection", response_class=Response,
            responses={200: {"content": {JSON: {}, HTML: {}}}, **ERRORS})
def collection(request: Request, collectionId: str) -> Response:
    fmt = _format(request)
    body = _collection_body(service.get_collection(collectionId), _base(request), fmt)
    return _json(body) if fmt == "json" else _html("collection.html", body=body, base=_base(request))


@router.get("/collections/{collectionId}/queryables", summary="What a filter may ask about (JSON Schema)", response_class=Response,
            responses={200: {"content": {"application/schema+json": {}, HTML: {}}}, **ERRORS})
def queryables(request: Request, collectionId: str) -> Response:
    fmt = _format(request)
    found = service.get_collection(collectionId)
    url = f"{_base(request)}/collections/{found.id}/queryables"
    body = {
        "$schema": "https://json-schema.org/draft/2020-12/schema", "$id": url, "type": "object",
        "title": found.title, "properties": {"geometry": {"format": found.geometry}, **found.queryables},
        "additionalProperties": False,
    }
    return _json(body, "application/schema+json") if fmt == "json" else _html("queryables.html", body=body, base=_base(request))


@router.get("/collections/{collectionId}/items", summary="The features, by box, time and filter, a page at a time",
            response_class=Response, responses={200: {"content": {GEOJSON: {}, HTML: {}}}, **ERRORS})
def items(request: Request, collectionId: str, session: SessionDep, settings: SettingsDep, readable: Readable,
          answers: AnswersDep) -> Response:
    found = service.get_collection(collectionId)
    fmt = _format(request, extra=(*ITEMS_PARAMETERS[1:], *found.queryables))  # a queryable is a parameter too
    if not found.tables:
        return _items(request, session, settings, readable, found, fmt)
    return answers.reply(request, session, readable, found.tables,
                         lambda: _items(request, session, settings, readable, found, fmt), variant=(fmt, _base(request)))


def _items(request: Request, session: Session, settings: Settings, readable: Scope,
           found: Collection, fmt: str) -> Response:
    params = request.query_params
    crs = crs_of(params.get("crs"), "crs")
    start, end = parse_datetime(params.get("datetime"))
    query = service.ItemsQuery(
        window=Window(parse_bbox(params.get("bbox"), crs_of(params.get("bbox-crs"), "bbox-crs")), start, end),
        limit=parse_int(params.get("limit"), "limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
        offset=parse_int(params.get("offset"), "offset", 0, 0, 10**9), crs=crs,
        filter=compile_filter(params.get("filter"), params.get("filter-lang"), {"geometry": {"format": found.geometry}, **found.queryables},
                            {name: value for name, value in params.items() if name in found.queryables}),
    )
    page = service.items(session, settings, readable, found, query)
    url = f"{_base(request)}/collections/{found.id}/items"
    kept = {k: v for k, v in params.items() if k not in ("f", "offset")}

    def page_link(offset: int, rel: str, kind: str, fmt_: str) -> dict[str, str]:
        return _link(f"{url}?{urlencode({**kept, 'f': fmt_, 'offset': offset})}", rel, kind, rel.capitalize() + " page")

    links = [page_link(query.offset, "self", GEOJSON if fmt == "json" else HTML, fmt),
             page_link(query.offset, "alternate", HTML if fmt == "json" else GEOJSON, "html" if fmt == "json" else "json"),
             _link(f"{_base(request)}/collections/{found.id}", "collection", JSON, found.title),
             _link(f"{_base(request)}/collections/{found.id}/queryables", QUERYABLES, "application/schema+json", "Queryables")]
    if query.offset + len(page.features) < page.matched:
        links.append(page_link(query.offset + query.limit, "next", GEOJSON if fmt == "json" else HTML, fmt))
    if query.offset > 0:
        links.append(page_link(max(0, query.offset - query.limit), "prev", GEOJSON if fmt == "json" else HTML, fmt))
    body = {"type": "FeatureCollection", "features": page.features, "links": links,
            "timeStamp": utcnow().replace(microsecond=0).isoformat().replace("+00:00", "Z"),
            "numberMatched": page.matched, "numberReturned": len(page.features)}
    headers = {"Content-Crs": f"<{crs}>", "Link": _link_header(links)}
    if fmt == "html":
        columns = list(dict.fromkeys(k for f in page.features for k in f["properties"] or {}))
        response = _html("items.html", body=body, base=_base(request), collection=found, columns=columns)
        response.headers.update(headers)
        return response
    return _json(body, GEOJSON, headers)


@router.get("/collections/{collectionId}/items/{featureId}", summary="One feature", response_class=Response,
            responses={200: {"content": {GEOJSON: {}, HTML: {}}}, **ERRORS})
def feature(request: Request, collectionId: str, featureId: str, session: SessionDep, settings: SettingsDep,
            readable: Readable) -> Response:
    fmt = _format(request, extra=("crs",))
    found = service.get_collection(collectionId)
    crs = crs_of(request.query_params.get("crs"), "crs")
    body = service.item(session, settings, readable, found, featureId, crs)
    url = f"{_base(request)}/collections/{found.id}/items/{featureId}"
    body = {**body, "links": [*_alternates(url, fmt, GEOJSON),
                              _link(f"{_base(request)}/collections/{found.id}", "collection", JSON, found.title)]}
    headers = {"Content-Crs": f"<{crs}>", "Link": _link_header(body["links"])}
    if fmt == "html":
        response = _html("feature.html", body=body, base=_base(request), collection=found)
        response.headers.update(headers)
        return response
    return _json(body, GEOJSON, headers)


def _add_head_routes() -> None:
    """HEAD beside every GET, as HTTP/1.1 asks of a server (and OGC clients use it to read the Link header)."""
    for route in list(router.routes):
        methods: set[str] = getattr(route, "methods", set())
        if "GET" in methods:
            router.add_api_route(route.path.removeprefix(router.prefix), route.endpoint, methods=["HEAD"],  # type: ignore[attr-defined]  # APIRoute has .path and .endpoint; router.routes is typed as BaseRoute
                                 include_in_schema=False, response_class=Response)


_add_head_routes()


exports = APIRouter(prefix="/api/v1/exports", tags=["ogc"], responses=problem_responses(404, 422))


@exports.get("/{collection_id}", summary="A collection as a file: GeoJSON, KML, GPX, CSV (incidents also ACLED), filtered",
             response_class=Response, responses={200: {"content": {kind: {"schema": {"type": "string"}} for kind in EXPORT_TYPES}}})
def export_file(
    collection_id: str, session: SessionDep, settings: SettingsDep, readable: Readable,
    format: Annotated[ExportFormat, Query(description="acled: incidents in ACLED's columns")] = ExportFormat.geojson,
    since: Annotated[date | None, Query(description="From this day (UTC)")] = None,
    until: Annotated[date | None, Query(description="To this day (UTC), included")] = None,
    area: Annotated[str | None, Query(max_length=64, description="An area of responsibility's or corridor's code, e.g. north")] = None,
    type: Annotated[str | None, Query(max_length=64, description="The features' type (incidents), kind (posts, zones) or status")] = None,
) -> Response:
    made = export(session, settings, readable, collection_id, format.value, Filters(since, until, area, type))
    return Response(made.body, media_type=made.media_type,
                    headers=content_disposition(made.filename) | {"X-Feature-Count": str(made.count)})
