from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from peacewatch.core.visibility import Visibility
from peacewatch.force.models import UnitType
from peacewatch.mandate.schemas import COUNTRY_CODE

STRENGTH = Field(ge=0, le=1_000_000)


class UnitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    name_ru: str = Field(default="", max_length=200, title="Name in Russian", description="The name in Russian (Cyrillic), where it differs")
    designation: str = Field(default="", max_length=64)
    unit_type: UnitType
    parent_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    contributing_state: str = Field(default="RUS", pattern=COUNTRY_CODE)
    authorised_strength: int = STRENGTH
    present_strength: int = Field(default=0, ge=0, le=1_000_000)
    visibility: Visibility = Visibility.internal


class UnitUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    name_ru: str | None = Field(default=None, max_length=200, title="Name in Russian")
    designation: str | None = Field(default=None, max_length=64)
    unit_type: UnitType | None = None
    parent_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    contributing_state: str | None = Field(default=None, pattern=COUNTRY_CODE)
    authorised_strength: int | None = Field(default=None, ge=0, le=1_000_000)
    present_strength: int | None = Field(default=None, ge=0, le=1_000_000)
    visibility: Visibility | None = None


class UnitOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    name_ru: str
    designation: str
    unit_type: UnitType
    parent_id: int | None
    contributing_state: str
    authorised_strength: int
    present_strength: int
    visibility: Visibility
    created_at: datetime
    updated_at: datetime


class StrengthOut(BaseModel):
    units: int
    authorised_strength: int
    present_strength: int
    personnel_ceiling: int | None = Field(description="From the mandate, when one is configured")
    headroom: int | None = Field(description="Ceiling minus present strength")
    by_type: dict[str, int] = Field(description="Present strength per unit type")
