"""Movements into and out of the theatre: flights between airfields, road convoys through the corridor,
the rotation plans that schedule flights, and the minimum strength the operations centre sets.

Strength and the airlift's figures are never stored: they are computed from these records
(:mod:`peacewatch.airlift.figures`), so a corrected flight corrects every figure.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, Integer, String, Text
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import Mapped, mapped_column, relationship

from peacewatch.core.audit import Audited
from peacewatch.core.changes import Versioned
from peacewatch.core.db import Base, IdMixin, TimestampMixin, UTCDateTime
from peacewatch.core.visibility import VisibilityMixin

LOADS = "personnel >= 0 AND armoured >= 0 AND vehicles >= 0 AND tonnes >= 0"


def _enum(kind: type[enum.Enum], length: int = 16) -> SAEnum:
    return SAEnum(kind, native_enum=False, length=length, validate_strings=True)


class Direction(str, enum.Enum):
    inbound = "inbound"
    outbound = "outbound"


class FlightStatus(str, enum.Enum):
    planned = "planned"
    airborne = "airborne"
    landed = "landed"
    cancelled = "cancelled"
    diverted = "diverted"


class ConvoyKind(str, enum.Enum):
    force = "force"  # the force's own people and vehicles: counted in strength
    humanitarian = "humanitarian"
    returnees = "returnees"  # civilians returning home


class Airfield(IdMixin, TimestampMixin, Audited, Base):
    """An airfield or helicopter landing site; ``code`` is its ICAO code where it has one."""

    __tablename__ = "airfields"
    __table_args__ = (CheckConstraint("lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name="coordinates"),)

    code: Mapped[str] = mapped_column(String(16), unique=True)
    icao: Mapped[bool] = mapped_column(default=True)
    name: Mapped[str] = mapped_column(String(200))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)


class RotationPlan(IdMixin, TimestampMixin, Audited, Base):
    """Flights scheduled together to swap units; accepted only when strength stays within limits throughout."""

    __tablename__ = "rotation_plans"

    name: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str] = mapped_column(Text, default="")
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    withdrawn_reason: Mapped[str] = mapped_column(Text, default="")

    flights: Mapped[list[Flight]] = relationship(back_populates="rotation_plan", order_by="Flight.planned_departure")


class Flight(IdMixin, TimestampMixin, VisibilityMixin, Audited, Versioned, Base):
    """A transport flight into or out of the theatre, planned or flown."""

    __tablename__ = "flights"
    __table_args__ = (
        CheckConstraint(LOADS, name="loads"),
        CheckConstraint("planned_arrival > planned_departure", name="planned_order"),
        CheckConstraint("departure_id <> arrival_id", name="two_airfields"),
    )

    aircraft_type: Mapped[str] = mapped_column(String(16), index=True)
    tail_number: Mapped[str] = mapped_column(String(16), default="", index=True)
    callsign: Mapped[str] = mapped_column(String(16), default="")
    direction: Mapped[Direction] = mapped_column(_enum(Direction))
    status: Mapped[FlightStatus] = mapped_column(_enum(FlightStatus), index=True)
    departure_id: Mapped[int] = mapped_column(ForeignKey("airfields.id", ondelete="RESTRICT"))
    arrival_id: Mapped[int] = mapped_column(ForeignKey("airfields.id", ondelete="RESTRICT"))
    planned_departure: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    planned_arrival: Mapped[datetime] = mapped_column(UTCDateTime())
    actual_departure: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    actual_arrival: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    personnel: Mapped[int] = mapped_column(Integer, default=0)
    armoured: Mapped[int] = mapped_column(Integer, default=0)
    vehicles: Mapped[int] = mapped_column(Integer, default=0)
    tonnes: Mapped[float] = mapped_column(Float, default=0.0)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), nullable=True, index=True)
    rotation_plan_id: Mapped[int | None] = mapped_column(
        ForeignKey("rotation_plans.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    notes: Mapped[str] = mapped_column(Text, default="")

    departure: Mapped[Airfield] = relationship(foreign_keys=[departure_id], lazy="joined")
    arrival: Mapped[Airfield] = relationship(foreign_keys=[arrival_id], lazy="joined")
    rotation_plan: Mapped[RotationPlan | None] = relationship(back_populates="flights")


class Convoy(IdMixin, TimestampMixin, VisibilityMixin, Audited, Versioned, Base):
    """A road movement through the corridor, escorted by a unit of the force."""

    __tablename__ = "convoys"
    __table_args__ = (
        CheckConstraint(LOADS, name="loads"),
        CheckConstraint("arrived_at IS NULL OR arrived_at > departed_at", name="order"),
    )

    kind: Mapped[ConvoyKind] = mapped_column(_enum(ConvoyKind))
    direction: Mapped[Direction] = mapped_column(_enum(Direction))
    route: Mapped[str] = mapped_column(String(200))
    departed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    personnel: Mapped[int] = mapped_column(Integer, default=0)  # the force's people, or the civilians carried
    armoured: Mapped[int] = mapped_column(Integer, default=0)
    vehicles: Mapped[int] = mapped_column(Integer, default=0)
    tonnes: Mapped[float] = mapped_column(Float, default=0.0)
    escort_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), nullable=True)
    notes: Mapped[str] = mapped_column(Text, default="")


class StrengthMinimum(IdMixin, TimestampMixin, Audited, Base):
    """The strength below which the operations centre will not let rotations take the force; one row."""

    __tablename__ = "strength_minimums"
    __table_args__ = (CheckConstraint("personnel >= 0 AND armoured >= 0 AND vehicles >= 0", name="minimums"),)

    personnel: Mapped[int] = mapped_column(Integer, default=0)
    armoured: Mapped[int] = mapped_column(Integer, default=0)
    vehicles: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(Text, default="")
