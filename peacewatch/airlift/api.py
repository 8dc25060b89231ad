from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from peacewatch.airlift import (
    airfield_register,
    build_up,
    convoy_records,
    flight_log_csv,
    flight_records,
    flight_rules,
    rotation_plans,
    strength_ledger,
)
from peacewatch.airlift.charts import build_up_chart
from peacewatch.airlift.models import ConvoyKind, Direction, FlightStatus
from peacewatch.airlift.schemas import (
    AirfieldIn,
    AirfieldOut,
    AirliftFigures,
    ConvoyArrival,
    ConvoyIn,
    ConvoyOut,
    ConvoyPatch,
    FlightIn,
    FlightOut,
    FlightUpdate,
    ImportReport,
    MinimumIn,
    MinimumOut,
    PlanCheck,
    RotationPlanIn,
    RotationPlanOut,
    StrengthAt,
    WithdrawIn,
)
from peacewatch.core.paging import counted, counted_responses, with_total
from peacewatch.core.problems import problem_responses, reader_gettext
from peacewatch.core.tabular import CSV_OR_JSON, ListFormat, content_disposition, csv_response, uploaded_csv
from peacewatch.core.web import AirCell, AirMovements, Limit, Offset, Operations, Readable, RecordId, SessionDep, SettingsDep, Staff

At = Annotated[datetime | None, Query(description="The moment, ISO 8601 (an offset such as +03:00 is respected; "
                                                  "without one, UTC); default now")]
WRITE_ERRORS = problem_responses(403, 404, 409, 422)
MAX_LOG_BYTES = 20 * 1024 * 1024
PNG = {200: {"content": {"image/png": {"schema": {"type": "string", "format": "binary"}}}}}


def _ctx(settings: SettingsDep) -> flight_rules.Context:
    return flight_rules.Context.of(settings)


Ctx = Annotated[flight_rules.Context, Depends(_ctx)]

airfields = APIRouter(prefix="/api/v1/airfields", tags=["airlift"], responses=problem_responses(401))


@airfields.get("", response_model=list[AirfieldOut], summary="Airfields flights may use")
def list_airfields(session: SessionDep, user: Staff) -> list[AirfieldOut]:
    return [AirfieldOut.model_validate(a) for a in airfield_register.list_airfields(session)]


@airfields.post("", response_model=AirfieldOut, status_code=201, responses=WRITE_ERRORS, summary="Register an airfield")
def create_airfield(data: AirfieldIn, session: SessionDep, user: AirCell) -> AirfieldOut:
    return AirfieldOut.model_validate(airfield_register.create_airfield(session, user.username, data))


flights = APIRouter(prefix="/api/v1/flights", tags=["airlift"], responses=problem_responses(401, 422))


@flights.get("", response_model=list[FlightOut], summary="Flights, latest planned departure first",
             responses=counted_responses(CSV_OR_JSON))
def list_flights(
    response: Response, session: SessionDep, readable: Readable, ctx: Ctx,
    status: FlightStatus | None = None, direction: Direction | None = None,
    since: Annotated[datetime | None, Query(description="Planned departure from (UTC unless an offset is given)")] = None,
    until: Annotated[datetime | None, Query(description="Planned departure before")] = None,
    limit: Limit = 100, offset: Offset = 0,
    format: ListFormat = "json",
) -> Response | list[FlightOut]:
    found = flight_records.list_flights(session, readable, status=status, direction=direction, since=since, until=until,
                                 limit=limit, offset=offset)
    if format == "csv":
        return with_total(Response(flight_log_csv.flights_csv(found.items), media_type="text/csv; charset=utf-8",
                                   headers=content_disposition("flights.csv")), found.total)
    return [flight_records.flight_out(f, ctx) for f in counted(response, found)]


@flights.post("", response_model=FlightOut, status_code=201, responses=WRITE_ERRORS,
              summary="Plan or log a flight; a planned one that breaks a ceiling is refused with the moment and figure")
def create_flight(data: FlightIn, session: SessionDep, ctx: Ctx, user: AirCell) -> FlightOut:
    return flight_records.flight_out(flight_records.create_flight(session, ctx, user.username, data), ctx)


@flights.get("/import-template", response_class=Response, summary="An empty flight log to fill in: the columns the import reads, "
             "with one example flight", responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}})
def flight_log_template(user: AirCell) -> Response:
    return Response(flight_log_csv.flight_log_template(), media_type="text/csv; charset=utf-8",
                    headers=content_disposition("flight-log-template.csv", "attachment"))


@flights.post(
    "/import", response_model=ImportReport, responses=WRITE_ERRORS,
    summary="Import a flight log: a CSV file, one flight per line, its columns as in the template (import-template); refused "
            "rows are reported with their line",
    openapi_extra={"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}, "multipart/form-data": {
        "schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}, "required": ["file"]}}}}},
)
async def import_flights(
    request: Request, session: SessionDep, ctx: Ctx, user: AirCell,
    all_or_nothing: Annotated[bool, Query(description="Store nothing if any row is rejected")] = False,
) -> ImportReport:
    text = await uploaded_csv(request, max_bytes=MAX_LOG_BYTES, what="log")  # as the body, or as a form's file
    return flight_log_csv.import_flights(session, ctx, user.username, text, all_or_nothing=all_or_nothing,
                                         said=reader_gettext(request))


@flights.get("/{flight_id}", response_model=FlightOut, responses=problem_responses(404))
def read_flight(flight_id: RecordId, session: SessionDep, readable: Readable, ctx: Ctx) -> FlightOut:
    return flight_records.flight_out(flight_records.get_flight(session, flight_id, readable), ctx)


@flights.patch("/{flight_id}", response_model=FlightOut, responses=WRITE_ERRORS,
               summary="Log a flight's progress (status, actual times) or correct it; the whole flight is checked again")
def update_flight(flight_id: RecordId, changes: FlightUpdate, session: SessionDep, ctx: Ctx, user: AirCell) -> FlightOut:
    return flight_records.flight_out(flight_records.update_flight(session, ctx, user.username, flight_id, changes), ctx)


plans = APIRouter(prefix="/api/v1/rotation-plans", tags=["airlift"], responses=problem_responses(401, 403, 422))


def _plan_out(plan: object, ctx: flight_rules.Context) -> RotationPlanOut:
    return RotationPlanOut.model_validate({
        **{k: getattr(plan, k) for k in ("id", "name", "notes", "created_at", "withdrawn_at", "withdrawn_reason")},
        "flights": [flight_records.flight_out(f, ctx) for f in plan.flights],  # type: ignore[attr-defined]  # plan.flights is a relationship list, typed on the model as a Mapped
    })


@plans.get("", response_model=list[RotationPlanOut], responses=counted_responses())
def list_plans(response: Response, session: SessionDep, ctx: Ctx, user: Staff, limit: Limit = 100,
               offset: Offset = 0) -> list[RotationPlanOut]:
    return [_plan_out(p, ctx) for p in counted(response, rotation_plans.list_plans(session, limit, offset))]


@plans.post("/check", response_model=PlanCheck, summary="Check a rotation plan without storing it")
def check_plan(data: RotationPlanIn, session: SessionDep, ctx: Ctx, user: AirMovements) -> PlanCheck:
    return rotation_plans.check_plan(session, ctx, data)


@plans.post("", response_model=RotationPlanOut, status_code=201, responses=WRITE_ERRORS,
            summary="Accept a rotation plan and schedule its flights, or refuse it whole, naming the first breach")
def create_plan(data: RotationPlanIn, session: SessionDep, ctx: Ctx, user: AirCell) -> RotationPlanOut:
    return _plan_out(rotation_plans.create_plan(session, ctx, user.username, data), ctx)


@plans.get("/{plan_id}", response_model=RotationPlanOut, responses=problem_responses(404))
def read_plan(plan_id: RecordId, session: SessionDep, ctx: Ctx, user: Staff) -> RotationPlanOut:
    return _plan_out(rotation_plans.get_plan(session, plan_id), ctx)


@plans.post("/{plan_id}/withdraw", response_model=RotationPlanOut, responses=WRITE_ERRORS,
            summary="Withdraw a plan: its flights not yet flown are cancelled")
def withdraw_plan(plan_id: RecordId, data: WithdrawIn, session: SessionDep, ctx: Ctx, user: AirCell) -> RotationPlanOut:
    return _plan_out(rotation_plans.withdraw_plan(session, user.username, plan_id, data.reason), ctx)


convoys = APIRouter(prefix="/api/v1/convoys", tags=["airlift"], responses=problem_responses(401, 422))


@convoys.get("", response_model=list[ConvoyOut], summary="Road movements through the corridor, latest first",
              responses=counted_responses(CSV_OR_JSON))
def list_convoys(response: Response, session: SessionDep, readable: Readable, kind: ConvoyKind | None = None,
                 limit: Limit = 100, offset: Offset = 0, format: ListFormat = "json") -> Any:
    page = convoy_records.list_convoys(session, readable, kind=kind, limit=limit, offset=offset)
    found = [ConvoyOut.model_validate(c) for c in counted(response, page)]
    return with_total(csv_response(found, "convoys.csv"), page.total) if format == "csv" else found


@convoys.post("", response_model=ConvoyOut, status_code=201, responses=WRITE_ERRORS, summary="Plan a convoy")
def create_convoy(data: ConvoyIn, session: SessionDep, ctx: Ctx, user: AirMovements) -> ConvoyOut:
    return ConvoyOut.model_validate(convoy_records.create_convoy(session, ctx, user.username, data))


@convoys.get("/{convoy_id}", response_model=ConvoyOut, responses=problem_responses(404))
def read_convoy(convoy_id: RecordId, session: SessionDep, readable: Readable) -> ConvoyOut:
    return ConvoyOut.model_validate(convoy_records.get_convoy(session, convoy_id, readable))


@convoys.patch("/{convoy_id}", response_model=ConvoyOut, responses=WRITE_ERRORS,
               summary="Correct a convoy's log: the fields given change, the convoy is checked again")
def correct_convoy(convoy_id: RecordId, patch: ConvoyPatch, session: SessionDep, ctx: Ctx, user: AirMovements) -> ConvoyOut:
    return ConvoyOut.model_validate(convoy_records.correct_convoy(session, ctx, user.username, convoy_id, patch))


@convoys.post("/{convoy_id}/arrival", response_model=ConvoyOut, responses=WRITE_ERRORS, summary="Log a convoy's arrival")
def arrive_convoy(convoy_id: RecordId, data: ConvoyArrival, session: SessionDep, ctx: Ctx, user: AirMovements) -> ConvoyOut:
    return ConvoyOut.model_validate(convoy_records.arrive_convoy(session, ctx, user.username, convoy_id, data.arrived_at))


airlift = APIRouter(prefix="/api/v1/airlift", tags=["airlift"], responses=problem_responses(422))


@airlift.get(
    "/figures", response_model=AirliftFigures, responses=CSV_OR_JSON,
    summary="Flights since the start and in the past 24 hours, loads delivered, per type and day, and the build-up",
)
def read_figures(session: SessionDep, ctx: Ctx, readable: Readable, at: At = None,
                 format: ListFormat = "json") -> Response | AirliftFigures:
    result = build_up.figures(session, ctx, at, readable)
    if format == "csv":
        return Response(build_up.figures_csv(result), media_type="text/csv; charset=utf-8",
                        headers=content_disposition("airlift-figures.csv"))
    return result


@airlift.get("/figures/chart", response_class=Response, responses=PNG, summary="The build-up against the ceilings, as PNG")
def read_chart(request: Request, session: SessionDep, ctx: Ctx, readable: Readable, at: At = None) -> Response:
    # in the reader's language: the pages' language cookie, else the browser's preference
    return Response(build_up_chart(build_up.figures(session, ctx, at, readable), gettext=reader_gettext(request)),
                    media_type="image/png")


@airlift.get("/strength", response_model=StrengthAt, summary="Personnel and vehicles in theatre at a moment")
def read_strength(session: SessionDep, ctx: Ctx, readable: Readable, at: At = None) -> StrengthAt:
    return build_up.strength(session, ctx, at, readable)


@airlift.get("/minimum", response_model=MinimumOut, responses=problem_responses(401, 404))
def read_minimum(session: SessionDep, user: Staff) -> MinimumOut:
    row = strength_ledger.minimum(session)
    if row is None:
        return MinimumOut(personnel=0, armoured=0, vehicles=0, reason="no minimum set", updated_at=None)
    return MinimumOut.model_validate(row)


@airlift.put("/minimum", response_model=MinimumOut, responses=WRITE_ERRORS,
             summary="Set the strength below which rotations may not take the force")
def set_minimum(data: MinimumIn, session: SessionDep, user: Operations) -> MinimumOut:
    return MinimumOut.model_validate(build_up.set_minimum(session, user.username, data))


ROUTERS = (airfields, flights, plans, convoys, airlift)
