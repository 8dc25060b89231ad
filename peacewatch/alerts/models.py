from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, event, text
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import Mapped, mapped_column

from peacewatch.core.audit import Audited
from peacewatch.core.changes import Versioned
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
    emergency = "emergency"  # a TAK client's emergency (911, troops in contact, ...) or the field page's Emergency button
    casevac = "casevac"  # a CASEVAC/MEDEVAC 9-line request from a TAK client


class Priority(enum.IntEnum):
    """How urgent an alert is: the lower, the sooner; an emergency is above everything."""

    emergency = 1
    urgent = 2
    routine = 3


PRIORITY_OF_KIND = {AlertKind.emergency: Priority.emergency, AlertKind.casevac: Priority.emergency,
                    AlertKind.left_area: Priority.urgent, AlertKind.near_line_of_contact: Priority.urgent,
                    AlertKind.in_restricted_zone: Priority.urgent, AlertKind.silent: Priority.urgent,
                    AlertKind.not_back: Priority.routine, AlertKind.long_stop: Priority.routine,
                    AlertKind.off_route: Priority.routine}
CALLED_KINDS = (AlertKind.emergency, AlertKind.casevac)  # raised by a person calling for help, per calling device


class AlertStatus(str, enum.Enum):
    open = "open"
    acknowledged = "acknowledged"
    closed = "closed"


SWEPT_KINDS = (AlertKind.silent, AlertKind.not_back)  # raised by the sweeper, per patrol; the others per tracker
_OPEN_TRACKER_EPISODE = text("ended_at IS NULL AND tracker_id IS NOT NULL")
_OPEN_PATROL_EPISODE = text("ended_at IS NULL AND kind IN ('silent', 'not_back')")
_OPEN_CALL = text("ended_at IS NULL AND source_uid IS NOT NULL")


class Alert(IdMixin, VisibilityMixin, Audited, Versioned, Base):
    """One episode of a rule being broken: raised when it begins, marked when it ends, handled by people.

    The database holds each episode to one alert: at most one open alert per tracker and rule, and
    per patrol for silence and lateness, whichever process raised it.
    """

    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_episode", "tracker_id", "kind", "ended_at"),
        Index("uq_alerts_open_tracker_episode", "tracker_id", "kind", unique=True,
              sqlite_where=_OPEN_TRACKER_EPISODE, postgresql_where=_OPEN_TRACKER_EPISODE),
        Index("uq_alerts_open_patrol_episode", "patrol_id", "kind", unique=True,
              sqlite_where=_OPEN_PATROL_EPISODE, postgresql_where=_OPEN_PATROL_EPISODE),
        Index("uq_alerts_open_call", "source_uid", "kind", unique=True, sqlite_where=_OPEN_CALL, postgresql_where=_OPEN_CALL),
    )

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
    priority: Mapped[int] = mapped_column(server_default=text(str(int(Priority.urgent))),  # by kind when raised (below)
                                          comment="1 emergency, 2 urgent, 3 routine: the lower, the sooner")
    source_uid: Mapped[str | None] = mapped_column(
        String(200), nullable=True, comment="A call for help's own id (a TAK emergency's uid, a field device's call): its repeats "
                                            "and its cancel name it")
    raised_by: Mapped[str | None] = mapped_column(String(120), nullable=True, comment="Who called for help (a user), when a person did")
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, comment="When the first person was told of it")

    @property
    def stage(self) -> str:
        """Where the alert is on its way: raised, notified (someone was told), acknowledged, resolved (closed)."""
        if self.status is AlertStatus.closed:
            return "resolved"
        if self.status is AlertStatus.acknowledged:
            return "acknowledged"
        return "notified" if self.notified_at is not None else "raised"


ALERT_ORDER_LOCK = 0x5057_A1E7  # an advisory lock key of PostgreSQL's: "PW alert"


@event.listens_for(Alert, "before_insert")
def _number_in_commit_order(_mapper: object, connection: Any, alert: Alert) -> None:
    """On PostgreSQL, a transaction raising an alert holds a lock until it commits before it takes an id,
    so ids are handed out in commit order: a stream reading "every alert after id N" never misses one
    that commits late with a smaller id. Alerts are rare next to positions, so the wait is short.
    (SQLite has one writer at a time: its ids are in commit order anyway.)"""
    if alert.priority is None:  # an alert's priority is its kind's unless its raiser said otherwise
        alert.priority = int(PRIORITY_OF_KIND.get(alert.kind, Priority.urgent))
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({ALERT_ORDER_LOCK})")
