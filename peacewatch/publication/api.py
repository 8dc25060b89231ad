"""The official map's downloads: public, no sign-in, the same content in every format."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from fastapi.encoders import jsonable_encoder
from starlette.concurrency import run_in_threadpool

from peacewatch.core.db import utcnow
from peacewatch.core.problems import problem_responses
from peacewatch.core.web import SessionDep
from peacewatch.geography.features import collection
from peacewatch.geography.formats import write_kml
from peacewatch.publication import official_map
from peacewatch.publication.service import official_features

router = APIRouter(prefix="/api/v1/official-map", tags=["publication"], responses=problem_responses(422))
MEDIA = {"geojson": "application/geo+json", "kml": "application/vnd.google-earth.kml+xml",
         "png": "image/png", "pdf": "application/pdf"}


@router.get(
    "",
    summary="The official deployment map on a date: public records only, as GeoJSON, KML, PNG or PDF",
    response_class=Response,
    responses={200: {"content": {
        MEDIA["geojson"]: {"schema": {"type": "object"}},
        MEDIA["kml"]: {"schema": {"type": "string"}},
        MEDIA["png"]: {"schema": {"type": "string", "format": "binary"}},
        MEDIA["pdf"]: {"schema": {"type": "string", "format": "binary"}},
    }}},
)
async def official_map_file(
    session: SessionDep,
    on: Annotated[date | None, Query(description="The map as published that day (default today)")] = None,
    format: Literal["geojson", "kml", "png", "pdf"] = "geojson",
) -> Response:
    day = on or utcnow().date()
    features = await run_in_threadpool(official_features, session, day)
    filename = f"peacewatch-official-map-{day.isoformat()}.{format}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "public, max-age=60"}
    if format == "geojson":
        body = json.dumps(jsonable_encoder(collection(features) | {"on": day}))
        return Response(body, media_type=MEDIA["geojson"], headers=headers)
    if format == "kml":
        return Response(write_kml(features, f"PeaceWatch official map, {day.isoformat()}"), media_type=MEDIA["kml"], headers=headers)
    image = await run_in_threadpool(official_map.render, features, day, format)
    return Response(image, media_type=MEDIA[format], headers=headers)
