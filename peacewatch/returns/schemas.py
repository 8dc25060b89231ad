from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from peacewatch.core.visibility import Visibility
from peacewatch.core.web import MAX_ID


class ReturnIn(BaseModel):
    """People who returned on one reporting day along one route."""

    model_config = ConfigDict(extra="forbid")

    returned_on: date = Field(description="The reporting day they crossed")
    route: str = Field(min_length=1, max_length=200, description="e.g. Goris - Lachin corridor - Stepanakert")
    origin: str = Field(default="", max_length=200, description="Where they came from")
    destination: str = Field(default="", max_length=200)
    people: int = Field(ge=1, le=1_000_000)
    convoy_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="The returnees' convoy that escorted them")
    post_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="The checkpoint that counted them")
    notes: str = Field(default="", max_length=10_000)
    visibility: Visibility = Visibility.internal


class ReturnOut(ReturnIn):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime


class ReturnPatch(BaseModel):
    """A correction: only the fields given change; the record is checked again whole."""

    model_config = ConfigDict(extra="forbid")

    returned_on: date | None = None
    route: str | None = Field(default=None, min_length=1, max_length=200)
    origin: str | None = Field(default=None, max_length=200)
    destination: str | None = Field(default=None, max_length=200)
    people: int | None = Field(default=None, ge=1, le=1_000_000)
    convoy_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    post_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    notes: str | None = Field(default=None, max_length=10_000)
    visibility: Visibility | None = None
