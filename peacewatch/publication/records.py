"""Reading what a report may count, once, in its readers' scope.

The public bulletin reads public records only: a record marked internal or shared with one side
never reaches the functions that count, so no figure, total or change can reveal it. Casualty
figures are aggregates the mission publishes (no record of a person reaches a report).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from peacewatch.airlift import flight_rules, strength_ledger
from peacewatch.airlift.figures import Strength
from peacewatch.airlift.models import Convoy, Flight
from peacewatch.alerts.models import Alert, AlertStatus
from peacewatch.core.i18n import N_
from peacewatch.core.settings import Settings
from peacewatch.core.visibility import Scope, Visibility, where_visible
from peacewatch.demining.models import Clearance
from peacewatch.force.models import Unit
from peacewatch.geography.models import Zone, ZoneKind
from peacewatch.geography.service import list_posts
from peacewatch.incidents.event_summaries import report_rows
from peacewatch.incidents.figures import summarise
from peacewatch.mandate.service import get_mandate
from peacewatch.patrols.models import Patrol, PatrolStatus
from peacewatch.publication.daily import (
    AlertRecord,
    ClearanceRecord,
    Coverage,
    HandoverRecord,
    Mission,
    MovementRecord,
    PatrolRecord,
    Place,
    PostRecord,
    Records,
    ReturnRecord,
    UnitRecord,
)
from peacewatch.remains import casualty_counts, registry
from peacewatch.remains.models import Body, BodyKind, Handover, HandoverBody
from peacewatch.returns.models import CivilianReturn
from peacewatch.tracking.coverage import area_cells
from peacewatch.tracking.models import CoverageCell

PUBLIC = frozenset({Visibility.public})
PLACE_KINDS = (ZoneKind.area_of_responsibility, ZoneKind.corridor, ZoneKind.district)


UNNAMED = N_("Peacekeeping mission")


def mission_of(session: Session, settings: Settings, readable: Scope) -> Mission:
    """The mission's days start on the mandate's start; a mandate the readers may not see lends its dates, not its name
    or its ceilings."""
    mandate = get_mandate(session, None)
    shown = readable is None or mandate.visibility in readable
    ceilings = Strength(mandate.personnel_ceiling, mandate.armoured_vehicle_ceiling, mandate.vehicle_ceiling) if shown else None
    floor = strength_ledger.minimum(session) if readable is None else None
    return Mission(name=mandate.name if shown else UNNAMED, start=mandate.start_date, ceilings=ceilings,
                   minimum=None if floor is None else Strength(floor.personnel, floor.armoured, floor.vehicles),
                   zone=settings.zone, day_end=settings.reporting_day_ends)


def load_records(session: Session, settings: Settings, *, internal: bool) -> Records:
    """Everything a sitrep (``internal``) or a public bulletin counts, read in a handful of queries."""
    readable = None if internal else PUBLIC
    mission = mission_of(session, settings, readable)
    places = {z.id: Place(z.id, z.code, z.name, z.kind.value, z.name_ru) for z in session.scalars(
        where_visible(select(Zone).where(Zone.kind.in_(PLACE_KINDS)), Zone.visibility, readable))}

    movements = []
    counted = select(*strength_ledger.FLIGHT_COLUMNS).where(Flight.status.not_in(flight_rules.NOT_COUNTED))
    flights = where_visible(counted, Flight.visibility, readable)
    for row in session.execute(flights):
        movement = flight_rules.flight_movement(row, planning=False)
        if movement is not None:
            day = None if movement.arrived_at is None else mission.day_of(movement.arrived_at)
            movements.append(MovementRecord(row.id, "flights", movement, day))
    for row in session.execute(where_visible(select(Convoy.id, *strength_ledger.CONVOY_COLUMNS), Convoy.visibility, readable)):
        movement = flight_rules.convoy_movement(row)
        day = None if movement.arrived_at is None else mission.day_of(movement.arrived_at)
        movements.append(MovementRecord(row.id, "convoys", movement, day))

    posts = [PostRecord(p.id, p.code, p.kind.value, p.zone_id, p.opened_on, p.closed_on)
             for p in list_posts(session, readable, limit=2**31)]
    patrols = [
        PatrolRecord(id=row.id, zone_id=row.zone_id, day=mission.day_of(row.planned_start), status=row.status.value,
                     started=row.started_at is not None or row.status in (PatrolStatus.under_way, PatrolStatus.completed))
        for row in session.execute(where_visible(select(Patrol.id, Patrol.zone_id, Patrol.planned_start, Patrol.status, Patrol.started_at),
                                          Patrol.visibility, readable))
    ]
    events = summarise(report_rows(session, readable=readable))
    handovers = [
        HandoverRecord(id=row.id, number=row.number, day=mission.day_of(row.at), to_side=row.to_side.value, bodies=row.bodies)
        for row in session.execute(
            select(Handover.id, Handover.number, Handover.at, Handover.to_side, func.count(Body.id).label("bodies"))
            .join(HandoverBody, HandoverBody.handover_id == Handover.id)
            .join(Body, (Body.id == HandoverBody.body_id) & (Body.kind == BodyKind.body), isouter=True)
            .group_by(Handover.id, Handover.number, Handover.at, Handover.to_side))
    ]
    returns = [ReturnRecord(r.id, r.returned_on, r.route, r.people) for r in session.scalars(
        where_visible(select(CivilianReturn), CivilianReturn.visibility, readable))]
    clearances = [
        ClearanceRecord(c.id, c.cleared_on, name, c.place, c.hectares, c.road_km, c.buildings, c.explosive_objects)
        for c, name in session.execute(where_visible(select(Clearance, Unit.name).join(Unit, Unit.id == Clearance.unit_id),
                                              Clearance.visibility, readable))
    ]
    records = Records(
        mission=mission, internal=internal, places=places, movements=movements, posts=posts, patrols=patrols,
        events=events, casualty_facts=casualty_counts.casualty_facts(session, registry.Context.of(settings)),
        handovers=handovers, returns=returns, clearances=clearances,
    )
    if internal:
        records.alerts = [
            AlertRecord(a.id, a.kind.value, mission.day_of(a.started_at), a.zone_id,
                        mission.day_of(a.closed_at) if a.status is AlertStatus.closed and a.closed_at is not None else None,
                        (a.acknowledged_at - a.raised_at).total_seconds() if a.acknowledged_at is not None else None)
            for a in session.scalars(select(Alert))
        ]
        records.units = [UnitRecord(u.id, u.name, u.unit_type.value, u.present_strength) for u in session.scalars(select(Unit))]
        records.coverage = _coverage(session, settings)
    return records


def _coverage(session: Session, settings: Settings) -> Coverage:
    coverage = Coverage()
    areas = session.scalars(select(Zone).where(Zone.kind == ZoneKind.area_of_responsibility))
    for zone in areas:
        coverage.area_cells[zone.id] = np.array(sorted(area_cells(zone, settings.h3_resolution)), dtype=np.int64)
    visits: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for zone_id, hour_ms, cell in session.execute(
            select(CoverageCell.zone_id, CoverageCell.hour_ms, CoverageCell.cell).order_by(CoverageCell.zone_id, CoverageCell.hour_ms)):
        visits[zone_id].append((hour_ms, cell))
    for zone_id, rows in visits.items():
        table = np.array(rows, dtype=np.int64).reshape(-1, 2)
        coverage.hours[zone_id] = table[:, 0]
        coverage.cells[zone_id] = table[:, 1]
    return coverage
