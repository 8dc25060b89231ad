"""The humanitarian cell's context (the mission's clock and keys), its record numbers, and a body by its number."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from peacewatch.core.calendar import reporting_day
from peacewatch.core.clocks import not_in_future
from peacewatch.core.db import utcnow
from peacewatch.core.problems import Invalid, NotFound
from peacewatch.core.settings import Settings
from peacewatch.remains.models import (
    Body,
    NumberCounter,
)


@dataclass(frozen=True)
class Context:
    """What the rules need from the settings."""

    zone: Any
    day_end: Any
    custody_key: bytes
    prefix: str
    clock_skew: timedelta

    @classmethod
    def of(cls, settings: Settings) -> Context:
        return cls(zone=settings.zone, day_end=settings.reporting_day_ends, custody_key=settings.resolved_custody_key,
                   prefix=settings.body_number_prefix, clock_skew=settings.clock_skew)

    def instant(self, value: datetime, field: str) -> datetime:
        """A client's time in UTC, refused when it is in the future (beyond the allowed clock skew)."""
        at = not_in_future(value, self.clock_skew, field)
        assert at is not None
        return at

    def decided_at(self, value: datetime | None, after: datetime | None, what: str) -> datetime:
        """When a decision was taken: now unless given; never in the future, never before ``after``."""
        at = utcnow() if value is None else self.instant(value, "body.at")
        if after is not None and at < after:
            raise Invalid("is before the {what} ({after:%Y-%m-%d %H:%M} UTC)", field="body.at", what=what, after=after)
        return at

    def local_date(self, at: datetime) -> date:
        return at.astimezone(self.zone).date()

    def day(self, at: datetime) -> date:
        return reporting_day(at, self.zone, self.day_end)


def take_number(session: Session, series: str, year: int) -> int:
    """The next number of ``series`` in ``year``; the counter row stays locked until commit."""
    counter = session.scalar(
        select(NumberCounter).where(NumberCounter.series == series, NumberCounter.year == year).with_for_update()
    )
    if counter is None:
        counter = NumberCounter(series=series, year=year, last=0)
        session.add(counter)
    counter.last += 1
    session.flush()
    return counter.last


def get_body(session: Session, number: str) -> Body:
    body = session.scalar(select(Body).where(Body.number == number).options(selectinload(Body.recovery)))
    if body is None:
        raise NotFound("body {number} not found", number=number)
    return body
