from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from peacewatch.airlift.aircraft import AIRCRAFT_TYPES
from peacewatch.airlift.models import ConvoyKind, Direction, FlightStatus
from peacewatch.core.visibility import Visibility

AIRFIELD_CODE = r"^[A-Z0-9][A-Z0-9-]{2,15}$"
Count = Field(default=0, ge=0, le=100_000)
EARLIEST, LATEST = datetime(1990, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC)


def _in_era(value: datetime | None) -> datetime | None:
    """Times far outside any mission are typing errors (and would overflow when shown in local time)."""
    if value is not None and not EARLIEST <= (value if value.tzinfo else value.replace(tzinfo=UTC)) < LATEST:
        raise ValueError(f"must be between {EARLIEST.year} and {LATEST.year}")
    return value


class AirfieldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=AIRFIELD_CODE, description="ICAO code (UDYE), or a local designator when there is none")
    icao: bool = Field(default=True, description="Whether the code is an ICAO location indicator")
    name: str = Field(min_length=1, max_length=200)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class AirfieldOut(AirfieldIn):
    model_config = ConfigDict(from_attributes=True)

    id: int


class FlightIn(BaseModel):
    """A flight as planned or logged. Times are UTC (a time without an offset is taken as UTC)."""

    model_config = ConfigDict(extra="forbid")

    aircraft_type: str = Field(description=f"One of {', '.join(AIRCRAFT_TYPES)}")
    tail_number: str = Field(default="", max_length=16, pattern=r"^[A-Za-z0-9-]*$")
    callsign: str = Field(default="", max_length=16)
    direction: Direction
    status: FlightStatus = FlightStatus.planned
    departure: str = Field(pattern=AIRFIELD_CODE, description="Departure airfield's code")
    arrival: str = Field(pattern=AIRFIELD_CODE, description="Arrival airfield's code")
    planned_departure: datetime
    planned_arrival: datetime
    actual_departure: datetime | None = None
    actual_arrival: datetime | None = None
    personnel: int = Count
    armoured: int = Count
    vehicles: int = Count
    tonnes: float = Field(default=0.0, ge=0, le=1000, allow_inf_nan=False)
    unit_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    notes: str = Field(default="", max_length=4000)
    visibility: Visibility = Visibility.internal

    _era = field_validator("planned_departure", "planned_arrival", "actual_departure", "actual_arrival")(_in_era)

    @field_validator("aircraft_type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in AIRCRAFT_TYPES:
            raise ValueError(f"unknown aircraft type '{value}'; known: {', '.join(AIRCRAFT_TYPES)}")
        return value


class FlightUpdate(BaseModel):
    """Changes to a flight, typically its progress: status and actual times. The whole flight is checked again."""

    model_config = ConfigDict(extra="forbid")

    aircraft_type: str | None = None
    tail_number: str | None = Field(default=None, max_length=16, pattern=r"^[A-Za-z0-9-]*$")
    callsign: str | None = Field(default=None, max_length=16)
    status: FlightStatus | None = None
    departure: str | None = Field(default=None, pattern=AIRFIELD_CODE)
    arrival: str | None = Field(default=None, pattern=AIRFIELD_CODE)
    planned_departure: datetime | None = None
    planned_arrival: datetime | None = None
    actual_departure: datetime | None = None
    actual_arrival: datetime | None = None
    personnel: int | None = Field(default=None, ge=0, le=100_000)
    armoured: int | None = Field(default=None, ge=0, le=100_000)
    vehicles: int | None = Field(default=None, ge=0, le=100_000)
    tonnes: float | None = Field(default=None, ge=0, le=1000, allow_inf_nan=False)
    unit_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    notes: str | None = Field(default=None, max_length=4000)
    visibility: Visibility | None = None

    _era = field_validator("planned_departure", "planned_arrival", "actual_departure", "actual_arrival")(_in_era)


class FlightOut(BaseModel):
    id: int
    aircraft_type: str
    tail_number: str
    callsign: str
    direction: Direction
    status: FlightStatus
    departure: AirfieldOut
    arrival: AirfieldOut
    planned_departure: datetime
    planned_arrival: datetime
    actual_departure: datetime | None
    actual_arrival: datetime | None
    personnel: int
    armoured: int
    vehicles: int
    tonnes: float
    unit_id: int | None
    rotation_plan_id: int | None
    notes: str
    visibility: Visibility
    local_times: dict[str, str | None] = Field(description="The four times in the mission's time zone, for display")


class RejectedRow(BaseModel):
    line: int = Field(description="Line in the file (the header is line 1)")
    field: str
    message: str


class ImportReport(BaseModel):
    stored: int
    already_recorded: int
    rejected: list[RejectedRow]
    stored_ids: list[int]


class ConvoyIn(BaseModel):
    """A road movement through the corridor. Times are UTC; a convoy under way has no arrival yet."""

    model_config = ConfigDict(extra="forbid")

    kind: ConvoyKind
    direction: Direction
    route: str = Field(min_length=1, max_length=200, description="e.g. Goris - Lachin - Stepanakert")
    departed_at: datetime
    arrived_at: datetime | None = None
    personnel: int = Field(default=0, ge=0, le=100_000, description="The force's people, or the civilians carried")
    armoured: int = Count
    vehicles: int = Count
    tonnes: float = Field(default=0.0, ge=0, le=100_000, allow_inf_nan=False)
    escort_unit_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    notes: str = Field(default="", max_length=4000)
    visibility: Visibility = Visibility.internal

    _era = field_validator("departed_at", "arrived_at")(_in_era)


class ConvoyPatch(BaseModel):
    """A correction of a convoy's log: only the fields given change; the convoy is checked again whole."""

    model_config = ConfigDict(extra="forbid")

    kind: ConvoyKind | None = None
    direction: Direction | None = None
    route: str | None = Field(default=None, min_length=1, max_length=200)
    departed_at: datetime | None = None
    arrived_at: datetime | None = None
    personnel: int | None = Field(default=None, ge=0, le=100_000)
    armoured: int | None = Field(default=None, ge=0, le=100_000)
    vehicles: int | None = Field(default=None, ge=0, le=100_000)
    tonnes: float | None = Field(default=None, ge=0, le=100_000, allow_inf_nan=False)
    escort_unit_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    notes: str | None = Field(default=None, max_length=4000)
    visibility: Visibility | None = None


class ConvoyArrival(BaseModel):
    model_config = ConfigDict(extra="forbid")

    arrived_at: datetime

    _era = field_validator("arrived_at")(_in_era)


class ConvoyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: ConvoyKind
    direction: Direction
    route: str
    departed_at: datetime
    arrived_at: datetime | None
    personnel: int
    armoured: int
    vehicles: int
    tonnes: float
    escort_unit_id: int | None
    notes: str
    visibility: Visibility


class StrengthFigures(BaseModel):
    personnel: int
    armoured: int
    vehicles: int


class MinimumIn(StrengthFigures):
    model_config = ConfigDict(extra="forbid")

    personnel: int = Field(ge=0, le=1_000_000)
    armoured: int = Field(ge=0, le=1_000_000)
    vehicles: int = Field(ge=0, le=1_000_000)
    reason: str = Field(default="", max_length=2000)


class MinimumOut(MinimumIn):
    model_config = ConfigDict(from_attributes=True)

    updated_at: datetime | None


class BreachOut(BaseModel):
    at: datetime
    local_time: str
    measure: str
    value: int
    limit: int
    above: bool
    message: str


class RotationPlanIn(BaseModel):
    """Flights that rotate units, checked together: every flight must be planned."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    notes: str = Field(default="", max_length=4000)
    flights: list[FlightIn] = Field(min_length=1, max_length=500)


class PlanCheck(BaseModel):
    acceptable: bool
    breach: BreachOut | None
    lowest_personnel: int | None = Field(description="Lowest strength the plan leaves in theatre, counting transit cautiously")
    highest_personnel: int | None = Field(description="Highest strength the plan brings, counting transit cautiously")


class RotationPlanOut(BaseModel):
    id: int
    name: str
    notes: str
    created_at: datetime
    withdrawn_at: datetime | None
    withdrawn_reason: str
    flights: list[FlightOut]


class WithdrawIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)


class TypeFigures(BaseModel):
    flights: int
    personnel: int
    vehicles: int
    tonnes: float


class DayFigures(TypeFigures):
    day: date
    convoys: int
    convoy_personnel: int
    returnees: int
    convoy_tonnes: float
    strength: StrengthFigures = Field(description="In theatre at the end of the reporting day (or at the moment asked)")


class StrengthAt(BaseModel):
    at: datetime
    in_theatre: StrengthFigures = Field(description="Landed and not yet left")
    towards_ceiling: StrengthFigures = Field(description="Counting people in the air on the high side: arriving from take-off, leaving until landing")
    ceilings: StrengthFigures | None
    minimum: StrengthFigures | None


class AirliftFigures(BaseModel):
    at: datetime
    local_time: str
    flights: int = Field(description="Flights landed since the start of the operation")
    flights_past_24h: int = Field(description="Flights landed in the 24 hours up to the moment (a landing exactly 24 h before is excluded)")
    inbound_flights: int
    personnel_delivered: int
    vehicles_delivered: int
    tonnes_delivered: float
    by_aircraft_type: dict[str, TypeFigures]
    by_day: list[DayFigures]
    strength: StrengthAt


def local_times(values: dict[str, Any], zone: Any) -> dict[str, str | None]:
    return {
        k: (values[k].astimezone(zone).strftime("%Y-%m-%d %H:%M %Z") if values.get(k) else None)
        for k in ("planned_departure", "planned_arrival", "actual_departure", "actual_arrival")
    }

