from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import JSON, BigInteger, CheckConstraint, Column, Float, ForeignKey, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import Mapped, mapped_column, relationship

from peacewatch.core.audit import Audited
from peacewatch.core.changes import Versioned
from peacewatch.core.clocks import OFFSET_COMMENT, STEP_OFFSET_COMMENT
from peacewatch.core.db import Base, IdMixin, TimestampMixin, UTCDateTime
from peacewatch.core.geo import Geometry
from peacewatch.core.visibility import VisibilityMixin
from peacewatch.tracking.models import Tracker


class PatrolStatus(str, enum.Enum):
    planned = "planned"
    under_way = "under_way"
    completed = "completed"
    aborted = "aborted"


patrol_trackers = Table(
    "patrol_trackers",
    Base.metadata,
    Column("patrol_id", ForeignKey("patrols.id", ondelete="CASCADE"), primary_key=True),
    Column("tracker_id", ForeignKey("trackers.id", ondelete="CASCADE"), primary_key=True),
)


class RuleMixin:
    """What a patrol must keep to; the alert rules read these."""

    max_stop_minutes: Mapped[int] = mapped_column(Integer, default=20)
    silence_minutes: Mapped[int] = mapped_column(Integer, default=15, comment="No position or check-in for this long: overdue")
    route_tolerance_m: Mapped[float] = mapped_column(Float, default=1000.0)


class PatrolPlan(IdMixin, TimestampMixin, VisibilityMixin, RuleMixin, Audited, Base):
    """A recurring patrol: the same route at the same time, by an RFC 5545 recurrence rule."""

    __tablename__ = "patrol_plans"

    name: Mapped[str] = mapped_column(String(200), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id", ondelete="RESTRICT"), index=True)
    route: Mapped[BaseGeometry] = mapped_column(Geometry())
    rrule: Mapped[str] = mapped_column(String(500), comment="e.g. FREQ=DAILY;BYHOUR=8;BYMINUTE=0")
    starts: Mapped[datetime] = mapped_column(UTCDateTime(), comment="DTSTART of the rule")
    duration_minutes: Mapped[int] = mapped_column(Integer)
    vehicles: Mapped[list[str]] = mapped_column(JSON, default=list)
    tracker_codes: Mapped[list[str]] = mapped_column(JSON, default=list)


class Patrol(IdMixin, TimestampMixin, VisibilityMixin, RuleMixin, Audited, Versioned, Base):
    __tablename__ = "patrols"
    __table_args__ = (
        CheckConstraint("planned_end > planned_start", name="window"),
        UniqueConstraint("plan_id", "planned_start", name="uq_patrols_plan_start"),
    )

    name: Mapped[str] = mapped_column(String(200))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id", ondelete="RESTRICT"), index=True)
    route: Mapped[BaseGeometry | None] = mapped_column(Geometry(), nullable=True)
    planned_start: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    planned_end: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[PatrolStatus] = mapped_column(
        SAEnum(PatrolStatus, native_enum=False, length=16, validate_strings=True), default=PatrolStatus.planned, index=True
    )
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    abort_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    step_clock_offset_s: Mapped[int | None] = mapped_column(Integer, nullable=True, comment=STEP_OFFSET_COMMENT)
    vehicles: Mapped[list[str]] = mapped_column(JSON, default=list)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("patrol_plans.id", ondelete="SET NULL"), nullable=True, index=True)

    trackers: Mapped[list[Tracker]] = relationship(secondary=patrol_trackers, lazy="selectin", order_by=Tracker.id)


class CheckIn(IdMixin, Audited, Base):
    """A patrol's report from the field: alive, where, and what it saw."""

    __tablename__ = "check_ins"
    __table_args__ = (UniqueConstraint("by", "client_id", name="uq_check_ins_client_id"),)

    patrol_id: Mapped[int] = mapped_column(ForeignKey("patrols.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    by: Mapped[str] = mapped_column(String(120))
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    client_id: Mapped[str | None] = mapped_column(String(64), nullable=True, comment="The field device's id: a resend is not a new check-in")
    client_digest: Mapped[str | None] = mapped_column(String(64), nullable=True, comment="Hash of what the device sent with client_id")
    clock_offset_s: Mapped[int | None] = mapped_column(Integer, nullable=True, comment=OFFSET_COMMENT)


class KeptTrack(Base):
    """A patrol's fixes from one tracker, copied here before positions that old are pruned: the track is
    the patrol's evidence (where it went, how long inside its area) and outlives the raw positions.
    ``fixes`` are ``[t_ms, lon, lat, zone_id, alt, speed]``, oldest first, up to ``kept_until_ms``."""

    __tablename__ = "kept_tracks"

    patrol_id: Mapped[int] = mapped_column(ForeignKey("patrols.id", ondelete="CASCADE"), primary_key=True)
    tracker_id: Mapped[int] = mapped_column(ForeignKey("trackers.id", ondelete="CASCADE"), primary_key=True)
    kept_until_ms: Mapped[int] = mapped_column(BigInteger, comment="Positions before this time were pruned after the copy")
    fixes: Mapped[list[list[Any]]] = mapped_column(JSON, default=list)
