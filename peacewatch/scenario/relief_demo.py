"""Civilian returns and demining in the reference scenario (synthetic figures, real places).

Returns follow the escorted convoys of returnees through the Lachin corridor from 14 November
2020, then people returning on their own, counted at the corridor; one count is kept internal
(returns to a district not yet announced) so the public bulletin has something to leave out.
Demining begins on 21 November 2020 around Stepanakert and along the corridor road.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from peacewatch.airlift.models import Convoy, ConvoyKind
from peacewatch.core.calendar import reporting_day
from peacewatch.core.settings import Settings
from peacewatch.demining.models import Clearance
from peacewatch.demining.schemas import ClearanceIn
from peacewatch.demining.service import create_clearance
from peacewatch.force.models import Unit
from peacewatch.returns.models import CivilianReturn
from peacewatch.returns.schemas import ReturnIn
from peacewatch.returns.service import create_return

OPERATIONS = "ops"
ROUTE = "Goris - Lachin - Stepanakert"
# (day, people, visibility): returns without an escort, counted at the corridor
UNESCORTED = [
    (21, 1180, "public"), (22, 1215, "public"), (23, 1302, "public"), (24, 986, "public"), (25, 1104, "public"),
    (25, 140, "internal"),
]
# (day, place, lon, lat, half side in degrees, road km, buildings, explosive objects)
CLEARANCES = [
    (21, "Stepanakert, northern district", 46.752, 39.830, 0.0016, 2.5, 14, 37),
    (22, "Stepanakert, airfield road", 46.790, 39.820, 0.0020, 3.0, 6, 52),
    (23, "Shusha - Stepanakert road", 46.750, 39.785, 0.0012, 4.2, 3, 61),
    (24, "Lachin corridor, Shusha bypass", 46.700, 39.760, 0.0015, 5.1, 2, 44),
    (25, "Stepanakert, school and hospital quarter", 46.760, 39.812, 0.0008, 0.8, 21, 18),
    (26, "Martuni road", 46.950, 39.800, 0.0018, 6.0, 4, 73),
]


def _square(lon: float, lat: float, half: float) -> dict[str, object]:
    ring = [[lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half], [lon - half, lat + half],
            [lon - half, lat - half]]
    return {"type": "Polygon", "coordinates": [ring]}


def load(session: Session, settings: Settings) -> dict[str, int]:
    """Load once: nothing is added when any return or clearance is already recorded."""
    if session.scalar(select(CivilianReturn.id).limit(1)) is not None or session.scalar(select(Clearance.id).limit(1)) is not None:
        return {}
    returns = 0
    for convoy in session.scalars(select(Convoy).where(Convoy.kind == ConvoyKind.returnees).order_by(Convoy.departed_at)):
        arrived = convoy.arrived_at or convoy.departed_at
        create_return(session, settings, OPERATIONS, ReturnIn(
            returned_on=reporting_day(arrived, settings.zone, settings.reporting_day_ends), route=convoy.route, origin="Armenia (Goris)",
            destination="Stepanakert", people=convoy.personnel, convoy_id=convoy.id, visibility=convoy.visibility,
        ))
        returns += 1
    for day, people, visibility in UNESCORTED:
        create_return(session, settings, OPERATIONS, ReturnIn(
            returned_on=date(2020, 11, day), route=ROUTE, origin="Armenia", people=people, visibility=visibility,
            destination="Hadrut district" if visibility == "internal" else "Stepanakert and Shusha districts",
            notes="Counted at the corridor by the military police; not escorted",
        ))
        returns += 1
    engineers = session.scalar(select(Unit.id).where(Unit.name == "Engineer and Demining Company"))
    if engineers is None:
        return {"returns": returns, "clearances": 0}
    for day, place, lon, lat, half, road_km, buildings, objects in CLEARANCES:
        create_clearance(session, settings, OPERATIONS, ClearanceIn(
            unit_id=engineers, cleared_on=date(2020, 11, day), place=place, geometry=_square(lon, lat, half),
            road_km=road_km, buildings=buildings, explosive_objects=objects, visibility="public",
        ))
    return {"returns": returns, "clearances": len(CLEARANCES)}
