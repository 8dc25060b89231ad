from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from peacewatch.core.db import utcnow
from peacewatch.core.problems import problem_responses
from peacewatch.core.web import Admin, Readable, SessionDep
from peacewatch.mandate import service
from peacewatch.mandate.schemas import (
    ArrangementIn,
    ArrangementOut,
    MandateOut,
    MandateStateOut,
    MandateUpdate,
    TerminationNotice,
)

router = APIRouter(prefix="/api/v1/mandate", tags=["mandate"], responses=problem_responses(401, 404))


@router.get("", response_model=MandateOut, summary="The mandate: contributing states, ceilings and term")
def read_mandate(session: SessionDep, readable: Readable) -> MandateOut:
    return MandateOut.model_validate(service.get_mandate(session, readable))


@router.get("/state", response_model=MandateStateOut, summary="The mandate's state on a date")
def read_mandate_state(
    session: SessionDep,
    readable: Readable,
    on: Annotated[date | None, Query(description="Date asked about (default: today, UTC)")] = None,
) -> MandateStateOut:
    mandate = service.get_mandate(session, readable)
    return MandateStateOut.model_validate(service.state_on(mandate, on or utcnow().date()))


@router.patch("", response_model=MandateOut, responses=problem_responses(403, 422), summary="Change the mandate")
def update_mandate(changes: MandateUpdate, session: SessionDep, user: Admin) -> MandateOut:
    return MandateOut.model_validate(service.update_mandate(session, user.username, changes))


@router.post(
    "/termination-notice", response_model=MandateOut, responses=problem_responses(403, 409, 422),
    summary="Record a party's notice that stops the next automatic renewal",
)
def give_termination_notice(notice: TerminationNotice, session: SessionDep, user: Admin) -> MandateOut:
    return MandateOut.model_validate(service.give_termination_notice(session, user.username, notice))


@router.get("/arrangements", response_model=list[ArrangementOut],
            summary="Arrangements beside the deployment (such as a joint monitoring centre), with their dates and limits")
def list_arrangements(session: SessionDep, readable: Readable) -> list[ArrangementOut]:
    return [ArrangementOut.model_validate(a) for a in service.list_arrangements(session, readable)]


@router.post("/arrangements", response_model=ArrangementOut, status_code=201, responses=problem_responses(403, 409, 422),
             summary="Record an arrangement under the mandate")
def create_arrangement(data: ArrangementIn, session: SessionDep, user: Admin) -> ArrangementOut:
    return ArrangementOut.model_validate(service.create_arrangement(session, user.username, data))
