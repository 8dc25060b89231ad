"""The chain of custody of each body: events appended in order, each sealed to the one before, verified on demand."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from peacewatch.core.audit import AuditAction, AuditEntry
from peacewatch.core.auth import User
from peacewatch.core.db import transaction
from peacewatch.core.problems import Conflict, Invalid, NotFound
from peacewatch.remains.custody import GENESIS, Link, chain_digest, link_hash, verify_chain
from peacewatch.remains.models import (
    Body,
    CustodyEvent,
    CustodyKind,
)
from peacewatch.remains.registry import Context, get_body
from peacewatch.remains.schemas import (
    ChainBreak,
    ChainReport,
    CustodyIn,
)

FINAL_CUSTODY = frozenset({CustodyKind.handed_over, CustodyKind.buried})
MANUAL_CUSTODY = frozenset({CustodyKind.stored, CustodyKind.examined, CustodyKind.transferred, CustodyKind.buried})


def _link(body: Body, event: CustodyEvent) -> Link:
    return Link(body=body.number, seq=event.seq, kind=event.kind.value, at=event.at, place=event.place,
                released_by=event.released_by, received_by=event.received_by, note=event.note, recorded_by=event.recorded_by,
                handover_id=event.handover_id, prev_hash=event.prev_hash, hash=event.hash)


def _last_event(session: Session, body: Body) -> CustodyEvent | None:
    """The body's last move: where it is and who holds it (files attached since are links of the chain, not moves)."""
    if body.custody_count == 0:
        return None
    return session.scalar(select(CustodyEvent).where(CustodyEvent.body_id == body.id, CustodyEvent.kind != CustodyKind.evidence)
                          .order_by(CustodyEvent.seq.desc()).limit(1))


def where_held(session: Session, body: Body) -> str:
    """Where the body is now, as its last move says."""
    last = _last_event(session, body)
    return last.place if last is not None else ""


EVIDENCE_NOTE = "sha256 {sha256} {media_type} {filename}"  # how an evidence event names its file


def evidence_sha256(note: str) -> str | None:
    """The SHA-256 an evidence event's note names."""
    parts = note.split(" ", 2)
    return parts[1] if len(parts) >= 2 and parts[0] == "sha256" else None


def append_custody(
    session: Session, ctx: Context, body: Body, user: User, *, kind: CustodyKind, at: datetime, place: str, released_by: str,
    received_by: str, note: str, handover_id: int | None = None, field: str = "body",
) -> CustodyEvent:
    """Chain one event to the body's custody, refusing what cannot have happened.

    At the very time of the last event the body can be somewhere else only when its holder hands it on.
    """
    last = _last_event(session, body) if kind is not CustodyKind.evidence else None  # a file moves no body
    if last is not None:
        if last.kind in FINAL_CUSTODY:
            raise Conflict("body {body_number} was {kind} on {at:%Y-%m-%d %H:%M} UTC: the mission no longer holds it",
                           body_number=body.number, kind=last.kind.value.replace('_', ' '), at=last.at)
        if at < last.at:
            raise Invalid("custody events out of time order: body {body_number}'s last event ({kind}) is at {at:%Y-%m-%d %H:%M} UTC",
                          field=f"{field}.at", body_number=body.number, kind=last.kind.value, at=last.at)
        hand_off = released_by == last.received_by and received_by != last.received_by
        if at == last.at and place != last.place and not hand_off:
            raise Invalid("body {body_number} would be in two places at once: at {place} at that very time",
                          field=f"{field}.place", body_number=body.number, place=last.place)
    event = CustodyEvent(body_id=body.id, seq=body.custody_count + 1, kind=kind, at=at, place=place, released_by=released_by,
                         received_by=received_by, note=note, recorded_by=user.username, handover_id=handover_id,
                         prev_hash=body.custody_head or GENESIS)
    event.hash = link_hash(ctx.custody_key, _link(body, event))
    body.custody_count = event.seq
    body.custody_head = event.hash
    session.add(event)
    session.flush()
    return event


def record_custody(session: Session, ctx: Context, user: User, number: str, data: CustodyIn) -> CustodyEvent:
    if data.kind not in MANUAL_CUSTODY:
        raise Invalid("'{kind}' is recorded by a {value}, not directly",
                      field="body.kind", kind=data.kind.value,
                      value={CustodyKind.recovered: "recovery", CustodyKind.handed_over: "handover"}.get(data.kind, "file attached to the body"))
    at = ctx.instant(data.at, "body.at")
    if data.kind is CustodyKind.transferred and not data.received_by:
        raise Invalid("a transfer names who received the body", field="body.received_by")
    with transaction(session, user.username):
        body = get_body(session, number)
        last = _last_event(session, body)
        released = data.released_by or (last.received_by if last else "")
        if data.kind is CustodyKind.transferred and last is not None and last.received_by and released != last.received_by:
            raise Invalid("body {number} is in the custody of {received_by}, not {released}",
                          field="body.released_by", number=number, received_by=last.received_by, released=released)
        event = append_custody(session, ctx, body, user, kind=data.kind, at=at, place=data.place, released_by=released,
                                received_by=data.received_by or (last.received_by if last else ""), note=data.note)
    return event


def custody_events(session: Session, body: Body) -> list[CustodyEvent]:
    return list(session.scalars(select(CustodyEvent).where(CustodyEvent.body_id == body.id).order_by(CustodyEvent.seq, CustodyEvent.id)))


def verify_custody(session: Session, ctx: Context, numbers: Sequence[str] | None = None,
                   rehash: Callable[[str], str | None] | None = None) -> ChainReport:
    """Check every body's chain (or those named) against its hashes, its count and the audit log; with ``rehash``
    (the SHA-256 of the file now kept under a hash's name, None if gone), also that every file attached as
    evidence is still the one recorded."""
    query = select(Body).order_by(Body.id)
    if numbers:
        query = query.where(Body.number.in_(list(numbers)))
    bodies = list(session.scalars(query))
    if numbers and len(bodies) != len(set(numbers)):
        missing = sorted(set(numbers) - {b.number for b in bodies})
        raise NotFound("body {missing} not found", missing=', '.join(missing))
    ids = [b.id for b in bodies]
    events: dict[int, list[CustodyEvent]] = {}
    for i in range(0, len(ids), 500):
        for event in session.scalars(select(CustodyEvent).where(CustodyEvent.body_id.in_(ids[i:i + 500]))
                                     .order_by(CustodyEvent.body_id, CustodyEvent.seq, CustodyEvent.id)):
            events.setdefault(event.body_id, []).append(event)
    written = select(AuditEntry.entity_id, AuditEntry.after).where(
        AuditEntry.entity == CustodyEvent.__tablename__, AuditEntry.action == AuditAction.create)
    if numbers:  # a few bodies: read only their entries, not the whole log
        written = written.where(AuditEntry.after["body_id"].as_integer().in_(ids))
    audited: dict[int, list[int]] = {}
    for entity_id, after in session.execute(written):
        if after and after.get("body_id") is not None:
            audited.setdefault(int(after["body_id"]), []).append(int(entity_id))
    breaks: list[ChainBreak] = []
    total = 0
    for body in bodies:
        chain = events.get(body.id, [])
        total += len(chain)
        found = verify_chain(ctx.custody_key, [_link(body, e) for e in chain], count=body.custody_count, head=body.custody_head or GENESIS,
                             audited_ids=audited.get(body.id, []), ids=[e.id for e in chain])
        breaks.extend(ChainBreak(body=body.number, seq=b.seq, problem=b.problem) for b in found)
        for event in chain if rehash is not None else ():
            recorded = evidence_sha256(event.note) if event.kind is CustodyKind.evidence else None
            if recorded is None:
                continue
            now = rehash(recorded)
            if now != recorded:
                breaks.append(ChainBreak(body=body.number, seq=event.seq, problem=(
                    f"the evidence file {recorded[:12]}… is gone" if now is None else
                    f"the evidence file {recorded[:12]}… was replaced: its bytes now hash to {now[:12]}…")))
    return ChainReport(bodies=len(bodies), events=total, intact=not breaks, breaks=breaks,
                       digest=chain_digest({b.number: b.custody_head for b in bodies}))
