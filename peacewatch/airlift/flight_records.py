"""Flights: each checked against the rules and the ledger, stored once (a resend of the same tail number and
planned departure is the same flight), corrected, read in the reader's scope."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from peacewatch.airlift.airfield_register import airfields_by_code
from peacewatch.airlift.figures import (
    MEASURES,
    Breach,
    Strength,
    first_breach,
)
from peacewatch.airlift.flight_rules import MEASURE_NAMES, Context, breach_sentence, flight_movement, flight_problems
from peacewatch.airlift.models import (
    Airfield,
    Direction,
    Flight,
    FlightStatus,
    RotationPlan,
)
from peacewatch.airlift.schemas import (
    FlightIn,
    FlightOut,
    FlightUpdate,
    local_times,
)
from peacewatch.airlift.strength_ledger import Ledger, as_strength, ceilings, minimum
from peacewatch.core.db import as_utc, transaction, utcnow
from peacewatch.core.paging import Paged, paged
from peacewatch.core.problems import Conflict, Invalid
from peacewatch.core.visibility import STAFF, Scope, get_visible, where_visible
from peacewatch.force.models import Unit


@dataclass
class Checker:
    """Checks flights against the records; one per request or import, so an import reads the tables once."""

    session: Session
    ctx: Context
    airfields: dict[str, Airfield]
    ledger: Ledger
    ceilings: Strength | None
    minimum: Strength
    units: set[int]

    @classmethod
    def of(cls, session: Session, ctx: Context) -> Checker:
        # Without a minimum set, strength still may not go below nothing.
        floor = as_strength(minimum(session)) or Strength(0, 0, 0)
        return cls(session, ctx, airfields_by_code(session), Ledger.load(session, readable=STAFF), ceilings(session), floor,
                   set(session.scalars(select(Unit.id))))

    def check(self, values: dict[str, Any], flight_id: int | None = None) -> None:
        """Refuse a flight that cannot be, or a planned one that would take strength out of its limits."""
        for key in ("planned_departure", "planned_arrival", "actual_departure", "actual_arrival"):
            values[key] = as_utc(values.get(key), field=f"body.{key}")
        for key in ("actual_departure", "actual_arrival"):
            if values[key] is not None and values[key] > utcnow() + self.ctx.clock_skew:
                raise Invalid("is in the future: actual times are logged once they happen", field=f"body.{key}")
        for key in ("departure", "arrival"):
            if values[key] not in self.airfields:
                known = ", ".join(sorted(self.airfields)) or "none yet"
                raise Invalid("unknown airfield '{code}'; known: {known}", field=f"body.{key}", code=values[key], known=known)
        problems = flight_problems(values)
        if problems:
            name, message = problems[0]
            raise Invalid(message, field=f"body.{name}")
        if values.get("unit_id") is not None and values["unit_id"] not in self.units:
            raise Invalid("unit {unit_id} does not exist", field="body.unit_id", unit_id=values['unit_id'])
        candidate = FlightValues(**{k: values[k] for k in FlightValues.__dataclass_fields__})
        if values["direction"] is Direction.outbound:
            self._check_departure(candidate, flight_id)
        if values["status"] is FlightStatus.planned:
            self.check_limits([candidate], without=flight_id)

    def _check_departure(self, flight: FlightValues, flight_id: int | None) -> None:
        planning = flight.status is FlightStatus.planned
        moment = flight.planned_departure if planning else flight.actual_departure
        assert moment is not None
        # Those certainly there at take-off: arrivals landed, other departures gone (this one not yet counted).
        present = self.ledger.strength_before(moment - timedelta(microseconds=1), planning=planning, without=flight_id)
        for measure in MEASURES:
            leaving, there = getattr(flight, measure), getattr(present, measure)
            if leaving > there:
                raise Invalid("{leaving:,} {measure} would leave at {moment} but only {there:,} are in theatre then",
                              field=f"body.{measure}", leaving=leaving, measure=MEASURE_NAMES[measure], moment=self.ctx.local(moment), there=there)

    def breach_with(self, flights: Sequence[FlightValues], without: int | None = None) -> tuple[Breach | None, Breach | None]:
        """The first breach of the limits with and without ``flights`` added to the planned schedule."""
        if self.ceilings is None:
            return None, None
        base = self.ledger.movements(planning=True, without=without)
        added = [m for m in (flight_movement(f, planning=True) for f in flights) if m is not None]
        # A breach already on record before these flights leave (logged facts) is not theirs to answer for.
        since = min((m.left_at for m in added), default=None)
        return (first_breach([*base, *added], ceilings=self.ceilings, minimum=self.minimum, since=since),
                first_breach(base, ceilings=self.ceilings, minimum=self.minimum, since=since))

    def check_limits(self, flights: Sequence[FlightValues], without: int | None = None) -> None:
        breach = self.new_breach(flights, without)
        if breach is not None:
            raise Conflict("refused: {breach}", breach=breach_sentence(breach, self.ctx))

    def new_breach(self, flights: Sequence[FlightValues], without: int | None = None) -> Breach | None:
        """A breach the flights would cause; one already in the schedule without them is not theirs."""
        after, before = self.breach_with(flights, without)
        return None if after == before else after


@dataclass(frozen=True)
class FlightValues:
    """The fields of a flight the movement rules read, before it is stored."""

    status: FlightStatus
    direction: Direction
    aircraft_type: str
    planned_departure: datetime
    planned_arrival: datetime
    actual_departure: datetime | None
    actual_arrival: datetime | None
    personnel: int
    armoured: int
    vehicles: int
    tonnes: float


def recorded_keys(session: Session) -> set[tuple[str, datetime]]:
    """(tail number, planned departure) of every flight on record: what makes an imported row a resend."""
    return {(tail, as_utc(at, field="body.planned_departure")) for tail, at in  # type: ignore[misc]  # the rows are (tail, datetime) pairs; SQLAlchemy's Row is a tuple mypy cannot unpack by type
            session.execute(select(Flight.tail_number, Flight.planned_departure).where(Flight.tail_number != ""))}


def _duplicate(session: Session, values: dict[str, Any], flight_id: int | None = None) -> Flight | None:
    if not values.get("tail_number"):
        return None
    query = select(Flight).where(Flight.tail_number == values["tail_number"],
                                 Flight.planned_departure == values["planned_departure"])
    if flight_id is not None:
        query = query.where(Flight.id != flight_id)
    return session.scalar(query.limit(1))


def store_flight(session: Session, checker: Checker, values: dict[str, Any], plan: RotationPlan | None = None,
           *, key: int | None = None) -> Flight:
    """Add the flight and count it in the ledger; flushed at once unless the caller names its ledger ``key``
    (an import: one flush for the whole log, its ids read afterwards)."""
    values = dict(values)
    departure, arrival = checker.airfields[values.pop("departure")], checker.airfields[values.pop("arrival")]
    flight = Flight(**values, departure=departure, arrival=arrival, rotation_plan=plan)
    session.add(flight)
    if key is None:
        session.flush()
        key = flight.id
    checker.ledger.put(key, flight)
    return flight


def create_flight(session: Session, ctx: Context, actor: str, data: FlightIn) -> Flight:
    with transaction(session, actor):
        values = data.model_dump()
        checker = Checker.of(session, ctx)
        checker.check(values)
        twin = _duplicate(session, values)
        if twin is not None:
            raise Conflict("flight {twin} ({tail_number}, planned to leave at {value}) is already recorded",
                           field="body.tail_number", twin=twin.id, tail_number=values['tail_number'], value=ctx.local(values['planned_departure']))
        flight = store_flight(session, checker, values)
    return flight


def update_flight(session: Session, ctx: Context, actor: str, flight_id: int, changes: FlightUpdate) -> Flight:
    with transaction(session, actor):
        flight = get_flight(session, flight_id, None)
        given = changes.model_dump(exclude_unset=True)
        for key in ("aircraft_type", "status", "departure", "arrival", "planned_departure", "planned_arrival",
                    "tail_number", "callsign", "personnel", "armoured", "vehicles", "tonnes", "notes", "visibility"):
            if key in given and given[key] is None:
                raise Invalid("{key} may not be null", field=f"body.{key}", key=key)
        current = {k: getattr(flight, k) for k in FlightIn.model_fields if k not in ("departure", "arrival")}
        current |= {"departure": flight.departure.code, "arrival": flight.arrival.code}
        try:
            values = FlightIn.model_validate(current | given).model_dump()
        except ValidationError as exc:
            first = exc.errors()[0]
            raise Invalid(first["msg"], field="body." + ".".join(map(str, first["loc"]))) from None
        checker = Checker.of(session, ctx)
        checker.check(values, flight.id)
        twin = _duplicate(session, values, flight.id)
        if twin is not None:
            raise Conflict("flight {twin} has the same tail number and planned departure", field="body.tail_number", twin=twin.id)
        departure, arrival = checker.airfields[values.pop("departure")], checker.airfields[values.pop("arrival")]
        for key, value in values.items():
            setattr(flight, key, value)
        flight.departure, flight.arrival = departure, arrival
    return flight


def get_flight(session: Session, flight_id: int, readable: Scope) -> Flight:
    return get_visible(session, Flight, flight_id, readable, "flight")


def list_flights(
    session: Session, readable: Scope, *, status: FlightStatus | None = None,
    direction: Direction | None = None, since: datetime | None = None, until: datetime | None = None,
    limit: int = 100, offset: int = 0,
) -> Paged[Flight]:
    """Flights by planned departure, latest first; ``since``/``until`` bound the planned departure."""
    query = select(Flight).order_by(Flight.planned_departure.desc(), Flight.id.desc())
    query = where_visible(query, Flight.visibility, readable)
    if status is not None:
        query = query.where(Flight.status == status)
    if direction is not None:
        query = query.where(Flight.direction == direction)
    if since is not None:
        query = query.where(Flight.planned_departure >= as_utc(since, field="query.since"))
    if until is not None:
        query = query.where(Flight.planned_departure < as_utc(until, field="query.until"))
    return paged(session, query, limit=limit, offset=offset)


def flight_out(flight: Flight, ctx: Context) -> FlightOut:
    values = {k: getattr(flight, k) for k in FlightOut.model_fields if k not in ("departure", "arrival", "local_times")}
    return FlightOut.model_validate(values | {
        "departure": flight.departure, "arrival": flight.arrival,
        "local_times": local_times(values, ctx.zone),
    }, from_attributes=True)
