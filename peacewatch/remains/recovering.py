"""Recovery operations and the post-mortem record of each body or body part found."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import cast

from shapely.geometry import shape
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from peacewatch.core.auth import User
from peacewatch.core.db import as_utc, first_copy, resend_digest, transaction
from peacewatch.core.geo import check_geometry
from peacewatch.core.paging import Paged, paged
from peacewatch.core.problems import Invalid, NotFound
from peacewatch.remains.custody_chain import append_custody
from peacewatch.remains.models import (
    Body,
    BodyKind,
    CustodyEvent,
    CustodyKind,
    Handover,
    HandoverBody,
    Identification,
    IdentificationStatus,
    MissingPerson,
    Recovery,
)
from peacewatch.remains.registry import Context, get_body, take_number
from peacewatch.remains.schemas import (
    BodyOut,
    PostMortemIn,
    RecoveryIn,
)


def record_recovery(session: Session, ctx: Context, user: User, data: RecoveryIn) -> Recovery:
    """A recovery, a numbered body for each body or part recovered, and each one's first custody event.

    A field device's outbox sends again when it got no answer: the same ``client_id`` returns the first
    recovery, and no body is numbered twice.
    """
    at = ctx.instant(data.recovered_at, "body.recovered_at")
    site = shape(data.site.model_dump(exclude_none=True))
    check_geometry(site, field="body.site")
    whole = sum(1 for b in data.bodies if b.kind is BodyKind.body)
    if whole > data.bodies_found:
        raise Invalid("{whole} bodies listed but only {bodies_found} found", field="body.bodies_found", whole=whole, bodies_found=data.bodies_found)
    for i, item in enumerate(data.bodies):
        if item.part_of is not None:
            if item.kind is not BodyKind.body_part:
                raise Invalid("only a body part can belong to another body", field=f"body.bodies[{i}].part_of")
            if item.part_of >= len(data.bodies) or data.bodies[item.part_of].kind is not BodyKind.body:
                raise Invalid("must be the position of a whole body in this list", field=f"body.bodies[{i}].part_of")
    point = site.representative_point()
    sent_before = select(Recovery).where(Recovery.recorded_by == user.username, Recovery.client_id == data.client_id)
    with transaction(session, user.username):
        first = first_copy(session, sent_before, data)
        if first is not None:
            return cast(Recovery, first)
        recovery = Recovery(
            recovered_at=at, recovered_on=ctx.local_date(at), site=site, lat=point.y, lon=point.x, place_name=data.place_name,
            team=data.team, side=data.side, bodies_found=data.bodies_found, bodies_recovered=whole, notes=data.notes,
            recorded_by=user.username, client_id=data.client_id, client_digest=resend_digest(data) if data.client_id else None,
            clock_offset_s=data.clock_offset_s,
        )
        try:
            with session.begin_nested():  # the same recovery racing in on another process: the database keeps one
                session.add(recovery)
                session.flush()
        except IntegrityError:
            raced = first_copy(session, sent_before, data)
            if raced is None:
                raise
            return cast(Recovery, raced)
        created: list[Body] = []
        for i, item in enumerate(data.bodies):
            body = Body(number=_body_number(session, ctx, at.year), recovery=recovery, kind=item.kind,
                        part_of=created[item.part_of] if item.part_of is not None else None)
            if item.post_mortem is not None:
                _apply_post_mortem(body, item.post_mortem, f"body.bodies[{i}].post_mortem")
            session.add(body)
            created.append(body)
        session.flush()
        for body in created:
            append_custody(session, ctx, body, user, kind=CustodyKind.recovered, at=at, place=data.place_name or "recovery site",
                            released_by="", received_by=data.team, note=f"recovery {recovery.id}")
            if data.stored_at:
                append_custody(session, ctx, body, user, kind=CustodyKind.stored, at=at, place=data.stored_at,
                                released_by=data.team, received_by=data.stored_at, note="")
    return recovery


def _body_number(session: Session, ctx: Context, year: int) -> str:
    return f"{ctx.prefix}-{year}-{take_number(session, 'body', year):06d}"


def _apply_post_mortem(body: Body, pm: PostMortemIn, field: str) -> None:
    if pm.died_on is not None and body.recovery is not None and pm.died_on > body.recovery.recovered_on:
        raise Invalid("the date of death is after the recovery", field=f"{field}.died_on")
    body.condition = pm.condition
    body.sex = pm.sex
    body.age_min, body.age_max = (pm.age.min, pm.age.upper) if pm.age else (None, None)
    body.height_min, body.height_max = (pm.height_cm.min, pm.height_cm.upper) if pm.height_cm else (None, None)
    body.marks, body.clothing, body.effects = list(pm.marks), list(pm.clothing), list(pm.effects)
    body.documents = [d.model_dump() for d in pm.documents]
    body.dna_sampled, body.fingerprints_taken = pm.dna_sampled, pm.fingerprints_taken
    body.dental = {k: v.value for k, v in sorted(pm.dental.items())}
    body.cause_of_death, body.died_on = pm.cause_of_death, pm.died_on
    body.examined_at = as_utc(pm.examined_at, field=f"{field}.examined_at")
    body.examined_by = pm.examined_by



def record_post_mortem(session: Session, user: User, number: str, data: PostMortemIn) -> Body:
    """Replace the body's PM record; the audit log keeps what it said before."""
    with transaction(session, user.username):
        body = get_body(session, number)
        _apply_post_mortem(body, data, "body")
    return body


def link_part(session: Session, user: User, number: str, part_of: str) -> Body:
    """Record which body a separate part belongs to (found apart, matched later)."""
    with transaction(session, user.username):
        part = get_body(session, number)
        whole = get_body(session, part_of)
        if part.kind is not BodyKind.body_part:
            raise Invalid("{number} is a whole body, not a body part", field="path.number", number=number)
        if whole.kind is not BodyKind.body:
            raise Invalid("{part_of} is a body part: link a part to a whole body", field="body.part_of", part_of=part_of)
        part.part_of = whole
    return part


def post_mortem_in(body: Body) -> PostMortemIn:
    return PostMortemIn.model_validate({
        "condition": body.condition, "sex": body.sex,
        "age": {"min": body.age_min, "max": body.age_max} if body.age_min is not None else None,
        "height_cm": {"min": body.height_min, "max": body.height_max} if body.height_min is not None else None,
        "marks": body.marks, "clothing": body.clothing, "effects": body.effects, "documents": body.documents,
        "dna_sampled": body.dna_sampled, "fingerprints_taken": body.fingerprints_taken, "dental": body.dental,
        "cause_of_death": body.cause_of_death, "died_on": body.died_on, "examined_at": body.examined_at,
        "examined_by": body.examined_by,
    })


def bodies_out(session: Session, bodies: Sequence[Body]) -> list[BodyOut]:
    """Bodies with where they are, who they are and whether they were handed over, in four queries."""
    ids = [b.id for b in bodies]
    if not ids:
        return []
    last = {e.body_id: e for e in session.scalars(  # each body's last move (a file attached since moves nothing)
        select(CustodyEvent).where(CustodyEvent.body_id.in_(ids), CustodyEvent.kind != CustodyKind.evidence)
        .order_by(CustodyEvent.body_id, CustodyEvent.seq))}
    identified = dict(session.execute(
        select(Identification.body_id, MissingPerson.number).join(MissingPerson, MissingPerson.id == Identification.missing_person_id)
        .where(Identification.body_id.in_(ids), Identification.status == IdentificationStatus.confirmed)).all())
    handed = dict(session.execute(
        select(HandoverBody.body_id, Handover.number).join(Handover).where(HandoverBody.body_id.in_(ids))).all())
    numbers: dict[int, str] = {}
    parts: dict[int, list[str]] = {}
    for related, number, whole_id in session.execute(select(Body.id, Body.number, Body.part_of_id).where(
            (Body.id.in_([b.part_of_id for b in bodies if b.part_of_id])) | (Body.part_of_id.in_(ids)))):
        numbers[related] = number
        if whole_id in ids:
            parts.setdefault(whole_id, []).append(number)
    out = []
    for body in bodies:
        event = last.get(body.id)
        out.append(BodyOut(
            id=body.id, number=body.number, kind=body.kind, part_of=numbers.get(body.part_of_id) if body.part_of_id else None,
            parts=sorted(parts.get(body.id, [])), recovery_id=body.recovery_id, recovered_on=body.recovery.recovered_on,
            side_of_area=body.recovery.side, post_mortem=post_mortem_in(body),
            custody=event.kind.value if event else None, custody_place=event.place if event else None,
            identified_as=identified.get(body.id), handover=handed.get(body.id),
        ))
    return out


def list_bodies(session: Session, *, recovery_id: int | None = None, q: str | None = None, unidentified: bool = False,
                awaiting_handover: bool = False, limit: int = 100, offset: int = 0) -> Paged[Body]:
    query = select(Body).options(selectinload(Body.recovery))
    if recovery_id is not None:
        query = query.where(Body.recovery_id == recovery_id)
    if q:
        query = query.where(Body.number.contains(q.upper(), autoescape=True))
    if unidentified:
        query = query.where(~Body.id.in_(select(Identification.body_id).where(Identification.status == IdentificationStatus.confirmed)))
    if awaiting_handover:  # still in the mission's custody: not handed over to a side
        query = query.where(~Body.id.in_(select(HandoverBody.body_id)))
    return paged(session, query.order_by(Body.id), limit=limit, offset=offset)


def get_recovery(session: Session, recovery_id: int) -> Recovery:
    recovery = session.get(Recovery, recovery_id, options=[selectinload(Recovery.bodies)])
    if recovery is None:
        raise NotFound("recovery {recovery_id} not found", recovery_id=recovery_id)
    return recovery


def list_recoveries(session: Session, *, since: date | None, until: date | None, limit: int, offset: int) -> Paged[Recovery]:
    query = select(Recovery).options(selectinload(Recovery.bodies))
    if since is not None:
        query = query.where(Recovery.recovered_on >= since)
    if until is not None:
        query = query.where(Recovery.recovered_on <= until)
    return paged(session, query.order_by(Recovery.recovered_at.desc(), Recovery.id.desc()), limit=limit, offset=offset)
