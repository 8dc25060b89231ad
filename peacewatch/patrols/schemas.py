from __future__ import annotations

from datetime import datetime
from typing import Any

from geojson_pydantic import LineString
from pydantic import BaseModel, ConfigDict, Field

from peacewatch.core.clocks import ClockOffset
from peacewatch.core.geo import to_geojson
from peacewatch.core.visibility import Visibility
from peacewatch.core.web import MAX_ID
from peacewatch.patrols.models import Patrol, PatrolPlan, PatrolStatus

Codes = list[str]


class Rules(BaseModel):
    max_stop_minutes: int = Field(default=20, ge=1, le=24 * 60, description="A stop longer than this, away from a post, alerts")
    silence_minutes: int = Field(default=15, ge=1, le=24 * 60, description="No position or check-in for this long: overdue")
    route_tolerance_m: float = Field(default=1000, gt=0, le=100_000, description="Straying further from the route alerts")


class PatrolIn(Rules):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    unit_id: int = Field(ge=1, le=MAX_ID)
    zone_id: int = Field(ge=1, le=MAX_ID, description="The area of responsibility patrolled")
    route: LineString | None = None
    planned_start: datetime
    planned_end: datetime
    vehicles: list[str] = Field(default_factory=list, max_length=50)
    trackers: Codes = Field(default_factory=list, max_length=50, description="Tracker codes")
    visibility: Visibility = Visibility.internal


class PatrolUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    route: LineString | None = None
    planned_start: datetime | None = None
    planned_end: datetime | None = None
    vehicles: list[str] | None = Field(default=None, max_length=50)
    trackers: Codes | None = Field(default=None, max_length=50)
    visibility: Visibility | None = None
    max_stop_minutes: int | None = Field(default=None, ge=1, le=24 * 60)
    silence_minutes: int | None = Field(default=None, ge=1, le=24 * 60)
    route_tolerance_m: float | None = Field(default=None, gt=0, le=100_000)


class Transition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: datetime | None = Field(default=None, description="When it happened (default now)")
    reason: str | None = Field(default=None, max_length=2000, description="Required to abort")
    clock_offset_s: ClockOffset = None


class CheckInIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: datetime | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    note: str = Field(default="", max_length=5000)
    client_id: str | None = Field(
        default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$",
        description="The device's own id for the check-in: sending it again returns the first copy",
    )
    clock_offset_s: ClockOffset = None


class CheckInOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    patrol_id: int
    at: datetime
    by: str
    lat: float | None
    lon: float | None
    note: str
    client_id: str | None = None
    clock_offset_s: int | None = None


class PatrolOut(Rules):
    id: int
    name: str
    unit_id: int
    zone_id: int
    route: dict[str, Any] | None
    planned_start: datetime
    planned_end: datetime
    status: PatrolStatus
    started_at: datetime | None
    ended_at: datetime | None
    abort_reason: str | None
    step_clock_offset_s: int | None = Field(default=None, description="The clock offset of the device that took the last step")
    vehicles: list[str]
    trackers: Codes
    plan_id: int | None
    visibility: Visibility
    warnings: list[str] = Field(default_factory=list, description="What deserves a second look: a route that "
                                "leaves the area, a patrol still under way after its planned end")

    @classmethod
    def of(cls, patrol: Patrol, warnings: list[str] | None = None) -> PatrolOut:
        """The patrol as the API shows it: its route as GeoJSON, its trackers by code."""
        return cls.model_validate({
            "warnings": warnings or [],
            **{k: getattr(patrol, k) for k in ("id", "name", "unit_id", "zone_id", "planned_start", "planned_end", "status",
                                              "started_at", "ended_at", "abort_reason", "step_clock_offset_s", "vehicles", "plan_id", "visibility",
                                              *Rules.model_fields)},
            "route": to_geojson(patrol.route) if patrol.route is not None else None,
            "trackers": [t.code for t in patrol.trackers],
        })


class PlanIn(Rules):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    unit_id: int = Field(ge=1, le=MAX_ID)
    zone_id: int = Field(ge=1, le=MAX_ID)
    route: LineString
    rrule: str = Field(min_length=1, max_length=500, examples=["FREQ=DAILY"],
                       description="How often it repeats, as a calendar rule: FREQ=DAILY every day, "
                                   "FREQ=WEEKLY;BYDAY=MO,TH on Mondays and Thursdays (RFC 5545)")
    starts: datetime = Field(description="First occurrence; later ones keep its time of day")
    duration_minutes: int = Field(ge=1, le=7 * 24 * 60)
    vehicles: list[str] = Field(default_factory=list, max_length=50)
    trackers: Codes = Field(default_factory=list, max_length=50)
    visibility: Visibility = Visibility.internal


class PlanOut(Rules):
    id: int
    name: str
    unit_id: int
    zone_id: int
    route: dict[str, Any]
    rrule: str
    starts: datetime
    duration_minutes: int
    vehicles: list[str]
    trackers: Codes
    visibility: Visibility

    @classmethod
    def of(cls, plan: PatrolPlan) -> PlanOut:
        """The plan as the API shows it: its route as GeoJSON, its trackers by code."""
        return cls.model_validate({
            **{k: getattr(plan, k) for k in ("id", "name", "unit_id", "zone_id", "rrule", "starts", "duration_minutes",
                                            "vehicles", "visibility", *Rules.model_fields)},
            "route": to_geojson(plan.route),
            "trackers": list(plan.tracker_codes),
        })


class GenerateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: datetime
    until: datetime


class GenerateOut(BaseModel):
    created: list[int]
    existing: int = Field(description="Occurrences that already had their patrol")
