"""Public statements about the mission: who said what, when, from which source, and its stance."""

from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Text
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import Mapped, mapped_column, relationship

from peacewatch.core.audit import Audited
from peacewatch.core.db import Base, IdMixin, TimestampMixin
from peacewatch.core.visibility import VisibilityMixin


class Stance(str, enum.Enum):
    claims = "claims"
    confirms = "confirms"
    denies = "denies"


class Subject(str, enum.Enum):
    participation = "participation"  # "troops of state X take part in the monitoring"
    other = "other"  # recorded and linked, but no rule checks it


class Statement(IdMixin, TimestampMixin, VisibilityMixin, Audited, Base):
    __tablename__ = "statements"
    __table_args__ = (
        CheckConstraint("subject <> 'participation' OR subject_state IS NOT NULL", name="participation_state"),
    )

    speaker: Mapped[str] = mapped_column(String(200))  # a person, or the office itself
    office: Mapped[str] = mapped_column(String(200), default="")
    state: Mapped[str] = mapped_column(String(3))  # ISO 3166-1 alpha-3 of the speaker's state
    stated_on: Mapped[date] = mapped_column(Date, index=True)
    source: Mapped[str] = mapped_column(String(300))  # agency or publication
    link: Mapped[str] = mapped_column(String(1000), default="")  # URL or reference
    quote: Mapped[str] = mapped_column(Text)
    paraphrase: Mapped[bool] = mapped_column(
        default=False, comment="The quote is the register's summary of what was said, not the speaker's own words")
    subject: Mapped[Subject] = mapped_column(SAEnum(Subject, native_enum=False, length=16, validate_strings=True))
    subject_state: Mapped[str | None] = mapped_column(String(3), nullable=True, index=True)
    stance: Mapped[Stance] = mapped_column(SAEnum(Stance, native_enum=False, length=16, validate_strings=True))
    responds_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("statements.id", ondelete="RESTRICT"), nullable=True, index=True
    )

    responds_to: Mapped[Statement | None] = relationship(remote_side="Statement.id")
