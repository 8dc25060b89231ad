from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request, Response
from sse_starlette.sse import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from peacewatch.alerts import calls, live, service
from peacewatch.alerts.models import AlertKind, AlertStatus
from peacewatch.alerts.schemas import AlertAction, AlertOut, AlertShare, FieldEmergency
from peacewatch.core.answers import model_answer
from peacewatch.core.broadcast import Lagging
from peacewatch.core.paging import counted_responses, with_total
from peacewatch.core.problems import problem_responses
from peacewatch.core.tabular import CSV_OR_JSON, ListFormat, csv_response
from peacewatch.core.web import (
    MAX_ID,
    AnswersDep,
    Limit,
    Offset,
    Operations,
    Readable,
    RecordId,
    SessionDep,
    Staff,
    StreamReadable,
    while_signed_in,
)

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"], responses=problem_responses(403, 404, 409))


@router.get("", response_model=list[AlertOut], summary="Alerts, newest first", responses=counted_responses(CSV_OR_JSON))
def list_alerts(
    request: Request,
    session: SessionDep,
    readable: Readable,
    answers: AnswersDep,
    status: AlertStatus | None = None,
    kind: AlertKind | None = None,
    patrol_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
    format: ListFormat = "json",
) -> Any:
    def build() -> Response:
        alerts = service.list_alerts(session, readable, status=status, kind=kind, patrol_id=patrol_id, limit=limit, offset=offset)
        found = [AlertOut.model_validate(a) for a in alerts.items]
        answer = csv_response(found, "alerts.csv") if format == "csv" else model_answer(list[AlertOut], found)
        return with_total(answer, alerts.total)

    return answers.reply(request, session, readable, ("alerts",), build)


@router.get(
    "/stream",
    summary="New alerts as server-sent events (resumes after Last-Event-ID)",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {"schema": {
        "type": "object",
        "description": "One event per new alert: id is the alert id (send it back as Last-Event-ID), data the alert as JSON",
        "properties": {"id": {"type": "string"}, "event": {"type": "string", "enum": ["alert"]},
                       "data": {"type": "string", "contentMediaType": "application/json"}},
        "required": ["id", "event", "data"],
    }}}}, **problem_responses(429)},  # a client over its streams' bound (core.admission)
)
async def stream_alerts(
    request: Request,
    readable: StreamReadable,
    last_event_id: Annotated[str | None, Header()] = None,
    after: Annotated[int | None, Query(ge=0, le=MAX_ID, description="Start after this alert id (default: now)")] = None,
) -> EventSourceResponse:
    """Each alert the reader may see, once, in the order raised, by this server process or any other."""
    factory = request.app.state.sessionmaker
    topic = request.app.state.alerts_topic

    def newest() -> int:
        with factory() as session:
            return live.newest_alert_id(session)

    def page_after(after_id: int) -> list[dict[str, Any]]:
        with factory() as session:
            return live.alerts_after(session, after_id)

    start = after if after is not None else (int(last_event_id) if (last_event_id or "").isascii() and (last_event_id or "").isdigit() else None)

    def visible(alert: dict[str, Any]) -> bool:
        return readable is None or alert["visibility"] in readable

    async def events() -> AsyncIterator[dict[str, Any]]:
        async with topic.subscribe() as subscription:
            cursor = start if start is not None else await run_in_threadpool(newest)
            while start is not None:  # what was raised since the client's last alert, page by page
                page = await run_in_threadpool(page_after, cursor)
                for alert in page:
                    cursor = alert["id"]
                    if visible(alert):
                        yield _alert_event(alert)
                if len(page) < live.PAGE:
                    break
            while True:  # until the client goes: EventSourceResponse then cancels this generator
                try:
                    batch = await subscription.next(STREAM_CHECK_S)
                except Lagging:
                    return  # the client reconnects with Last-Event-ID and catches up from there
                for alert in batch or ():
                    if alert["id"] > cursor:
                        cursor = alert["id"]
                        if visible(alert):
                            yield _alert_event(alert)

    return EventSourceResponse(while_signed_in(request, events()), ping=15)


STREAM_CHECK_S = 5.0  # how long a stream waits for news before it looks again


def _alert_event(alert: dict[str, Any]) -> dict[str, Any]:
    return {"id": str(alert["id"]), "event": "alert", "data": json.dumps(alert)}


@router.get("/{alert_id}", response_model=AlertOut)
def read_alert(alert_id: RecordId, session: SessionDep, readable: Readable) -> AlertOut:
    return AlertOut.model_validate(service.get_alert(session, alert_id, readable))


@router.post("/{alert_id}/acknowledge", response_model=AlertOut, summary="Acknowledge an alert")
def acknowledge(alert_id: RecordId, data: AlertAction, session: SessionDep, user: Operations) -> AlertOut:
    return AlertOut.model_validate(service.acknowledge(session, user.username, alert_id, data.note))


@router.post("/{alert_id}/share", response_model=AlertOut, summary="Share an alert with a side or the public (alerts are internal)")
def share(alert_id: RecordId, data: AlertShare, session: SessionDep, user: Operations) -> AlertOut:
    return AlertOut.model_validate(service.share(session, user.username, alert_id, data.visibility))


@router.post("/{alert_id}/close", response_model=AlertOut, summary="Close an alert, saying why")
def close(alert_id: RecordId, data: AlertAction, session: SessionDep, user: Operations) -> AlertOut:
    return AlertOut.model_validate(service.close(session, user.username, alert_id, data.note))


emergencies = APIRouter(prefix="/api/v1/emergencies", tags=["alerts"], responses=problem_responses(403, 404, 422))
ClientId = Annotated[str, Path(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$", description="The device's id for the call")]


@emergencies.post("", response_model=AlertOut, status_code=201, summary="Call for help from the field (the Emergency button)",
                  responses={200: {"model": AlertOut, "description": "The call was already raised: its alert, at the new place"}})
def call_for_help(data: FieldEmergency, session: SessionDep, user: Staff, response: Response) -> AlertOut:
    """A top-priority alert for the operations centre, raised once per call: the device sends it again until it has an
    answer, and each repeat moves the alert to where the caller is now (200)."""
    alert, raised = calls.call_from_the_field(session, user.username, data.client_id, at=data.at, lat=data.lat, lon=data.lon,
                                              accuracy=data.accuracy, patrol_id=data.patrol_id, note=data.note)
    response.status_code = 201 if raised else 200
    return AlertOut.model_validate(alert)


@emergencies.post("/{client_id}/cancel", response_model=AlertOut, summary="Call off one's own emergency")
def call_off(client_id: ClientId, session: SessionDep, user: Staff) -> AlertOut:
    """Only who called may call it off; a call already over answers with its alert as it is (a cancel sent twice)."""
    return AlertOut.model_validate(calls.call_off_from_the_field(session, user.username, client_id))
