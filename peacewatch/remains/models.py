"""Remains of the dead: recoveries, bodies with their post-mortem (PM) record, missing persons with
their ante-mortem (AM) record, the chain of custody, DNA results, identifications and handovers.

Modelled on INTERPOL's Disaster Victim Identification practice: a body (or a separate body part)
has a number used on every record from recovery to handover; an identification stands only on a
primary identifier (DNA, fingerprints, dental) or an identification board's decision.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy import (
    Enum as SAEnum,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from peacewatch.core.audit import Audited
from peacewatch.core.changes import Revised, Versioned
from peacewatch.core.clocks import OFFSET_COMMENT
from peacewatch.core.db import Base, IdMixin, TimestampMixin, UTCDateTime
from peacewatch.core.geo import Geometry
from peacewatch.core.visibility import Side
from peacewatch.remains.matching import Sex


def _enum(kind: type[enum.Enum], length: int = 24) -> SAEnum:
    return SAEnum(kind, native_enum=False, length=length, validate_strings=True)


class BodyKind(str, enum.Enum):
    body = "body"
    body_part = "body_part"


class Condition(str, enum.Enum):
    complete = "complete"
    incomplete = "incomplete"
    burned = "burned"
    decomposed = "decomposed"
    skeletal = "skeletal"


class PersonStatus(str, enum.Enum):
    military = "military"
    civilian = "civilian"


class CustodyKind(str, enum.Enum):
    recovered = "recovered"
    stored = "stored"
    examined = "examined"
    transferred = "transferred"
    handed_over = "handed_over"
    buried = "buried"
    evidence = "evidence"  # a file attached to the body (its note names the file's SHA-256): not a move of the body


class IdentificationStatus(str, enum.Enum):
    proposed = "proposed"
    confirmed = "confirmed"
    revoked = "revoked"


class IdentificationBasis(str, enum.Enum):
    """A primary identifier (DNA, fingerprints, dental), or the identification board's decision."""

    dna = "dna"
    fingerprints = "fingerprints"
    dental = "dental"
    board = "board"


class Recovery(IdMixin, TimestampMixin, Audited, Revised, Base):
    """One recovery operation at one site."""

    __tablename__ = "recoveries"
    __audit_personal__ = True
    __table_args__ = (
        CheckConstraint("bodies_found >= 0 AND bodies_recovered >= 0 AND bodies_recovered <= bodies_found", name="counts"),
        UniqueConstraint("recorded_by", "client_id", name="uq_recoveries_client_id"),
    )

    recovered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recovered_on: Mapped[date] = mapped_column(Date, index=True, comment="The local date in the mission's time zone")
    site: Mapped[BaseGeometry] = mapped_column(Geometry(), comment="A point or the polygon searched")
    lat: Mapped[float] = mapped_column(Float, comment="A representative point of the site")
    lon: Mapped[float] = mapped_column(Float)
    place_name: Mapped[str] = mapped_column(String(200), default="")
    team: Mapped[str] = mapped_column(String(200), comment="Who recovered: a unit, the ICRC, the emergency service")
    side: Mapped[Side] = mapped_column(_enum(Side, 1), index=True, comment="The side whose area the site is in")
    bodies_found: Mapped[int] = mapped_column(Integer)
    bodies_recovered: Mapped[int] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(120))
    client_id: Mapped[str | None] = mapped_column(String(64), nullable=True, comment="The field device's id: a resend is not a new recovery")
    client_digest: Mapped[str | None] = mapped_column(String(64), nullable=True, comment="Hash of what the device sent with client_id")
    clock_offset_s: Mapped[int | None] = mapped_column(Integer, nullable=True, comment=OFFSET_COMMENT)

    bodies: Mapped[list[Body]] = relationship(back_populates="recovery", order_by="Body.id")


class NumberCounter(Base):
    """The last number given in a series (bodies, missing persons, handovers) and year.

    The row is locked while a number is taken, so two clerks never get the same one.
    """

    __tablename__ = "number_counters"

    series: Mapped[str] = mapped_column(String(16), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Body(IdMixin, TimestampMixin, Audited, Revised, Base):
    """A body or a separate body part, with its post-mortem record."""

    __tablename__ = "bodies"
    __audit_personal__ = True
    __table_args__ = (
        CheckConstraint("age_min IS NULL OR (age_min >= 0 AND age_max >= age_min)", name="age"),
        CheckConstraint("height_min IS NULL OR (height_min > 0 AND height_max >= height_min)", name="height"),
        CheckConstraint("part_of_id IS NULL OR kind = 'body_part'", name="part_of_a_body"),
    )

    number: Mapped[str] = mapped_column(String(32), unique=True, comment="e.g. PW-2020-000123, on every record")
    recovery_id: Mapped[int] = mapped_column(ForeignKey("recoveries.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[BodyKind] = mapped_column(_enum(BodyKind, 16), default=BodyKind.body)
    part_of_id: Mapped[int | None] = mapped_column(ForeignKey("bodies.id", ondelete="RESTRICT"), nullable=True, index=True,
                                                   comment="The body this part belongs to, once known")
    condition: Mapped[Condition | None] = mapped_column(_enum(Condition, 16), nullable=True)
    sex: Mapped[Sex] = mapped_column(_enum(Sex, 16), default=Sex.unknown)
    age_min: Mapped[int | None] = mapped_column(Integer, nullable=True)
    age_max: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height_min: Mapped[int | None] = mapped_column(Integer, nullable=True, comment="cm")
    height_max: Mapped[int | None] = mapped_column(Integer, nullable=True)
    marks: Mapped[list[str]] = mapped_column(JSON, default=list, comment="Tattoos, scars: what and where")
    clothing: Mapped[list[str]] = mapped_column(JSON, default=list)
    effects: Mapped[list[str]] = mapped_column(JSON, default=list)
    documents: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, comment="[{kind, text, name, service_number}]")
    dna_sampled: Mapped[bool] = mapped_column(Boolean, default=False)
    fingerprints_taken: Mapped[bool] = mapped_column(Boolean, default=False)
    dental: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, comment="FDI tooth number -> state")
    cause_of_death: Mapped[str] = mapped_column(String(300), default="")
    died_on: Mapped[date | None] = mapped_column(Date, nullable=True, comment="Date of death, where the PM examination could tell")
    examined_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    examined_by: Mapped[str] = mapped_column(String(200), default="")
    custody_count: Mapped[int] = mapped_column(Integer, default=0)
    custody_head: Mapped[str] = mapped_column(String(64), default="", comment="Hash of the last custody event")

    recovery: Mapped[Recovery] = relationship(back_populates="bodies")
    part_of: Mapped[Body | None] = relationship(remote_side="Body.id")


class MissingPerson(IdMixin, TimestampMixin, Audited, Revised, Base):
    """A missing-person report with its ante-mortem record."""

    __tablename__ = "missing_persons"
    __audit_personal__ = True
    __table_args__ = (
        UniqueConstraint("filed_by", "client_id", name="uq_missing_persons_client_id"),
        CheckConstraint("height_cm IS NULL OR height_cm > 0", name="height"),
    )

    number: Mapped[str] = mapped_column(String(32), unique=True, comment="e.g. AM-2020-000045")
    client_id: Mapped[str | None] = mapped_column(String(64), nullable=True, comment="The sender's id: a resend is not a new report")
    client_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    family_name: Mapped[str] = mapped_column(String(120))
    given_names: Mapped[str] = mapped_column(String(200))
    patronymic: Mapped[str] = mapped_column(String(120), default="")
    side: Mapped[Side] = mapped_column(_enum(Side, 1), index=True, comment="The side the person belonged to")
    status: Mapped[PersonStatus] = mapped_column(_enum(PersonStatus, 16))
    service_number: Mapped[str] = mapped_column(String(64), default="")
    unit: Mapped[str] = mapped_column(String(200), default="")
    born_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    sex: Mapped[Sex] = mapped_column(_enum(Sex, 16), default=Sex.unknown)
    height_cm: Mapped[int | None] = mapped_column(Integer, nullable=True)
    marks: Mapped[list[str]] = mapped_column(JSON, default=list)
    clothing: Mapped[list[str]] = mapped_column(JSON, default=list, comment="Last worn")
    effects: Mapped[list[str]] = mapped_column(JSON, default=list)
    last_seen_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    last_seen_place: Mapped[str] = mapped_column(String(200), default="")
    last_seen_lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_seen_lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    dental: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    dental_notes: Mapped[str] = mapped_column(Text, default="")
    medical_notes: Mapped[str] = mapped_column(Text, default="")
    family_dna_reference: Mapped[bool] = mapped_column(Boolean, default=False, comment="Family reference samples were given")
    reported_on: Mapped[date] = mapped_column(Date, index=True)
    reporter_name: Mapped[str] = mapped_column(String(200))
    reporter_contact: Mapped[str] = mapped_column(String(300), default="")
    filed_by: Mapped[str] = mapped_column(String(120), comment="The user who recorded the report")
    filed_by_side: Mapped[Side | None] = mapped_column(_enum(Side, 1), nullable=True, index=True,
                                                      comment="Set when a side's liaison filed it: that side may read it")


class CustodyEvent(IdMixin, Audited, Base):
    """One link of a body's chain of custody; never changed once written.

    ``hash`` is an HMAC over the event's fields and the previous event's hash, keyed by the
    deployment's custody key: an edit, a deletion or a reordering in the database breaks the chain.
    """

    __tablename__ = "custody_events"
    __audit_personal__ = True
    __table_args__ = (UniqueConstraint("body_id", "seq", name="uq_custody_events_body_seq"),)

    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id", ondelete="RESTRICT"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[CustodyKind] = mapped_column(_enum(CustodyKind, 16))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    place: Mapped[str] = mapped_column(String(200))
    released_by: Mapped[str] = mapped_column(String(200), default="", comment="Who gave custody")
    received_by: Mapped[str] = mapped_column(String(200), default="", comment="Who took custody")
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(120))
    handover_id: Mapped[int | None] = mapped_column(ForeignKey("handovers.id", ondelete="RESTRICT"), nullable=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


@event.listens_for(CustodyEvent, "before_update")
@event.listens_for(CustodyEvent, "before_delete")
def _custody_is_append_only(*_args: object) -> None:
    raise RuntimeError("a custody event is never changed or deleted: record a new event instead")


class DnaResult(IdMixin, TimestampMixin, Audited, Versioned, Base):
    """A laboratory's likelihood ratio for one body against one missing person's references."""

    __tablename__ = "dna_results"
    __audit_personal__ = True
    __table_args__ = (
        UniqueConstraint("body_id", "missing_person_id", name="uq_dna_results_pair"),
        CheckConstraint("likelihood_ratio >= 0", name="ratio"),
    )

    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id", ondelete="RESTRICT"), index=True)
    missing_person_id: Mapped[int] = mapped_column(ForeignKey("missing_persons.id", ondelete="RESTRICT"), index=True)
    likelihood_ratio: Mapped[float] = mapped_column(Float)
    laboratory: Mapped[str] = mapped_column(String(200))
    reference: Mapped[str] = mapped_column(String(120), default="", comment="The laboratory's case number")
    reported_on: Mapped[date] = mapped_column(Date)


class Identification(IdMixin, TimestampMixin, Audited, Base):
    """A body named as a missing person: proposed, then confirmed on a primary identifier or a board, or revoked."""

    __tablename__ = "identifications"
    __audit_personal__ = True
    __table_args__ = (
        # a body and a name end with at most one identification that stands
        Index("uq_identifications_body", "body_id", unique=True,
              sqlite_where=text("status != 'revoked'"), postgresql_where=text("status != 'revoked'")),
        Index("uq_identifications_person", "missing_person_id", unique=True,
              sqlite_where=text("status != 'revoked'"), postgresql_where=text("status != 'revoked'")),
    )

    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id", ondelete="RESTRICT"), index=True)
    missing_person_id: Mapped[int] = mapped_column(ForeignKey("missing_persons.id", ondelete="RESTRICT"), index=True)
    status: Mapped[IdentificationStatus] = mapped_column(_enum(IdentificationStatus, 16), default=IdentificationStatus.proposed)
    score: Mapped[float | None] = mapped_column(Float, nullable=True, comment="The candidate's weight when proposed")
    proposed_by: Mapped[str] = mapped_column(String(120))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    basis: Mapped[IdentificationBasis | None] = mapped_column(_enum(IdentificationBasis, 16), nullable=True)
    basis_detail: Mapped[str] = mapped_column(Text, default="", comment="The examiner's finding, or the board's reasoning")
    board_members: Mapped[list[str]] = mapped_column(JSON, default=list)
    dna_result_id: Mapped[int | None] = mapped_column(ForeignKey("dna_results.id", ondelete="RESTRICT"), nullable=True)
    confirmed_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoke_reason: Mapped[str] = mapped_column(Text, default="")

    body: Mapped[Body] = relationship()
    person: Mapped[MissingPerson] = relationship()


class Handover(IdMixin, TimestampMixin, Audited, Base):
    """Bodies handed to a side, before a witness."""

    __tablename__ = "handovers"
    __audit_personal__ = True

    number: Mapped[str] = mapped_column(String(32), unique=True, comment="e.g. HO-2020-0007")
    to_side: Mapped[Side] = mapped_column(_enum(Side, 1), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    place: Mapped[str] = mapped_column(String(200))
    receiving_organisation: Mapped[str] = mapped_column(String(200))
    receiving_person: Mapped[str] = mapped_column(String(200))
    witness_organisation: Mapped[str] = mapped_column(String(200), comment="e.g. the ICRC")
    witness_person: Mapped[str] = mapped_column(String(200), default="")
    released_by: Mapped[str] = mapped_column(String(200), comment="Who handed the bodies over for the mission")
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(120))

    items: Mapped[list[HandoverBody]] = relationship(back_populates="handover", order_by="HandoverBody.id")


class HandoverBody(IdMixin, Audited, Base):
    __tablename__ = "handover_bodies"
    __audit_personal__ = True

    handover_id: Mapped[int] = mapped_column(ForeignKey("handovers.id", ondelete="RESTRICT"), index=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id", ondelete="RESTRICT"), unique=True,
                                         comment="A body is handed over once")

    handover: Mapped[Handover] = relationship(back_populates="items")
    body: Mapped[Body] = relationship()
