"""What the API says of an attachment."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from peacewatch.evidence.models import RecordKind


class AttachmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    record_kind: RecordKind
    record_key: str
    sha256: str = Field(description="SHA-256 of the file's bytes, checked on arrival against the one the device sent")
    size: int
    media_type: str = Field(description="Told from the file's content, not its name")
    filename: str
    caption: str
    added_by: str
    added_at: datetime = Field(description="When it arrived")
    captured_at: datetime | None = Field(description="When the device says it was taken")
    kept_at: datetime | None = Field(default=None, description="When the device kept it in its outbox")
    copy_of_sha256: str | None = Field(default=None, description="A smaller copy sent ahead of its original: the original's "
                                                                 "SHA-256 (the record's evidence is the original; listed until it arrives)")
    sync_delay_s: float | None = Field(description="Seconds from the device's outbox to arrival (from capture when the device "
                                       "did not say when it kept it): how long it waited offline")
    exif_clock: str = Field(description="The photo's own clock, as the camera wrote it (empty: none)")
    exif_taken_at: datetime | None
    exif_lat: float | None
    exif_lon: float | None
    public: bool
    content_url: str
    thumbnail_url: str | None = Field(description="A small JPEG without metadata; none when the file is not a photo")
    public_url: str | None = Field(default=None, description="Where anyone reads its public copy (without metadata), when it is public")


class AttachmentChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    public: bool = Field(description="May appear in the public copies (a photo of a public record only)")


class AttachedOut(AttachmentOut):
    already_attached: bool = Field(description="True when this very file was already on the record: a resend, stored once")
