from __future__ import annotations

from datetime import date
from typing import Literal

import orjson
from fastapi import APIRouter, Response

from peacewatch.core.paging import counted, counted_responses, with_total
from peacewatch.core.problems import problem_responses
from peacewatch.core.tabular import csv_response
from peacewatch.core.web import Limit, Offset, Operations, Readable, RecordId, SessionDep, SettingsDep
from peacewatch.demining import service
from peacewatch.demining.schemas import ClearanceIn, ClearanceOut, ClearancePatch

router = APIRouter(prefix="/api/v1/clearances", tags=["demining"], responses=problem_responses(401, 422))


@router.get("", response_model=list[ClearanceOut], summary="Clearances the reader may see, latest first; GeoJSON or CSV by format",
            responses=counted_responses({200: {"content": {
                "application/json": {}, "application/geo+json": {"schema": {"type": "object"}}, "text/csv": {"schema": {"type": "string"}}}}}))
def list_clearances(
    response: Response, session: SessionDep, readable: Readable, since: date | None = None, until: date | None = None,
    limit: Limit = 100, offset: Offset = 0, format: Literal["json", "geojson", "csv"] = "json",
) -> Response | list[ClearanceOut]:
    page = service.list_clearances(session, readable, since=since, until=until, limit=limit, offset=offset)
    found = [service.clearance_out(session, c) for c in counted(response, page)]
    if format == "geojson":
        features = [service.clearance_feature(c) for c in found if c.geometry is not None]
        return with_total(Response(orjson.dumps({"type": "FeatureCollection", "features": features}),
                                   media_type="application/geo+json"), page.total)
    if format == "csv":
        return with_total(csv_response(found, "clearances.csv"), page.total)
    return found


@router.post("", response_model=ClearanceOut, status_code=201, responses=problem_responses(403, 409),
             summary="Record what a unit cleared on a reporting day (operations)")
def create_clearance(data: ClearanceIn, session: SessionDep, settings: SettingsDep, user: Operations) -> ClearanceOut:
    return service.clearance_out(session, service.create_clearance(session, settings, user.username, data))


@router.patch("/{clearance_id}", response_model=ClearanceOut, responses=problem_responses(403, 404),
              summary="Correct a clearance (operations): the fields given change, the record is checked again")
def correct_clearance(clearance_id: RecordId, patch: ClearancePatch, session: SessionDep, settings: SettingsDep,
                      user: Operations) -> ClearanceOut:
    return service.clearance_out(session, service.correct_clearance(session, settings, user.username, clearance_id, patch))


@router.get("/{clearance_id}", response_model=ClearanceOut, responses=problem_responses(404))
def read_clearance(clearance_id: RecordId, session: SessionDep, readable: Readable) -> ClearanceOut:
    return service.clearance_out(session, service.get_clearance(session, clearance_id, readable))


ROUTERS = (router,)
