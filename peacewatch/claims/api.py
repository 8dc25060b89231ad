from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from peacewatch.claims import service
from peacewatch.claims.schemas import ClaimCheck, StatementIn, StatementOut
from peacewatch.core.paging import counted, counted_responses, with_total
from peacewatch.core.problems import problem_responses
from peacewatch.core.tabular import CSV_OR_JSON, ListFormat, csv_response
from peacewatch.core.web import Limit, Offset, PressOrOperations, Readable, RecordId, SessionDep

router = APIRouter(prefix="/api/v1/statements", tags=["claims"], responses=problem_responses(401, 422))


@router.get("", response_model=list[StatementOut], summary="Public statements about the mission, each with its verdict on the day",
            responses=counted_responses(CSV_OR_JSON))
def list_statements(
    response: Response, session: SessionDep, readable: Readable,
    subject_state: Annotated[str | None, Query(pattern=r"^[A-Za-z]{3}$", description="ISO 3166-1 alpha-3")] = None,
    limit: Limit = 100, offset: Offset = 0, format: ListFormat = "json",
) -> Any:
    page = service.statements_with_verdicts(session, readable, subject_state=subject_state, limit=limit, offset=offset)
    found = counted(response, page)
    return with_total(csv_response(found, "statements.csv"), page.total) if format == "csv" else found


@router.post("", response_model=StatementOut, status_code=201, responses=problem_responses(403, 409),
             summary="Record a public statement for the claims register")
def create_statement(data: StatementIn, session: SessionDep, user: PressOrOperations) -> StatementOut:
    statement = service.create_statement(session, user.username, data)
    return service.statement_with_verdict(session, statement)


@router.get("/{statement_id}/check", response_model=ClaimCheck, responses=problem_responses(404),
            summary="Check a statement against the mandate and its arrangements on a date, citing the records")
def check_statement(
    statement_id: RecordId, session: SessionDep, readable: Readable,
    on: Annotated[date | None, Query(description="The date to check on (default: the day it was made)")] = None,
) -> ClaimCheck:
    return service.check_statement(session, readable, statement_id, on)


ROUTERS = (router,)
