"""Missing-person reports (the ante-mortem record), filed by the humanitarian cell or a side's liaison."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from peacewatch.core.auth import PERSONAL_DATA_ROLES, Role, User
from peacewatch.core.db import first_copy, resend_digest, transaction
from peacewatch.core.paging import Paged, paged
from peacewatch.core.problems import Invalid, NotFound
from peacewatch.remains.models import (
    Body,
    Identification,
    IdentificationStatus,
    MissingPerson,
)
from peacewatch.remains.registry import take_number
from peacewatch.remains.schemas import MissingPersonIn, MissingPersonOut


def file_missing_person(session: Session, user: User, data: MissingPersonIn) -> tuple[MissingPerson, bool]:
    """The new report and True, or the first copy of a resent one and False. A liaison files for its own side."""
    if user.role is Role.liaison and data.side is not user.side:
        raise Invalid("a liaison of side {value} files reports of its own side's people",
                      field="body.side", value=user.side.value if user.side else '?')
    with transaction(session, user.username):
        first = first_copy(session, select(MissingPerson).where(MissingPerson.filed_by == user.username,
                                                                MissingPerson.client_id == data.client_id), data,
                           lambda person: user.role in PERSONAL_DATA_ROLES or person.filed_by_side == user.side)
        if first is not None:
            return first, False
        values = data.model_dump(exclude={"client_id", "dental"})
        person = MissingPerson(
            **values, dental={k: v.value for k, v in sorted(data.dental.items())}, client_id=data.client_id,
            client_digest=resend_digest(data) if data.client_id else None,
            number=f"AM-{data.reported_on.year}-{take_number(session, 'missing', data.reported_on.year):06d}",
            filed_by=user.username, filed_by_side=user.side if user.role is Role.liaison else None,
        )
        session.add(person)
    return person, True


def scoped(query: Any, user: User, side: Any) -> Any:
    """``query`` as ``user`` may see it: everything for the humanitarian cell, its own side's rows for a liaison."""
    return query if user.role in PERSONAL_DATA_ROLES else query.where(side == user.side)


def get_missing_person(session: Session, user: User, number: str) -> MissingPerson:
    person = session.scalar(scoped(select(MissingPerson).where(MissingPerson.number == number), user, MissingPerson.filed_by_side))
    if person is None:
        raise NotFound("missing person {number} not found", number=number)
    return person


def list_missing_persons(session: Session, user: User, *, side: Any = None, q: str | None = None, unidentified: bool = False,
                         limit: int = 100, offset: int = 0) -> Paged[MissingPerson]:
    query = scoped(select(MissingPerson), user, MissingPerson.filed_by_side)
    if side is not None:
        query = query.where(MissingPerson.side == side)
    if q:
        pattern = q.strip()
        query = query.where(MissingPerson.family_name.icontains(pattern, autoescape=True)
                            | MissingPerson.number.contains(pattern.upper(), autoescape=True)
                            | MissingPerson.service_number.contains(pattern, autoescape=True))
    if unidentified:
        query = query.where(~MissingPerson.id.in_(
            select(Identification.missing_person_id).where(Identification.status == IdentificationStatus.confirmed)))
    return paged(session, query.order_by(MissingPerson.id), limit=limit, offset=offset)


def persons_out(session: Session, persons: Sequence[MissingPerson]) -> list[MissingPersonOut]:
    """The reports as the API shows them, each with the body it was identified as, if any."""
    ids = [p.id for p in persons]
    identified = dict(session.execute(
        select(Identification.missing_person_id, Body.number).join(Body, Body.id == Identification.body_id)
        .where(Identification.missing_person_id.in_(ids), Identification.status == IdentificationStatus.confirmed)).all()) if ids else {}
    return [MissingPersonOut.model_validate({**{c.key: getattr(p, c.key) for c in MissingPerson.__table__.columns},
                                             "identified_as": identified.get(p.id)}) for p in persons]
