"""Facts about this installation that every process reads from the database: a few named values, set by a
command (the demo says where its story ends), never by a process's own memory or clock."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from peacewatch.core.db import Base, UTCDateTime, utcnow

RECORDS_END = "records_end"  # where the pages open when the mission's records are an archive or a scenario


class InstallationFact(Base):
    """One named fact: a moment, or a short text."""

    __tablename__ = "installation_facts"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    moment: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    text: Mapped[str] = mapped_column(String(500), default="")
    set_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def moment_of(session: Session, name: str) -> datetime | None:
    """The moment the fact ``name`` holds, or None when it is not set."""
    return session.scalar(select(InstallationFact.moment).where(InstallationFact.name == name))


def set_moment(session: Session, name: str, moment: datetime | None) -> None:
    """Set (or, with None, clear) the fact ``name``; the caller commits."""
    fact = session.get(InstallationFact, name)
    if moment is None:
        if fact is not None:
            session.delete(fact)
        return
    if fact is None:
        session.add(InstallationFact(name=name, moment=moment, set_at=utcnow()))
    else:
        fact.moment, fact.set_at = moment, utcnow()
