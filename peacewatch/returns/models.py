"""A count of civilians returning home, by day and route, as a checkpoint or an escort reports it."""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from peacewatch.core.audit import Audited
from peacewatch.core.db import Base, IdMixin, TimestampMixin
from peacewatch.core.visibility import VisibilityMixin


class CivilianReturn(IdMixin, TimestampMixin, VisibilityMixin, Audited, Base):
    """People who returned on one day along one route; linked to the convoy that escorted them, if one did."""

    __tablename__ = "civilian_returns"
    __table_args__ = (CheckConstraint("people > 0", name="people"),)

    returned_on: Mapped[date] = mapped_column(Date, index=True, comment="The reporting day they crossed")
    route: Mapped[str] = mapped_column(String(200))
    origin: Mapped[str] = mapped_column(String(200), default="")
    destination: Mapped[str] = mapped_column(String(200), default="")
    people: Mapped[int] = mapped_column(Integer)
    convoy_id: Mapped[int | None] = mapped_column(ForeignKey("convoys.id", ondelete="RESTRICT"), nullable=True, index=True)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="RESTRICT"), nullable=True,
                                                comment="The checkpoint that counted them")
    notes: Mapped[str] = mapped_column(Text, default="")
