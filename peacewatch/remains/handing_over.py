"""Handovers of remains to a side: custody ends, the particulars are listed for the receiving side."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from peacewatch.core.auth import User
from peacewatch.core.db import transaction
from peacewatch.core.paging import Paged, paged
from peacewatch.core.problems import Conflict, Invalid, NotFound
from peacewatch.remains.custody_chain import append_custody
from peacewatch.remains.missing_persons import scoped
from peacewatch.remains.models import (
    Body,
    BodyKind,
    CustodyKind,
    Handover,
    HandoverBody,
    Identification,
    IdentificationStatus,
    MissingPerson,
)
from peacewatch.remains.registry import Context, take_number
from peacewatch.remains.schemas import HandoverIn, HandoverOut, Particulars


def record_handover(session: Session, ctx: Context, user: User, data: HandoverIn) -> Handover:
    """Hand bodies to a side before a witness: each body's custody ends here, once."""
    at = ctx.instant(data.at, "body.at")
    if len(set(data.bodies)) != len(data.bodies):
        twice = sorted({n for n in data.bodies if data.bodies.count(n) > 1})
        raise Invalid("listed twice: {twice}", field="body.bodies", twice=', '.join(twice))
    with transaction(session, user.username):
        bodies = {b.number: b for b in session.scalars(select(Body).where(Body.number.in_(data.bodies)).options(selectinload(Body.recovery)))}
        unknown = [n for n in data.bodies if n not in bodies]
        if unknown:
            raise Invalid("no such body: {unknown}", field="body.bodies", unknown=', '.join(unknown))
        done = dict(session.execute(select(Body.number, Handover.number).join(HandoverBody, HandoverBody.body_id == Body.id)
                                    .join(Handover).where(Body.number.in_(data.bodies))).all())
        if done:
            listing = "; ".join(f"{b} in {h}" for b, h in sorted(done.items()))
            raise Conflict("already handed over: {listing}", field="body.bodies", listing=listing)
        sides = dict(session.execute(
            select(Body.number, MissingPerson.side).join(Identification, Identification.body_id == Body.id)
            .join(MissingPerson, MissingPerson.id == Identification.missing_person_id)
            .where(Body.number.in_(data.bodies), Identification.status == IdentificationStatus.confirmed)).all())
        wrong = sorted(n for n, side in sides.items() if side is not data.to_side)
        if wrong:
            raise Invalid("identified as people of the other side: {wrong}", field="body.bodies", wrong=', '.join(wrong))
        handover = Handover(
            number=f"HO-{at.year}-{take_number(session, 'handover', at.year):04d}", to_side=data.to_side, at=at, place=data.place,
            receiving_organisation=data.receiving_organisation, receiving_person=data.receiving_person,
            witness_organisation=data.witness_organisation, witness_person=data.witness_person, released_by=data.released_by,
            notes=data.notes, recorded_by=user.username,
        )
        session.add(handover)
        session.flush()
        for i, number in enumerate(data.bodies):
            body = bodies[number]
            session.add(HandoverBody(handover_id=handover.id, body_id=body.id))
            append_custody(session, ctx, body, user, kind=CustodyKind.handed_over, at=at, place=data.place,
                            released_by=data.released_by, received_by=f"{data.receiving_person} ({data.receiving_organisation})",
                            note=f"handover {handover.number}; witness {data.witness_organisation}", handover_id=handover.id,
                            field=f"body.bodies[{i}]")
    return handover


def get_handover(session: Session, user: User, handover_id: int) -> Handover:
    handover = session.scalar(scoped(select(Handover).where(Handover.id == handover_id), user, Handover.to_side))
    if handover is None:
        raise NotFound("handover {handover_id} not found", handover_id=handover_id)
    return handover


def list_handovers(session: Session, user: User, *, limit: int, offset: int) -> Paged[Handover]:
    query = scoped(select(Handover), user, Handover.to_side)
    return paged(session, query.order_by(Handover.at.desc(), Handover.id.desc()), limit=limit, offset=offset)


def handover_out(session: Session, handover: Handover) -> HandoverOut:
    """The handover with, for each body, the particulars the receiving side is owed."""
    rows = session.execute(
        select(Body, MissingPerson).join(HandoverBody, HandoverBody.body_id == Body.id)
        .outerjoin(Identification, (Identification.body_id == Body.id) & (Identification.status == IdentificationStatus.confirmed))
        .outerjoin(MissingPerson, MissingPerson.id == Identification.missing_person_id)
        .where(HandoverBody.handover_id == handover.id).options(selectinload(Body.recovery)).order_by(Body.number)
    ).all()
    items = []
    for body, person in rows:
        item = Particulars(body=body.number, kind=body.kind, identified=person is not None, cause_of_death=body.cause_of_death,
                           died_on=body.died_on, place_of_death=body.recovery.place_name)
        if person is not None and person.side is handover.to_side:  # identified later as the other side's: not theirs to read
            item = item.model_copy(update={
                "side": person.side, "status": person.status, "service_number": person.service_number, "family_name": person.family_name,
                "given_names": person.given_names, "patronymic": person.patronymic, "born_on": person.born_on,
            })
        items.append(item)
    whole = sum(1 for i in items if i.kind is BodyKind.body)
    return HandoverOut.model_validate({
        **{c.key: getattr(handover, c.key) for c in Handover.__table__.columns},
        "bodies": whole, "parts": len(items) - whole, "identified": sum(1 for i in items if i.identified and i.kind is BodyKind.body),
        "items": items})


def handed_over(session: Session, user: User, body_numbers: Iterable[str]) -> dict[str, Handover]:
    """The handover each of ``body_numbers`` went in, among those the reader may see (a liaison: to its side):
    what a side's officer reads beside each missing person it reported."""
    numbers = list(body_numbers)
    if not numbers:
        return {}
    query = (select(Body.number, Handover).select_from(HandoverBody).join(Handover, Handover.id == HandoverBody.handover_id)
             .join(Body, Body.id == HandoverBody.body_id).where(Body.number.in_(numbers)))
    rows = session.execute(scoped(query, user, Handover.to_side)).all()
    return {number: handover for number, handover in rows}
