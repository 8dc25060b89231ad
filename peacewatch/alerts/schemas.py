from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

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


class AlertShare(BaseModel):
    model_config = ConfigDict(extra="forbid")

    visibility: Visibility = Field(description="internal (the default of every alert), side_a, side_b or public")


class AlertAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=5000)
