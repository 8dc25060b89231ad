"""The airfields flights use."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from peacewatch.airlift.models import (
    Airfield,
)
from peacewatch.airlift.schemas import (
    AirfieldIn,
)
from peacewatch.core.db import transaction
from peacewatch.core.problems import Conflict


def list_airfields(session: Session) -> list[Airfield]:
    return list(session.scalars(select(Airfield).order_by(Airfield.code)))


def create_airfield(session: Session, actor: str, data: AirfieldIn) -> Airfield:
    with transaction(session, actor):
        if session.scalar(select(Airfield.id).where(Airfield.code == data.code)) is not None:
            raise Conflict("airfield {data_code} is already recorded", field="body.code", data_code=data.code)
        airfield = Airfield(**data.model_dump())
        session.add(airfield)
    return airfield


def airfields_by_code(session: Session) -> dict[str, Airfield]:
    return {a.code: a for a in session.scalars(select(Airfield))}
