"""Trackers and positions: register devices, record batches of fixes, read tracks back."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from threading import Lock
from typing import Any

import numpy as np
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from peacewatch.core.auth import ApiToken, Role, User
from peacewatch.core.db import transaction
from peacewatch.core.geo import Fence
from peacewatch.core.paging import Paged, paged
from peacewatch.core.problems import Conflict, FieldError, Forbidden, Invalid, NotFound
from peacewatch.core.visibility import Scope, get_visible, where_visible
from peacewatch.force.models import Unit
from peacewatch.tracking.columns import PositionColumns, normalised_heading
from peacewatch.tracking.geofence import h3_cells
from peacewatch.tracking.models import Position, TakReport, Tracker, UnregisteredUid
from peacewatch.tracking.schemas import TrackerIn, TrackerUpdate
from peacewatch.tracking.sources import Sender, TrackerSources, fingerprint, may_be_bound, refusal
from peacewatch.tracking.store import PreparedBatch, window_coordinates

# --- trackers ----------------------------------------------------------------------------------


def list_trackers(session: Session, readable: Scope, *, limit: int = 1000, offset: int = 0) -> Paged[Tracker]:
    query = select(Tracker).order_by(Tracker.id)
    return paged(session, where_visible(query, Tracker.visibility, readable), limit=limit, offset=offset)


def get_tracker(session: Session, tracker_id: int, readable: Scope) -> Tracker:
    return get_visible(session, Tracker, tracker_id, readable, "tracker")


def _check_unique(session: Session, data: dict[str, Any], tracker_id: int | None) -> None:
    for key in ("code", "cot_uid"):
        value = data.get(key)
        if value is None:
            continue
        other = session.scalar(select(Tracker.id).where(getattr(Tracker, key) == value))
        if other is not None and other != tracker_id:
            raise Conflict("{key} '{value}' is already used by tracker {other}", field=f"body.{key}", key=key, value=value, other=other)
    if data.get("unit_id") is not None and session.get(Unit, data["unit_id"]) is None:
        raise Invalid("unit {unit_id} does not exist", field="body.unit_id", unit_id=data['unit_id'])


def _check_sources(session: Session, data: dict[str, Any], tracker_id: int | None) -> None:
    """Bound users and tokens exist and are the mission's own (never a side's liaison); fingerprints are SHA-256;
    a controller exists and is another tracker. Normalises the fingerprints' spelling in ``data``."""
    for i, username in enumerate(data.get("bound_users") or []):
        role = session.scalar(select(User.role).where(User.username == username))
        if role is None:
            raise Invalid("no user '{username}'", field=f"body.bound_users[{i}]", username=username)
        if not may_be_bound(role):
            raise Invalid("'{username}' is a side's liaison: a side never reports for a mission tracker",
                          field=f"body.bound_users[{i}]", username=username)
    for i, token_id in enumerate(data.get("bound_tokens") or []):
        found = session.execute(select(ApiToken.revoked_at, User.role).join(User, ApiToken.user_id == User.id)
                                .where(ApiToken.id == token_id)).first()
        if found is None or found.revoked_at is not None:
            raise Invalid("no API token {token_id} in force", field=f"body.bound_tokens[{i}]", token_id=token_id)
        if not may_be_bound(found.role):
            raise Invalid("API token {token_id} is a side's liaison's: a side never reports for a mission tracker",
                          field=f"body.bound_tokens[{i}]", token_id=token_id)
    if data.get("bound_certificates"):
        spelled = [fingerprint(text) for text in data["bound_certificates"]]
        for i, value in enumerate(spelled):
            if len(value) != 64:
                raise Invalid("is not a SHA-256 fingerprint (64 hexadecimal digits)", field=f"body.bound_certificates[{i}]")
        data["bound_certificates"] = sorted(set(spelled))
    for key in ("bound_users", "bound_tokens", "report_roles"):
        if data.get(key):
            data[key] = sorted(set(data[key]))
    if Role.liaison.value in (data.get("report_roles") or []):
        raise Invalid("a side's liaison never reports for a mission tracker", field="body.report_roles")
    controller = data.get("controller_id")
    if controller is not None:
        if controller == tracker_id:
            raise Invalid("a tracker cannot control itself", field="body.controller_id")
        if session.get(Tracker, controller) is None:
            raise Invalid("tracker {controller} does not exist", field="body.controller_id", controller=controller)


def create_tracker(session: Session, actor: str, data: TrackerIn) -> Tracker:
    with transaction(session, actor):
        values = data.model_dump()
        _check_unique(session, values, None)
        _check_sources(session, values, None)
        tracker = Tracker(**values)
        session.add(tracker)
    return tracker


def update_tracker(session: Session, actor: str, tracker_id: int, changes: TrackerUpdate) -> Tracker:
    with transaction(session, actor):
        tracker = get_tracker(session, tracker_id, None)
        values = changes.model_dump(exclude_unset=True)
        for key in ("code", "kind", "visibility", "name", "bound_users", "bound_tokens", "bound_certificates", "report_roles",
                    "anonymous_input"):
            if key in values and values[key] is None:
                raise Invalid("{key} may not be null", field=f"body.{key}", key=key)
        _check_unique(session, values, tracker_id)
        _check_sources(session, values, tracker_id)
        for key, value in values.items():
            setattr(tracker, key, value)
    return tracker


_NAMES = bindparam("names", expanding=True)
_TRACKERS_NAMED = select(Tracker.id, Tracker.code, Tracker.cot_uid).where(Tracker.code.in_(_NAMES) | Tracker.cot_uid.in_(_NAMES))


def tracker_ids(session: Session, names: list[str]) -> dict[str, int]:
    """Tracker id for each name, matching its code or its CoT uid; unknown names are left out.

    Every batch of positions asks this: one prepared statement, whose list of names is bound at
    execution, rather than a statement built and compiled for each batch."""
    unique = sorted(set(names))
    found: dict[str, int] = {}
    for start in range(0, len(unique), 500):
        chunk = set(unique[start : start + 500])
        for tracker_id, code, uid in session.connection().execute(_TRACKERS_NAMED, {"names": sorted(chunk)}):
            if code in chunk:
                found[code] = tracker_id
            if uid is not None and uid in chunk:
                found[uid] = tracker_id
    return found


# --- who may move a tracker --------------------------------------------------------------------------

def bindable_tokens(session: Session) -> list[tuple[int, str, str]]:
    """The device tokens in force a tracker may be bound to (id, name, holder), a liaison's never: what operations
    choose from when they say which devices move a tracker, without the token administration only admins see."""
    rows = session.execute(select(ApiToken.id, ApiToken.name, User.username, User.role)
                           .join(User, ApiToken.user_id == User.id)
                           .where(ApiToken.revoked_at.is_(None)).order_by(ApiToken.name, ApiToken.id))
    return [(row.id, row.name, row.username) for row in rows if may_be_bound(row.role)]


_SOURCE_COLUMNS = (Tracker.id, Tracker.code, Tracker.bound_users, Tracker.bound_tokens, Tracker.bound_certificates,
                   Tracker.report_roles, Tracker.anonymous_input, Tracker.controller_id)


def tracker_sources(session: Session, ids: list[int]) -> dict[int, TrackerSources]:
    """What each tracker takes positions from, with its controller's sources (a drone's ATAK): two queries a batch."""
    rows = {row.id: row for start in range(0, len(ids), 500)
            for row in session.execute(select(*_SOURCE_COLUMNS).where(Tracker.id.in_(ids[start:start + 500])))}
    controllers = sorted({row.controller_id for row in rows.values() if row.controller_id is not None})
    controlling = {row.id: _sources(row, None) for row in
                   session.execute(select(*_SOURCE_COLUMNS).where(Tracker.id.in_(controllers)))} if controllers else {}
    return {tracker_id: _sources(row, controlling.get(row.controller_id)) for tracker_id, row in rows.items()}


def _sources(row: Any, controller: TrackerSources | None) -> TrackerSources:
    return TrackerSources.of(row.id, row.code, row.bound_users, row.bound_tokens, row.bound_certificates, row.report_roles,
                             row.anonymous_input, controller)


def check_sender(session: Session, tracker: np.ndarray, sender: Sender, where: str) -> None:
    """Refuse the whole batch (403, naming its rows) if ``sender`` may not move one of its trackers: nothing is stored."""
    ids = np.unique(tracker).tolist()
    sources = tracker_sources(session, ids)
    refused = {tracker_id: reason for tracker_id in ids
               if (reason := refusal(sources[tracker_id], sender)) is not None}
    if not refused:
        return
    rows = np.flatnonzero(np.isin(tracker, list(refused)))
    codes = sorted(sources[t].code for t in refused)
    errors = [FieldError.of(f"{where}[{i}].tracker", "tracker '{code}' does not take positions from {who}",
                            code=sources[int(tracker[i])].code, who=sender.who) for i in rows[:20].tolist()]
    raise Forbidden("{size} position(s) for tracker(s) {codes} that do not take positions from {who}: a tracker takes them "
                    "from the users, device tokens and certificates bound to it and from the roles allowed to report for it; "
                    "nothing stored", errors=errors, size=rows.size, codes=", ".join(codes[:10]), who=sender.who)


# --- recording positions -----------------------------------------------------------------------

writers = Lock()


def writer_turn(session: Session) -> AbstractContextManager[Any]:
    """On SQLite, this process's writers take turns here rather than in SQLite's busy wait (which sleeps in
    steps of up to 100 ms); PostgreSQL lets batches of different trackers commit side by side."""
    return writers if session.get_bind().dialect.name == "sqlite" else nullcontext()


def resolve_trackers(session: Session, columns: PositionColumns, where: str) -> np.ndarray:
    """Each row's tracker id; refuses the batch, naming the rows, if any tracker is not registered."""
    ids = tracker_ids(session, columns.names)
    tracker = np.array([ids.get(name, -1) for name in columns.names], dtype=np.int64)[columns.index]
    unknown = np.flatnonzero(tracker < 0)
    if unknown.size:
        names = sorted({columns.name_of(i) for i in unknown.tolist()})
        errors = [FieldError.of(f"{where}[{i}].tracker", "no tracker '{name}'", name=columns.name_of(i))
                  for i in unknown[:20].tolist()]
        raise Invalid(
            "{size} position(s) from unregistered tracker(s) {names}; register them first, nothing stored",
            errors=errors, size=unknown.size, names=', '.join(names[:10]),
        )
    return tracker


def prepare_batch(fence: Fence, columns: PositionColumns, tracker: np.ndarray, h3_resolution: int) -> PreparedBatch:
    """Area of responsibility and H3 cell computed in bulk, rows in key order. Needs no database, so
    a backfill prepares the next chunk while the current one is being stored.
    """
    order = np.lexsort((columns.t_ms, tracker))
    columns = columns.take(order)
    tracker = tracker[order]
    optional = [columns.alt, columns.speed, normalised_heading(columns.heading), columns.accuracy]
    return PreparedBatch(
        tracker, columns.t_ms, columns.lat, columns.lon, optional,
        h3_cells(columns.lat, columns.lon, h3_resolution), fence.locate(columns.lon, columns.lat),
    )


# --- reading tracks ----------------------------------------------------------------------------


TRACK_LIMIT = 100_000


def track(
    session: Session, tracker: Tracker, since: datetime | None, until: datetime | None, limit: int = TRACK_LIMIT
) -> tuple[list[Position], bool]:
    """The tracker's fixes in the window, oldest first, and whether more than ``limit`` were left out."""
    query = select(Position).where(Position.tracker_id == tracker.id).order_by(Position.t_ms).limit(limit + 1)
    if since is not None:
        query = query.where(Position.t_ms >= int(since.timestamp() * 1000))
    if until is not None:
        query = query.where(Position.t_ms < int(until.timestamp() * 1000))
    fixes = list(session.scalars(query))
    return fixes[:limit], len(fixes) > limit


def tak_reports(session: Session, *, open_only: bool = False, limit: int = 1000, offset: int = 0) -> Paged[TakReport]:
    """Markers and spot reports from signed-in TAK users, newest first; ``open_only``: none made an incident report yet."""
    query = select(TakReport).order_by(TakReport.received_at.desc(), TakReport.id.desc())
    if open_only:
        query = query.where(TakReport.incident_id.is_(None))
    return paged(session, query, limit=limit, offset=offset)


def get_tak_report(session: Session, report_id: int) -> TakReport:
    report = session.get(TakReport, report_id)
    if report is None:
        raise NotFound("TAK report {report_id} not found", report_id=report_id)
    return report


def unregistered_uids(session: Session) -> list[UnregisteredUid]:
    """Uids still unregistered, most recently heard first."""
    registered = select(Tracker.cot_uid).where(Tracker.cot_uid.is_not(None))
    query = select(UnregisteredUid).where(UnregisteredUid.uid.not_in(registered)).order_by(UnregisteredUid.last_seen.desc())
    return list(session.scalars(query))


# --- the live picture --------------------------------------------------------------------------


def latest_fixes(
    session: Session, readable: Scope, at_ms: int, max_age_ms: int
) -> list[tuple[Tracker, Position]]:
    """Each readable tracker's last fix at or before ``at_ms`` and no older than ``max_age_ms``.

    One index seek per tracker (the positions' key is tracker, time), so it costs the same on the
    first day of the mission and after seven million fixes.
    """
    lo = at_ms - max_age_ms
    newest = (select(func.max(Position.t_ms))
              .where(Position.tracker_id == Tracker.id, Position.t_ms <= at_ms, Position.t_ms >= lo)
              .scalar_subquery())
    trackers = select(Tracker.id.label("tracker_id"), newest.label("t_ms"))
    trackers = where_visible(trackers, Tracker.visibility, readable)
    found = trackers.subquery()
    query = (select(Tracker, Position)
             .join(found, Tracker.id == found.c.tracker_id)
             .join(Position, (Position.tracker_id == found.c.tracker_id) & (Position.t_ms == found.c.t_ms))
             .order_by(Tracker.code))
    return [(tracker, fix) for tracker, fix in session.execute(query)]


def recent_tracks(
    session: Session, readable: Scope, since_ms: int, until_ms: int, points: int = 500
) -> list[tuple[Tracker, np.ndarray]]:
    """The tracks of the trackers heard in the window as arrays of (lon, lat) rows, each thinned to at most
    ``points`` (every n-th, and always the last: the track ends where the tracker is).

    One query for every tracker's fixes and array operations to thin them, and arrays handed to the
    JSON encoder as they are: a map's refresh reads hundreds of thousands of fixes, and a query per
    tracker or a Python object per fix would cost more (150,000 little lists also wake the garbage
    collector, which then walks every object of the process).
    """
    heard = [tracker for tracker, _ in latest_fixes(session, readable, until_ms, until_ms - since_ms)]
    tracker, coordinates = window_coordinates(session, sorted(t.id for t in heard), since_ms, until_ms)
    keep = thinned(tracker, points)
    tracker, coordinates = tracker[keep], coordinates[keep]
    ids = [t.id for t in heard]
    starts, ends = np.searchsorted(tracker, ids, side="left"), np.searchsorted(tracker, ids, side="right")
    return [(t, coordinates[start:end]) for t, start, end in zip(heard, starts.tolist(), ends.tolist())]


def thinned(tracker: np.ndarray, points: int) -> np.ndarray:
    """Which rows to keep of fixes sorted by tracker: every n-th of each tracker's run, n chosen so that at
    most ``points`` (and one more: the last) remain, and always the run's last fix."""
    if not len(tracker):
        return np.zeros(0, dtype=bool)
    starts = np.flatnonzero(np.r_[True, tracker[1:] != tracker[:-1]])
    counts = np.diff(np.r_[starts, len(tracker)])
    steps = -(-counts // points)
    position = np.arange(len(tracker)) - np.repeat(starts, counts)
    return (position % np.repeat(steps, counts) == 0) | (position == np.repeat(counts - 1, counts))
