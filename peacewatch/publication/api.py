"""The official map's downloads: public, no sign-in, the same content in every format."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from peacewatch.core.db import utcnow
from peacewatch.core.i18n import request_language, translations
from peacewatch.core.problems import Invalid, problem_responses
from peacewatch.core.settings import Settings
from peacewatch.core.tabular import content_disposition
from peacewatch.core.web import SessionDep, SettingsDep, Staff
from peacewatch.geography.features import collection
from peacewatch.geography.formats import write_kml
from peacewatch.publication import official_map
from peacewatch.publication.reports import Format, Kind, Language, Options, daily_report, range_report
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
    request: Request,
    session: SessionDep,
    on: Annotated[date | None, Query(description="The map as published that day (default today)")] = None,
    format: Literal["geojson", "kml", "png", "pdf"] = "geojson",
) -> Response:
    day = on or utcnow().date()
    features = await run_in_threadpool(official_features, session, day)
    filename = f"peacewatch-official-map-{day.isoformat()}.{format}"
    headers = content_disposition(filename) | {"Cache-Control": "public, max-age=60"}
    if format == "geojson":
        body = json.dumps(jsonable_encoder(collection(features) | {"on": day}))
        return Response(body, media_type=MEDIA["geojson"], headers=headers)
    if format == "kml":
        return Response(write_kml(features, f"PeaceWatch official map, {day.isoformat()}"), media_type=MEDIA["kml"], headers=headers)
    # its words in the reader's language (the pages' cookie, else Accept-Language)
    language = request_language(request)
    image = await run_in_threadpool(partial(official_map.render, features, day, format, tr=translations(language).gettext,
                                            locale=language))
    return Response(image, media_type=MEDIA[format], headers=headers)


reports = APIRouter(prefix="/api/v1/reports", tags=["publication"], responses=problem_responses(422))
REPORT_MEDIA = {
    "text/markdown": {"schema": {"type": "string"}}, "text/html": {"schema": {"type": "string"}},
    "application/pdf": {"schema": {"type": "string", "format": "binary"}}, "application/json": {"schema": {"type": "object"}},
}


@dataclass
class ReportQuery:
    """One reporting day (``date``), or a span (``since`` and ``until``) as one report."""

    day: Annotated[date | None, Query(alias="date", description="The reporting day")] = None
    since: Annotated[date | None, Query(description="First day of a span (with until)")] = None
    until: Annotated[date | None, Query(description="Last day of a span (with since)")] = None
    format: Annotated[Format, Query(description="md (default), html, pdf or json (the figures and their records)")] = Format.md
    lang: Annotated[Language, Query(description="en or ru")] = Language.en
    chart_days: Annotated[int | None, Query(ge=1, le=3660, description="Days the charts show, ending on the report's day "
                                            "(default: since the start of the operation)")] = None


def _report(session: Session, settings: Settings, kind: Kind, q: ReportQuery) -> Response:
    options = Options(kind, q.format, q.lang, chart_days=q.chart_days)
    if q.day is not None and (q.since is not None or q.until is not None):
        raise Invalid("give either date, or since and until, not both", field="query.date")
    if q.day is not None:
        report = daily_report(session, settings, q.day, options)
    elif q.since is not None and q.until is not None:
        report = range_report(session, settings, q.since, q.until, options)
    else:
        raise Invalid("give the reporting day (date=YYYY-MM-DD) or a span (since and until)",
                      field="query.until" if q.since is not None else "query.date")
    return Response(report.body, media_type=report.media_type,
                    headers=content_disposition(report.filename, "inline"))


@reports.get("/bulletin", response_class=Response, responses={200: {"content": REPORT_MEDIA}, **problem_responses(404)},
             summary="The public daily bulletin, from public records only (no sign-in)")
def bulletin(session: SessionDep, settings: SettingsDep, q: Annotated[ReportQuery, Depends()]) -> Response:
    return _report(session, settings, Kind.bulletin, q)


@reports.get("/sitrep", response_class=Response, responses={200: {"content": REPORT_MEDIA}, **problem_responses(401, 403, 404)},
             summary="The internal daily situation report, from all records (the mission's staff)")
def sitrep(session: SessionDep, settings: SettingsDep, user: Staff, q: Annotated[ReportQuery, Depends()]) -> Response:
    return _report(session, settings, Kind.sitrep, q)
