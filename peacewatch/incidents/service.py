"""Incident reports: checked on the way in, verified step by step, merged into events on an operator's word.

Every write is one audited transaction. A report from the field may arrive twice (a handheld
resends what it got no answer for): its client id makes the second copy return the first.
"""

from __future__ import annotations

import hashlib
import time as clock
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import orjson
from pydantic import ValidationError
from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import Session

from peacewatch.core.audit import AuditAction, AuditEntry
from peacewatch.core.auth import Role, User
from peacewatch.core.calendar import mission_today, reporting_day_ends_at
from peacewatch.core.changes import versions
from peacewatch.core.db import as_utc, compare_and_set, first_copy, resend_digest, transaction, utcnow
from peacewatch.core.geo import to_mgrs
from peacewatch.core.problems import Conflict, FieldError, Invalid, NotFound, validated
from peacewatch.core.settings import Settings
from peacewatch.core.visibility import SIDE_VISIBILITY, STAFF, Scope, Side, Visibility, where_visible
from peacewatch.geography.models import Post, Zone, ZoneKind
from peacewatch.geography.service import zone_fence
from peacewatch.incidents.acled import Mission, acled_csv
from peacewatch.incidents.figures import (
    EventSummary,
    ReportRow,
    SpanTooLong,
    daily_figures,
    summarise,
)
from peacewatch.incidents.matching import PLACE_RADIUS_M, Reports, Tolerance, cluster_reports, family_of, local_xy
from peacewatch.incidents.models import (
    CASUALTY_COLUMNS,
    Incident,
    IncidentEvent,
    IncidentStatus,
    IncidentType,
    MergeProposal,
    ProposalStatus,
    SourceKind,
    Verification,
)
from peacewatch.incidents.schemas import FromTakIn, IncidentFields, IncidentIn, IncidentPatch, SplitIn, VerificationIn
from peacewatch.patrols.models import Patrol
from peacewatch.tracking.models import TakReport
from peacewatch.tracking.service import get_tak_report

SIDE_SOURCES = {Side.A: SourceKind.side_a, Side.B: SourceKind.side_b}
SOURCE_VISIBILITY = {SourceKind.side_a: Visibility.side_a, SourceKind.side_b: Visibility.side_b}
NEXT_STATUS: dict[IncidentStatus, frozenset[IncidentStatus]] = {
    IncidentStatus.reported: frozenset({IncidentStatus.under_investigation, IncidentStatus.rejected}),
    IncidentStatus.under_investigation: frozenset({IncidentStatus.confirmed, IncidentStatus.not_confirmed, IncidentStatus.rejected}),
    # new evidence reopens a closed case
    IncidentStatus.confirmed: frozenset({IncidentStatus.under_investigation}),
    IncidentStatus.not_confirmed: frozenset({IncidentStatus.under_investigation}),
    IncidentStatus.rejected: frozenset({IncidentStatus.under_investigation}),
}
FIELD_NAMES = tuple(IncidentFields.model_fields)
PLAIN_FIELDS = tuple(f for f in FIELD_NAMES if f not in ("casualties", "ended_at", "started_at", "visibility"))
LONGEST_WINDOW = timedelta(days=31)  # a report dated "some time that month"
NEIGHBOURHOOD_S = 12 * 3600


@dataclass(frozen=True)
class Rules:
    """The settings a report is checked against."""

    area_of_interest: tuple[float, float, float, float]
    clock_skew: timedelta
    tolerance: Tolerance

    @classmethod
    def of(cls, settings: Settings) -> Rules:
        return cls(
            area_of_interest=settings.area_of_interest_box,
            clock_skew=timedelta(minutes=settings.clock_skew_minutes),
            tolerance=Tolerance(distance_m=settings.merge_distance_m, gap_s=settings.merge_gap_minutes * 60),
        )


# --- checking a report ---------------------------------------------------------------------------


def _unknown_checkers(session: Session, readable: Scope, patrol_id: int | None,
                      post_id: int | None) -> list[FieldError]:
    """The patrol or post a report comes from, or a verification names, must exist in the writer's scope: one
    the writer may not read is answered exactly as one that does not exist, so the answer tells nothing of it."""
    errors = []
    for field, model, record_id in (("patrol_id", Patrol, patrol_id), ("post_id", Post, post_id)):
        if record_id is None:
            continue
        record = session.get(model, record_id)
        if record is None or (readable is not None and record.visibility not in readable):
            errors.append(FieldError(field=f"body.{field}", message=f"{field.removesuffix('_id')} {record_id} does not exist"))
    return errors


def _check(session: Session, rules: Rules, user: User, data: IncidentFields) -> dict[str, Any]:
    """The report's column values, or every reason it is refused, each with its field."""
    errors: list[FieldError] = []

    def refuse(field: str, message: str) -> None:
        errors.append(FieldError(field=f"body.{field}", message=message))

    if data.type is IncidentType.ceasefire_violation and data.subtype is None:
        refuse("subtype", "a ceasefire violation needs its subtype (small_arms_fire, heavy_weapons, explosion, ...)")
    if data.type is not IncidentType.ceasefire_violation and data.subtype is not None:
        refuse("subtype", "only a ceasefire violation has a subtype")
    start = as_utc(data.started_at, field="body.started_at")
    end = as_utc(data.ended_at, field="body.ended_at") or start
    assert start is not None and end is not None
    latest = utcnow() + rules.clock_skew
    if start > latest:
        refuse("started_at", f"{start:%Y-%m-%d %H:%M}Z is in the future")
    if end > latest:
        refuse("ended_at", f"{end:%Y-%m-%d %H:%M}Z is in the future")
    if end < start:
        refuse("ended_at", "the time window ends before it starts")
    elif end - start > LONGEST_WINDOW:
        refuse("ended_at", "a time window may not exceed 31 days")
    if data.place_precision.value == "near_place" and not data.place_name.strip():
        refuse("place_name", "a place given as 'near a place' needs the place's name")
    min_lon, min_lat, max_lon, max_lat = rules.area_of_interest
    if not data.outside_area_of_interest and not (min_lon <= data.lon <= max_lon and min_lat <= data.lat <= max_lat):
        refuse("lat", f"{data.lat}, {data.lon} is outside the mission's area of interest ({min_lon},{min_lat},{max_lon},{max_lat}); "
                      "set outside_area_of_interest to record it anyway")
    if data.source is SourceKind.patrol and data.patrol_id is None:
        refuse("patrol_id", "a report from a patrol names the patrol")
    if data.source is SourceKind.observation_post and data.post_id is None:
        refuse("post_id", "a report from an observation post names the post")
    errors += _unknown_checkers(session, user.readable, data.patrol_id, data.post_id)
    if data.type is IncidentType.restriction_of_movement:
        if data.restriction is None:
            refuse("restriction", "a restriction of movement says how: denial, delay or conditional_access")
        if not data.denied.strip():
            refuse("denied", "a restriction of movement says what was denied")
    elif data.restriction is not None:
        refuse("restriction", "only a restriction of movement has a restriction kind")
    visibility = data.visibility or SOURCE_VISIBILITY.get(data.source, Visibility.internal)
    if user.role is Role.liaison:
        assert user.side is not None
        if data.source is not SIDE_SOURCES[user.side]:
            refuse("source", f"a liaison officer of side {user.side.value} reports as {SIDE_SOURCES[user.side].value}")
        if visibility is not SIDE_VISIBILITY[user.side]:
            refuse("visibility", f"a report by side {user.side.value} is visible to side {user.side.value}")
    if errors:
        raise Invalid(errors[0].message if len(errors) == 1 else f"{len(errors)} problems with the report", errors=errors)

    values = {name: getattr(data, name) for name in PLAIN_FIELDS}
    values["observed_by"] = sorted(set(data.observed_by))
    values["alleged_actors"] = sorted({a.value for a in data.alleged_actors})
    for column in CASUALTY_COLUMNS:
        bounds = getattr(data.casualties, column[:-4])
        values[column] = bounds.min if column.endswith("_min") else bounds.upper
    lon, lat = np.array([data.lon]), np.array([data.lat])
    zone, district = (int(zone_fence(session, kind).locate(lon, lat)[0]) for kind in (ZoneKind.area_of_responsibility, ZoneKind.district))
    return values | {"started_at": start, "ended_at": end, "visibility": visibility,
                     "zone_id": zone if zone > 0 else None, "district_id": district if district > 0 else None}


# --- reports -----------------------------------------------------------------------------------


def create_incident(session: Session, rules: Rules, user: User, data: IncidentIn,
                    then: Callable[[Session, Incident], None] | None = None) -> tuple[Incident, bool]:
    """The new report and True, or the first copy of a resent one and False. ``then`` runs in the same
    transaction once the new report has its id (and may refuse it, undoing it whole)."""
    with transaction(session, user.username):
        first = first_copy(session, select(Incident).where(Incident.reported_by == user.username, Incident.client_id == data.client_id), data,
                           lambda incident: user.readable is None or incident.visibility in user.readable)
        if first is not None:
            return first, False
        values = _check(session, rules, user, data)
        incident = Incident(**values, client_id=data.client_id, client_digest=resend_digest(data) if data.client_id else None,
                            reported_by=user.username, event=IncidentEvent())
        session.add(incident)
        session.flush()
        if then is not None:
            then(session, incident)
        _propose_for(session, rules.tolerance, incident)
    return incident, True


def incident_from_tak(session: Session, rules: Rules, user: User, report_id: int, data: FromTakIn) -> Incident:
    """An incident report made of a marker or spot report a TAK user placed: its place and time, its callsign
    and remarks as the narrative; the rest (type, source...) from the operator. Made once per marker:
    of two operators at once, one makes it and the other is told which it is."""
    report = get_tak_report(session, report_id)
    if report.incident_id is not None:
        raise Conflict(f"incident {report.incident_id} was already made of TAK report {report_id}", field="path.report_id")
    given = data.model_dump(exclude_unset=True)
    fields = {"lat": report.lat, "lon": report.lon, "started_at": report.at, "outside_area_of_interest": False,
              "narrative": " - ".join(part for part in (report.callsign, report.remarks) if part),
              "source_detail": f"TAK {report.what} {report.uid[:120]} from {report.sent_by}"[:300]} | given
    incident_in = validated(IncidentIn, fields, "body")

    def link(session: Session, incident: Incident) -> None:
        claimed = session.execute(update(TakReport).where(TakReport.id == report_id, TakReport.incident_id.is_(None))
                                  .values(incident_id=incident.id))
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(f"an incident was made of TAK report {report_id} meanwhile", field="path.report_id")

    incident, _ = create_incident(session, rules, user, incident_in, then=link)
    return incident


def _fields_of(incident: Incident) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(incident, name) for name in PLAIN_FIELDS}
    values |= {"started_at": incident.started_at, "ended_at": incident.ended_at, "visibility": incident.visibility}
    values["casualties"] = {c[:-4]: {"min": getattr(incident, c), "max": getattr(incident, c[:-4] + "_max")} for c in CASUALTY_COLUMNS[::2]}
    return values


def update_incident(session: Session, rules: Rules, user: User, incident_id: int, changes: IncidentPatch) -> Incident:
    """Correct a report: the whole report is checked again, and the history keeps what it said."""
    with transaction(session, user.username):
        incident = get_incident(session, incident_id, None)
        given = changes.model_dump(exclude_unset=True)
        for name in ("type", "started_at", "time_precision", "lat", "lon", "place_precision", "source", "casualties", "visibility"):
            if name in given and given[name] is None:
                raise Invalid(f"{name} may not be null", field=f"body.{name}")
        try:
            merged = IncidentFields.model_validate(_fields_of(incident) | given)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise Invalid(first["msg"], field=".".join(["body", *map(str, first["loc"])])) from None
        for name, value in _check(session, rules, user, merged).items():
            setattr(incident, name, value)
    return incident


def get_incident(session: Session, incident_id: int, readable: Scope) -> Incident:
    incident = session.get(Incident, incident_id)
    if incident is None or (readable is not None and incident.visibility not in readable):
        raise NotFound(f"incident {incident_id} not found")
    return incident


def _matching(
    readable: Scope,
    *,
    type: IncidentType | None = None,
    status: IncidentStatus | None = None,
    source: SourceKind | None = None,
    zone_id: int | None = None,
    district_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    search: str | None = None,
) -> Select[tuple[Incident]]:
    query = select(Incident)
    query = where_visible(query, Incident.visibility, readable)
    for column, value in ((Incident.type, type), (Incident.status, status), (Incident.source, source),
                          (Incident.zone_id, zone_id), (Incident.district_id, district_id)):
        if value is not None:
            query = query.where(column == value)
    if since is not None:
        query = query.where(Incident.ended_at >= since)
    if until is not None:
        query = query.where(Incident.started_at < until)
    if search:
        query = query.where(or_(Incident.narrative.icontains(search, autoescape=True),
                                Incident.place_name.icontains(search, autoescape=True)))
    return query


def list_incidents(session: Session, readable: Scope, *, limit: int = 100, offset: int = 0,
                   **filters: Any) -> list[Incident]:
    query = _matching(readable, **filters).order_by(Incident.started_at.desc(), Incident.id.desc())
    return list(session.scalars(query.limit(limit).offset(offset)))


def count_incidents(session: Session, readable: Scope, **filters: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(_matching(readable, **filters).subquery())) or 0)


def event_names(session: Session, readable: Scope, event_ids: Iterable[int] | None = None) -> dict[int, int]:
    """What each event is called for a reader: the id of its first report the reader may see.

    Named from the reports in scope only: a side's liaison whose report was merged with the other side's
    sees its event under its own report's number, and learns nothing of the other report.
    """
    query = where_visible(select(Incident.event_id, func.min(Incident.id)).group_by(Incident.event_id), Incident.visibility, readable)
    if event_ids is not None:
        query = query.where(Incident.event_id.in_(set(event_ids)))
    return {event: name for event, name in session.execute(query)}


def incident_out(incident: Incident, event: int) -> dict[str, Any]:
    """The report as the API shows it; ``event`` is its event's name for the reader (see event_names)."""
    values = _fields_of(incident)
    return values | {
        key: getattr(incident, key)
        for key in ("id", "client_id", "reported_by", "created_at", "updated_at", "zone_id", "district_id", "status")
    } | {"mgrs": to_mgrs(incident.lat, incident.lon), "event_id": event}


def incidents_out(session: Session, readable: Scope, incidents: Iterable[Incident]) -> list[dict[str, Any]]:
    """Reports as one reader sees them, each with its event named for that reader."""
    incidents = list(incidents)
    names = event_names(session, readable, {i.event_id for i in incidents})
    return [incident_out(i, names.get(i.event_id, i.id)) for i in incidents]


# --- verification and history ------------------------------------------------------------------


def verify(session: Session, user: User, incident_id: int, data: VerificationIn) -> Incident:
    """Move a report one step along reported, under investigation, confirmed / not confirmed / rejected."""
    with transaction(session, user.username):
        incident = get_incident(session, incident_id, None)
        if data.status not in NEXT_STATUS[incident.status]:
            allowed = ", ".join(sorted(s.value for s in NEXT_STATUS[incident.status]))
            raise Conflict(f"incident {incident_id} is {incident.status.value}; it can go to {allowed}", field="body.status")
        unknown = _unknown_checkers(session, user.readable, data.patrol_id, data.post_id)
        if unknown:
            raise Invalid(unknown[0].message, errors=unknown)
        if not data.reason.strip():
            raise Invalid("say why", field="body.reason")
        session.add(Verification(
            incident_id=incident.id, at=as_utc(data.at, field="body.at") or utcnow(), by=user.username,
            from_status=incident.status, to_status=data.status, reason=data.reason,
            patrol_id=data.patrol_id, post_id=data.post_id,
        ))
        incident.status = data.status
    return incident


def same_event(session: Session, incident: Incident) -> list[int]:
    """The other reports of the incident's event."""
    return list(session.scalars(select(Incident.id).where(Incident.event_id == incident.event_id, Incident.id != incident.id)
                                .order_by(Incident.id)))


def verifications(session: Session, incident: Incident) -> list[Verification]:
    return list(session.scalars(select(Verification).where(Verification.incident_id == incident.id).order_by(Verification.id)))


def history(session: Session, incident: Incident) -> list[dict[str, Any]]:
    """Every change to the report, field by field, from the audit log."""
    entries = session.scalars(
        select(AuditEntry).where(AuditEntry.entity == Incident.__tablename__, AuditEntry.entity_id == str(incident.id))
        .order_by(AuditEntry.id)
    )
    out = []
    for entry in entries:
        before, after = entry.before or {}, entry.after or {}
        if entry.action is AuditAction.create:
            changes = {k: [None, v] for k, v in after.items() if v not in (None, "", [], 0, False) and k not in ("id", "client_digest")}
        else:
            changes = {k: [before.get(k), after.get(k)] for k in sorted(set(before) | set(after))
                       if before.get(k) != after.get(k) and k != "updated_at"}
        out.append({"at": entry.at, "actor": entry.actor, "action": entry.action.value, "changes": changes})
    return out


# --- merging -----------------------------------------------------------------------------------

MATCH_COLUMNS = (Incident.id, Incident.event_id, Incident.type, Incident.subtype, Incident.started_at, Incident.ended_at,
                 Incident.lat, Incident.lon, Incident.place_precision, Incident.source, Incident.patrol_id, Incident.post_id)


@dataclass
class Candidates:
    ids: np.ndarray
    events: np.ndarray
    reports: Reports


def _candidates(rows: Sequence[Any]) -> Candidates:
    families: dict[str, int] = {}
    sources: dict[tuple[Any, ...], int] = {}
    n = len(rows)
    ids, events = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    start, end, lat, lon, radius = (np.empty(n) for _ in range(5))
    family, source = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    for k, (rid, event, kind, subtype, started, ended, y, x, precision, src, patrol, post) in enumerate(rows):
        ids[k], events[k] = rid, event
        start[k], end[k], lat[k], lon[k] = started.timestamp(), ended.timestamp(), y, x
        radius[k] = PLACE_RADIUS_M[precision]
        family[k] = families.setdefault(family_of(kind, subtype), len(families))
        source[k] = sources.setdefault((src, patrol, post), len(sources))
    return Candidates(ids, events, Reports(start, end, lat, lon, radius, family, source))


def _key(incident_ids: list[int]) -> str:
    return hashlib.sha256(",".join(map(str, sorted(incident_ids))).encode()).hexdigest()


def _spread(reports: Reports, rows: np.ndarray) -> tuple[float, float]:
    """The largest distance (m) and time gap (min) between two reports of a proposal: what the operator weighs."""
    x, y = local_xy(reports.lat[rows], reports.lon[rows])
    distance = float(np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :]).max())
    start, end = reports.start_s[rows], reports.end_s[rows]
    gap = float(np.maximum(start[:, None] - end[None, :], 0).max()) / 60
    return round(distance, 1), round(gap, 1)


def _propose(session: Session, found: Candidates, labels: np.ndarray, only: int | None = None) -> tuple[list[MergeProposal], set[str]]:
    """Open proposals for the clusters that span more than one event; ``only`` restricts to one report's cluster."""
    order = np.lexsort((found.ids, labels))
    labels_sorted = labels[order]
    cuts = np.flatnonzero(np.diff(labels_sorted)) + 1
    groups = [g for g in np.split(order, cuts) if len(g) > 1 and len(np.unique(found.events[g])) > 1]
    if only is not None:
        groups = [g for g in groups if only in found.ids[g]]
    keys = {_key(found.ids[g].tolist()): g for g in groups}
    known: set[str] = set()
    listed = list(keys)
    for chunk in range(0, len(listed), 500):
        batch = listed[chunk:chunk + 500]
        known.update(session.scalars(select(MergeProposal.key).where(MergeProposal.key.in_(batch))))
    made = []
    for key, rows in keys.items():
        if key in known:
            continue
        distance, gap = _spread(found.reports, rows)
        made.append(MergeProposal(key=key, incident_ids=sorted(found.ids[rows].tolist()), max_distance_m=distance, max_gap_minutes=gap))
    session.add_all(made)
    return made, set(keys)


def _supersede(session: Session, proposals: Sequence[MergeProposal], why: str) -> int:
    for proposal in proposals:
        proposal.status = ProposalStatus.superseded
        proposal.reason = why
        proposal.decided_at = utcnow()
    return len(proposals)


def _propose_for(session: Session, tolerance: Tolerance, incident: Incident) -> None:
    """As a report arrives: the reports near it in space and time are clustered, and its cluster proposed."""
    reach = timedelta(seconds=tolerance.gap_s + NEIGHBOURHOOD_S)
    degrees = (tolerance.distance_m + 2 * max(PLACE_RADIUS_M.values())) / 111_000 * 2
    rows = session.execute(select(*MATCH_COLUMNS).where(
        Incident.started_at <= incident.ended_at + reach, Incident.ended_at >= incident.started_at - reach,
        Incident.lat.between(incident.lat - degrees, incident.lat + degrees),
        Incident.lon.between(incident.lon - degrees, incident.lon + degrees),
        Incident.status != IncidentStatus.rejected,
    )).all()
    if len(rows) < 2:
        return
    found = _candidates(rows)
    made, _ = _propose(session, found, cluster_reports(found.reports, tolerance), only=incident.id)
    if made:
        members = set(made[0].incident_ids)
        overlapping = [p for p in session.scalars(select(MergeProposal).where(MergeProposal.status == ProposalStatus.open))
                       if p is not made[0] and members & set(p.incident_ids)]
        _supersede(session, overlapping, f"superseded by a proposal that includes report {incident.id}")


def run_matching(session: Session, actor: str, tolerance: Tolerance) -> dict[str, Any]:
    """Cluster the whole history; propose what is new, retire open proposals the history no longer supports."""
    began = clock.perf_counter()
    with transaction(session, actor):
        rows = session.execute(select(*MATCH_COLUMNS).where(Incident.status != IncidentStatus.rejected)).all()
        found = _candidates(rows)
        labels = cluster_reports(found.reports, tolerance)
        made, current = _propose(session, found, labels)
        stale = [p for p in session.scalars(select(MergeProposal).where(MergeProposal.status == ProposalStatus.open))
                 if p.key not in current]
        superseded = _supersede(session, stale, "the reports no longer cluster this way")
    clusters = int((np.bincount(labels) > 1).sum()) if len(labels) else 0
    return {"reports": len(rows), "clusters": clusters, "proposed": len(made), "superseded": superseded,
            "seconds": round(clock.perf_counter() - began, 3)}


def list_proposals(session: Session, status: ProposalStatus | None, limit: int = 100, offset: int = 0) -> list[MergeProposal]:
    query = select(MergeProposal).order_by(MergeProposal.id.desc())
    if status is not None:
        query = query.where(MergeProposal.status == status)
    return list(session.scalars(query.limit(limit).offset(offset)))


def get_proposal(session: Session, proposal_id: int) -> MergeProposal:
    proposal = session.get(MergeProposal, proposal_id)
    if proposal is None:
        raise NotFound(f"merge proposal {proposal_id} not found")
    return proposal


def proposal_out(session: Session, proposal: MergeProposal) -> dict[str, Any]:
    proposed = session.scalars(select(Incident.event_id).where(Incident.id.in_(proposal.incident_ids)))
    events = sorted(set(event_names(session, None, proposed).values()))
    return {key: getattr(proposal, key) for key in ("id", "status", "incident_ids", "max_distance_m", "max_gap_minutes",
                                                   "created_at", "decided_by", "decided_at", "reason")} | {"event_ids": events}


def _open_proposal(session: Session, proposal_id: int) -> tuple[MergeProposal, list[Incident]]:
    proposal = get_proposal(session, proposal_id)
    if proposal.status is not ProposalStatus.open:
        raise Conflict(f"merge proposal {proposal_id} is {proposal.status.value}, not open")
    incidents = list(session.scalars(select(Incident).where(Incident.id.in_(proposal.incident_ids))))
    if len(incidents) != len(proposal.incident_ids):
        raise Conflict(f"merge proposal {proposal_id} names reports that no longer exist: run the matcher again")
    return proposal, incidents


def _decide(session: Session, proposal: MergeProposal, actor: str, status: ProposalStatus, reason: str) -> None:
    """Settle an open proposal; if another user settled it first, this decision is refused whole."""
    if not compare_and_set(session, proposal, {"status": ProposalStatus.open}, status=status, decided_by=actor,
                           decided_at=utcnow(), reason=reason):
        raise Conflict(f"merge proposal {proposal.id} was decided by another user just now")


def _drop_empty_events(session: Session, event_ids: set[int]) -> None:
    session.flush()
    still_used = set(session.scalars(select(Incident.event_id).where(Incident.event_id.in_(event_ids))))
    for event_id in event_ids - still_used:
        session.delete(session.get(IncidentEvent, event_id))


def accept(session: Session, actor: str, proposal_id: int, reason: str) -> MergeProposal:
    """The reports are one event: their events become one (the oldest), with every report they held."""
    with transaction(session, actor):
        proposal, _incidents = _open_proposal(session, proposal_id)
        _decide(session, proposal, actor, ProposalStatus.accepted, reason)
        # read again after the claim: another accepted proposal may have moved these reports meanwhile
        events = set(session.scalars(select(Incident.event_id).where(Incident.id.in_(proposal.incident_ids))))
        target = min(events)
        for incident in session.scalars(select(Incident).where(Incident.event_id.in_(events))):
            incident.event_id = target
        _drop_empty_events(session, events - {target})
    return proposal


def split(session: Session, actor: str, proposal_id: int, data: SplitIn) -> MergeProposal:
    """The reports are not one event: each group given (default: each report) is an event of its own."""
    with transaction(session, actor):
        proposal, incidents = _open_proposal(session, proposal_id)
        by_id = {i.id: i for i in incidents}
        groups = [list(dict.fromkeys(g)) for g in (data.groups or [])]
        named = [i for g in groups for i in g]
        stray = sorted(set(named) - set(by_id))
        if stray:
            raise Invalid(f"report(s) {', '.join(map(str, stray))} are not in this proposal", field="body.groups")
        if len(named) != len(set(named)):
            raise Invalid("a report may be in one group only", field="body.groups")
        if any(not g for g in groups):
            raise Invalid("a group may not be empty", field="body.groups")
        groups += [[i] for i in sorted(set(by_id) - set(named))]
        if len(groups) < 2:
            raise Invalid("splitting needs at least two groups; to keep them together, accept the proposal", field="body.groups")
        _decide(session, proposal, actor, ProposalStatus.split, data.reason)
        before = {i.event_id for i in incidents}
        kept: set[int] = set()
        for group in groups:
            events = {by_id[i].event_id for i in group}
            others_in_it = any(by_id[i].event_id in events for g in groups if g is not group for i in g)
            if len(events) == 1 and not others_in_it and not events & kept:
                kept |= events
                continue
            fresh = IncidentEvent()
            for i in group:
                by_id[i].event = fresh
        _drop_empty_events(session, before - kept)
    return proposal


# --- events, figures, exports ------------------------------------------------------------------


REPORT_COLUMNS = ("id", "event_id", "type", "subtype", "status", "source", "started_at", "ended_at", "lat", "lon", "zone_id",
                  "district_id", "event_count", "alleged_actors", *CASUALTY_COLUMNS, "restriction", "place_precision",
                  "time_precision", "place_name", "narrative", "source_detail", "updated_at")


def report_rows(session: Session, *, until: datetime | None = None, readable: Scope,
                event_ids: Iterable[int] | None = None, names: dict[int, int] | None = None) -> list[ReportRow]:
    """Every report the figures may count: all of them for the internal figures, those ``readable`` admits otherwise;
    only those of ``event_ids`` (the events' own ids) when given, as for one page of events, whose ``names`` for
    the reader the caller may already know (see event_names).

    Columns, not ORM objects: the figures and the GIS clients read tens of thousands of reports at a time.
    """
    query = select(*(getattr(Incident, c) for c in REPORT_COLUMNS)).order_by(Incident.id)
    if until is not None:
        query = query.where(Incident.started_at < until)
    if event_ids is not None:
        event_ids = set(event_ids)
        query = query.where(Incident.event_id.in_(event_ids))
    query = where_visible(query, Incident.visibility, readable)
    names = names if names is not None else event_names(session, readable, event_ids)
    rows = []
    for r in session.execute(query):
        rows.append(ReportRow(
            id=r.id, event_id=names[r.event_id], type=r.type, subtype=r.subtype.value if r.subtype else None, status=r.status,
            source=r.source, started_at=r.started_at, ended_at=r.ended_at, lat=r.lat, lon=r.lon, zone_id=r.zone_id,
            district_id=r.district_id, event_count=r.event_count, alleged_actors=tuple(r.alleged_actors),
            casualties=tuple(getattr(r, c) for c in CASUALTY_COLUMNS), restriction=r.restriction.value if r.restriction else None,
            place_precision=r.place_precision.value, time_precision=r.time_precision.value, place_name=r.place_name,
            narrative=r.narrative, source_detail=r.source_detail, updated_at=r.updated_at,
        ))
    return rows


_ZONE_NAMES: dict[tuple[str, tuple[int, ...]], dict[int, str]] = {}


def zone_names(session: Session) -> dict[int, str]:
    """Areas' and districts' names by id; kept until the zones change (their version in the database), as every
    page of events names them."""
    key = (str(session.get_bind().url), versions(session, "zones"))
    names = _ZONE_NAMES.get(key)
    if names is None:
        names = dict(session.execute(select(Zone.id, Zone.name).where(
            Zone.kind.in_([ZoneKind.area_of_responsibility, ZoneKind.district]))).all())
        _ZONE_NAMES.clear()  # one version at a time: a dict swapped whole, safe to read from other threads
        _ZONE_NAMES[key] = names
    return names


def events_between(session: Session, since: datetime | None, until: datetime | None) -> list[EventSummary]:
    events = summarise(report_rows(session, until=until, readable=STAFF))  # the internal figures: every record
    return [e for e in events if since is None or e.ended_at >= since]


def span(settings: Settings, since: date | None, until: date | None) -> tuple[datetime | None, datetime | None]:
    """The instants that bound reporting days ``since`` to ``until``, both included."""
    if since is not None and until is not None and until < since:
        raise Invalid("until is before since", field="query.until")
    zone, day_end = settings.zone, settings.reporting_day_ends
    today = mission_today(settings)
    for name, day in (("since", since), ("until", until)):
        if day is not None and day > today:
            raise Invalid(f"{day.isoformat()} is in the future (today's reporting day is {today.isoformat()})", field=f"query.{name}")
    start = reporting_day_ends_at(since - timedelta(days=1), zone, day_end) if since not in (None, date.min) else None
    return start, reporting_day_ends_at(until, zone, day_end) if until is not None else None


def figures(session: Session, settings: Settings, since: date | None, until: date | None) -> dict[str, Any]:
    """Daily figures; running totals count from the first event on record, whatever ``since`` is."""
    _, end = span(settings, since, until)
    try:
        return daily_figures(events_between(session, None, end), zone=settings.zone, day_end=settings.reporting_day_ends,
                             names=zone_names(session), since=since, until=until)
    except SpanTooLong as exc:
        raise Invalid(str(exc), field="query.since") from None


def export_events(session: Session, settings: Settings, format: str, since: date | None, until: date | None) -> tuple[bytes, str]:
    """Events as GeoJSON, or as CSV in ACLED's columns; with the media type."""
    found = events_between(session, *span(settings, since, until))
    names = zone_names(session)
    if format == "acled":
        mission = Mission(country=settings.acled_country, iso=settings.acled_iso, region=settings.acled_region,
                          id_prefix=settings.acled_id_prefix, admin1=settings.acled_admin1, side_a=settings.acled_side_a,
                          side_b=settings.acled_side_b, zone=settings.zone)
        return acled_csv(found, mission, names).encode(), "text/csv"
    body = {"type": "FeatureCollection", "features": [event_feature(e, names) for e in found]}
    return orjson.dumps(body), "application/geo+json"


def event_out(event: EventSummary) -> dict[str, Any]:
    r = event.representative
    return {
        "id": event.id, "incident_ids": [x.id for x in event.reports], "type": r.type, "subtype": r.subtype,
        "status": event.status, "started_at": event.started_at, "ended_at": event.ended_at, "lat": r.lat, "lon": r.lon,
        "sources": event.sources, "event_count": event.event_count, "zone_id": r.zone_id, "district_id": r.district_id,
    }


def event_feature(event: EventSummary, names: dict[int, str]) -> dict[str, Any]:
    """An event as a GeoJSON point at its best report's place, for the map and GIS clients."""
    r = event.representative
    properties = {key: value for key, value in event_out(event).items() if key not in ("lat", "lon")} | {
        "type": r.type.value, "status": event.status.value, "sources": [s.value for s in event.sources],
        "started_at": event.started_at.isoformat(), "ended_at": event.ended_at.isoformat(),
        "place_name": r.place_name, "place_precision": r.place_precision,
        "area": names.get(r.zone_id or 0), "district": names.get(r.district_id or 0),
        "alleged_actors": event.actors, "restriction": r.restriction,
        "casualties": {k: {"min": low, "max": high} for k, (low, high) in event.casualties.items()},
    }
    return {"type": "Feature", "id": event.id, "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]}, "properties": properties}
