from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Response

from peacewatch.core.paging import counted, counted_responses, with_total
from peacewatch.core.problems import problem_responses
from peacewatch.core.tabular import CSV_OR_JSON, ListFormat, csv_response
from peacewatch.core.web import Limit, Offset, Operations, Readable, RecordId, SessionDep, SettingsDep
from peacewatch.returns import service
from peacewatch.returns.schemas import ReturnIn, ReturnOut, ReturnPatch

router = APIRouter(prefix="/api/v1/returns", tags=["returns"], responses=problem_responses(401, 422))


@router.get("", response_model=list[ReturnOut], summary="Civilian returns the reader may see, latest first",
            responses=counted_responses(CSV_OR_JSON))
def list_returns(response: Response, session: SessionDep, readable: Readable, since: date | None = None, until: date | None = None,
                 limit: Limit = 100, offset: Offset = 0, format: ListFormat = "json") -> Any:
    page = service.list_returns(session, readable, since=since, until=until, limit=limit, offset=offset)
    found = [ReturnOut.model_validate(r) for r in counted(response, page)]
    return with_total(csv_response(found, "returns.csv"), page.total) if format == "csv" else found


@router.post("", response_model=ReturnOut, status_code=201, responses=problem_responses(403, 409),
             summary="Record the people who returned on a reporting day along a route (operations)")
def create_return(data: ReturnIn, session: SessionDep, settings: SettingsDep, user: Operations) -> ReturnOut:
    return ReturnOut.model_validate(service.create_return(session, settings, user.username, data))


@router.patch("/{return_id}", response_model=ReturnOut, responses=problem_responses(403, 404),
              summary="Correct a return (operations): the fields given change, the record is checked again")
def correct_return(return_id: RecordId, patch: ReturnPatch, session: SessionDep, settings: SettingsDep, user: Operations) -> ReturnOut:
    return ReturnOut.model_validate(service.correct_return(session, settings, user.username, return_id, patch))


@router.get("/{return_id}", response_model=ReturnOut, responses=problem_responses(404))
def read_return(return_id: RecordId, session: SessionDep, readable: Readable) -> ReturnOut:
    return ReturnOut.model_validate(service.get_return(session, return_id, readable))


ROUTERS = (router,)
