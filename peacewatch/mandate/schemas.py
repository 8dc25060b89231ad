from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from peacewatch.core.visibility import Visibility
from peacewatch.mandate.terms import MandateStatus

COUNTRY_CODE = r"^[A-Z]{3}$"


class ContributingState(BaseModel):
    code: str = Field(pattern=COUNTRY_CODE, description="ISO 3166-1 alpha-3, e.g. RUS")
    name: str = Field(min_length=1, max_length=200)


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
