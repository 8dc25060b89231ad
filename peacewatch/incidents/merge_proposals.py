"""Merging reports of the same incident: proposals made on arrival and by the bulk run (matching.py decides),
accepted or split by an operator, never proposed again once decided."""

from __future__ import annotations

import hashlib
import time as clock
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from peacewatch.core.db import compare_and_set, transaction, utcnow
from peacewatch.core.paging import Paged, paged
from peacewatch.core.problems import Conflict, Invalid, NotFound
from peacewatch.incidents.event_summaries import event_names
from peacewatch.incidents.matching import PLACE_RADIUS_M, Reports, Tolerance, cluster_reports, family_of, local_xy
from peacewatch.incidents.models import (
    Incident,
    IncidentEvent,
    IncidentStatus,
    MergeProposal,
    ProposalStatus,
)
from peacewatch.incidents.schemas import MatchRun, ProposalOut, SplitIn

NEIGHBOURHOOD_S = 12 * 3600


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


def run_matching(session: Session, actor: str, tolerance: Tolerance) -> MatchRun:
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
    return MatchRun(reports=len(rows), clusters=clusters, proposed=len(made), superseded=superseded,
                    seconds=round(clock.perf_counter() - began, 3))


def list_proposals(session: Session, status: ProposalStatus | None, limit: int = 100, offset: int = 0) -> Paged[MergeProposal]:
    query = select(MergeProposal).order_by(MergeProposal.id.desc())
    if status is not None:
        query = query.where(MergeProposal.status == status)
    return paged(session, query, limit=limit, offset=offset)


def get_proposal(session: Session, proposal_id: int) -> MergeProposal:
    proposal = session.get(MergeProposal, proposal_id)
    if proposal is None:
        raise NotFound("merge proposal {proposal_id} not found", proposal_id=proposal_id)
    return proposal


def proposal_out(session: Session, proposal: MergeProposal) -> ProposalOut:
    """The proposal with the events its reports are in now."""
    proposed = session.scalars(select(Incident.event_id).where(Incident.id.in_(proposal.incident_ids)))
    events = sorted(set(event_names(session, None, proposed).values()))
    return ProposalOut.model_validate({key: getattr(proposal, key) for key in (
        "id", "status", "incident_ids", "max_distance_m", "max_gap_minutes", "created_at", "decided_by", "decided_at", "reason",
    )} | {"event_ids": events})


def _open_proposal(session: Session, proposal_id: int) -> tuple[MergeProposal, list[Incident]]:
    proposal = get_proposal(session, proposal_id)
    if proposal.status is not ProposalStatus.open:
        raise Conflict("merge proposal {proposal_id} is {status}, not open", proposal_id=proposal_id, status=proposal.status.value)
    incidents = list(session.scalars(select(Incident).where(Incident.id.in_(proposal.incident_ids))))
    if len(incidents) != len(proposal.incident_ids):
        raise Conflict("merge proposal {proposal_id} names reports that no longer exist: run the matcher again", proposal_id=proposal_id)
    return proposal, incidents


def _decide(session: Session, proposal: MergeProposal, actor: str, status: ProposalStatus, reason: str) -> None:
    """Settle an open proposal; if another user settled it first, this decision is refused whole."""
    if not compare_and_set(session, proposal, {"status": ProposalStatus.open}, status=status, decided_by=actor,
                           decided_at=utcnow(), reason=reason):
        raise Conflict("merge proposal {proposal} was decided by another user just now", proposal=proposal.id)


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
            raise Invalid("report(s) {stray} are not in this proposal", field="body.groups", stray=', '.join(map(str, stray)))
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
