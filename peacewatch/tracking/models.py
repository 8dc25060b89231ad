from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Integer, PrimaryKeyConstraint, String, Text, UniqueConstraint
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import Mapped, mapped_column

from peacewatch.core.audit import Audited
from peacewatch.core.changes import Versioned
from peacewatch.core.db import Base, FixedDegrees, IdMixin, TimestampMixin, UTCDateTime, utcnow
from peacewatch.core.visibility import VisibilityMixin
from peacewatch.tracking.sources import DEFAULT_REPORT_ROLES


class TrackerKind(str, enum.Enum):
    vehicle = "vehicle"
    handheld = "handheld"
    tak_client = "tak_client"


class Tracker(IdMixin, TimestampMixin, VisibilityMixin, Audited, Versioned, Base):
    """A device that reports positions: a vehicle tracker, a handheld, a TAK client (by its CoT uid)."""

    __tablename__ = "trackers"

    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[TrackerKind] = mapped_column(SAEnum(TrackerKind, native_enum=False, length=16, validate_strings=True))
    cot_uid: Mapped[str | None] = mapped_column(String(200), unique=True, nullable=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"), nullable=True, index=True)
    # who may move it (tracking.sources): identities bound to it, roles allowed to report for it, anonymous input
    bound_users: Mapped[list[str]] = mapped_column(JSON, default=list, comment="Usernames whose devices report for it")
    bound_tokens: Mapped[list[int]] = mapped_column(JSON, default=list, comment="Device API tokens (ids) that report for it")
    bound_certificates: Mapped[list[str]] = mapped_column(JSON, default=list, comment="TAK client certificates (SHA-256) that report for it")
    report_roles: Mapped[list[str]] = mapped_column(JSON, default=lambda: list(DEFAULT_REPORT_ROLES),
                                                    comment="Roles that may report for it, whoever is bound")
    anonymous_input: Mapped[bool] = mapped_column(Boolean, default=False, comment="Takes positions from anonymous CoT (TCP, UDP)")
    controller_id: Mapped[int | None] = mapped_column(ForeignKey("trackers.id", ondelete="SET NULL"), nullable=True,
                                                      comment="The device that controls it (a drone's ATAK): its sources report for it too")


class Position(Base):
    """One fix of one tracker. Append-only observations, so not audited row by row: each batch is
    recorded in ``ingest_batches`` instead. (tracker, time) is the identity that makes resends idempotent.

    Laid out for size, as millions are stored a day: the time first and the 4-byte columns together
    (no alignment padding on PostgreSQL), coordinates as whole 10⁻⁷ degrees, nothing derivable from
    the rest (a fix's H3 cell is counted in ``coverage`` as it is stored). On PostgreSQL the table is
    partitioned by day (:mod:`peacewatch.tracking.partitions`), so a window reads only its days and
    retention drops whole days. There is no foreign key to ``trackers``: checking it row by row would
    cost two thirds of the insert's speed, and the ingest resolves and locks each batch's trackers
    before storing (trackers are never deleted).
    """

    __tablename__ = "positions"
    __table_args__ = (
        PrimaryKeyConstraint("tracker_id", "t_ms"),
        {"sqlite_with_rowid": False, "postgresql_partition_by": "RANGE (t_ms)"},
    )

    t_ms: Mapped[int] = mapped_column(BigInteger, comment="UTC, milliseconds since 1970")
    tracker_id: Mapped[int] = mapped_column(Integer)
    lat: Mapped[float] = mapped_column(FixedDegrees)
    lon: Mapped[float] = mapped_column(FixedDegrees)
    zone_id: Mapped[int | None] = mapped_column(Integer, nullable=True, comment="Area of responsibility it fell in")
    alt: Mapped[float | None] = mapped_column(Float, nullable=True)
    speed: Mapped[float | None] = mapped_column(Float, nullable=True, comment="m/s")
    heading: Mapped[float | None] = mapped_column(Float, nullable=True, comment="degrees from true north")
    accuracy: Mapped[float | None] = mapped_column(Float, nullable=True, comment="metres, horizontal")


class IngestBatch(Base):
    """Who sent how many positions when, from which source: the audit trail of the position store."""

    __tablename__ = "ingest_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(120))
    source: Mapped[str] = mapped_column(String(16))
    received: Mapped[int] = mapped_column(Integer)
    stored: Mapped[int] = mapped_column(Integer, comment="New positions; the rest were resends")


class UnregisteredUid(Base):
    """A CoT uid heard from but not registered as a tracker: listed so an operator can register it."""

    __tablename__ = "cot_unregistered"

    uid: Mapped[str] = mapped_column(String(200), primary_key=True)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    events: Mapped[int] = mapped_column(Integer, default=0)
    last_lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    cot_type: Mapped[str] = mapped_column(String(64), default="")


class TakReport(Base):
    """A marker or spot report a signed-in TAK user placed on the map, kept so that operations can turn
    it into an incident report. A TAK client sends a marker again when it is moved or edited: the
    marker's uid and its sender are its identity, and the newest version is kept: nobody else's client, sending
    the same uid, replaces it."""

    __tablename__ = "tak_reports"
    __table_args__ = (UniqueConstraint("sent_by", "uid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(200))
    cot_type: Mapped[str] = mapped_column(String(64))
    what: Mapped[str] = mapped_column(String(16), comment="marker or spot report")
    callsign: Mapped[str] = mapped_column(String(200), default="")
    remarks: Mapped[str] = mapped_column(Text, default="")
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), comment="When the TAK client says it was placed")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_by: Mapped[str] = mapped_column(String(120), comment="The PeaceWatch user the TAK client signed in as")
    incident_id: Mapped[int | None] = mapped_column(Integer, nullable=True, comment="The incident report made from it")


class CoverageCell(Base):
    """An area's H3 cell visited in an hour: coverage over any window reads this, never the raw positions."""

    __tablename__ = "coverage"
    __table_args__ = {"sqlite_with_rowid": False, "postgresql_partition_by": "RANGE (hour_ms)"}  # by month

    zone_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hour_ms: Mapped[int] = mapped_column(BigInteger, primary_key=True, comment="Start of the UTC hour, ms since 1970")
    cell: Mapped[int] = mapped_column(BigInteger, primary_key=True)


class TrackerState(Base):
    """The last judged fix of each tracker and the stop in progress: what the next batch continues from.

    Written by the alert rules with each batch, read by the live stream to see who moved."""

    __tablename__ = "tracker_state"

    tracker_id: Mapped[int] = mapped_column(ForeignKey("trackers.id", ondelete="CASCADE"), primary_key=True)
    t_ms: Mapped[int] = mapped_column(BigInteger)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    standing_since_ms: Mapped[int] = mapped_column(BigInteger, default=-1)
