"""Incident reports, the events they describe, their verification and the proposals to merge them.

A report is one source's account; an event is what happened. Every report belongs to exactly one
event (alone, until an operator accepts a merge), so figures count events and never double-count
an explosion that a post, a patrol and both sides all reported.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import Mapped, mapped_column, relationship

from peacewatch.core.audit import Audited
from peacewatch.core.changes import Versioned
from peacewatch.core.clocks import OFFSET_COMMENT
from peacewatch.core.db import Base, IdMixin, TimestampMixin, UTCDateTime, utcnow
from peacewatch.core.visibility import VisibilityMixin


def _enum(kind: type[enum.Enum], length: int = 32) -> SAEnum:
    return SAEnum(kind, native_enum=False, length=length, validate_strings=True)


class IncidentType(str, enum.Enum):
    ceasefire_violation = "ceasefire_violation"
    movement_of_forces = "movement_of_forces"
    mine_or_uxo = "mine_or_uxo"
    damage_to_civilian_objects = "damage_to_civilian_objects"
    restriction_of_movement = "restriction_of_movement"
    civil_unrest = "civil_unrest"
    other = "other"


class ViolationKind(str, enum.Enum):
    """Sub-types of a ceasefire violation, as the OSCE monitors counted them."""

    small_arms_fire = "small_arms_fire"
    heavy_weapons = "heavy_weapons"
    explosion = "explosion"
    drone_overflight = "drone_overflight"
    muzzle_flashes = "muzzle_flashes"
    illumination_flares = "illumination_flares"


class TimePrecision(str, enum.Enum):
    exact = "exact"
    approximate = "approximate"
    day = "day"
    week = "week"
    month = "month"


class PlacePrecision(str, enum.Enum):
    exact = "exact"
    near_place = "near_place"
    district = "district"


class SourceKind(str, enum.Enum):
    patrol = "patrol"
    observation_post = "observation_post"
    side_a = "side_a"
    side_b = "side_b"
    media = "media"
    joint_monitoring_centre = "joint_monitoring_centre"


class Channel(str, enum.Enum):
    """How a report reached the mission: told apart from who told it (the source) and who typed it in."""

    field_app = "field_app"
    tak_marker = "tak_marker"
    radio = "radio"
    telephone = "telephone"
    in_person = "in_person"
    written = "written"
    media_monitoring = "media_monitoring"
    courier_file = "courier_file"
    source_entry = "source_entry"  # the source typed it into PeaceWatch itself (a side's liaison officer)


class Actor(str, enum.Enum):
    side_a = "side_a"
    side_b = "side_b"
    civilians = "civilians"
    unknown = "unknown"
    other = "other"


class Restriction(str, enum.Enum):
    """How the force's freedom of movement was restricted (the OSCE's categories)."""

    denial = "denial"
    delay = "delay"
    conditional_access = "conditional_access"


class IncidentStatus(str, enum.Enum):
    reported = "reported"
    under_investigation = "under_investigation"
    confirmed = "confirmed"
    not_confirmed = "not_confirmed"
    rejected = "rejected"


class ProposalStatus(str, enum.Enum):
    open = "open"
    accepted = "accepted"
    split = "split"
    superseded = "superseded"


class IncidentEvent(IdMixin, TimestampMixin, Audited, Versioned, Base):
    """What happened, as told by one or more reports."""

    __tablename__ = "incident_events"


CASUALTY_COLUMNS = tuple(
    f"{effect}_{status}_{bound}" for effect in ("killed", "wounded") for status in ("civilian", "military") for bound in ("min", "max")
)


class Incident(IdMixin, TimestampMixin, VisibilityMixin, Audited, Versioned, Base):
    """One source's report of an incident."""

    __tablename__ = "incidents"
    __table_args__ = (
        UniqueConstraint("reported_by", "client_id", name="uq_incidents_client_id"),
        CheckConstraint("ended_at >= started_at", name="window"),
        CheckConstraint("event_count >= 1", name="event_count"),
        *(CheckConstraint(f"{c[:-4]}_min >= 0 AND {c[:-4]}_max >= {c[:-4]}_min", name=c[:-4]) for c in CASUALTY_COLUMNS[::2]),
        Index("ix_incidents_time", "started_at", "ended_at"),
    )

    client_id: Mapped[str | None] = mapped_column(String(64), nullable=True, comment="The field device's id: a resend is not a new report")
    client_digest: Mapped[str | None] = mapped_column(String(64), nullable=True, comment="Hash of what the device sent with client_id")
    clock_offset_s: Mapped[int | None] = mapped_column(Integer, nullable=True, comment=OFFSET_COMMENT)
    reported_by: Mapped[str] = mapped_column(String(120), index=True)  # the user who entered it
    channel: Mapped[Channel | None] = mapped_column(_enum(Channel, 24), nullable=True, comment="How it reached the mission; null: not stated")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, comment="When it reached the mission (default: when it was stored)")
    type: Mapped[IncidentType] = mapped_column(_enum(IncidentType), index=True)
    subtype: Mapped[ViolationKind | None] = mapped_column(_enum(ViolationKind), nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime())
    time_precision: Mapped[TimePrecision] = mapped_column(_enum(TimePrecision, 16))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    place_precision: Mapped[PlacePrecision] = mapped_column(_enum(PlacePrecision, 16))
    place_name: Mapped[str] = mapped_column(String(200), default="")
    outside_area_of_interest: Mapped[bool] = mapped_column(default=False)
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zones.id", ondelete="SET NULL"), nullable=True, index=True,
                                                comment="The area of responsibility the place is in")
    district_id: Mapped[int | None] = mapped_column(ForeignKey("zones.id", ondelete="SET NULL"), nullable=True, index=True)
    observed_by: Mapped[list[str]] = mapped_column(JSON, default=list, comment="heard, seen, camera")
    event_count: Mapped[int] = mapped_column(Integer, default=1, comment="How many explosions, bursts, overflights...")
    direction_deg: Mapped[float | None] = mapped_column(Float, nullable=True, comment="From the observer, degrees from north")
    distance_m: Mapped[float | None] = mapped_column(Float, nullable=True, comment="Estimated distance from the observer")
    source: Mapped[SourceKind] = mapped_column(_enum(SourceKind), index=True)
    source_detail: Mapped[str] = mapped_column(String(300), default="")
    patrol_id: Mapped[int | None] = mapped_column(ForeignKey("patrols.id", ondelete="SET NULL"), nullable=True, index=True)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="SET NULL"), nullable=True, index=True)
    alleged_actors: Mapped[list[str]] = mapped_column(JSON, default=list)
    killed_civilian_min: Mapped[int] = mapped_column(Integer, default=0)
    killed_civilian_max: Mapped[int] = mapped_column(Integer, default=0)
    killed_military_min: Mapped[int] = mapped_column(Integer, default=0)
    killed_military_max: Mapped[int] = mapped_column(Integer, default=0)
    wounded_civilian_min: Mapped[int] = mapped_column(Integer, default=0)
    wounded_civilian_max: Mapped[int] = mapped_column(Integer, default=0)
    wounded_military_min: Mapped[int] = mapped_column(Integer, default=0)
    wounded_military_max: Mapped[int] = mapped_column(Integer, default=0)
    restriction: Mapped[Restriction | None] = mapped_column(_enum(Restriction, 24), nullable=True)
    restricted_by: Mapped[str] = mapped_column(String(300), default="", comment="Who stopped the patrol")
    denied: Mapped[str] = mapped_column(String(500), default="", comment="What was denied: a road, a site, a checkpoint")
    narrative: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[IncidentStatus] = mapped_column(_enum(IncidentStatus, 24), default=IncidentStatus.reported, index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("incident_events.id", ondelete="RESTRICT"), index=True)

    event: Mapped[IncidentEvent] = relationship()


class Verification(IdMixin, Audited, Base):
    """One step of an incident's verification: who moved it, why, and which patrol or post checked."""

    __tablename__ = "incident_verifications"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    by: Mapped[str] = mapped_column(String(120))
    from_status: Mapped[IncidentStatus] = mapped_column(_enum(IncidentStatus, 24))
    to_status: Mapped[IncidentStatus] = mapped_column(_enum(IncidentStatus, 24))
    reason: Mapped[str] = mapped_column(Text)
    patrol_id: Mapped[int | None] = mapped_column(ForeignKey("patrols.id", ondelete="SET NULL"), nullable=True)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="SET NULL"), nullable=True)


class MergeProposal(IdMixin, TimestampMixin, Audited, Base):
    """Events the matcher believes are one; an operator accepts or splits them."""

    __tablename__ = "merge_proposals"

    status: Mapped[ProposalStatus] = mapped_column(_enum(ProposalStatus, 16), default=ProposalStatus.open, index=True)
    key: Mapped[str] = mapped_column(String(64), index=True, comment="Digest of the sorted report ids: a set is proposed once")
    incident_ids: Mapped[list[int]] = mapped_column(JSON)
    max_distance_m: Mapped[float] = mapped_column(Float)
    max_gap_minutes: Mapped[float] = mapped_column(Float)
    decided_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")


class EventRow(Base):
    """An event as one scope of readers sees it, kept for GIS clients: what ``incidents.rows`` summarises.

    Not a record of its own: rebuilt from the reports whenever they (or the events, or the zones)
    have changed since, so OGC API pages, boxes and filters read finished rows with indexes, as a
    GIS server reads a table. One row per event and scope (an event's name and summary depend on
    which of its reports the reader may see).
    """

    __tablename__ = "incident_event_rows"
    __table_args__ = (Index("ix_incident_event_rows_place", "scope", "lat", "lon"),)

    scope: Mapped[str] = mapped_column(String(64), primary_key=True, comment="'all', or the visibilities readable")
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False, comment="The event's name in scope")
    event_id: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(64))
    subtype: Mapped[str | None] = mapped_column(String(64), nullable=True)
    place_name: Mapped[str] = mapped_column(String(200))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    zone_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    district_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime())
    event_count: Mapped[int] = mapped_column(Integer)
    area: Mapped[str | None] = mapped_column(String(200), nullable=True)
    district: Mapped[str | None] = mapped_column(String(200), nullable=True)


class EventRowsBuilt(Base):
    """For each scope, the versions of the reports, events and zones its event rows were built from."""

    __tablename__ = "incident_event_rows_built"

    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    versions: Mapped[str] = mapped_column(String(200))
    events: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"),
                                        comment="How many rows the scope has: a page with no filter is counted without a scan")
