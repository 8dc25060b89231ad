"""Convoys by road: departures and arrivals of personnel, returnees and supplies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from peacewatch.airlift.figures import (
    MEASURES,
    strength_at,
)
from peacewatch.airlift.flight_rules import MEASURE_NAMES, Context
from peacewatch.airlift.models import (
    Convoy,
    ConvoyKind,
    Direction,
)
from peacewatch.airlift.schemas import (
    ConvoyIn,
    ConvoyPatch,
)
from peacewatch.airlift.strength_ledger import Ledger
from peacewatch.core.db import as_utc, transaction, utcnow
from peacewatch.core.paging import Paged, paged
from peacewatch.core.problems import Conflict, Invalid, validated
from peacewatch.core.visibility import STAFF, Scope, get_visible, where_visible
from peacewatch.force.models import Unit


def create_convoy(session: Session, ctx: Context, actor: str, data: ConvoyIn) -> Convoy:
    with transaction(session, actor):
        convoy = Convoy(**_checked(session, ctx, data, None))
        session.add(convoy)
    return convoy


def correct_convoy(session: Session, ctx: Context, actor: str, convoy_id: int, patch: ConvoyPatch) -> Convoy:
    """The fields given change; the convoy is then checked as a new one would be, against every other movement (not
    against itself), and the audit log keeps what it was."""
    with transaction(session, actor):
        convoy = get_convoy(session, convoy_id, None)
        current = {name: getattr(convoy, name) for name in ConvoyIn.model_fields}
        data = validated(ConvoyIn, current | patch.model_dump(exclude_unset=True), "body")
        for name, value in _checked(session, ctx, data, convoy.id).items():
            setattr(convoy, name, value)
    return convoy


def _checked(session: Session, ctx: Context, data: ConvoyIn, convoy_id: int | None) -> dict[str, Any]:
    values = data.model_dump()
    for key in ("departed_at", "arrived_at"):
        values[key] = as_utc(values[key], field=f"body.{key}")
        if values[key] is not None and values[key] > utcnow() + ctx.clock_skew:
            raise Invalid("is in the future: convoys are logged as they move", field=f"body.{key}")
    if values["arrived_at"] is not None and values["arrived_at"] <= values["departed_at"]:
        raise Invalid("is not after the departure", field="body.arrived_at")
    if values["escort_unit_id"] is not None and session.get(Unit, values["escort_unit_id"]) is None:
        raise Invalid("unit {escort_unit_id} does not exist", field="body.escort_unit_id", escort_unit_id=values['escort_unit_id'])
    if data.kind is ConvoyKind.force and data.direction is Direction.outbound:
        ledger = Ledger.load(session, readable=STAFF, except_convoy=convoy_id)
        present = strength_at(ledger.movements(planning=False), values["departed_at"], towards_ceiling=False)
        for measure in MEASURES:
            if values[measure] > getattr(present, measure):
                raise Invalid("{leaving:,} {measure} would leave but only {present:,} are in theatre then",
                              field=f"body.{measure}", leaving=values[measure], measure=MEASURE_NAMES[measure], present=getattr(present, measure))
    return values


def arrive_convoy(session: Session, ctx: Context, actor: str, convoy_id: int, arrived_at: datetime) -> Convoy:
    with transaction(session, actor):
        convoy = get_convoy(session, convoy_id, None)
        if convoy.arrived_at is not None:
            raise Conflict("convoy {convoy_id} arrived at {arrived_at:%Y-%m-%d %H:%M} UTC", convoy_id=convoy_id, arrived_at=convoy.arrived_at)
        at = ctx.moment(arrived_at, "body.arrived_at")
        if at <= convoy.departed_at:
            raise Invalid("is not after the departure", field="body.arrived_at")
        convoy.arrived_at = at
    return convoy


def get_convoy(session: Session, convoy_id: int, readable: Scope) -> Convoy:
    return get_visible(session, Convoy, convoy_id, readable, "convoy")


def list_convoys(session: Session, readable: Scope, *, kind: ConvoyKind | None = None, since: datetime | None = None,
                 until: datetime | None = None, limit: int = 100, offset: int = 0) -> Paged[Convoy]:
    """Convoys latest first; ``since`` and ``until`` bound their departure (``until`` excluded)."""
    query = select(Convoy).order_by(Convoy.departed_at.desc(), Convoy.id.desc())
    query = where_visible(query, Convoy.visibility, readable)
    if kind is not None:
        query = query.where(Convoy.kind == kind)
    if since is not None:
        query = query.where(Convoy.departed_at >= since)
    if until is not None:
        query = query.where(Convoy.departed_at < until)
    return paged(session, query, limit=limit, offset=offset)
