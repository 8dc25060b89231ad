from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, Float, Integer, String, Text
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

    def authorises(self, state_code: str, on: date | None = None) -> bool:
        """Whether ``state_code`` (ISO 3166-1 alpha-3) may contribute troops (on ``on``, when given)."""
        return any(s["code"] == state_code.upper() for s in self.contributors_on(on))

    def contributors_on(self, on: date | None) -> list[dict[str, Any]]:
        """The contributing states entries in force on ``on`` (all of them when ``on`` is None)."""
        if on is None:
            return list(self.contributing_states)
        return [
            s for s in self.contributing_states
            if on >= max(self.start_date, date.fromisoformat(s["since"]) if s.get("since") else self.start_date)
            and (not s.get("until") or on <= date.fromisoformat(s["until"]))
        ]


class Arrangement(IdMixin, TimestampMixin, VisibilityMixin, Audited, Base):
    """An arrangement beside the force's deployment, with its dates and limits.

    The joint Russian-Turkish monitoring centre of 2021 is one: Turkish staff watch the ceasefire by
    drone from a centre outside the areas of responsibility, and no Turkish troops deploy in them.
    Claims about who takes part are checked against these as well as the mandate's contributors.
    """

    __tablename__ = "mandate_arrangements"
    __table_args__ = (
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="dates"),
        CheckConstraint("staff_per_state IS NULL OR staff_per_state >= 0", name="staff"),
    )

    name: Mapped[str] = mapped_column(String(200), unique=True)
    states: Mapped[list[str]] = mapped_column(JSON, default=list)  # ISO 3166-1 alpha-3 codes taking part
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    place: Mapped[str] = mapped_column(String(200), default="")
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    staff_per_state: Mapped[int | None] = mapped_column(Integer, nullable=True)
    means: Mapped[str] = mapped_column(String(200), default="")
    troops_in_areas: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(500), default="")
    notes: Mapped[str] = mapped_column(Text, default="")

    def in_force_on(self, on: date) -> bool:
        return self.starts_on <= on and (self.ends_on is None or on <= self.ends_on)
