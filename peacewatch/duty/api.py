from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from peacewatch.alerts.schemas import AlertOut
from peacewatch.core.calendar import days_span
from peacewatch.core.db import as_utc
from peacewatch.core.paging import counted, counted_responses
from peacewatch.core.problems import Invalid, problem_responses
from peacewatch.core.web import Admin, Limit, Offset, Operations, OperationsCentre, RecordId, SessionDep, SettingsDep, Staff
from peacewatch.duty import delivery, figures, service
from peacewatch.duty.schemas import AlertHistory, PolicyIn, PolicyOut, ShiftIn, ShiftOut, WebhookIn, WebhookMade, WebhookOut

roster = APIRouter(prefix="/api/v1/duty", tags=["duty roster"], responses=problem_responses(403, 404, 422))
policies = APIRouter(prefix="/api/v1/escalation-policies", tags=["duty roster"], responses=problem_responses(403, 404, 409, 422))
webhooks = APIRouter(prefix="/api/v1/webhooks", tags=["duty roster"], responses=problem_responses(403, 404, 409, 422))
alerts = APIRouter(prefix="/api/v1/alerts", tags=["alerts"], responses=problem_responses(403, 404, 422))


@roster.get("/shifts", response_model=list[ShiftOut], summary="The duty roster: shifts overlapping a span, earliest first",
            responses=counted_responses())
def list_shifts(session: SessionDep, user: Staff, response: Response,
                since: Annotated[datetime | None, Query(description="With its offset")] = None,
                until: Annotated[datetime | None, Query(description="With its offset")] = None,
                username: Annotated[str | None, Query(max_length=64)] = None, limit: Limit = 100, offset: Offset = 0) -> Any:
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise Invalid("{name} needs its UTC offset", field=f"query.{name}", name=name)
    found = service.list_shifts(session, since=as_utc(since, field="query.since"), until=as_utc(until, field="query.until"),
                                username=username, limit=limit, offset=offset)
    return [ShiftOut.model_validate(s) for s in counted(response, found)]


@roster.post("/shifts", response_model=ShiftOut, status_code=201, summary="Put someone on duty")
def add_shift(data: ShiftIn, session: SessionDep, user: Operations) -> ShiftOut:
    return ShiftOut.model_validate(service.add_shift(session, user.username, data))


@roster.delete("/shifts/{shift_id}", status_code=204, summary="Take a shift off the roster")
def remove_shift(shift_id: RecordId, session: SessionDep, user: Operations) -> Response:
    service.remove_shift(session, user.username, shift_id)
    return Response(status_code=204)


def moment_after(at: datetime) -> datetime:
    """The smallest span after ``at`` a shift must overlap to cover it (the calendar's last moment covers itself)."""
    return at + timedelta(microseconds=1) if at < datetime.max.replace(tzinfo=UTC) else at


class OnDuty(BaseModel):
    at: datetime
    shifts: list[ShiftOut] = Field(description="Who is on duty at that moment")


@roster.get("/now", response_model=OnDuty, summary="Who is on duty now (or at a moment)")
def on_duty_now(session: SessionDep, user: Staff, at: Annotated[datetime | None, Query(description="With its offset")] = None) -> OnDuty:
    if at is not None and at.tzinfo is None:
        raise Invalid("at needs its UTC offset", field="query.at")
    moment = as_utc(at, field="query.at") or datetime.now(UTC)
    found = service.list_shifts(session, since=moment, until=moment_after(moment), limit=1000).items
    return OnDuty(at=moment, shifts=[ShiftOut.model_validate(s) for s in found])


@policies.get("", response_model=list[PolicyOut], summary="Escalation policies, in the order they are tried")
def list_policies(session: SessionDep, user: OperationsCentre) -> list[PolicyOut]:
    return [PolicyOut.model_validate(p) for p in service.list_policies(session)]


@policies.post("", response_model=PolicyOut, status_code=201, summary="Make an escalation policy")
def create_policy(data: PolicyIn, session: SessionDep, user: Operations) -> PolicyOut:
    return PolicyOut.model_validate(service.create_policy(session, user.username, data))


@policies.put("/{policy_id}", response_model=PolicyOut, summary="Change an escalation policy (its steps still to come)")
def replace_policy(policy_id: RecordId, data: PolicyIn, session: SessionDep, user: Operations) -> PolicyOut:
    return PolicyOut.model_validate(service.replace_policy(session, user.username, policy_id, data))


@webhooks.get("", response_model=list[WebhookOut], summary="Systems told of alerts by signed webhooks")
def list_webhooks(session: SessionDep, user: Admin) -> list[WebhookOut]:
    return [WebhookOut.model_validate(h) for h in service.list_webhooks(session)]


@webhooks.post("", response_model=WebhookMade, status_code=201, summary="Add a webhook (its secret is shown this once)")
def create_webhook(data: WebhookIn, session: SessionDep, user: Admin) -> WebhookMade:
    hook, secret = service.create_webhook(session, user.username, data)
    return WebhookMade(**WebhookOut.model_validate(hook).model_dump(), secret=secret)


class WebhookState(BaseModel):
    active: bool


@webhooks.post("/{webhook_id}/state", response_model=WebhookOut, summary="Turn a webhook off or on")
def set_webhook_state(webhook_id: RecordId, data: WebhookState, session: SessionDep, user: Admin) -> WebhookOut:
    return WebhookOut.model_validate(service.set_webhook_active(session, user.username, webhook_id, data.active))


class WaitedOut(BaseModel):
    day: date
    kind: str
    raised: int
    acknowledged: int
    unacknowledged: int
    median_s: float | None = Field(description="Raised to acknowledged, seconds: the median")
    p90_s: float | None = Field(description="... and the 90th percentile")
    notified_median_s: float | None = Field(description="Raised to the first person told, seconds: the median")


@alerts.get("/response-times", response_model=list[WaitedOut], summary="How long alerts waited for someone, per day and kind")
def response_times(session: SessionDep, settings: SettingsDep, user: OperationsCentre,
                   since: Annotated[date, Query(description="First day (mission time)")],
                   until: Annotated[date | None, Query(description="Last day (mission time); default: since")] = None) -> list[WaitedOut]:
    last = until or since
    if last < since:
        raise Invalid("until is before since", field="query.until")
    start, end = days_span(since, last, settings.zone)
    return [WaitedOut(**vars(w)) for w in figures.response_times(session, settings.zone, start, end)]


@alerts.get("/{alert_id}/history", response_model=AlertHistory, summary="Who was told of an alert, when, how, and who acknowledged")
def alert_history(alert_id: RecordId, session: SessionDep, user: OperationsCentre) -> AlertHistory:
    return figures.history(session, alert_id, user.readable)


class LinkAcknowledgement(BaseModel):
    token: str = Field(min_length=20, max_length=2000, description="The token of the e-mail's acknowledgement link")


class LinkAnswer(BaseModel):
    alert: AlertOut
    acknowledged_now: bool = Field(description="False: someone had acknowledged it already")


@alerts.post("/acknowledge-by-link", response_model=LinkAnswer, summary="Acknowledge from an e-mail's link (its token is the credential)")
def acknowledge_by_link(data: LinkAcknowledgement, request: Request, session: SessionDep, settings: SettingsDep) -> LinkAnswer:
    """Needs no sign-in: the link's token names one notice sent to one person, for a day. The escalation stops."""
    alert, now = delivery.acknowledge_by_link(session, settings, data.token)
    return LinkAnswer(alert=AlertOut.model_validate(alert), acknowledged_now=now)


ROUTERS = (roster, policies, webhooks, alerts)
