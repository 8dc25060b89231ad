from __future__ import annotations

import enum

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import Mapped, mapped_column, relationship

from peacewatch.core.audit import Audited
from peacewatch.core.db import Base, IdMixin, TimestampMixin
from peacewatch.core.visibility import VisibilityMixin


class UnitType(str, enum.Enum):
    headquarters = "headquarters"
    military_police = "military_police"
    motor_rifle = "motor_rifle"
    engineers = "engineers"
    medical = "medical"
    logistics = "logistics"
    aviation = "aviation"


class Unit(IdMixin, TimestampMixin, VisibilityMixin, Audited, Base):
    """A unit of the force. Strengths count the unit's own personnel, not its sub-units'."""

    __tablename__ = "units"
    __table_args__ = (
        CheckConstraint("authorised_strength >= 0 AND present_strength >= 0", name="strengths"),
    )

    name: Mapped[str] = mapped_column(String(200), unique=True)
    name_ru: Mapped[str] = mapped_column(String(200), default="", comment="The name in Russian, where it differs (Cyrillic); empty: the name serves")
    designation: Mapped[str] = mapped_column(String(64), default="")
    unit_type: Mapped[UnitType] = mapped_column(SAEnum(UnitType, native_enum=False, length=32, validate_strings=True))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), nullable=True, index=True)
    contributing_state: Mapped[str] = mapped_column(String(3), default="RUS")
    authorised_strength: Mapped[int] = mapped_column(Integer, default=0)
    present_strength: Mapped[int] = mapped_column(Integer, default=0)

    parent: Mapped[Unit | None] = relationship(remote_side="Unit.id")
