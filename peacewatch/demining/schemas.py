from __future__ import annotations

from datetime import date, datetime
from typing import Any

from geojson_pydantic import MultiPolygon, Polygon
from pydantic import BaseModel, ConfigDict, Field

from peacewatch.core.visibility import Visibility
from peacewatch.core.web import MAX_ID


class ClearanceIn(BaseModel):
    """What a unit cleared on one reporting day; hectares are measured from the polygon when it is given."""

    model_config = ConfigDict(extra="forbid")

    unit_id: int = Field(ge=1, le=MAX_ID, description="The engineer unit that did the work")
    cleared_on: date = Field(description="The reporting day the work is reported for")
    place: str = Field(min_length=1, max_length=200, description="Where: district, settlement, road section")
    geometry: Polygon | MultiPolygon | None = Field(default=None, description="The ground cleared (WGS84)")
    hectares: float | None = Field(default=None, ge=0, le=1_000_000,
                                   description="Ground cleared; measured on the ellipsoid from the polygon when omitted")
    road_km: float = Field(default=0.0, ge=0, le=100_000)
    buildings: int = Field(default=0, ge=0, le=1_000_000)
    explosive_objects: int = Field(default=0, ge=0, le=10_000_000, description="Mines, shells and other objects neutralised")
    notes: str = Field(default="", max_length=10_000)
    visibility: Visibility = Visibility.internal


class ClearanceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    unit_id: int
    unit_name: str
    cleared_on: date
    place: str
    geometry: dict[str, Any] | None
    hectares: float
    road_km: float
    buildings: int
    explosive_objects: int
    notes: str
    visibility: Visibility
    created_at: datetime


class ClearancePatch(BaseModel):
    """A correction: only the fields given change; a new polygon without hectares is measured again."""

    model_config = ConfigDict(extra="forbid")

    unit_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    cleared_on: date | None = None
    place: str | None = Field(default=None, min_length=1, max_length=200)
    geometry: Polygon | MultiPolygon | None = None
    hectares: float | None = Field(default=None, ge=0, le=1_000_000)
    road_km: float | None = Field(default=None, ge=0, le=100_000)
    buildings: int | None = Field(default=None, ge=0, le=1_000_000)
    explosive_objects: int | None = Field(default=None, ge=0, le=10_000_000)
    notes: str | None = Field(default=None, max_length=10_000)
    visibility: Visibility | None = None
