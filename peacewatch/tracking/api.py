from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field
from sse_starlette.sse import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from peacewatch.core.auth import OPERATIONS_CENTRE_ROLES, User, admits
from peacewatch.core.broadcast import Lagging
from peacewatch.core.db import as_utc, utcnow
from peacewatch.core.paging import counted, counted_responses, with_total
from peacewatch.core.problems import problem_responses
from peacewatch.core.tabular import CSV_OR_JSON, ListFormat, csv_response
from peacewatch.core.visibility import readable_visibilities
from peacewatch.core.web import (
    FieldStaff,
    LongLimit,
    Offset,
    Operations,
    OperationsCentre,
    OptionalUser,
    Readable,
    RecordId,
    SessionDep,
    SettingsDep,
    StreamReadable,
    while_signed_in,
)
from peacewatch.geography.models import ZoneKind
from peacewatch.geography.service import get_zone, list_zones
from peacewatch.tracking import coverage as cov
from peacewatch.tracking import service
from peacewatch.tracking.gpx import write_gpx
from peacewatch.tracking.live import LiveFix, positions_event
from peacewatch.tracking.schemas import (
    CotStatusOut,
    DeviceTokenOut,
    TakReportOut,
    TrackerIn,
    TrackerOut,
    TrackerUpdate,
    UnregisteredUidOut,
)

PUBLIC = readable_visibilities(internal=False, side=None)
trackers = APIRouter(prefix="/api/v1/trackers", tags=["tracking"], responses=problem_responses(403, 404, 409))


def _sees_sources(user: User | None) -> bool:
    return user is not None and admits(OPERATIONS_CENTRE_ROLES, user.role)


@trackers.get("", response_model=list[TrackerOut], responses=counted_responses(CSV_OR_JSON))
def list_trackers(response: Response, session: SessionDep, user: OptionalUser, limit: LongLimit = 1000,
                  offset: Offset = 0, format: ListFormat = "json") -> Any:
    page = service.list_trackers(session, user.readable if user else PUBLIC, limit=limit, offset=offset)
    found = [TrackerOut.model_validate(t).for_reader(_sees_sources(user)) for t in counted(response, page)]
    return with_total(csv_response(found, "trackers.csv"), page.total) if format == "csv" else found


@trackers.get("/device-tokens", response_model=list[DeviceTokenOut],
              summary="The device tokens in force a tracker may be bound to (a side's liaison's never)")
def list_device_tokens(session: SessionDep, _user: Operations) -> list[DeviceTokenOut]:
    return [DeviceTokenOut(id=i, name=name, username=username) for i, name, username in service.bindable_tokens(session)]


@trackers.post("", response_model=TrackerOut, status_code=201, summary="Register a tracker (vehicle, handheld, TAK client) "
               "and who may move it: bound users, device tokens, TAK certificates, roles, anonymous input, a controller")
def create_tracker(data: TrackerIn, session: SessionDep, user: Operations) -> TrackerOut:
    return TrackerOut.model_validate(service.create_tracker(session, user.username, data))


@trackers.get("/{tracker_id}", response_model=TrackerOut)
def read_tracker(tracker_id: RecordId, session: SessionDep, user: OptionalUser) -> TrackerOut:
    tracker = service.get_tracker(session, tracker_id, user.readable if user else PUBLIC)
    return TrackerOut.model_validate(tracker).for_reader(_sees_sources(user))


@trackers.patch("/{tracker_id}", response_model=TrackerOut, summary="Change a tracker, or who may move it")
def update_tracker(tracker_id: RecordId, changes: TrackerUpdate, session: SessionDep, user: Operations) -> TrackerOut:
    return TrackerOut.model_validate(service.update_tracker(session, user.username, tracker_id, changes))


@trackers.get(
    "/{tracker_id}/track",
    summary="A tracker's track as a GeoJSON LineString (with times) or GPX",
    response_class=Response,
    responses={200: {"content": {"application/geo+json": {"schema": {"type": "object"}},
                                 "application/gpx+xml": {"schema": {"type": "string"}}}}},
)
def read_track(
    tracker_id: RecordId,
    session: SessionDep,
    readable: Readable,
    since: datetime | None = None,
    until: datetime | None = None,
    format: Literal["geojson", "gpx"] = "geojson",
) -> Response:
    tracker = service.get_tracker(session, tracker_id, readable)
    fixes, truncated = service.track(session, tracker, as_utc(since, field="query.since"), as_utc(until, field="query.until"))
    headers = {"X-Truncated": "true"} if truncated else None  # more than TRACK_LIMIT fixes: ask for a shorter window
    if format == "gpx":
        gpx = write_gpx(tracker.code, [(tracker.code, [(p.t_ms, p.lat, p.lon, p.alt, p.speed) for p in fixes])])
        return Response(gpx, media_type="application/gpx+xml", headers=headers)
    return Response(orjson.dumps(track_geojson(tracker.code, fixes, truncated)), media_type="application/geo+json",
                    headers=headers)


def _iso(t_ms: int) -> str:
    return datetime.fromtimestamp(t_ms / 1000, tz=UTC).isoformat().replace("+00:00", "Z")


def track_geojson(code: str, fixes: list[Any], truncated: bool = False, times: bool = True) -> dict[str, Any]:
    """A track as one Feature; ``times`` off for a map's lines, which need no time per fix."""
    properties: dict[str, Any] = {"tracker": code, "count": len(fixes), "truncated": truncated}
    if times:
        properties["times"] = [_iso(p.t_ms) for p in fixes]
    return {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": [[p.lon, p.lat] for p in fixes]} if len(fixes) > 1
        else ({"type": "Point", "coordinates": [fixes[0].lon, fixes[0].lat]} if fixes else None),
        "properties": properties,
    }


positions = APIRouter(prefix="/api/v1/positions", tags=["tracking"], responses=problem_responses(403, 413))


STREAM_CHECK_S = 5.0  # how long a stream waits for news before it looks again
GEOJSON_OBJECT = {200: {"content": {"application/geo+json": {"schema": {"type": "object"}}}}}


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def live_fix(tracker: Any, fix: Any) -> LiveFix:
    return LiveFix(tracker.id, fix.t_ms, fix.lat, fix.lon, fix.speed, fix.heading, tracker.code, tracker.name,
                   tracker.kind.value, tracker.visibility)


def fix_feature(tracker: Any, fix: Any) -> dict[str, Any]:
    return live_fix(tracker, fix).feature()


@positions.get("/latest", response_class=Response, responses=GEOJSON_OBJECT,
               summary="Where each tracker was at a moment (default now): its last fix no older than max_age_minutes")
def latest_positions(
    session: SessionDep,
    readable: Readable,
    at: datetime | None = None,
    max_age_minutes: Annotated[int, Query(ge=1, le=7 * 24 * 60)] = 60,
) -> Response:
    moment = as_utc(at, field="query.at") or utcnow()
    found = service.latest_fixes(session, readable, _ms(moment), max_age_minutes * 60_000)
    body = {"type": "FeatureCollection", "at": moment.isoformat(), "features": [fix_feature(t, f) for t, f in found]}
    return Response(orjson.dumps(body), media_type="application/geo+json")


@positions.get("/tracks", response_class=Response, responses=GEOJSON_OBJECT,
               summary="Recent tracks of every tracker heard in a window (default the 2 hours before until), thinned for a map")
def recent_tracks(
    session: SessionDep,
    readable: Readable,
    until: datetime | None = None,
    hours: Annotated[float, Query(gt=0, le=7 * 24)] = 2,
) -> Response:
    end = as_utc(until, field="query.until") or utcnow()
    tracks = service.recent_tracks(session, readable, _ms(end) - int(hours * 3_600_000), _ms(end))
    features = []
    for tracker, line in tracks:  # times per fix are in /trackers/{id}/track; coordinates stay arrays until encoded
        geometry = ({"type": "LineString", "coordinates": line} if len(line) > 1
                    else {"type": "Point", "coordinates": line[0]} if len(line) else None)
        features.append({"type": "Feature", "geometry": geometry, "id": tracker.id, "properties": {
            "tracker": tracker.code, "count": len(line), "truncated": False, "tracker_id": tracker.id, "code": tracker.code,
            "name": tracker.name, "kind": tracker.kind.value}})
    body = orjson.dumps({"type": "FeatureCollection", "features": features}, option=orjson.OPT_SERIALIZE_NUMPY)
    return Response(body, media_type="application/geo+json")


@positions.get(
    "/stream",
    summary="Live positions as server-sent events: each event a GeoJSON FeatureCollection of the trackers that moved",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {"schema": {
        "type": "object",
        "properties": {"event": {"type": "string", "enum": ["positions"]},
                       "data": {"type": "string", "contentMediaType": "application/geo+json"}},
        "required": ["event", "data"],
    }}}}, **problem_responses(429)},  # a client over its streams' bound (core.admission)
)
async def stream_positions(
    request: Request,
    readable: StreamReadable,
    max_age_minutes: Annotated[int, Query(ge=1, le=24 * 60, description="Leave out trackers silent for longer")] = 60,
) -> EventSourceResponse:
    """First each tracker's latest fix, then every new fix as it is committed, by this server process or any other."""
    factory = request.app.state.sessionmaker
    topic = request.app.state.positions_topic
    max_age_ms = max_age_minutes * 60_000

    def snapshot() -> list[tuple[Any, Any]]:
        with factory() as session:
            return service.latest_fixes(session, readable, _ms(utcnow()), max_age_ms)

    async def events() -> AsyncIterator[dict[str, Any]]:
        async with topic.subscribe() as subscription:
            found = await run_in_threadpool(snapshot)
            if found:
                yield positions_event([live_fix(t, f) for t, f in found])
            # until the rounds have passed the snapshot, each fix is checked against it; then a round is sent as
            # encoded once for every stream of the same scope
            sent: dict[int, int] | None = {tracker.id: fix.t_ms for tracker, fix in found}
            while True:  # until the client goes: EventSourceResponse then cancels this generator
                try:
                    round_ = await subscription.next(STREAM_CHECK_S)
                except Lagging:
                    return  # the client reconnects and starts again from a snapshot
                if not round_:
                    continue
                oldest = _ms(utcnow()) - max_age_ms
                if sent is None and round_.oldest_ms >= oldest:
                    data = round_.encoded(readable)
                else:
                    visible = round_.visible(readable)
                    fresh = [fix for fix in visible if fix.t_ms >= oldest
                             and (sent is None or fix.t_ms > sent.get(fix.tracker_id, -1))]
                    if sent is not None and len(fresh) == len(visible):
                        sent = None  # past the snapshot: from now on every round is all new
                    data = positions_event(fresh) if fresh else None
                if data is not None:
                    yield data

    return EventSourceResponse(while_signed_in(request, events()), ping=15)


cot = APIRouter(prefix="/api/v1/cot", tags=["tracking"], responses=problem_responses(403))


@cot.get("/status", response_model=CotStatusOut, summary="Cursor-on-Target listeners: ports and counters")
def cot_status(request: Request, _user: OperationsCentre) -> CotStatusOut:
    listener = request.app.state.cot
    if listener is None:
        return CotStatusOut(running=False)
    return CotStatusOut(running=True, **listener.status())


@cot.get("/unregistered", response_model=list[UnregisteredUidOut], summary="CoT uids heard from but not registered")
def unregistered_uids(session: SessionDep, _user: OperationsCentre) -> list[UnregisteredUidOut]:
    return [UnregisteredUidOut.model_validate(u) for u in service.unregistered_uids(session)]


@cot.get("/reports", response_model=list[TakReportOut], responses=counted_responses(),
         summary="Markers and spot reports signed-in TAK users placed, newest first (to turn into incident reports)")
def tak_reports(
    response: Response, session: SessionDep, _user: OperationsCentre,
    open_only: Annotated[bool, Query(description="Only those no incident report was made of")] = False,
    limit: LongLimit = 1000, offset: Offset = 0,
) -> list[TakReportOut]:
    page = service.tak_reports(session, open_only=open_only, limit=limit, offset=offset)
    return [TakReportOut.model_validate(r) for r in counted(response, page)]


coverage = APIRouter(prefix="/api/v1/coverage", tags=["tracking"], responses=problem_responses(403, 404))


class WindowShare(BaseModel):
    visited: int
    share: float = Field(description="Visited cells / all cells of the area")


class CoverageOut(BaseModel):
    zone_id: int
    code: str
    name: str
    at: datetime
    resolution: int
    cells: int
    last_24h: WindowShare
    last_7d: WindowShare
    ever: WindowShare


@coverage.get("", response_model=list[CoverageOut], summary="Share of each area's H3 cells visited in the last 24 h, 7 days, and ever")
def read_coverage(session: SessionDep, settings: SettingsDep, _user: FieldStaff, at: datetime | None = None) -> list[Any]:
    moment = as_utc(at, field="query.at") or utcnow()
    return [cov.coverage_of(session, zone, moment, settings.h3_resolution)
            for zone in list_zones(session, None, kind=ZoneKind.area_of_responsibility)]


@coverage.get(
    "/{zone_id}/cells",
    response_class=Response,
    summary="An area's cells as GeoJSON: those not visited in the window (for the map), or those visited",
    responses={200: {"content": {"application/geo+json": {"schema": {"type": "object"}}}}},
)
def coverage_cells(
    zone_id: RecordId,
    session: SessionDep,
    settings: SettingsDep,
    _user: FieldStaff,
    state: Literal["unvisited", "visited"] = "unvisited",
    window: Literal["24h", "7d", "ever"] = "ever",
    at: datetime | None = None,
) -> Response:
    zone = get_zone(session, zone_id, None, ZoneKind.area_of_responsibility)
    moment = as_utc(at, field="query.at") or utcnow()
    since = cov.window_start(moment, window)
    cells = cov.area_cells(zone, settings.h3_resolution)
    visited = cov.visited_cells(session, zone.id, since, moment) & cells
    chosen = visited if state == "visited" else cells - visited
    body = {"type": "FeatureCollection", "features": cov.cell_features(chosen)}
    return Response(orjson.dumps(body), media_type="application/geo+json")
