from __future__ import annotations

import enum
from datetime import date

from shapely.geometry.base import BaseGeometry
from sqlalchemy import Boolean, CheckConstraint, Date, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from peacewatch.core.audit import Audited
from peacewatch.core.changes import Versioned
from peacewatch.core.db import Base, IdMixin, TimestampMixin
from peacewatch.core.geo import Geometry, bbox_of
from peacewatch.core.visibility import VisibilityMixin


class ZoneKind(str, enum.Enum):
    area_of_responsibility = "area_of_responsibility"
    corridor = "corridor"
    line_of_contact = "line_of_contact"
    restricted_zone = "restricted_zone"
    district = "district"


class PostKind(str, enum.Enum):
    observation_post = "observation_post"
    checkpoint = "checkpoint"


class PostStatus(str, enum.Enum):
    planned = "planned"
    open = "open"
    closed = "closed"


class BBoxMixin:
    """Bounding-box columns kept in step with ``geometry`` so SQL can pre-filter by extent."""

    min_lon: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)

    @validates("geometry")
    def _keep_bbox(self, _key: str, geom: BaseGeometry) -> BaseGeometry:
        self.min_lon, self.min_lat, self.max_lon, self.max_lat = bbox_of(geom)
        return geom


class Zone(IdMixin, TimestampMixin, VisibilityMixin, BBoxMixin, Audited, Versioned, Base):
    """An area of responsibility, a corridor or a line of contact, valid over a span of dates."""

    __tablename__ = "zones"
    __table_args__ = (
        CheckConstraint("valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from", name="valid_span"),
        Index("ix_zones_bbox", "min_lon", "max_lon", "min_lat", "max_lat"),
    )

    kind: Mapped[ZoneKind] = mapped_column(SAEnum(ZoneKind, native_enum=False, length=32, validate_strings=True), index=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_ru: Mapped[str] = mapped_column(String(200), default="", comment="The name in Russian, where it differs (Cyrillic); empty: the name serves")
    geometry: Mapped[BaseGeometry] = mapped_column(Geometry())
    width_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    valid_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    valid_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    notes: Mapped[str] = mapped_column(Text, default="")


class Post(IdMixin, TimestampMixin, VisibilityMixin, BBoxMixin, Audited, Versioned, Base):
    """An observation post or checkpoint: a point inside its zone, open from one date to another.

    ``closed_on`` is the first day the post is no longer manned.
    """

    __tablename__ = "posts"
    __table_args__ = (
        CheckConstraint("closed_on IS NULL OR closed_on >= opened_on", name="open_span"),
        Index("ix_posts_bbox", "min_lon", "min_lat"),
    )

    kind: Mapped[PostKind] = mapped_column(SAEnum(PostKind, native_enum=False, length=32, validate_strings=True), index=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_ru: Mapped[str] = mapped_column(String(200), default="", comment="The name in Russian, where it differs (Cyrillic); empty: the name serves")
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id", ondelete="RESTRICT"), index=True)
    geometry: Mapped[BaseGeometry] = mapped_column(Geometry())
    opened_on: Mapped[date] = mapped_column(Date, index=True)
    closed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    permanent: Mapped[bool] = mapped_column(Boolean, default=True)
    outside_zone_override: Mapped[bool] = mapped_column(Boolean, default=False)
    override_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    notes: Mapped[str] = mapped_column(Text, default="")

    zone: Mapped[Zone] = relationship(lazy="selectin")

    def status_on(self, on: date) -> PostStatus:
        if on < self.opened_on:
            return PostStatus.planned
        if self.closed_on is not None and on >= self.closed_on:
            return PostStatus.closed
        return PostStatus.open


class Place(IdMixin, TimestampMixin, VisibilityMixin, Audited, Base):
    """A named place someone marked: a GPS waypoint (a halt, a bridge, a camp), a landmark.

    Kept as a place, not as a position: where a user marked something is not where a device was at
    a time. The same name at the same spot is one place, so a GPS dump imported twice adds nothing.
    """

    __tablename__ = "places"
    __table_args__ = (UniqueConstraint("name", "lat", "lon", name="uq_places_name_lat_lon"),)

    name: Mapped[str] = mapped_column(String(200))
    name_ru: Mapped[str] = mapped_column(String(200), default="", comment="The name in Russian, where it differs (Cyrillic); empty: the name serves")
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    elevation: Mapped[float | None] = mapped_column(Float, nullable=True, comment="Metres above mean sea level, as marked")
    notes: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(200), default="", comment="Where it came from: the file and who sent it")
