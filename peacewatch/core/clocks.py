"""Device clocks: a field device's times, corrected, and by how much.

A phone's clock may be hours off (set by hand, a wrong time zone, a dead battery's reset). The field application
learns its offset from the ``Date`` of every answer and sends each record's times corrected, with the offset it
applied: the record keeps the corrected time (what the headquarters sees, alerts and figures use) and the device's
own time (corrected time minus the offset), so an investigator can tell what the phone showed. The offset is the
one known when the record was kept, kept with it, so a resend is the same record (its client id's digest matches).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from pydantic import Field

from peacewatch.core.db import as_utc, utcnow
from peacewatch.core.problems import Invalid

WEEK_S = 7 * 86400
CLOCK_SKEW_MINUTES = 10  # how far ahead of the server a device's time may be (settings.clock_skew_minutes)
CLOCK_SKEW = timedelta(minutes=CLOCK_SKEW_MINUTES)
OFFSET_COMMENT = "Seconds the device's clock was behind the server's when it was kept: its times are corrected by it"
STEP_OFFSET_COMMENT = "Seconds the device's clock was behind the server's when the last step was kept: its times are corrected by it"

ClockOffset = Annotated[int | None, Field(
    default=None, ge=-WEEK_S, le=WEEK_S,
    description="Seconds the sending device's clock was behind the server's (negative: ahead) when the record was "
                "kept; the record's times are already corrected by it. The device's own time is the time minus this.")]


def not_in_future(value: datetime | None, clock_skew: timedelta, field: str) -> datetime | None:
    """A client's time in UTC (None stays None), refused when it is further in the future than a clock may run
    ahead: a record dated hours ahead would stand wrong on the headquarters' map and figures until then."""
    at = as_utc(value, field=field)
    if at is not None and at > utcnow() + clock_skew:
        raise Invalid("is in the future", field=field)
    return at
