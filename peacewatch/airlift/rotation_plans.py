"""Rotation plans: flights planned together, checked against the schedule before any is stored, withdrawn whole."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from peacewatch.airlift.figures import (
    Breach,
    strength_series,
)
from peacewatch.airlift.flight_records import Checker, FlightValues, store_flight
from peacewatch.airlift.flight_rules import Context, breach_sentence, describe_breach, flight_movement, flight_problems
from peacewatch.airlift.models import (
    FlightStatus,
    RotationPlan,
)
from peacewatch.airlift.schemas import (
    PlanCheck,
    RotationPlanIn,
)
from peacewatch.core.db import as_utc, transaction, utcnow
from peacewatch.core.paging import Paged, paged
from peacewatch.core.problems import Conflict, Invalid, NotFound


def _plan_values(checker: Checker, data: RotationPlanIn) -> list[dict[str, Any]]:
    planned = []
    for number, flight in enumerate(data.flights):
        if flight.status is not FlightStatus.planned:
            raise Invalid("a rotation plan holds planned flights only", field=f"body.flights.{number}.status")
        values = flight.model_dump()
        for key in ("planned_departure", "planned_arrival"):
            values[key] = as_utc(values[key], field=f"body.flights.{number}.{key}")
        for key in ("departure", "arrival"):
            if values[key] not in checker.airfields:
                raise Invalid("unknown airfield '{code}'", field=f"body.flights.{number}.{key}", code=values[key])
        problems = flight_problems(values)
        if problems:
            raise Invalid(problems[0][1], field=f"body.flights.{number}.{problems[0][0]}")
        if values.get("unit_id") is not None and values["unit_id"] not in checker.units:
            raise Invalid("unit {unit_id} does not exist", field=f"body.flights.{number}.unit_id", unit_id=values['unit_id'])
        planned.append(values)
    return planned


def _plan_check(checker: Checker, planned: list[dict[str, Any]]) -> PlanCheck:
    flights = [FlightValues(**{k: v[k] for k in FlightValues.__dataclass_fields__}) for v in planned]
    breach = checker.new_breach(flights)
    movements = [*checker.ledger.movements(planning=True),
                 *(m for m in (flight_movement(f, planning=True) for f in flights) if m is not None)]
    lowest = highest = None
    if flights:
        start = min(f.planned_departure for f in flights)
        end = max(f.planned_arrival for f in flights)
        moments = sorted({start, end, *(m.left_at for m in movements if start <= m.left_at <= end),
                          *(m.arrived_at for m in movements if m.arrived_at is not None and start <= m.arrived_at <= end)})
        low = strength_series(movements, moments, towards_ceiling=False)
        high = strength_series(movements, moments, towards_ceiling=True)
        lowest, highest = min(s.personnel for s in low), max(s.personnel for s in high)
    return PlanCheck(acceptable=breach is None, breach=None if breach is None else describe_breach(breach, checker.ctx),
                     lowest_personnel=lowest, highest_personnel=highest)


def check_plan(session: Session, ctx: Context, data: RotationPlanIn) -> PlanCheck:
    checker = Checker.of(session, ctx)
    return _plan_check(checker, _plan_values(checker, data))


def create_plan(session: Session, ctx: Context, actor: str, data: RotationPlanIn) -> RotationPlan:
    """Accept a rotation plan and schedule its flights, or refuse it whole with the first breach."""
    with transaction(session, actor):
        checker = Checker.of(session, ctx)
        planned = _plan_values(checker, data)
        verdict = _plan_check(checker, planned)
        if verdict.breach is not None:
            found = verdict.breach
            breach = Breach(at=found.at, measure=found.measure, value=found.value, limit=found.limit, above=found.above)
            raise Conflict("rotation plan refused: {breach}", breach=breach_sentence(breach, checker.ctx))
        plan = RotationPlan(name=data.name, notes=data.notes)
        session.add(plan)
        for values in planned:
            store_flight(session, checker, values, plan)
    return plan


def list_plans(session: Session, limit: int = 100, offset: int = 0) -> Paged[RotationPlan]:
    query = select(RotationPlan).options(selectinload(RotationPlan.flights))
    return paged(session, query.order_by(RotationPlan.id.desc()), limit=limit, offset=offset)


def get_plan(session: Session, plan_id: int) -> RotationPlan:
    plan = session.get(RotationPlan, plan_id)
    if plan is None:
        raise NotFound("rotation plan {plan_id} not found", plan_id=plan_id)
    return plan


def withdraw_plan(session: Session, actor: str, plan_id: int, reason: str) -> RotationPlan:
    """Cancel the plan's flights that have not left; those already flown stay as they are."""
    with transaction(session, actor):
        plan = get_plan(session, plan_id)
        if plan.withdrawn_at is not None:
            raise Conflict("rotation plan {plan_id} was withdrawn at {withdrawn_at:%Y-%m-%d %H:%M} UTC",
                           plan_id=plan_id, withdrawn_at=plan.withdrawn_at)
        plan.withdrawn_at, plan.withdrawn_reason = utcnow(), reason
        for flight in plan.flights:
            if flight.status is FlightStatus.planned:
                flight.status = FlightStatus.cancelled
    return plan
