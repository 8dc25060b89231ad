from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from peacewatch.core.paging import counted, counted_responses, with_total
from peacewatch.core.problems import problem_responses
from peacewatch.core.tabular import CSV_OR_JSON, ListFormat, csv_response
from peacewatch.core.web import MAX_ID, Limit, Offset, Operations, Readable, RecordId, SessionDep
from peacewatch.force import service
from peacewatch.force.models import UnitType
from peacewatch.force.schemas import StrengthOut, UnitIn, UnitOut, UnitUpdate

router = APIRouter(prefix="/api/v1/units", tags=["force"], responses=problem_responses(401, 422))
WRITE_ERRORS = problem_responses(403, 404, 409)


@router.get("", response_model=list[UnitOut], responses=counted_responses(CSV_OR_JSON))
def list_units(
    response: Response,
    session: SessionDep,
    readable: Readable,
    unit_type: UnitType | None = None,
    parent_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
    format: ListFormat = "json",
) -> Any:
    units = service.list_units(session, readable, unit_type=unit_type, parent_id=parent_id, limit=limit, offset=offset)
    found = [UnitOut.model_validate(u) for u in counted(response, units)]
    return with_total(csv_response(found, "units.csv"), units.total) if format == "csv" else found


@router.get("/strength", response_model=StrengthOut, summary="Total strength against the mandate's ceiling")
def read_strength(session: SessionDep, readable: Readable) -> StrengthOut:
    return service.force_strength(session, readable)


@router.get("/{unit_id}", response_model=UnitOut, responses=problem_responses(404))
def read_unit(unit_id: RecordId, session: SessionDep, readable: Readable) -> UnitOut:
    return UnitOut.model_validate(service.get_unit(session, unit_id, readable))


@router.post("", response_model=UnitOut, status_code=201, responses=WRITE_ERRORS, summary="Create a unit")
def create_unit(data: UnitIn, session: SessionDep, user: Operations) -> UnitOut:
    return UnitOut.model_validate(service.create_unit(session, user.username, data))


@router.patch("/{unit_id}", response_model=UnitOut, responses=WRITE_ERRORS, summary="Change a unit")
def update_unit(unit_id: RecordId, changes: UnitUpdate, session: SessionDep, user: Operations) -> UnitOut:
    return UnitOut.model_validate(service.update_unit(session, user.username, unit_id, changes))


@router.delete("/{unit_id}", status_code=204, responses=WRITE_ERRORS, summary="Delete a unit")
def delete_unit(unit_id: RecordId, session: SessionDep, user: Operations) -> Response:
    service.delete_unit(session, user.username, unit_id)
    return Response(status_code=204)

