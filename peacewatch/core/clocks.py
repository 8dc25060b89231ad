"""Device clocks: a field device's times, corrected, and by how much.

A phone's clock may be hours off (set by hand, a wrong time zone, a dead battery's reset). The field application
learns its offset from the ``Date`` of every answer and sends each record's times corrected, with the offset it
applied: the record keeps the corrected time (what the headquarters sees, alerts and figures use) and the device's
own time (corrected time minus the offset), so an investigator can tell what the phone showed. The offset is the
one known when the record was kept, kept with it, so a resend is the same record (its client id's digest matches).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

WEEK_S = 7 * 86400
OFFSET_COMMENT = "Seconds the device's clock was behind the server's when it was kept: its times are corrected by it"
STEP_OFFSET_COMMENT = "Seconds the device's clock was behind the server's when the last step was kept: its times are corrected by it"

ClockOffset = Annotated[int | None, Field(
    default=None, ge=-WEEK_S, le=WEEK_S,
    description="Seconds the sending device's clock was behind the server's (negative: ahead) when the record was "
                "kept; the record's times are already corrected by it. The device's own time is the time minus this.")]
