"""Positions in over HTTP: batches of fixes as JSON, and GPX files. Both store through the one :class:`Ingest`."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from pydantic import TypeAdapter
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from peacewatch.core.auth import User, api_token_id
from peacewatch.core.db import utcnow
from peacewatch.core.problems import Invalid, problem_responses, reader_gettext
from peacewatch.core.web import OperationsOrPatrol, SessionDep, client_address, signed_in_with
from peacewatch.geography.service import keep_places
from peacewatch.live.ingest import Ingest, IngestReport
from peacewatch.tracking import columns
from peacewatch.tracking.gpx import Tracks, Waypoints, gpx_columns
from peacewatch.tracking.schemas import GpxReportOut, IngestReportOut, PositionBatchIn, SkippedPointOut
from peacewatch.tracking.sources import Sender

MAX_BATCH_BYTES = 64 * 1024 * 1024


def _ingest(request: Request) -> Ingest:
    """The server's one ingest, built at start-up (``app.state.ingest``)."""
    return request.app.state.ingest  # type: ignore[no-any-return]  # the app's state is untyped; create_app puts the Ingest there


IngestDep = Annotated[Ingest, Depends(_ingest)]


def sender_of(request: Request, session: Session, user: User) -> Sender:
    """Who sends these positions: the signed-in user and, when it signed in with a device API token, that token."""
    credential = signed_in_with(request)
    return Sender(username=user.username, role=user.role, token_id=api_token_id(session, credential) if credential else None,
                  address=client_address(request))


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """Pydantic's schema with its $defs inlined, for an OpenAPI requestBody declared by hand."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return walk(defs[node["$ref"].split("/")[-1]])
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(schema)  # type: ignore[no-any-return]  # the schema is JSON: walk gives back the dict it was given


positions_in = APIRouter(prefix="/api/v1/positions", tags=["tracking"], responses=problem_responses(403, 413))


@positions_in.post(
    "",
    response_model=IngestReportOut,
    summary="Record a batch of positions (thousands per request); a position sent again is stored once",
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/json": {"schema": _inline(TypeAdapter(PositionBatchIn).json_schema())}}}},
)
async def record_positions(request: Request, session: SessionDep, ingest: IngestDep, user: OperationsOrPatrol) -> IngestReportOut:
    length = request.headers.get("content-length")
    if length is not None and length.isascii() and length.isdigit() and int(length) > MAX_BATCH_BYTES:
        raise Invalid("batch larger than {value} MiB: split it", field="body", value=MAX_BATCH_BYTES // 2**20)
    raw = await request.body()
    if len(raw) > MAX_BATCH_BYTES:
        raise Invalid("batch larger than {value} MiB: split it", field="body", value=MAX_BATCH_BYTES // 2**20)

    def parse_and_store() -> IngestReport:
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise Invalid("not valid JSON: {exc}", field="body", exc=exc) from None
        if not isinstance(body, dict) or "positions" not in body:
            raise Invalid("expected an object with a 'positions' list", field="body.positions")
        batch = columns.from_rows(body["positions"], now_ms=int(utcnow().timestamp() * 1000))
        return ingest.record(session, user.username, "http", batch, sender=sender_of(request, session, user))

    report = await run_in_threadpool(parse_and_store)  # CPU and database work off the event loop
    return IngestReportOut(**report.__dict__)


@positions_in.post("/gpx", response_model=GpxReportOut,
                summary="Record a GPX file's timed track points (and, if asked, its timed waypoints) as positions")
def record_gpx(
    request: Request,
    session: SessionDep,
    ingest: IngestDep,
    user: OperationsOrPatrol,
    file: Annotated[UploadFile, File(description="GPX 1.0 or 1.1")],
    tracker: Annotated[str | None, Form(min_length=1, max_length=200, description="Tracker code or CoT uid (tracks=one)")] = None,
    waypoints: Annotated[Waypoints, Form(
        description="report: waypoints listed in the answer, not stored; places: kept as named places (GET /api/v1/places); "
                    "positions: the timed ones stored as fixes")] = "report",
    tracks: Annotated[Tracks, Form(
        description="one: every track into the tracker (a device's log; refused if two tracks were recorded at the same "
                    "time); by_name: each track into the tracker its name names (PeaceWatch's own export)")] = "one",
) -> GpxReportOut:
    said = reader_gettext(request)  # why each point was not stored, in the reader's language
    points = gpx_columns(file.file, tracker, waypoints=waypoints, tracks=tracks)  # read from the spooled file as a stream
    report = ingest.record(session, user.username, "gpx", points.columns, where="file.points",
                           sender=sender_of(request, session, user)) if len(points.columns) else None
    created, known = keep_places(session, user.username, points.places, f"{file.filename or 'GPX'} from {user.username}") \
        if points.places else (0, 0)
    counts = report.__dict__ if report is not None else {"received": 0, "stored": 0, "duplicates": 0, "batch_id": 0}
    return GpxReportOut(**counts, skipped=points.skipped_count, heights_dropped=points.heights_dropped,
                        geoid_from_file=points.geoid_from_file, trackers=points.columns.names if len(points.columns) else [],
                        skipped_points=[SkippedPointOut(where=point.where, name=point.name, reason=said(point.reason))
                                        for point in points.skipped],
                        places_created=created, places_known=known)
