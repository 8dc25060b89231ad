"""GeoJSON in and out: features whose properties are the record's fields."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from geojson_pydantic import Feature, FeatureCollection, LineString, MultiLineString, MultiPolygon, Point, Polygon
from pydantic import BaseModel, ConfigDict, Field

from peacewatch.core.visibility import Visibility
from peacewatch.core.web import MAX_ID
from peacewatch.geography.models import PostKind, PostStatus, ZoneKind

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"
CODE = Field(min_length=1, max_length=64, pattern=CODE_PATTERN)
OPTIONAL_CODE = Field(default=None, min_length=1, max_length=64, pattern=CODE_PATTERN)

ZoneGeometry = Polygon | MultiPolygon | LineString | MultiLineString


class ZoneProperties(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = CODE
    name: str = Field(min_length=1, max_length=200)
    name_ru: str = Field(default="", max_length=200, title="Name in Russian", description="The name in Russian (Cyrillic), where it differs")
    visibility: Visibility = Visibility.internal
    valid_from: date | None = None
    valid_to: date | None = None
    width_m: float | None = Field(
        default=None, gt=0, le=100_000, description="Corridor width: a line drawn along its middle is widened to it"
    )
    notes: str = Field(default="", max_length=10_000)


class ZonePropertiesPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str | None = OPTIONAL_CODE
    name: str | None = Field(default=None, min_length=1, max_length=200)
    name_ru: str | None = Field(default=None, max_length=200, title="Name in Russian")
    visibility: Visibility | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    width_m: float | None = Field(default=None, gt=0, le=100_000)
    notes: str | None = Field(default=None, max_length=10_000)


class ZoneIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["Feature"] = "Feature"
    geometry: ZoneGeometry
    properties: ZoneProperties


class ZonePatch(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["Feature"] = "Feature"
    geometry: ZoneGeometry | None = None
    properties: ZonePropertiesPatch = Field(default_factory=ZonePropertiesPatch)


class ZoneOutProperties(BaseModel):
    id: int
    kind: ZoneKind
    code: str
    name: str
    name_ru: str
    visibility: Visibility
    valid_from: date | None
    valid_to: date | None
    width_m: float | None
    notes: str
    area_km2: float | None
    length_km: float | None
    mgrs: str | None = Field(description="MGRS of a point inside the zone (1 m precision)")
    updated_at: datetime


ZoneFeature = Feature[ZoneGeometry, ZoneOutProperties]
ZoneCollection = FeatureCollection[ZoneFeature]


class PostProperties(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = CODE
    name: str = Field(min_length=1, max_length=200)
    name_ru: str = Field(default="", max_length=200, title="Name in Russian", description="The name in Russian (Cyrillic), where it differs")
    kind: PostKind = PostKind.observation_post
    zone_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="The zone the post belongs to")
    zone_code: str | None = Field(default=None, min_length=1, max_length=64, description="Alternative to zone_id")
    opened_on: date
    closed_on: date | None = Field(default=None, description="First day the post is no longer manned")
    permanent: bool = True
    visibility: Visibility = Visibility.internal
    notes: str = Field(default="", max_length=10_000)
    override_outside_zone: bool = Field(
        default=False, description="Accept a post outside its zone; needs override_reason and is audited"
    )
    override_reason: str | None = Field(default=None, max_length=1000)


class PostPropertiesPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str | None = OPTIONAL_CODE
    name: str | None = Field(default=None, min_length=1, max_length=200)
    name_ru: str | None = Field(default=None, max_length=200, title="Name in Russian")
    kind: PostKind | None = None
    zone_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    zone_code: str | None = Field(default=None, min_length=1, max_length=64)
    opened_on: date | None = None
    closed_on: date | None = None
    permanent: bool | None = None
    visibility: Visibility | None = None
    notes: str | None = Field(default=None, max_length=10_000)
    override_outside_zone: bool | None = None
    override_reason: str | None = Field(default=None, max_length=1000)


class PostIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["Feature"] = "Feature"
    geometry: Point
    properties: PostProperties


class PostPatch(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["Feature"] = "Feature"
    geometry: Point | None = None
    properties: PostPropertiesPatch = Field(default_factory=PostPropertiesPatch)


class PostOutProperties(BaseModel):
    id: int
    kind: PostKind
    code: str
    name: str
    name_ru: str
    zone_id: int
    zone_code: str
    opened_on: date
    closed_on: date | None
    permanent: bool
    status: PostStatus
    status_on: date = Field(description="The date the status was worked out for")
    visibility: Visibility
    notes: str
    outside_zone_override: bool
    override_reason: str | None
    lat: float
    lon: float
    mgrs: str | None
    updated_at: datetime


PostFeature = Feature[Point, PostOutProperties]
PostCollection = FeatureCollection[PostFeature]


class RefusedFeatureOut(BaseModel):
    index: int = Field(description="The feature's place in the file, from 0 (placemarks in document order in KML)")
    name: str
    reason: str


class ImportReport(BaseModel):
    layer: str
    created: int
    updated: int
    codes: list[str]
    refused: list[RefusedFeatureOut] = Field(default_factory=list, description="Features not imported, and why")
    ignored_properties: list[str] = Field(default_factory=list, description="Properties the layer does not take (a GIS's own)")


class PlaceProperties(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    name_ru: str = Field(default="", max_length=200, title="Name in Russian", description="The name in Russian (Cyrillic), where it differs")
    notes: str = Field(default="", max_length=10_000)
    visibility: Visibility = Visibility.internal


class PlacePropertiesPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    name_ru: str | None = Field(default=None, max_length=200, title="Name in Russian")
    notes: str | None = Field(default=None, max_length=10_000)
    visibility: Visibility | None = None


class PlaceIn(BaseModel):
    """A marker put on the map: a named spot (a crossing, a crater, a meeting point) shared as its visibility says."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["Feature"] = "Feature"
    geometry: Point
    properties: PlaceProperties


class PlacePatch(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["Feature"] = "Feature"
    geometry: Point | None = None
    properties: PlacePropertiesPatch = Field(default_factory=PlacePropertiesPatch)
