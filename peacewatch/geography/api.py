from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Query, Request, Response, UploadFile
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from peacewatch.core.answers import model_answer
from peacewatch.core.db import utcnow
from peacewatch.core.geo import from_mgrs, parse_bbox, to_mgrs
from peacewatch.core.i18n import Sentence
from peacewatch.core.paging import counted_responses, with_total
from peacewatch.core.problems import Invalid, problem_responses, reader_gettext
from peacewatch.core.tabular import content_disposition
from peacewatch.core.web import MAX_ID, AnswersDep, LongLimit, Offset, Operations, Readable, RecordId, SessionDep
from peacewatch.geography import formats, service
from peacewatch.geography.features import collection, place_feature, post_feature, zone_feature
from peacewatch.geography.models import PostKind, ZoneKind
from peacewatch.geography.schemas import (
    ImportReport,
    PlaceIn,
    PlacePatch,
    PostCollection,
    PostFeature,
    PostIn,
    PostPatch,
    RefusedFeatureOut,
    ZoneCollection,
    ZoneFeature,
    ZoneIn,
    ZonePatch,
)

GEOJSON = "application/geo+json"
KML = "application/vnd.google-earth.kml+xml"


class GeoJSONResponse(JSONResponse):
    """GeoJSON's registered media type (RFC 7946), so GIS clients recognise the answer."""

    media_type = GEOJSON


WRITE_ERRORS = problem_responses(401, 403, 404, 409, 422)
BBoxQuery = Annotated[
    str | None, Query(description="min_lon,min_lat,max_lon,max_lat (WGS84)", examples=["46.3,39.5,47.3,40.4"])
]
OnQuery = Annotated[date | None, Query(description="Only what was in force or open on this date")]


def article(noun: str) -> str:
    return "an" if noun[:1].lower() in "aeiou" else "a"


def _zone_router(kind: ZoneKind, path: str, label: str) -> APIRouter:
    """The same CRUD for every kind of zone; only the kind and the words differ."""
    router = APIRouter(
        prefix=f"/api/v1/{path}", tags=["geography"], responses=problem_responses(422), default_response_class=GeoJSONResponse
    )

    @router.get("", response_model=ZoneCollection, summary=f"List {label}s as GeoJSON", responses=counted_responses())
    def list_zones(
        request: Request, session: SessionDep, readable: Readable, answers: AnswersDep, bbox: BBoxQuery = None,
        on: OnQuery = None, limit: LongLimit = 1000, offset: Offset = 0,
    ) -> Any:
        def build() -> Response:
            zones = service.page_zones(
                session, readable, kind=kind, bbox=parse_bbox(bbox) if bbox else None, on=on, limit=limit, offset=offset
            )
            return with_total(model_answer(ZoneCollection, collection([zone_feature(z) for z in zones.items]), GEOJSON), zones.total)

        return answers.reply(request, session, readable, ("zones",), build)

    @router.get("/{zone_id}", response_model=ZoneFeature, responses=problem_responses(404), summary=f"One {label}")
    def read_zone(zone_id: RecordId, session: SessionDep, readable: Readable) -> Any:
        return zone_feature(service.get_zone(session, zone_id, readable, kind))

    @router.post("", response_model=ZoneFeature, status_code=201, responses=WRITE_ERRORS, summary=f"Create {article(label)} {label}")
    def create_zone(data: ZoneIn, session: SessionDep, user: Operations) -> Any:
        return zone_feature(service.create_zone(session, user.username, kind, data))

    @router.patch("/{zone_id}", response_model=ZoneFeature, responses=WRITE_ERRORS, summary=f"Change {article(label)} {label}")
    def update_zone(zone_id: RecordId, patch: ZonePatch, session: SessionDep, user: Operations) -> Any:
        return zone_feature(service.update_zone(session, user.username, kind, zone_id, patch))

    @router.delete("/{zone_id}", status_code=204, responses=WRITE_ERRORS, summary=f"Delete {article(label)} {label}")
    def delete_zone(zone_id: RecordId, session: SessionDep, user: Operations) -> Response:
        service.delete_zone(session, user.username, kind, zone_id)
        return Response(status_code=204)

    return router


areas = _zone_router(ZoneKind.area_of_responsibility, "areas", "area of responsibility")
corridors = _zone_router(ZoneKind.corridor, "corridors", "corridor")
lines_of_contact = _zone_router(ZoneKind.line_of_contact, "lines-of-contact", "line of contact")
restricted_zones = _zone_router(ZoneKind.restricted_zone, "restricted-zones", "restricted zone")
districts = _zone_router(ZoneKind.district, "districts", "district")

posts = APIRouter(
    prefix="/api/v1/posts", tags=["geography"], responses=problem_responses(422), default_response_class=GeoJSONResponse
)


@posts.get("", response_model=PostCollection, summary="Observation posts and checkpoints as GeoJSON", responses=counted_responses())
def list_posts(
    request: Request,
    session: SessionDep,
    readable: Readable,
    answers: AnswersDep,
    bbox: BBoxQuery = None,
    on: Annotated[date | None, Query(description="Only posts open on this date; status is given for it")] = None,
    kind: PostKind | None = None,
    zone_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: LongLimit = 1000,
    offset: Offset = 0,
) -> Any:
    def build() -> Response:
        found = service.page_posts(
            session, readable, bbox=parse_bbox(bbox) if bbox else None, on=on, kind=kind, zone_id=zone_id,
            limit=limit, offset=offset,
        )
        status_on = on or utcnow().date()
        features = collection([post_feature(p, status_on) for p in found.items])
        return with_total(model_answer(PostCollection, features, GEOJSON), found.total)

    return answers.reply(request, session, readable, ("posts", "zones"), build)


@posts.get("/{post_id}", response_model=PostFeature, responses=problem_responses(404))
def read_post(
    post_id: RecordId, session: SessionDep, readable: Readable,
    on: Annotated[date | None, Query(description="Date the status is given for (default today)")] = None,
) -> Any:
    return post_feature(service.get_post(session, post_id, readable), on or utcnow().date())


@posts.post("", response_model=PostFeature, status_code=201, responses=WRITE_ERRORS, summary="Create an observation post or checkpoint")
def create_post(data: PostIn, session: SessionDep, user: Operations) -> Any:
    return post_feature(service.create_post(session, user.username, data), utcnow().date())


@posts.patch("/{post_id}", response_model=PostFeature, responses=WRITE_ERRORS, summary="Change a post")
def update_post(post_id: RecordId, patch: PostPatch, session: SessionDep, user: Operations) -> Any:
    return post_feature(service.update_post(session, user.username, post_id, patch), utcnow().date())


@posts.delete("/{post_id}", status_code=204, responses=WRITE_ERRORS, summary="Delete a post")
def delete_post(post_id: RecordId, session: SessionDep, user: Operations) -> Response:
    service.delete_post(session, user.username, post_id)
    return Response(status_code=204)


layers = APIRouter(prefix="/api/v1/layers", tags=["geography"], responses=problem_responses(422))
LayerName = Literal["areas", "corridors", "lines-of-contact", "restricted-zones", "districts", "posts"]


@layers.get(
    "/{layer}",
    summary="Export a layer as GeoJSON or KML",
    response_class=Response,
    responses={200: {"content": {GEOJSON: {"schema": {"type": "object"}}, KML: {"schema": {"type": "string"}}}}},
)
def export_layer(
    layer: LayerName,
    session: SessionDep,
    readable: Readable,
    format: Annotated[Literal["geojson", "kml"], Query()] = "geojson",
    on: OnQuery = None,
) -> Response:
    features = service.layer_features(session, readable, layer, on)
    filename = f"peacewatch-{layer}{'-' + on.isoformat() if on else ''}"
    if format == "kml":
        body = formats.write_kml(features, f"PeaceWatch {layer}")
        return Response(body, media_type=KML, headers=content_disposition(f"{filename}.kml"))
    body = json.dumps(jsonable_encoder(collection(features)))
    return Response(body, media_type=GEOJSON, headers=content_disposition(f"{filename}.geojson"))


@layers.post("/{layer}", response_model=ImportReport, responses=WRITE_ERRORS,
             summary="Import a GeoJSON, KML or KMZ file: each feature imported or refused with its reason")
def import_layer(
    request: Request,
    layer: LayerName,
    session: SessionDep,
    user: Operations,
    file: Annotated[UploadFile, File(description="A GeoJSON FeatureCollection, a KML document or a KMZ")],
    all_or_nothing: Annotated[bool, Query(description="Import nothing if any feature is refused")] = False,
) -> ImportReport:
    said = reader_gettext(request)  # why each feature was refused, in the reader's language
    data = file.file.read(formats.MAX_LAYER_BYTES + 1)
    outcome = service.import_layer_file(session, user.username, layer, data, filename=file.filename, content_type=file.content_type,
                                        all_or_nothing=all_or_nothing)
    return ImportReport(layer=layer, created=outcome.created, updated=outcome.updated, codes=outcome.codes,
                        refused=[RefusedFeatureOut(index=r.index, name=r.name, reason=(r.said or Sentence(r.reason)).said_in(said))
                                 for r in outcome.refused],
                        ignored_properties=outcome.ignored_properties)


coordinates = APIRouter(prefix="/api/v1/coordinates", tags=["geography"], responses=problem_responses(422))


class CoordinateOut(BaseModel):
    lat: float
    lon: float
    mgrs: str | None = Field(description="1 m precision; null where MGRS is undefined")


@coordinates.get("", response_model=CoordinateOut, summary="A WGS84 point in MGRS (the map's cursor readout), or an MGRS grid square's middle")
def convert_coordinates(
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
    mgrs: Annotated[str | None, Query(max_length=40, description="A grid reference to go to, any precision (38TNK 638 093)")] = None,
) -> CoordinateOut:
    if mgrs is not None:
        lat, lon = from_mgrs(mgrs)
        return CoordinateOut(lat=lat, lon=lon, mgrs=to_mgrs(lat, lon))
    if lat is None or lon is None:
        raise Invalid("give lat and lon, or mgrs", field="lat" if lat is None else "lon")
    return CoordinateOut(lat=lat, lon=lon, mgrs=to_mgrs(lat, lon))


places = APIRouter(prefix="/api/v1/places", tags=["geography"], responses=problem_responses(422))


@places.get("", summary="Named places marked on a GPS or a map (GPX waypoints kept as places), as GeoJSON",
            responses=counted_responses({200: {"content": {"application/geo+json": {"schema": {"type": "object"}}}}}))
def list_places(session: SessionDep, readable: Readable, limit: LongLimit = 1000,
                offset: Offset = 0) -> Response:
    page = service.list_places(session, readable, limit=limit, offset=offset)
    features = [place_feature(p) for p in page.items]
    return with_total(JSONResponse({"type": "FeatureCollection", "features": features}, media_type=GEOJSON), page.total)


@places.post("", status_code=201, responses=WRITE_ERRORS, summary="Mark a place on the map (a named spot, shared as its visibility says)",
             response_class=GeoJSONResponse)
def create_place(data: PlaceIn, session: SessionDep, user: Operations) -> Any:
    return place_feature(service.create_place(session, user.username, data))


@places.patch("/{place_id}", responses=WRITE_ERRORS, summary="Move or rename a marked place, or share it otherwise",
              response_class=GeoJSONResponse)
def update_place(place_id: RecordId, patch: PlacePatch, session: SessionDep, user: Operations) -> Any:
    return place_feature(service.update_place(session, user.username, place_id, patch))


@places.delete("/{place_id}", status_code=204, responses=WRITE_ERRORS, summary="Remove a marked place")
def delete_place(place_id: RecordId, session: SessionDep, user: Operations) -> Response:
    service.delete_place(session, user.username, place_id)
    return Response(status_code=204)
