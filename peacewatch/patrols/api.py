from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query, Request, Response

from peacewatch.core.answers import model_answer
from peacewatch.core.db import as_utc
from peacewatch.core.paging import counted_responses, with_total
from peacewatch.core.problems import problem_responses
from peacewatch.core.tabular import CSV_OR_JSON, ListFormat, csv_response
from peacewatch.core.web import (
    MAX_ID,
    AnswersDep,
    Limit,
    Offset,
    Operations,
    OperationsOrPatrol,
    Readable,
    RecordId,
    SessionDep,
    SettingsDep,
)
from peacewatch.patrols import service
from peacewatch.patrols.models import PatrolStatus
from peacewatch.patrols.schemas import (
    CheckInIn,
    CheckInOut,
    GenerateIn,
    GenerateOut,
    PatrolIn,
    PatrolOut,
    PatrolUpdate,
    PlanIn,
    PlanOut,
    Transition,
)

router = APIRouter(prefix="/api/v1/patrols", tags=["patrols"], responses=problem_responses(403, 404, 409))


@router.get("", response_model=list[PatrolOut], responses=counted_responses(CSV_OR_JSON))
def list_patrols(
    request: Request,
    session: SessionDep,
    readable: Readable,
    answers: AnswersDep,
    status: PatrolStatus | None = None,
    zone_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    unit_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="The unit whose patrols (a field device's unit)")] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    q: Annotated[str | None, Query(max_length=200, description="Part of the patrol's name")] = None,
    sort: service.Sort = "planned_start",
    limit: Limit = 100,
    offset: Offset = 0,
    format: ListFormat = "json",
) -> Any:
    window = {"since": as_utc(since, field="query.since"), "until": as_utc(until, field="query.until")}

    def build() -> Response:
        patrols = service.list_patrols(session, readable, status=status, zone_id=zone_id, unit_id=unit_id, search=q, sort=sort, limit=limit,
                                       offset=offset, **window)
        found = [service.described(session, p) for p in patrols.items]
        if format == "csv":
            return with_total(csv_response(found, "patrols.csv"), patrols.total)
        return with_total(model_answer(list[PatrolOut], found), patrols.total)

    return answers.reply(request, session, readable, ("patrols", "trackers"), build)


@router.post("", response_model=PatrolOut, status_code=201, summary="Plan a patrol")
def create_patrol(data: PatrolIn, session: SessionDep, user: Operations) -> Any:
    return service.described(session, service.create_patrol(session, user.username, data))


@router.get("/{patrol_id}", response_model=PatrolOut)
def read_patrol(patrol_id: RecordId, session: SessionDep, readable: Readable) -> Any:
    return service.described(session, service.get_patrol(session, patrol_id, readable))


@router.patch("/{patrol_id}", response_model=PatrolOut, summary="Change a planned patrol")
def update_patrol(patrol_id: RecordId, changes: PatrolUpdate, session: SessionDep, user: Operations) -> Any:
    return service.described(session, service.update_patrol(session, user.username, patrol_id, changes))


@router.post("/{patrol_id}/check-ins", response_model=CheckInOut, status_code=201, summary="Report from the field")
def check_in(patrol_id: RecordId, data: CheckInIn, session: SessionDep, user: OperationsOrPatrol, settings: SettingsDep) -> CheckInOut:
    return CheckInOut.model_validate(service.check_in(session, user.username, patrol_id, data, settings.clock_skew))


@router.get("/{patrol_id}/check-ins", response_model=list[CheckInOut])
def list_check_ins(patrol_id: RecordId, session: SessionDep, readable: Readable) -> list[CheckInOut]:
    patrol = service.get_patrol(session, patrol_id, readable)
    return [CheckInOut.model_validate(c) for c in service.check_ins(session, patrol)]


@router.post("/{patrol_id}/{action}", response_model=PatrolOut, summary="Start, complete or abort (with a reason)")
def act_on_patrol(
    patrol_id: RecordId, action: Literal["start", "complete", "abort"], data: Transition, session: SessionDep, user: OperationsOrPatrol,
    settings: SettingsDep,
) -> Any:
    return service.described(session, service.transition(session, user.username, patrol_id, action, data, settings.clock_skew))


@router.get(
    "/{patrol_id}/track",
    response_class=Response,
    summary="The patrol's tracks (one per tracker) with distance and time inside its area, as GeoJSON or GPX",
    responses={200: {"content": {"application/geo+json": {"schema": {"type": "object"}},
                                 "application/gpx+xml": {"schema": {"type": "string"}}}}},
)
def patrol_track(
    patrol_id: RecordId, session: SessionDep, readable: Readable, format: Literal["geojson", "gpx"] = "geojson"
) -> Response:
    patrol = service.get_patrol(session, patrol_id, readable)
    if format == "gpx":
        return Response(service.patrol_gpx(session, patrol), media_type="application/gpx+xml")
    body = {"type": "FeatureCollection", "features": service.patrol_tracks(session, patrol)}
    return Response(orjson.dumps(body), media_type="application/geo+json")


plans = APIRouter(prefix="/api/v1/patrol-plans", tags=["patrols"], responses=problem_responses(403, 404, 409))


@plans.get("", response_model=list[PlanOut])
def list_plans(session: SessionDep, readable: Readable) -> list[Any]:
    return [PlanOut.of(p) for p in service.list_plans(session, readable)]


@plans.post("", response_model=PlanOut, status_code=201, summary="A recurring patrol: the same route at the same time, by a calendar rule")
def create_plan(data: PlanIn, session: SessionDep, user: Operations) -> Any:
    return PlanOut.of(service.create_plan(session, user.username, data))


@plans.get("/{plan_id}", response_model=PlanOut)
def read_plan(plan_id: RecordId, session: SessionDep, readable: Readable) -> Any:
    return PlanOut.of(service.get_plan(session, plan_id, readable))


@plans.post("/{plan_id}/generate", response_model=GenerateOut, summary="Create the plan's patrols in a span (those made before are not made again)")
def generate(plan_id: RecordId, data: GenerateIn, session: SessionDep, user: Operations) -> GenerateOut:
    created, existing = service.generate_patrols(session, user.username, plan_id, data)
    return GenerateOut(created=[p.id for p in created], existing=existing)
