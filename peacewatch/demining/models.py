"""A clearance: what one engineer unit cleared, reported for one day."""

from __future__ import annotations

from datetime import date

from shapely.geometry.base import BaseGeometry
from sqlalchemy import CheckConstraint, Date, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from peacewatch.core.audit import Audited
from peacewatch.core.db import Base, IdMixin, TimestampMixin
from peacewatch.core.geo import Geometry
from peacewatch.core.visibility import VisibilityMixin


class Clearance(IdMixin, TimestampMixin, VisibilityMixin, Audited, Base):
    """Ground, road and buildings cleared, and explosive objects neutralised, as the daily bulletin counts them."""

    __tablename__ = "clearances"
    __table_args__ = (
        CheckConstraint("hectares >= 0 AND road_km >= 0 AND buildings >= 0 AND explosive_objects >= 0", name="measures"),
    )

    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    cleared_on: Mapped[date] = mapped_column(Date, index=True, comment="The reporting day the work is reported for")
    place: Mapped[str] = mapped_column(String(200))
    geometry: Mapped[BaseGeometry | None] = mapped_column(Geometry(), nullable=True)
    hectares: Mapped[float] = mapped_column(Float, default=0.0)
    road_km: Mapped[float] = mapped_column(Float, default=0.0)
    buildings: Mapped[int] = mapped_column(Integer, default=0)
    explosive_objects: Mapped[int] = mapped_column(Integer, default=0)
    notes: Mapped[str] = mapped_column(Text, default="")
