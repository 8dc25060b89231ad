"""The mission's calendar: reporting days, which end at a set local time, not at midnight.

Every capability counts by reporting day (incidents, the airlift, remains, the mandate, the daily
reports): one calendar, here at the bottom, so none of them has to import another for it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from peacewatch.core.db import utcnow
from peacewatch.core.i18n import N_
from peacewatch.core.settings import Settings

ZONE_CITIES = (N_("Baku"), N_("Moscow"), N_("Yerevan"))  # the place names a mission's time zone is likely to bear


def zone_caption(zone: ZoneInfo, at: datetime | None = None, gettext: Callable[[str], str] = str) -> str:
    """How the pages and the reports name the mission's clock: "Baku, UTC+04:00" (the offset of ``at``, now by
    default), the city in the reader's language when the catalogs know it; never the IANA key "Asia/Baku"."""
    offset = (at or datetime.now(UTC)).astimezone(zone).strftime("%z")
    return f"{gettext(zone.key.rsplit('/', 1)[-1].replace('_', ' '))}, UTC{offset[:3]}:{offset[3:]}"


def reporting_day(at: datetime, zone: ZoneInfo, day_end: time) -> date:
    """The reporting day an instant falls in: the day that ends at the next ``day_end``, local time."""
    local = at.astimezone(zone).replace(tzinfo=None)
    shift = timedelta(days=1) - timedelta(hours=day_end.hour, minutes=day_end.minute)
    return (local + shift).date() if shift < timedelta(days=1) else local.date()


def days_between(first: date, last: date) -> list[date]:
    """Every day from ``first`` to ``last``, both included (none when ``last`` comes first)."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def reporting_day_ends_at(day: date, zone: ZoneInfo, day_end: time) -> datetime:
    """The instant reporting day ``day`` ends (the first instant of the next one), in UTC."""
    end_date = day if day_end != time(0) else day + timedelta(days=1)
    return datetime.combine(end_date, day_end, tzinfo=zone).astimezone(UTC)


def mission_today(settings: Settings) -> date:
    """The reporting day now, in the mission's time zone (after the day's end it is already tomorrow's)."""
    return reporting_day(utcnow(), settings.zone, settings.reporting_day_ends)


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The start of ``day`` in ``zone``, in UTC; at the calendar's ends, its first or last moment (year 1, 9999)."""
    try:
        return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)
    except OverflowError:
        return (datetime.min if day.year == 1 else datetime.max).replace(tzinfo=UTC)


def days_span(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[first's local midnight, the midnight after last) in UTC, clamped to the calendar."""
    end = local_midnight(last + timedelta(days=1), zone) if last < date.max else datetime.max.replace(tzinfo=UTC)
    return local_midnight(first, zone), end
