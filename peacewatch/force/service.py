"""Units and their chain of command: references must exist and must not loop."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from peacewatch.core.db import transaction
from peacewatch.core.paging import Paged, paged
from peacewatch.core.problems import Conflict, Invalid
from peacewatch.core.visibility import Scope, get_visible, where_visible
from peacewatch.force.models import Unit, UnitType
from peacewatch.force.schemas import StrengthOut, UnitIn, UnitUpdate
from peacewatch.mandate.models import Mandate

NOT_NULL = frozenset({"name", "name_ru", "designation", "unit_type", "contributing_state", "authorised_strength",
                      "present_strength", "visibility"})


def list_units(
    session: Session,
    readable: Scope,
    *,
    unit_type: UnitType | None = None,
    parent_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Paged[Unit]:
    query = select(Unit).order_by(Unit.id)
    query = where_visible(query, Unit.visibility, readable)
    if unit_type is not None:
        query = query.where(Unit.unit_type == unit_type)
    if parent_id is not None:
        query = query.where(Unit.parent_id == parent_id)
    return paged(session, query, limit=limit, offset=offset)


def get_unit(session: Session, unit_id: int, readable: Scope) -> Unit:
    return get_visible(session, Unit, unit_id, readable, "unit")


def _check_name_free(session: Session, name: str, unit_id: int | None) -> None:
    other = session.scalar(select(Unit.id).where(Unit.name == name))
    if other is not None and other != unit_id:
        raise Conflict("a unit named '{name}' already exists (id {other})", field="body.name", name=name, other=other)


def _check_parent(session: Session, parent_id: int | None, unit_id: int | None) -> None:
    seen: set[int] = set()
    current = parent_id
    while current is not None:
        if current == unit_id:
            raise Invalid("a unit cannot be its own parent, directly or through sub-units", field="body.parent_id")
        if current in seen:
            break
        seen.add(current)
        parent = session.get(Unit, current)
        if parent is None:
            raise Invalid("parent unit {current} does not exist", field="body.parent_id", current=current)
        current = parent.parent_id


def create_unit(session: Session, actor: str, data: UnitIn) -> Unit:
    with transaction(session, actor):
        _check_name_free(session, data.name, None)
        _check_parent(session, data.parent_id, None)
        unit = Unit(**data.model_dump())
        session.add(unit)
    return unit


def update_unit(session: Session, actor: str, unit_id: int, changes: UnitUpdate) -> Unit:
    with transaction(session, actor):
        unit = get_unit(session, unit_id, None)
        values = changes.model_dump(exclude_unset=True)
        for key in NOT_NULL & {k for k, v in values.items() if v is None}:
            raise Invalid("{key} may not be null", field=f"body.{key}", key=key)
        if "name" in values:
            _check_name_free(session, values["name"], unit_id)
        if "parent_id" in values:
            _check_parent(session, values["parent_id"], unit_id)
        for key, value in values.items():
            setattr(unit, key, value)
    return unit


def delete_unit(session: Session, actor: str, unit_id: int) -> None:
    with transaction(session, actor):
        unit = get_unit(session, unit_id, None)
        children = session.scalar(select(func.count()).select_from(Unit).where(Unit.parent_id == unit_id))
        if children:
            raise Conflict("unit {unit_id} has {children} sub-unit(s); move or delete them first", unit_id=unit_id, children=children)
        session.delete(unit)


def force_strength(session: Session, readable: Scope) -> StrengthOut:
    """Totals across all units the caller may see, against the mandate's personnel ceiling."""
    query = select(Unit.unit_type, func.count(), func.sum(Unit.authorised_strength), func.sum(Unit.present_strength))
    query = where_visible(query, Unit.visibility, readable)
    rows = session.execute(query.group_by(Unit.unit_type)).all()
    present = sum(int(r[3] or 0) for r in rows)
    ceiling = session.scalar(select(Mandate.personnel_ceiling).order_by(Mandate.id).limit(1))
    return StrengthOut(
        units=sum(int(r[1]) for r in rows),
        authorised_strength=sum(int(r[2] or 0) for r in rows),
        present_strength=present,
        personnel_ceiling=ceiling,
        headroom=None if ceiling is None else ceiling - present,
        by_type={r[0].value: int(r[3] or 0) for r in rows},
    )
