from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from peacewatch.alerts.models import AlertKind, AlertStatus
from peacewatch.core.visibility import Visibility


class AlertOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: AlertKind
    status: AlertStatus
    message: str
    patrol_id: int | None
    tracker_id: int | None
    zone_id: int | None
    started_at: datetime
    ended_at: datetime | None = Field(description="When the episode ended (back inside, moving again, ...)")
    raised_at: datetime
    lat: float | None
    lon: float | None
    details: dict[str, Any]
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    closed_by: str | None
    closed_at: datetime | None
    note: str
    visibility: Visibility
    priority: int = Field(description="1 emergency, 2 urgent, 3 routine: the lower, the sooner")
    stage: str = Field(description="raised, notified (someone was told), acknowledged, resolved (closed)")
    raised_by: str | None = Field(description="Who called for help, for an emergency or a CASEVAC request")
    notified_at: datetime | None = Field(description="When the first person was told of it")


class AlertShare(BaseModel):
    model_config = ConfigDict(extra="forbid")

    visibility: Visibility = Field(
        description="Who sees the alert besides the mission: one side's liaison officers, or everyone. Until shared it is the mission's only")


class AlertAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=5000)


class FieldEmergency(BaseModel):
    """The field page's Emergency button: sent first from the device's outbox, again until the server has it."""

    model_config = ConfigDict(extra="forbid")

    client_id: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$",
                           description="The device's id for this call: a repeat (the same call sent again) follows it")
    at: datetime | None = Field(default=None, description="When the button was pressed (by the server's clock as the device "
                                                          "learned it); the server's time when absent or ahead")
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    accuracy: float | None = Field(default=None, ge=0, le=100_000, description="Metres")
    patrol_id: int | None = Field(default=None, ge=1, description="The patrol the caller is on, if any")
    note: str = Field(default="", max_length=500, description="A few words, if there was time")

    @model_validator(mode="after")
    def _both_or_neither(self) -> FieldEmergency:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon go together: give both or neither")
        return self
