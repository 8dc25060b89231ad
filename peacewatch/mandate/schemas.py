from __future__ import annotations

import re
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from peacewatch.core.visibility import Visibility
from peacewatch.mandate.terms import MandateStatus

COUNTRY_CODE = r"^[A-Z]{3}$"


class ContributingState(BaseModel):
    code: str = Field(pattern=COUNTRY_CODE, description="The state's three-letter code, e.g. RUS")
    name: str = Field(min_length=1, max_length=200)
    since: date | None = Field(default=None, description="First day the state may contribute (default: the mandate's start)")
    until: date | None = Field(default=None, description="Last day the state may contribute (default: open)")

    @model_validator(mode="after")
    def _ordered(self) -> ContributingState:
        if self.since is not None and self.until is not None and self.until < self.since:
            raise ValueError("until is before since")
        return self


class MandateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    source: str
    contributing_states: list[ContributingState]
    personnel_ceiling: int
    armoured_vehicle_ceiling: int
    vehicle_ceiling: int
    start_date: date
    term_years: int
    renewal_years: int
    notice_months: int
    termination_notice_on: date | None
    termination_notice_by: str | None
    visibility: Visibility
    updated_at: datetime


class MandateUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    source: str | None = Field(default=None, max_length=500)
    contributing_states: list[ContributingState] | None = None
    personnel_ceiling: int | None = Field(default=None, ge=0, le=1_000_000)
    armoured_vehicle_ceiling: int | None = Field(default=None, ge=0, le=1_000_000)
    vehicle_ceiling: int | None = Field(default=None, ge=0, le=1_000_000)
    start_date: date | None = None
    term_years: int | None = Field(default=None, ge=1, le=100)
    renewal_years: int | None = Field(default=None, ge=1, le=100)
    notice_months: int | None = Field(default=None, ge=0, le=120)
    visibility: Visibility | None = None

    @model_validator(mode="after")
    def _unique_states(self) -> MandateUpdate:
        if self.contributing_states is not None:
            codes = [s.code for s in self.contributing_states]
            if len(codes) != len(set(codes)):
                raise ValueError("contributing_states lists a state twice")
        return self


class TerminationNotice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    given_on: date
    given_by: str = Field(min_length=1, max_length=200, description="The party giving notice")


class MandateStateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    on: date
    status: MandateStatus
    in_force: bool
    term_number: int | None = Field(description="1 for the initial term, 2 after the first renewal, ...")
    term_start: date | None
    term_end: date | None = Field(description="Expiry of the current term (exclusive)")
    renewals: int
    notice_deadline: date | None = Field(description="Last day a party can give notice to stop the next renewal")
    notice_window_open: bool
    renewed_until: date | None = Field(description="Set once the deadline has passed without notice")
    ends_on: date | None = Field(description="Set when notice has been given")
    assured_until: date | None = Field(description="The mandate is certain to be in force until this date")


class ArrangementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    states: list[str] = Field(min_length=1, max_length=20, description="The three-letter codes of the states taking part (RUS, TUR…)")
    starts_on: date
    ends_on: date | None = None
    place: str = Field(default="", max_length=200)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    staff_per_state: int | None = Field(default=None, ge=0, le=100_000, description="Most staff each state may send")
    means: str = Field(default="", max_length=200, description="How it works, e.g. remote monitoring by drones")
    troops_in_areas: bool = Field(default=False, description="Whether the states' troops deploy in the areas of responsibility")
    source: str = Field(default="", max_length=500)
    notes: str = Field(default="", max_length=4000)
    visibility: Visibility = Visibility.public

    @model_validator(mode="after")
    def _valid(self) -> ArrangementIn:
        for code in self.states:
            if not re.fullmatch(COUNTRY_CODE, code):
                raise ValueError(f"state '{code}' is not an ISO 3166-1 alpha-3 code such as TUR")
        if len(set(self.states)) != len(self.states):
            raise ValueError("states lists a state twice")
        if self.ends_on is not None and self.ends_on < self.starts_on:
            raise ValueError("ends_on is before starts_on")
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon, or neither")
        return self


class ArrangementOut(ArrangementIn):
    model_config = ConfigDict(from_attributes=True)

    id: int
    updated_at: datetime
