"""Verification of a report, step by step, and the history of its fields."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from peacewatch.core.audit import AuditAction, AuditEntry
from peacewatch.core.auth import User
from peacewatch.core.db import as_utc, transaction, utcnow
from peacewatch.core.problems import Conflict, Invalid
from peacewatch.incidents.models import (
    Incident,
    Verification,
)
from peacewatch.incidents.report_records import NEXT_STATUS, _unknown_checkers, get_incident
from peacewatch.incidents.schemas import HistoryEntry, VerificationIn


def verify(session: Session, user: User, incident_id: int, data: VerificationIn) -> Incident:
    """Move a report one step along reported, under investigation, confirmed / not confirmed / rejected."""
    with transaction(session, user.username):
        incident = get_incident(session, incident_id, None)
        if data.status not in NEXT_STATUS[incident.status]:
            allowed = ", ".join(sorted(s.value for s in NEXT_STATUS[incident.status]))
            raise Conflict("incident {incident_id} is {status}; it can go to {allowed}",
                           field="body.status", incident_id=incident_id, status=incident.status.value, allowed=allowed)
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


def history(session: Session, incident: Incident) -> list[HistoryEntry]:
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
        out.append(HistoryEntry(at=entry.at, actor=entry.actor, action=entry.action.value, changes=changes))
    return out
