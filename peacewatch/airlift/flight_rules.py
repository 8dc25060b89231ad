"""The airlift's rules, pure: what makes a flight record wrong, a flight or a convoy as a movement of people
and vehicles, a breach of the mandate's ceilings in words; and the context they are judged in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from peacewatch.airlift.aircraft import load_problem
from peacewatch.airlift.figures import (
    Breach,
    Movement,
)
from peacewatch.airlift.models import (
    Direction,
    FlightStatus,
)
from peacewatch.airlift.schemas import (
    BreachOut,
)
from peacewatch.core.calendar import reporting_day
from peacewatch.core.db import as_utc, utcnow
from peacewatch.core.i18n import Sentence
from peacewatch.core.problems import Invalid
from peacewatch.core.settings import Settings

MEASURE_NAMES = {"personnel": "personnel", "armoured": "armoured vehicles", "vehicles": "other vehicles"}
NOT_COUNTED = (FlightStatus.cancelled, FlightStatus.diverted)
MAX_IMPORT_ROWS = 100_000


@dataclass(frozen=True)
class Context:
    """What the rules need from the settings: the mission's zone and reporting day, the allowed clock skew."""

    zone: ZoneInfo
    day_end: Any
    clock_skew: timedelta

    @classmethod
    def of(cls, settings: Settings) -> Context:
        return cls(settings.zone, settings.reporting_day_ends, timedelta(minutes=settings.clock_skew_minutes))

    def day(self, at: datetime) -> date:
        return reporting_day(at, self.zone, self.day_end)

    def local(self, at: datetime) -> str:
        return at.astimezone(self.zone).strftime("%Y-%m-%d %H:%M %Z")

    def moment(self, value: datetime | None, field: str = "query.at") -> datetime:
        """The moment asked about: now by default, never in the future."""
        if value is None:
            return utcnow()
        at = as_utc(value, field=field)
        assert at is not None
        if at > utcnow() + self.clock_skew:
            raise Invalid("is in the future: figures count what has happened", field=field)
        return at


def flight_problems(v: dict[str, Any]) -> list[tuple[str, Sentence]]:
    """What makes a flight impossible on its face, as (field, message): order of times, status, capacity."""
    problems = []
    status = v["status"]
    if v["departure"] == v["arrival"]:
        problems.append(("arrival", Sentence("is the departure airfield")))
    if v["planned_arrival"] <= v["planned_departure"]:
        problems.append(("planned_arrival", Sentence("is not after the planned departure")))
    dep, arr = v.get("actual_departure"), v.get("actual_arrival")
    if dep is not None and arr is not None and arr <= dep:
        problems.append(("actual_arrival", Sentence("is not after the actual departure")))
    if status is FlightStatus.landed and (dep is None or arr is None):
        problems.append(("actual_departure" if dep is None else "actual_arrival", Sentence("is required for a landed flight")))
    if status in (FlightStatus.airborne, FlightStatus.diverted) and dep is None:
        problems.append(("actual_departure", Sentence("is required for a flight {status}", {"status": status.value})))
    if status in (FlightStatus.planned, FlightStatus.airborne, FlightStatus.cancelled) and arr is not None:
        problems.append(("actual_arrival", Sentence("must be empty for a flight {status} (it has not landed)",
                                                    {"status": status.value})))
    if status in (FlightStatus.planned, FlightStatus.cancelled) and dep is not None:
        problems.append(("actual_departure", Sentence("must be empty for a flight {status}", {"status": status.value})))
    overload = load_problem(v["aircraft_type"], v["personnel"], v["tonnes"])
    if overload is not None:
        problems.append(overload)
    return problems


def flight_movement(f: Any, *, planning: bool) -> Movement | None:
    """A flight as a movement: as flown, or (``planning``) as it will be if it goes to plan."""
    if f.status is FlightStatus.landed:
        left, arrived = f.actual_departure, f.actual_arrival
    elif f.status is FlightStatus.airborne:
        left, arrived = f.actual_departure, (f.planned_arrival if planning else None)
    elif f.status is FlightStatus.planned and planning:
        left, arrived = f.planned_departure, f.planned_arrival
    else:
        return None
    return Movement(inbound=f.direction is Direction.inbound, left_at=left, arrived_at=arrived, personnel=f.personnel,
                    armoured=f.armoured, vehicles=f.vehicles, tonnes=f.tonnes, aircraft_type=f.aircraft_type)


def convoy_movement(c: Any) -> Movement:
    return Movement(inbound=c.direction is Direction.inbound, left_at=c.departed_at, arrived_at=c.arrived_at,
                    personnel=c.personnel, armoured=c.armoured, vehicles=c.vehicles, tonnes=c.tonnes, kind=c.kind.value)


def breach_sentence(breach: Breach, ctx: Context) -> Sentence:
    """A breach of the mandate's ceilings or minimum in words, to be said in the reader's language."""
    values = {"measure": MEASURE_NAMES[breach.measure], "value": breach.value, "local": ctx.local(breach.at),
              "at": breach.at, "limit": breach.limit}
    if breach.above:
        return Sentence("{measure} would reach {value:,} at {local} ({at:%Y-%m-%d %H:%M} UTC), over the ceiling of "
                        "{limit:,}", values)
    return Sentence("{measure} would reach {value:,} at {local} ({at:%Y-%m-%d %H:%M} UTC), below the minimum of "
                    "{limit:,}", values)


def describe_breach(breach: Breach, ctx: Context) -> BreachOut:
    return BreachOut(at=breach.at, local_time=ctx.local(breach.at), measure=breach.measure, value=breach.value,
                     limit=breach.limit, above=breach.above, message=str(breach_sentence(breach, ctx)))
