from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from peacewatch.core.audit import Audited
from peacewatch.core.db import Base, IdMixin, TimestampMixin
from peacewatch.core.visibility import VisibilityMixin
from peacewatch.mandate.terms import TermRule


class Mandate(IdMixin, TimestampMixin, VisibilityMixin, Audited, Base):
    """The force's legal basis; one per installation, public by default."""

    __tablename__ = "mandates"
    __table_args__ = (
        CheckConstraint(
            "personnel_ceiling >= 0 AND armoured_vehicle_ceiling >= 0 AND vehicle_ceiling >= 0", name="ceilings"
        ),
        CheckConstraint("term_years > 0 AND renewal_years > 0 AND notice_months >= 0", name="terms"),
    )

    name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(500), default="")
    contributing_states: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    personnel_ceiling: Mapped[int] = mapped_column(Integer)
    armoured_vehicle_ceiling: Mapped[int] = mapped_column(Integer)
    vehicle_ceiling: Mapped[int] = mapped_column(Integer)
    start_date: Mapped[date] = mapped_column(Date)
    term_years: Mapped[int] = mapped_column(Integer, default=5)
    renewal_years: Mapped[int] = mapped_column(Integer, default=5)
    notice_months: Mapped[int] = mapped_column(Integer, default=6)
    termination_notice_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    termination_notice_by: Mapped[str | None] = mapped_column(String(200), nullable=True)

    @property
    def term_rule(self) -> TermRule:
        return TermRule(self.start_date, self.term_years, self.renewal_years, self.notice_months)

    def authorises(self, state_code: str) -> bool:
        """Whether ``state_code`` (ISO 3166-1 alpha-3) may contribute troops."""
        return state_code.upper() in {s["code"] for s in self.contributing_states}
