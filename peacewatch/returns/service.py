"""Recording civilian returns; a return escorted by a convoy may not count more people than it carried."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from peacewatch.airlift.models import Convoy, ConvoyKind
from peacewatch.core.db import transaction
from peacewatch.core.paging import Paged, paged
from peacewatch.core.problems import Invalid, validated
from peacewatch.core.settings import Settings
from peacewatch.core.visibility import Scope, get_visible, where_visible
from peacewatch.geography.models import Post
from peacewatch.mandate.service import check_mission_day
from peacewatch.returns.models import CivilianReturn
from peacewatch.returns.schemas import ReturnIn, ReturnPatch


def create_return(session: Session, settings: Settings, actor: str, data: ReturnIn) -> CivilianReturn:
    with transaction(session, actor):
        _check(session, settings, data, None)
        record = CivilianReturn(**data.model_dump())
        session.add(record)
    return record


def correct_return(session: Session, settings: Settings, actor: str, return_id: int, patch: ReturnPatch) -> CivilianReturn:
    """The fields given change; the record is then checked as a new one would be (its own people not counted twice
    against its convoy), and the audit log keeps what it was."""
    with transaction(session, actor):
        record = get_return(session, return_id, None)
        current = {name: getattr(record, name) for name in ReturnIn.model_fields}
        data = validated(ReturnIn, current | patch.model_dump(exclude_unset=True), "body")
        _check(session, settings, data, record.id)
        for name, value in data.model_dump().items():
            setattr(record, name, value)
    return record


def _check(session: Session, settings: Settings, data: ReturnIn, record_id: int | None) -> None:
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
        # the convoy's row written (to itself) before its returns are counted: a second return against it, in this
        # process or another, waits for this one's commit and then counts it (a row lock on PostgreSQL, the write lock
        # on SQLite), so two at once never both fit into the room one of them leaves
        session.execute(update(Convoy).where(Convoy.id == convoy.id).values(updated_at=Convoy.updated_at)
                        .execution_options(synchronize_session=False))
        others = select(func.coalesce(func.sum(CivilianReturn.people), 0)).where(CivilianReturn.convoy_id == convoy.id)
        if record_id is not None:
            others = others.where(CivilianReturn.id != record_id)
        counted = session.scalar(others) or 0
        if counted + data.people > convoy.personnel:
            raise Invalid("convoy {convoy} carried {personnel} people and {counted} are already counted: {people} more would be too many",
                          field="body.people", convoy=convoy.id, personnel=convoy.personnel, counted=counted, people=data.people)


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
