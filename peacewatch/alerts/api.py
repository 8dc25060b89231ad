from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from sse_starlette.sse import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from peacewatch.alerts import service
from peacewatch.alerts.models import AlertKind, AlertStatus
from peacewatch.alerts.schemas import AlertAction, AlertOut
from peacewatch.core.auth import Role, User
from peacewatch.core.tabular import CSV_OR_JSON, ListFormat, csv_response
from peacewatch.core.problems import problem_responses
from peacewatch.core.web import MAX_ID, Offset, Readable, RecordId, SessionDep, require_roles

Handler = Annotated[User, Depends(require_roles(Role.operations))]
router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"], responses=problem_responses(403, 404, 409))


@router.get("", response_model=list[AlertOut], summary="Alerts, newest first", responses=CSV_OR_JSON)
def list_alerts(
    session: SessionDep,
    readable: Readable,
    status: AlertStatus | None = None,
    kind: AlertKind | None = None,
    patrol_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Offset = 0,
    format: ListFormat = "json",
) -> Any:
    alerts = service.list_alerts(session, readable, status=status, kind=kind, patrol_id=patrol_id, limit=limit, offset=offset)
    found = [AlertOut.model_validate(a) for a in alerts]
    return csv_response(found, "alerts.csv") if format == "csv" else found


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
    }}}}},
)
async def stream_alerts(
    request: Request,
    readable: Readable,
    last_event_id: Annotated[str | None, Header()] = None,
    after: Annotated[int | None, Query(ge=0, le=MAX_ID, description="Start after this alert id (default: now)")] = None,
) -> EventSourceResponse:
    factory = request.app.state.sessionmaker
    notifier = request.app.state.notifier

    def fetch(after_id: int) -> list[dict[str, Any]]:
        with factory() as session:
            found = service.list_alerts(session, readable, after_id=after_id, limit=500, newest_first=False)
            return [AlertOut.model_validate(a).model_dump(mode="json") for a in found]

    def newest() -> int:
        with factory() as session:
            found = service.list_alerts(session, None, limit=1)
            return found[0].id if found else 0

    start = after if after is not None else (int(last_event_id) if (last_event_id or "").isdigit() else None)
    cursor = start if start is not None else await run_in_threadpool(newest)

    async def events() -> AsyncIterator[dict[str, Any]]:
        nonlocal cursor
        while not await request.is_disconnected():
            for alert in await run_in_threadpool(fetch, cursor):
                cursor = alert["id"]
                yield {"id": str(alert["id"]), "event": "alert", "data": json.dumps(alert)}
            await notifier.wait(1.0)

    return EventSourceResponse(events(), ping=15)


@router.get("/{alert_id}", response_model=AlertOut)
def read_alert(alert_id: RecordId, session: SessionDep, readable: Readable) -> AlertOut:
    return AlertOut.model_validate(service.get_alert(session, alert_id, readable))


@router.post("/{alert_id}/acknowledge", response_model=AlertOut)
def acknowledge(alert_id: RecordId, data: AlertAction, session: SessionDep, user: Handler) -> AlertOut:
    return AlertOut.model_validate(service.acknowledge(session, user.username, alert_id, data.note))


@router.post("/{alert_id}/close", response_model=AlertOut)
def close(alert_id: RecordId, data: AlertAction, session: SessionDep, user: Handler) -> AlertOut:
    return AlertOut.model_validate(service.close(session, user.username, alert_id, data.note))
