"""Reading and changing the mandate; the rules of its term live in :mod:`terms`."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from peacewatch.core.calendar import mission_today
from peacewatch.core.db import transaction
from peacewatch.core.problems import Conflict, Invalid, NotFound
from peacewatch.core.settings import Settings
from peacewatch.core.visibility import Scope, where_visible
from peacewatch.mandate.models import Arrangement, Mandate
from peacewatch.mandate.schemas import ArrangementIn, MandateUpdate, TerminationNotice
from peacewatch.mandate.terms import MandateState, mandate_state


def get_mandate(session: Session, readable: Scope) -> Mandate:
    query = select(Mandate).order_by(Mandate.id).limit(1)
    query = where_visible(query, Mandate.visibility, readable)
    mandate = session.scalar(query)
    if mandate is None:
        raise NotFound("no mandate is configured (load one with 'peacewatch demo' or the API)")
    return mandate


def update_mandate(session: Session, actor: str, changes: MandateUpdate) -> Mandate:
    with transaction(session, actor):
        mandate = get_mandate(session, None)
        values = changes.model_dump(exclude_unset=True)
        if changes.contributing_states is not None:  # stored as JSON: dates as ISO text
            values["contributing_states"] = [s.model_dump(mode="json", exclude_none=True) for s in changes.contributing_states]
        for key, value in values.items():
            if value is None:
                raise Invalid("{key} may not be null", field=f"body.{key}", key=key)
            setattr(mandate, key, value)
    return mandate


def give_termination_notice(session: Session, actor: str, notice: TerminationNotice) -> Mandate:
    with transaction(session, actor):
        mandate = get_mandate(session, None)
        if mandate.termination_notice_on is not None:
            raise Conflict("notice was already given on {termination_notice_on}", termination_notice_on=mandate.termination_notice_on.isoformat())
        if notice.given_on < mandate.start_date:
            raise Invalid("notice cannot be given before the mandate starts", field="body.given_on")
        mandate.termination_notice_on = notice.given_on
        mandate.termination_notice_by = notice.given_by
    return mandate


def check_mission_day(session: Session, settings: Settings, day: date, *, field: str) -> None:
    """Refuse a day before the mission began or after today (in the mission's time zone): nothing happened then."""
    today = mission_today(settings)
    start = session.scalar(select(Mandate.start_date).order_by(Mandate.id).limit(1))
    if start is not None and day < start:
        raise Invalid("{day} is before the mission began on {start}", field=field, day=day.isoformat(), start=start.isoformat())
    if day > today:
        raise Invalid("{day} is in the future (today is {today} in the mission's time zone)",
                      field=field, day=day.isoformat(), today=today.isoformat())


def state_on(mandate: Mandate, on: date) -> MandateState:
    """The mandate's state on ``on``; a day whose term would end past the calendar's last day is refused."""
    try:
        return mandate_state(mandate.term_rule, on, mandate.termination_notice_on)
    except (ValueError, OverflowError):
        raise Invalid("{on} is too far ahead: the term holding it would end after the year 9999", field="query.on", on=on.isoformat()) from None


def list_arrangements(session: Session, readable: Scope) -> list[Arrangement]:
    query = select(Arrangement).order_by(Arrangement.starts_on, Arrangement.id)
    query = where_visible(query, Arrangement.visibility, readable)
    return list(session.scalars(query))


def create_arrangement(session: Session, actor: str, data: ArrangementIn) -> Arrangement:
    with transaction(session, actor):
        if session.scalar(select(Arrangement.id).where(Arrangement.name == data.name)) is not None:
            raise Conflict("an arrangement named '{data_name}' already exists", field="body.name", data_name=data.name)
        arrangement = Arrangement(**data.model_dump())
        session.add(arrangement)
    return arrangement
