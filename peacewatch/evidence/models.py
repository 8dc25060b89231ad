"""An attachment: one file on one record, named by the hash of its bytes."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Float, Integer, String, Text, UniqueConstraint
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import Mapped, mapped_column

from peacewatch.core.audit import Audited
from peacewatch.core.db import Base, IdMixin, UTCDateTime, utcnow


class RecordKind(str, enum.Enum):
    """The records that carry evidence, as the API names them in its paths."""

    incident = "incident"
    verification = "verification"
    body = "body"
    missing_person = "missing_person"
    recovery = "recovery"
    handover = "handover"


class Attachment(IdMixin, Audited, Base):
    """A file attached to a record; the bytes live in the blob store under ``sha256``.

    One file is attached to one record once: a resend from a field device finds it attached
    (the unique constraint, not a check in one process, makes it so). Its audit entries are
    personal data, as the files of the remains are: the humanitarian cell and admins read them whole.
    """

    __tablename__ = "attachments"
    __audit_personal__ = True
    __table_args__ = (UniqueConstraint("record_kind", "record_key", "sha256", name="uq_attachments_record_file"),)

    record_kind: Mapped[RecordKind] = mapped_column(SAEnum(RecordKind, native_enum=False, length=24, validate_strings=True))
    record_key: Mapped[str] = mapped_column(String(64), comment="The record's id or number, as its API names it")
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str] = mapped_column(String(64), comment="Told from the file's content, not its name")
    filename: Mapped[str] = mapped_column(String(200), default="")
    caption: Mapped[str] = mapped_column(Text, default="")
    added_by: Mapped[str] = mapped_column(String(120))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, comment="When the device says it was taken")
    kept_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True,
                                                     comment="When the device kept it in its outbox, by the server's clock")
    copy_of_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True,
                                                       comment="A smaller copy sent first: the SHA-256 of the original it stands for")
    client_id: Mapped[str | None] = mapped_column(String(100), nullable=True, comment="The device's own name for the file")
    exif_clock: Mapped[str] = mapped_column(String(40), default="", comment="The photo's own clock, as the camera wrote it")
    exif_taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, comment="That moment in UTC, if the offset was written")
    exif_lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    exif_lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    thumbnail_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    public: Mapped[bool] = mapped_column(Boolean, default=False, comment="May appear in public copies (without EXIF)")
