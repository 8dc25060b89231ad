"""Recording civilian returns; a return escorted by a convoy may not count more people than it carried."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from peacewatch.airlift.models import Convoy, ConvoyKind
from peacewatch.core.db import transaction
from peacewatch.core.paging import Paged, paged
from peacewatch.core.problems import Invalid
from peacewatch.core.settings import Settings
from peacewatch.core.visibility import Scope, get_visible, where_visible
from peacewatch.geography.models import Post
from peacewatch.mandate.service import check_mission_day
from peacewatch.returns.models import CivilianReturn
from peacewatch.returns.schemas import ReturnIn


def create_return(session: Session, settings: Settings, actor: str, data: ReturnIn) -> CivilianReturn:
    with transaction(session, actor):
        check_mission_day(session, settings, data.returned_on, field="body.returned_on")
        if data.post_id is not None and session.get(Post, data.post_id) is None:
            raise Invalid("post {post_id} does not exist", field="body.post_id", post_id=data.post_id)
        if data.convoy_id is not None:
            convoy = session.get(Convoy, data.convoy_id)
            if convoy is None:
                raise Invalid("convoy {convoy_id} does not exist", field="body.convoy_id", convoy_id=data.convoy_id)
            if convoy.kind is not ConvoyKind.returnees:
                raise Invalid("convoy {convoy} is a {kind} convoy, not one of returnees",
                              field="body.convoy_id", convoy=convoy.id, kind=convoy.kind.value)
            counted = session.scalar(select(func.coalesce(func.sum(CivilianReturn.people), 0))
                                     .where(CivilianReturn.convoy_id == convoy.id)) or 0
            if counted + data.people > convoy.personnel:
                raise Invalid("convoy {convoy} carried {personnel} people and {counted} are already counted: {people} more would be too many",
                              field="body.people", convoy=convoy.id, personnel=convoy.personnel, counted=counted, people=data.people)
        record = CivilianReturn(**data.model_dump())
        session.add(record)
    return record


def get_return(session: Session, return_id: int, readable: Scope) -> CivilianReturn:
    return get_visible(session, CivilianReturn, return_id, readable, "return")


def list_returns(session: Session, readable: Scope, *, since: date | None = None,
                 until: date | None = None, limit: int = 100, offset: int = 0) -> Paged[CivilianReturn]:
    query = (select(CivilianReturn).order_by(CivilianReturn.returned_on.desc(), CivilianReturn.id.desc())
             )
    query = where_visible(query, CivilianReturn.visibility, readable)
    if since is not None:
        query = query.where(CivilianReturn.returned_on >= since)
    if until is not None:
        query = query.where(CivilianReturn.returned_on <= until)
    return paged(session, query, limit=limit, offset=offset)
