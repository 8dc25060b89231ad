from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from peacewatch.core.clocks import ClockOffset
from peacewatch.core.visibility import Visibility
from peacewatch.core.web import MAX_ID
from peacewatch.incidents.models import (
    Actor,
    Channel,
    IncidentStatus,
    IncidentType,
    PlacePrecision,
    ProposalStatus,
    Restriction,
    SourceKind,
    TimePrecision,
    ViolationKind,
)

MAX_COUNT = 100_000
Observation = Literal["heard", "seen", "camera"]


class Range(BaseModel):
    """A count that may be uncertain: ``max`` defaults to ``min``."""

    model_config = ConfigDict(extra="forbid")

    min: int = Field(default=0, ge=0, le=MAX_COUNT)
    max: int | None = Field(default=None, ge=0, le=MAX_COUNT)

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.max is not None and self.max < self.min:
            raise ValueError(f"max ({self.max}) is below min ({self.min})")
        return self

    @property
    def upper(self) -> int:
        return self.min if self.max is None else self.max


class Casualties(BaseModel):
    model_config = ConfigDict(extra="forbid")

    killed_civilian: Range = Field(default_factory=Range)
    killed_military: Range = Field(default_factory=Range)
    wounded_civilian: Range = Field(default_factory=Range)
    wounded_military: Range = Field(default_factory=Range)


class IncidentFields(BaseModel):
    """What a report says; shared by a new report and a correction."""

    model_config = ConfigDict(extra="forbid")

    type: IncidentType
    subtype: ViolationKind | None = Field(default=None, description="Required for a ceasefire violation")
    started_at: datetime
    ended_at: datetime | None = Field(default=None, description="Default: the start")
    time_precision: TimePrecision = TimePrecision.exact
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    place_precision: PlacePrecision = PlacePrecision.exact
    place_name: str = Field(default="", max_length=200, description="The place it was near; required with near_place")
    outside_area_of_interest: bool = Field(default=False, description="Set to accept a place outside the mission's area of interest")
    observed_by: list[Observation] = Field(default_factory=list, max_length=3)
    event_count: int = Field(default=1, ge=1, le=MAX_COUNT, description="How many explosions, bursts, overflights...")
    direction_deg: float | None = Field(default=None, ge=0, lt=360, description="From the observer, degrees from north")
    distance_m: float | None = Field(default=None, ge=0, le=100_000, description="Estimated distance from the observer")
    source: SourceKind
    source_detail: str = Field(default="", max_length=300)
    patrol_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="The reporting patrol (required when the source is a patrol)")
    post_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="The reporting post (required when the source is a post)")
    alleged_actors: list[Actor] = Field(default_factory=list, max_length=5)
    casualties: Casualties = Field(default_factory=Casualties)
    restriction: Restriction | None = Field(default=None, description="Required for a restriction of movement")
    restricted_by: str = Field(default="", max_length=300)
    denied: str = Field(default="", max_length=500, description="What was denied: a road, a site, a crossing")
    narrative: str = Field(default="", max_length=10_000)
    visibility: Visibility | None = Field(default=None, description="Default: the reporting side's, else internal")


class IncidentIn(IncidentFields):
    ADDED_LATER: ClassVar[frozenset[str]] = frozenset({"channel", "received_at"})  # see resend_digest
    client_id: str | None = Field(
        default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$",
        description="The device's own id for the report: sending it again returns the first copy",
    )
    clock_offset_s: ClockOffset = None
    channel: Channel | None = Field(default=None, description="How the report reached the mission. Default: the field app for a "
                                    "patrol's device, entered by the source for a liaison officer, else not stated")
    received_at: datetime | None = Field(default=None, description="When the report reached the mission, if earlier than now "
                                         "(a call taken before it was typed in); the operations centre's to give. Default: now")


class FromTakIn(BaseModel):
    """What a TAK marker does not say; its place, time, callsign and remarks fill the rest of the report."""

    model_config = ConfigDict(extra="forbid")

    type: IncidentType
    subtype: ViolationKind | None = Field(default=None, description="Required for a ceasefire violation")
    source: SourceKind
    patrol_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="The reporting patrol (required when the source is a patrol)")
    post_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="The reporting post (required when the source is a post)")
    time_precision: TimePrecision = TimePrecision.exact
    place_precision: PlacePrecision = PlacePrecision.exact
    outside_area_of_interest: bool = False
    event_count: int = Field(default=1, ge=1, le=MAX_COUNT)
    narrative: str | None = Field(default=None, max_length=10_000, description="Default: the marker's callsign and remarks")
    visibility: Visibility | None = None


class IncidentPatch(BaseModel):
    """A correction: any field of the report; the history keeps what it said before."""

    model_config = ConfigDict(extra="forbid")

    type: IncidentType | None = None
    subtype: ViolationKind | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    time_precision: TimePrecision | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    place_precision: PlacePrecision | None = None
    place_name: str | None = Field(default=None, max_length=200)
    outside_area_of_interest: bool | None = None
    observed_by: list[Observation] | None = Field(default=None, max_length=3)
    event_count: int | None = Field(default=None, ge=1, le=MAX_COUNT)
    direction_deg: float | None = Field(default=None, ge=0, lt=360)
    distance_m: float | None = Field(default=None, ge=0, le=100_000)
    source: SourceKind | None = None
    source_detail: str | None = Field(default=None, max_length=300)
    patrol_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    post_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    alleged_actors: list[Actor] | None = Field(default=None, max_length=5)
    casualties: Casualties | None = None
    restriction: Restriction | None = None
    restricted_by: str | None = Field(default=None, max_length=300)
    denied: str | None = Field(default=None, max_length=500)
    narrative: str | None = Field(default=None, max_length=10_000)
    visibility: Visibility | None = None


class IncidentOut(BaseModel):
    id: int
    client_id: str | None
    reported_by: str = Field(description="The user who entered the report")
    created_at: datetime
    channel: Channel | None = Field(description="How it reached the mission; null: not stated")
    received_at: datetime = Field(description="When it reached the mission")
    updated_at: datetime
    type: IncidentType
    subtype: ViolationKind | None
    started_at: datetime
    ended_at: datetime
    time_precision: TimePrecision
    lat: float
    lon: float
    mgrs: str | None
    place_precision: PlacePrecision
    place_name: str
    outside_area_of_interest: bool
    zone_id: int | None = Field(description="The area of responsibility the place is in")
    district_id: int | None
    observed_by: list[str]
    event_count: int
    direction_deg: float | None
    distance_m: float | None
    source: SourceKind
    source_detail: str
    patrol_id: int | None
    post_id: int | None
    alleged_actors: list[Actor]
    casualties: Casualties
    restriction: Restriction | None
    restricted_by: str
    denied: str
    narrative: str
    status: IncidentStatus
    event_id: int = Field(description="The event this report describes, with any other reports of it")
    visibility: Visibility
    clock_offset_s: int | None = Field(default=None, description="How far the reporting device's clock was behind (negative: "
                                       "ahead); its times are corrected by it")


class VerificationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: IncidentStatus
    reason: str = Field(min_length=1, max_length=5000, description="Why: what the patrol or post found")
    patrol_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="The patrol that checked")
    post_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="The post that checked")
    at: datetime | None = Field(default=None, description="When (default now)")


class VerificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    incident_id: int
    at: datetime
    by: str
    from_status: IncidentStatus
    to_status: IncidentStatus
    reason: str
    patrol_id: int | None
    post_id: int | None


class HistoryEntry(BaseModel):
    at: datetime
    actor: str
    action: str
    changes: dict[str, list[Any]] = Field(description="field: [before, after]")


class ProposalOut(BaseModel):
    id: int
    status: ProposalStatus
    incident_ids: list[int]
    event_ids: list[int] = Field(description="The events the reports are in now")
    max_distance_m: float
    max_gap_minutes: float
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    reason: str


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="", max_length=2000)


class SplitIn(DecisionIn):
    groups: list[list[int]] | None = Field(
        default=None, max_length=500,
        description="Report ids that are one event each; default: every report is an event of its own",
    )


class MatchRun(BaseModel):
    reports: int
    clusters: int = Field(description="Groups of two or more reports the matcher found")
    proposed: int = Field(description="New proposals")
    superseded: int
    seconds: float


class EventOut(BaseModel):
    id: int
    incident_ids: list[int]
    type: IncidentType
    subtype: ViolationKind | None
    status: IncidentStatus
    started_at: datetime
    ended_at: datetime
    lat: float
    lon: float
    sources: list[SourceKind]
    event_count: int
    zone_id: int | None
    district_id: int | None
