from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Enum as SAEnum, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from peacewatch.core.audit import Audited
from peacewatch.core.db import Base, IdMixin, UTCDateTime, utcnow
from peacewatch.core.visibility import VisibilityMixin


class AlertKind(str, enum.Enum):
    left_area = "left_area"
    near_line_of_contact = "near_line_of_contact"
    in_restricted_zone = "in_restricted_zone"
    long_stop = "long_stop"
    off_route = "off_route"
    silent = "silent"
    not_back = "not_back"


class AlertStatus(str, enum.Enum):
    open = "open"
    acknowledged = "acknowledged"
    closed = "closed"


class Alert(IdMixin, VisibilityMixin, Audited, Base):
    """One episode of a rule being broken: raised when it begins, marked when it ends, handled by people."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_episode", "tracker_id", "kind", "ended_at"),)

    kind: Mapped[AlertKind] = mapped_column(SAEnum(AlertKind, native_enum=False, length=32, validate_strings=True))
    status: Mapped[AlertStatus] = mapped_column(
        SAEnum(AlertStatus, native_enum=False, length=16, validate_strings=True), default=AlertStatus.open, index=True
    )
    message: Mapped[str] = mapped_column(String(500))
    patrol_id: Mapped[int | None] = mapped_column(ForeignKey("patrols.id", ondelete="CASCADE"), nullable=True, index=True)
    tracker_id: Mapped[int | None] = mapped_column(ForeignKey("trackers.id", ondelete="CASCADE"), nullable=True)
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zones.id", ondelete="SET NULL"), nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), comment="When the episode began (position time)")
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, comment="When the episode ended")
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, comment="When the server raised it")
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    acknowledged_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")


class TrackerState(Base):
    """The last evaluated fix of each tracker and the stop in progress: what the next batch continues from."""

    __tablename__ = "tracker_state"

    tracker_id: Mapped[int] = mapped_column(ForeignKey("trackers.id", ondelete="CASCADE"), primary_key=True)
    t_ms: Mapped[int] = mapped_column(BigInteger)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    standing_since_ms: Mapped[int] = mapped_column(BigInteger, default=-1)
