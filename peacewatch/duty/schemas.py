from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from peacewatch.alerts.models import AlertKind
from peacewatch.duty.models import Channel, Duty, NoticeStatus


class ShiftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64, description="Who is on duty")
    duty: Duty
    post_id: int | None = Field(default=None, ge=1, description="The post, for (and only for) a post commander on duty")
    starts_at: datetime = Field(description="With its offset; the pages enter it in mission time")
    ends_at: datetime
    note: str = Field(default="", max_length=500)

    @model_validator(mode="after")
    def _consistent(self) -> ShiftIn:
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            raise ValueError("starts_at and ends_at need their UTC offset (for example +04:00, mission time in Baku)")
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at is not after starts_at")
        if (self.duty is Duty.post_commander) != (self.post_id is not None):
            raise ValueError("a post commander on duty names the post (post_id), and only a post commander does")
        return self


class ShiftOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    duty: Duty
    post_id: int | None
    starts_at: datetime
    ends_at: datetime
    note: str


class PolicyStep(BaseModel):
    model_config = ConfigDict(extra="forbid")

    after_s: int = Field(ge=0, le=7 * 86400, description="Seconds after the alert was raised")
    duties: list[Duty] = Field(default_factory=list, max_length=10, description="Who is told: the people on these duties now")
    everyone_on_duty: bool = Field(default=False, description="Tell everyone on duty now, whatever their duty")
    channels: list[Channel] = Field(default_factory=lambda: [Channel.tak, Channel.email], min_length=1, max_length=3)

    @model_validator(mode="after")
    def _tells_someone(self) -> PolicyStep:
        if not self.duties and not self.everyone_on_duty:
            raise ValueError("a step names the duties it tells, or everyone on duty")
        return self


class PolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    rank: int = Field(default=100, ge=0, le=10_000, description="Policies are tried against an alert lowest rank first")
    kinds: list[AlertKind] = Field(default_factory=list, description="Alert kinds it covers; none: every kind")
    max_priority: int = Field(default=3, ge=1, le=3, description="Alerts of this priority or more urgent (1 emergency, 2 urgent, 3 routine)")
    steps: list[PolicyStep] = Field(min_length=1, max_length=20)
    repeat_every_s: int | None = Field(default=None, ge=30, le=86400, description="The last step again, this often, until acknowledged")
    active: bool = True

    @model_validator(mode="after")
    def _in_order(self) -> PolicyIn:
        times = [step.after_s for step in self.steps]
        if times != sorted(times):
            raise ValueError("steps go in the order of their after_s")
        return self


class PolicyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    rank: int
    kinds: list[str]
    max_priority: int
    steps: list[dict[str, Any]]
    repeat_every_s: int | None
    active: bool


class NoticeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    alert_id: int
    recipient: str
    channel: Channel
    address: str
    status: NoticeStatus
    attempts: int
    last_error: str
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    read_at: datetime | None


class StepOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    step: int
    round: int
    due_at: datetime
    taken_at: datetime
    told: list[str]


class AlertHistory(BaseModel):
    """Who was told of an alert, when, by which channel, and who acknowledged it."""

    alert_id: int
    stage: str
    raised_at: datetime
    notified_at: datetime | None
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    closed_by: str | None
    closed_at: datetime | None
    policy: str | None
    steps: list[StepOut]
    notices: list[NoticeOut]


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    url: str = Field(max_length=500, pattern=r"^https?://[^\s]+$")
    kinds: list[AlertKind] = Field(default_factory=list, description="Alert kinds it is sent; none: every kind")


class WebhookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    url: str
    kinds: list[str]
    active: bool


class WebhookMade(WebhookOut):
    secret: str = Field(description="Verifies the signatures (Standard Webhooks, whsec_...): shown this once")
