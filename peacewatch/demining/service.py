"""Recording clearances, and the measures the bulletins add up."""

from __future__ import annotations

from datetime import date

from pyproj import Geod
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from peacewatch.core.db import transaction
from peacewatch.core.geo import geometry_from_geojson, to_geojson
from peacewatch.core.i18n import Sentence
from peacewatch.core.paging import Paged, paged
from peacewatch.core.problems import Invalid, validated
from peacewatch.core.settings import Settings
from peacewatch.core.visibility import Scope, get_visible, where_visible
from peacewatch.demining.models import Clearance
from peacewatch.demining.schemas import ClearanceIn, ClearanceOut, ClearancePatch
from peacewatch.force.models import Unit
from peacewatch.mandate.service import check_mission_day

_GEOD = Geod(ellps="WGS84")
# a stated area may differ this much from the polygon's (the polygon is often drawn roughly)
HECTARES_TOLERANCE = 0.10


def hectares_of(geometry: BaseGeometry) -> float:
    """The polygon's area on the WGS84 ellipsoid, in hectares."""
    area, _ = _GEOD.geometry_area_perimeter(geometry)
    return round(abs(area) / 10_000, 2)


def hectares_problem(stated: float | None, measured: float | None) -> Sentence | None:
    """Why a stated area cannot stand beside its polygon, or None."""
    if stated is None or measured is None:
        return None
    if abs(stated - measured) > HECTARES_TOLERANCE * max(measured, 0.01):
        return Sentence("{stated:g} ha stated but the polygon covers {measured:g} ha (more than {tolerance:.0%} apart)",
                        {"stated": stated, "measured": measured, "tolerance": HECTARES_TOLERANCE})
    return None


def create_clearance(session: Session, settings: Settings, actor: str, data: ClearanceIn) -> Clearance:
    with transaction(session, actor):
        geometry, hectares = _checked(session, settings, data)
        clearance = Clearance(**data.model_dump(exclude={"geometry", "hectares"}), geometry=geometry, hectares=hectares)
        session.add(clearance)
    return clearance


def correct_clearance(session: Session, settings: Settings, actor: str, clearance_id: int, patch: ClearancePatch) -> Clearance:
    """The fields given change and the record is checked again whole; a new polygon given without hectares is
    measured again (the hectares kept were the old polygon's). The audit log keeps what it was."""
    with transaction(session, actor):
        clearance = get_clearance(session, clearance_id, None)
        changes = patch.model_dump(exclude_unset=True)
        current = clearance_out(session, clearance).model_dump(include=set(ClearanceIn.model_fields))
        if "geometry" in changes and "hectares" not in changes:
            current["hectares"] = None
        data = validated(ClearanceIn, current | changes, "body")
        geometry, hectares = _checked(session, settings, data)
        for name, value in data.model_dump(exclude={"geometry", "hectares"}).items():
            setattr(clearance, name, value)
        clearance.geometry, clearance.hectares = geometry, hectares
    return clearance


def _checked(session: Session, settings: Settings, data: ClearanceIn) -> tuple[BaseGeometry | None, float]:
    """The clearance's shape and hectares, once its day, unit and figures are checked."""
    check_mission_day(session, settings, data.cleared_on, field="body.cleared_on")
    if session.get(Unit, data.unit_id) is None:
        raise Invalid("unit {unit_id} does not exist", field="body.unit_id", unit_id=data.unit_id)
    geometry = None if data.geometry is None else geometry_from_geojson(
        data.geometry.model_dump(exclude_none=True), field="body.geometry", expect=("Polygon", "MultiPolygon"))
    measured = None if geometry is None else hectares_of(geometry)
    problem = hectares_problem(data.hectares, measured)
    if problem is not None:
        raise Invalid(problem, field="body.hectares")
    hectares = data.hectares if data.hectares is not None else (measured or 0.0)
    if not (hectares or data.road_km or data.buildings or data.explosive_objects):
        raise Invalid("nothing cleared: give hectares (or the polygon), road_km, buildings or explosive_objects",
                      field="body.hectares")
    return geometry, hectares


def get_clearance(session: Session, clearance_id: int, readable: Scope) -> Clearance:
    return get_visible(session, Clearance, clearance_id, readable, "clearance")


def list_clearances(session: Session, readable: Scope, *, since: date | None = None,
                    until: date | None = None, limit: int = 100, offset: int = 0) -> Paged[Clearance]:
    query = select(Clearance).order_by(Clearance.cleared_on.desc(), Clearance.id.desc())
    query = where_visible(query, Clearance.visibility, readable)
    if since is not None:
        query = query.where(Clearance.cleared_on >= since)
    if until is not None:
        query = query.where(Clearance.cleared_on <= until)
    return paged(session, query, limit=limit, offset=offset)


def clearance_out(session: Session, clearance: Clearance) -> ClearanceOut:
    unit = session.get(Unit, clearance.unit_id)
    return ClearanceOut.model_validate({
        **{c.key: getattr(clearance, c.key) for c in Clearance.__table__.columns if c.key != "geometry"},
        "geometry": None if clearance.geometry is None else to_geojson(clearance.geometry),
        "unit_name": "" if unit is None else unit.name,
    })


def clearance_feature(out: ClearanceOut) -> dict[str, object]:
    return {"type": "Feature", "id": out.id, "geometry": out.geometry,
            "properties": out.model_dump(mode="json", exclude={"geometry"})}
