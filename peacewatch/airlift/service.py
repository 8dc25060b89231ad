"""The air-movement cell's rules: flights, convoys, rotation plans and the strength they add up to.

Every figure is computed from the movement records at the moment asked, never stored. Logged
flights are facts and are checked only for what cannot be (an aircraft over its capacity, more
people leaving than are there); planned flights and rotation plans must also keep strength
within the mandate's ceilings and above the operations centre's minimum throughout, counting
people in the air on the cautious side (:mod:`peacewatch.airlift.figures`).
"""

from __future__ import annotations

import csv
import io
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from threading import Lock
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from peacewatch.airlift.aircraft import load_problem
from peacewatch.airlift.figures import (
    MEASURES,
    AirliftBook,
    Breach,
    Movement,
    Strength,
    StrengthBook,
    airlift_figures,
    first_breach,
    strength_at,
    strength_series,
)
from peacewatch.airlift.models import (
    Airfield,
    Convoy,
    ConvoyKind,
    Direction,
    Flight,
    FlightStatus,
    RotationPlan,
    StrengthMinimum,
)
from peacewatch.airlift.schemas import (
    AirfieldIn,
    AirliftFigures,
    BreachOut,
    ConvoyIn,
    FlightIn,
    FlightOut,
    FlightUpdate,
    ImportReport,
    MinimumIn,
    PlanCheck,
    RejectedRow,
    RotationPlanIn,
    StrengthAt,
    local_times,
)
from peacewatch.core.calendar import days_between, reporting_day, reporting_day_ends_at
from peacewatch.core.changes import versions
from peacewatch.core.db import as_utc, transaction, utcnow
from peacewatch.core.problems import Conflict, Invalid, NotFound
from peacewatch.core.settings import Settings
from peacewatch.core.tabular import from_spreadsheet, spreadsheet_safe
from peacewatch.core.visibility import Visibility, get_visible, where_visible
from peacewatch.force.models import Unit
from peacewatch.mandate.models import Mandate

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


# --- pure rules -------------------------------------------------------------------------------

def flight_problems(v: dict[str, Any]) -> list[tuple[str, str]]:
    """What makes a flight impossible on its face, as (field, message): order of times, status, capacity."""
    problems = []
    status = v["status"]
    if v["departure"] == v["arrival"]:
        problems.append(("arrival", "is the departure airfield"))
    if v["planned_arrival"] <= v["planned_departure"]:
        problems.append(("planned_arrival", "is not after the planned departure"))
    dep, arr = v.get("actual_departure"), v.get("actual_arrival")
    if dep is not None and arr is not None and arr <= dep:
        problems.append(("actual_arrival", "is not after the actual departure"))
    if status is FlightStatus.landed and (dep is None or arr is None):
        problems.append(("actual_departure" if dep is None else "actual_arrival", "is required for a landed flight"))
    if status in (FlightStatus.airborne, FlightStatus.diverted) and dep is None:
        problems.append(("actual_departure", f"is required for a flight {status.value}"))
    if status in (FlightStatus.planned, FlightStatus.airborne, FlightStatus.cancelled) and arr is not None:
        problems.append(("actual_arrival", f"must be empty for a flight {status.value} (it has not landed)"))
    if status in (FlightStatus.planned, FlightStatus.cancelled) and dep is not None:
        problems.append(("actual_departure", f"must be empty for a flight {status.value}"))
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


def describe_breach(breach: Breach, ctx: Context) -> BreachOut:
    what = MEASURE_NAMES[breach.measure]
    limit = f"over the ceiling of {breach.limit:,}" if breach.above else f"below the minimum of {breach.limit:,}"
    message = (f"{what} would reach {breach.value:,} at {ctx.local(breach.at)} ({breach.at:%Y-%m-%d %H:%M} UTC), "
               f"{limit}")
    return BreachOut(at=breach.at, local_time=ctx.local(breach.at), measure=breach.measure, value=breach.value,
                     limit=breach.limit, above=breach.above, message=message)


# --- the records as movements -------------------------------------------------------------------

FLIGHT_COLUMNS = (Flight.id, Flight.status, Flight.direction, Flight.aircraft_type, Flight.planned_departure,
                  Flight.planned_arrival, Flight.actual_departure, Flight.actual_arrival, Flight.personnel,
                  Flight.armoured, Flight.vehicles, Flight.tonnes)
CONVOY_COLUMNS = (Convoy.kind, Convoy.direction, Convoy.departed_at, Convoy.arrived_at, Convoy.personnel,
                  Convoy.armoured, Convoy.vehicles, Convoy.tonnes)


@dataclass
class Ledger:
    """Every movement on record, as flown and as planned; kept up to date while an import adds flights."""

    actual: dict[int, Movement] = field(default_factory=dict)
    planned: dict[int, Movement] = field(default_factory=dict)
    road: list[Movement] = field(default_factory=list)
    planning: bool = True  # keep the book as planned too (checks need it; figures count what was flown)
    # strength on the minimum's side of caution, as flown and as planned: what a departure is checked against;
    # made on the first check (figures never need it), then kept up to date by put
    _present: dict[bool, StrengthBook] | None = None

    @classmethod
    def load(cls, session: Session, *, until: datetime | None = None, readable: frozenset[Visibility] | None = None,
             planning: bool = True) -> Ledger:
        """The movements on record; ``readable`` keeps those a reader may count (a public figure counts public records only)."""
        ledger = cls(planning=planning)
        query = select(*FLIGHT_COLUMNS).where(Flight.status.not_in(NOT_COUNTED))
        convoys = select(*CONVOY_COLUMNS)
        if until is not None:
            query = query.where(Flight.actual_departure <= until)
            convoys = convoys.where(Convoy.departed_at <= until)
        query, convoys = where_visible(query, Flight.visibility, readable), where_visible(convoys, Convoy.visibility, readable)
        for row in session.execute(query):
            ledger.put(row.id, row)
        ledger.road = [convoy_movement(c) for c in session.execute(convoys)]
        return ledger

    def _books(self) -> dict[bool, StrengthBook]:
        if self._present is None:
            self._present = {}
            for planning, book in ((False, self.actual), (True, self.planned)):
                present = StrengthBook(towards_ceiling=False)
                for movement in (*book.values(), *self.road):
                    present.add(movement)
                self._present[planning] = present
        return self._present

    def put(self, flight_id: int, flight: Any) -> None:
        for book, planning in ((self.actual, False), (self.planned, True))[:2 if self.planning else 1]:
            movement = flight_movement(flight, planning=planning)
            replaced = book.pop(flight_id, None)
            if replaced is not None and self._present is not None:
                self._present[planning].add(replaced, -1)
            if movement is not None:
                book[flight_id] = movement
                if self._present is not None:
                    self._present[planning].add(movement)

    def strength_before(self, moment: datetime, *, planning: bool, without: int | None = None) -> Strength:
        """Strength certainly in theatre at ``moment`` (the minimum's side of caution), leaving out flight ``without``."""
        found = self._books()[planning].at(moment)
        left_out = (self.planned if planning else self.actual).get(without) if without is not None else None
        if left_out is None:
            return found
        alone = StrengthBook(towards_ceiling=False)
        alone.add(left_out)
        mine = alone.at(moment)
        return Strength(found.personnel - mine.personnel, found.armoured - mine.armoured, found.vehicles - mine.vehicles)

    def movements(self, *, planning: bool, without: int | None = None) -> list[Movement]:
        book = self.planned if planning else self.actual
        return [m for k, m in book.items() if k != without] + self.road


def ceilings(session: Session) -> Strength | None:
    mandate = session.scalar(select(Mandate).order_by(Mandate.id).limit(1))
    if mandate is None:
        return None
    return Strength(mandate.personnel_ceiling, mandate.armoured_vehicle_ceiling, mandate.vehicle_ceiling)


def minimum(session: Session) -> StrengthMinimum | None:
    return session.scalar(select(StrengthMinimum).order_by(StrengthMinimum.id).limit(1))


def _as_strength(row: Any) -> Strength | None:
    return None if row is None else Strength(row.personnel, row.armoured, row.vehicles)


# --- airfields ----------------------------------------------------------------------------------

def list_airfields(session: Session) -> list[Airfield]:
    return list(session.scalars(select(Airfield).order_by(Airfield.code)))


def create_airfield(session: Session, actor: str, data: AirfieldIn) -> Airfield:
    with transaction(session, actor):
        if session.scalar(select(Airfield.id).where(Airfield.code == data.code)) is not None:
            raise Conflict(f"airfield {data.code} is already recorded", field="body.code")
        airfield = Airfield(**data.model_dump())
        session.add(airfield)
    return airfield


def _airfields(session: Session) -> dict[str, Airfield]:
    return {a.code: a for a in session.scalars(select(Airfield))}


# --- flights ------------------------------------------------------------------------------------

@dataclass
class _Checker:
    """Checks flights against the records; one per request or import, so an import reads the tables once."""

    session: Session
    ctx: Context
    airfields: dict[str, Airfield]
    ledger: Ledger
    ceilings: Strength | None
    minimum: Strength
    units: set[int]

    @classmethod
    def of(cls, session: Session, ctx: Context) -> _Checker:
        # Without a minimum set, strength still may not go below nothing.
        floor = _as_strength(minimum(session)) or Strength(0, 0, 0)
        return cls(session, ctx, _airfields(session), Ledger.load(session), ceilings(session), floor,
                   set(session.scalars(select(Unit.id))))

    def check(self, values: dict[str, Any], flight_id: int | None = None) -> None:
        """Refuse a flight that cannot be, or a planned one that would take strength out of its limits."""
        for key in ("planned_departure", "planned_arrival", "actual_departure", "actual_arrival"):
            values[key] = as_utc(values.get(key), field=f"body.{key}")
        for key in ("actual_departure", "actual_arrival"):
            if values[key] is not None and values[key] > utcnow() + self.ctx.clock_skew:
                raise Invalid("is in the future: actual times are logged once they happen", field=f"body.{key}")
        for key in ("departure", "arrival"):
            if values[key] not in self.airfields:
                known = ", ".join(sorted(self.airfields)) or "none yet"
                raise Invalid(f"unknown airfield '{values[key]}'; known: {known}", field=f"body.{key}")
        problems = flight_problems(values)
        if problems:
            name, message = problems[0]
            raise Invalid(message, field=f"body.{name}")
        if values.get("unit_id") is not None and values["unit_id"] not in self.units:
            raise Invalid(f"unit {values['unit_id']} does not exist", field="body.unit_id")
        candidate = _Values(**{k: values[k] for k in _Values.__dataclass_fields__})
        if values["direction"] is Direction.outbound:
            self._check_departure(candidate, flight_id)
        if values["status"] is FlightStatus.planned:
            self.check_limits([candidate], without=flight_id)

    def _check_departure(self, flight: _Values, flight_id: int | None) -> None:
        planning = flight.status is FlightStatus.planned
        moment = flight.planned_departure if planning else flight.actual_departure
        assert moment is not None
        # Those certainly there at take-off: arrivals landed, other departures gone (this one not yet counted).
        present = self.ledger.strength_before(moment - timedelta(microseconds=1), planning=planning, without=flight_id)
        for measure in MEASURES:
            leaving, there = getattr(flight, measure), getattr(present, measure)
            if leaving > there:
                raise Invalid(f"{leaving:,} {MEASURE_NAMES[measure]} would leave at {self.ctx.local(moment)} but only "
                              f"{there:,} are in theatre then", field=f"body.{measure}")

    def breach_with(self, flights: Sequence[_Values], without: int | None = None) -> tuple[Breach | None, Breach | None]:
        """The first breach of the limits with and without ``flights`` added to the planned schedule."""
        if self.ceilings is None:
            return None, None
        base = self.ledger.movements(planning=True, without=without)
        added = [m for m in (flight_movement(f, planning=True) for f in flights) if m is not None]
        # A breach already on record before these flights leave (logged facts) is not theirs to answer for.
        since = min((m.left_at for m in added), default=None)
        return (first_breach([*base, *added], ceilings=self.ceilings, minimum=self.minimum, since=since),
                first_breach(base, ceilings=self.ceilings, minimum=self.minimum, since=since))

    def check_limits(self, flights: Sequence[_Values], without: int | None = None) -> None:
        breach = self.new_breach(flights, without)
        if breach is not None:
            raise Conflict("refused: " + describe_breach(breach, self.ctx).message)

    def new_breach(self, flights: Sequence[_Values], without: int | None = None) -> Breach | None:
        """A breach the flights would cause; one already in the schedule without them is not theirs."""
        after, before = self.breach_with(flights, without)
        return None if after == before else after


@dataclass(frozen=True)
class _Values:
    """The fields of a flight the movement rules read, before it is stored."""

    status: FlightStatus
    direction: Direction
    aircraft_type: str
    planned_departure: datetime
    planned_arrival: datetime
    actual_departure: datetime | None
    actual_arrival: datetime | None
    personnel: int
    armoured: int
    vehicles: int
    tonnes: float


def _recorded_keys(session: Session) -> set[tuple[str, datetime]]:
    """(tail number, planned departure) of every flight on record: what makes an imported row a resend."""
    return {(tail, as_utc(at, field="body.planned_departure")) for tail, at in  # type: ignore[misc]
            session.execute(select(Flight.tail_number, Flight.planned_departure).where(Flight.tail_number != ""))}


def _duplicate(session: Session, values: dict[str, Any], flight_id: int | None = None) -> Flight | None:
    if not values.get("tail_number"):
        return None
    query = select(Flight).where(Flight.tail_number == values["tail_number"],
                                 Flight.planned_departure == values["planned_departure"])
    if flight_id is not None:
        query = query.where(Flight.id != flight_id)
    return session.scalar(query.limit(1))


def _store(session: Session, checker: _Checker, values: dict[str, Any], plan: RotationPlan | None = None,
           *, key: int | None = None) -> Flight:
    """Add the flight and count it in the ledger; flushed at once unless the caller names its ledger ``key``
    (an import: one flush for the whole log, its ids read afterwards)."""
    values = dict(values)
    departure, arrival = checker.airfields[values.pop("departure")], checker.airfields[values.pop("arrival")]
    flight = Flight(**values, departure=departure, arrival=arrival, rotation_plan=plan)
    session.add(flight)
    if key is None:
        session.flush()
        key = flight.id
    checker.ledger.put(key, flight)
    return flight


def create_flight(session: Session, ctx: Context, actor: str, data: FlightIn) -> Flight:
    with transaction(session, actor):
        values = data.model_dump()
        checker = _Checker.of(session, ctx)
        checker.check(values)
        twin = _duplicate(session, values)
        if twin is not None:
            raise Conflict(f"flight {twin.id} ({values['tail_number']}, planned to leave at "
                           f"{ctx.local(values['planned_departure'])}) is already recorded", field="body.tail_number")
        flight = _store(session, checker, values)
    return flight


def update_flight(session: Session, ctx: Context, actor: str, flight_id: int, changes: FlightUpdate) -> Flight:
    with transaction(session, actor):
        flight = get_flight(session, flight_id, None)
        given = changes.model_dump(exclude_unset=True)
        for key in ("aircraft_type", "status", "departure", "arrival", "planned_departure", "planned_arrival",
                    "tail_number", "callsign", "personnel", "armoured", "vehicles", "tonnes", "notes", "visibility"):
            if key in given and given[key] is None:
                raise Invalid(f"{key} may not be null", field=f"body.{key}")
        current = {k: getattr(flight, k) for k in FlightIn.model_fields if k not in ("departure", "arrival")}
        current |= {"departure": flight.departure.code, "arrival": flight.arrival.code}
        try:
            values = FlightIn.model_validate(current | given).model_dump()
        except ValidationError as exc:
            first = exc.errors()[0]
            raise Invalid(first["msg"], field="body." + ".".join(map(str, first["loc"]))) from None
        checker = _Checker.of(session, ctx)
        checker.check(values, flight.id)
        twin = _duplicate(session, values, flight.id)
        if twin is not None:
            raise Conflict(f"flight {twin.id} has the same tail number and planned departure", field="body.tail_number")
        departure, arrival = checker.airfields[values.pop("departure")], checker.airfields[values.pop("arrival")]
        for key, value in values.items():
            setattr(flight, key, value)
        flight.departure, flight.arrival = departure, arrival
    return flight


def get_flight(session: Session, flight_id: int, readable: frozenset[Visibility] | None) -> Flight:
    return get_visible(session, Flight, flight_id, readable, "flight")


def list_flights(
    session: Session, readable: frozenset[Visibility] | None, *, status: FlightStatus | None = None,
    direction: Direction | None = None, since: datetime | None = None, until: datetime | None = None,
    limit: int = 100, offset: int = 0,
) -> list[Flight]:
    """Flights by planned departure, latest first; ``since``/``until`` bound the planned departure."""
    query = select(Flight).order_by(Flight.planned_departure.desc(), Flight.id.desc()).limit(limit).offset(offset)
    query = where_visible(query, Flight.visibility, readable)
    if status is not None:
        query = query.where(Flight.status == status)
    if direction is not None:
        query = query.where(Flight.direction == direction)
    if since is not None:
        query = query.where(Flight.planned_departure >= as_utc(since, field="query.since"))
    if until is not None:
        query = query.where(Flight.planned_departure < as_utc(until, field="query.until"))
    return list(session.scalars(query))


def count_flights(session: Session, readable: frozenset[Visibility] | None) -> int:
    query = select(func.count()).select_from(Flight)
    return int(session.scalar(where_visible(query, Flight.visibility, readable)) or 0)


def flight_out(flight: Flight, ctx: Context) -> FlightOut:
    values = {k: getattr(flight, k) for k in FlightOut.model_fields if k not in ("departure", "arrival", "local_times")}
    return FlightOut.model_validate(values | {
        "departure": flight.departure, "arrival": flight.arrival,
        "local_times": local_times(values, ctx.zone),
    }, from_attributes=True)


# --- the flight log import ---------------------------------------------------------------------

class _Refused(Exception):
    def __init__(self, report: ImportReport):
        self.report = report


def _csv_rows(text: str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    try:
        return _read_csv(text)
    except csv.Error as exc:  # a file that is not CSV at all: one answer for the whole body
        raise Invalid(f"not a readable CSV file: {exc}", field="body") from None


def _read_csv(text: str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))  # any line ending: \n, \r\n or a lone \r
    header = [h.strip() for h in (reader.fieldnames or [])]
    if not header:
        raise Invalid("the file is empty: it needs a header row naming the columns", field="body")
    unknown = [h for h in header if h not in FlightIn.model_fields]
    if unknown:
        raise Invalid(f"unknown column '{unknown[0]}' in the header; known: {', '.join(FlightIn.model_fields)}",
                      field="body")
    reader.fieldnames = header
    rows = []
    for row in reader:
        if len(rows) >= MAX_IMPORT_ROWS:
            raise Invalid(f"the file has more than {MAX_IMPORT_ROWS:,} rows; split it", field="body")
        if None in row:
            rows.append((reader.line_num, {"__extra__": "x"}))
            continue
        rows.append((reader.line_num, {k: from_spreadsheet(v.strip()) for k, v in row.items() if v is not None and v.strip() != ""}))
    return header, rows


def import_flights(
    session: Session, ctx: Context, actor: str, text: str, *, all_or_nothing: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Store the acceptable rows of a flight log in one transaction and report the others with their line.

    A row that repeats a recorded flight (same tail number and planned departure) is counted, not
    stored again, so a log can be imported twice. With ``all_or_nothing`` one bad row stores nothing.
    """
    _, rows = _csv_rows(text)
    report = ImportReport(stored=0, already_recorded=0, rejected=[], stored_ids=[])
    try:
        with transaction(session, actor):
            checker = _Checker.of(session, ctx)
            recorded = _recorded_keys(session)
            stored: list[Flight] = []
            for done, (line, row) in enumerate(rows, start=1):
                _import_row(session, checker, line, row, report, recorded, stored)
                if progress is not None:
                    progress(done, len(rows))
            if all_or_nothing and report.rejected:
                raise _Refused(report)
            session.flush()  # one flush for the log: its flights' ids
            report.stored_ids.extend(flight.id for flight in stored)
    except _Refused:
        return ImportReport(stored=0, already_recorded=report.already_recorded, rejected=report.rejected, stored_ids=[])
    return report


def _import_row(session: Session, checker: _Checker, line: int, row: dict[str, str], report: ImportReport,
                recorded: set[tuple[str, datetime]], stored: list[Flight]) -> None:
    if "__extra__" in row:
        report.rejected.append(RejectedRow(line=line, field="row", message="has more cells than the header has columns"))
        return
    try:
        values = FlightIn.model_validate(row).model_dump()
        checker.check(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        report.rejected.append(RejectedRow(line=line, field=".".join(map(str, first["loc"])) or "row", message=first["msg"]))
        return
    except (Invalid, Conflict) as exc:
        where = exc.errors[0].field.removeprefix("body.") if exc.errors else "row"
        report.rejected.append(RejectedRow(line=line, field=where, message=exc.detail))
        return
    key = (values["tail_number"], values["planned_departure"]) if values.get("tail_number") else None
    if key is not None and key in recorded:
        report.already_recorded += 1
        return
    stored.append(_store(session, checker, values, key=-len(stored) - 1))  # a key of the import's own until flushed
    if key is not None:
        recorded.add(key)
    report.stored += 1


FLIGHT_CSV_COLUMNS = list(FlightIn.model_fields)


def flights_csv(flights: Iterable[Flight]) -> str:
    """Flights in the import's own columns, so an export can be edited and imported again (formulas quoted both ways)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FLIGHT_CSV_COLUMNS)
    for f in flights:
        row = []
        for name in FLIGHT_CSV_COLUMNS:
            value = {"departure": f.departure.code, "arrival": f.arrival.code}.get(name, getattr(f, name, ""))
            value = value.value if hasattr(value, "value") else value
            row.append("" if value is None else value.isoformat() if isinstance(value, datetime) else spreadsheet_safe(value))
        writer.writerow(row)
    return out.getvalue()


# --- rotation plans ------------------------------------------------------------------------------

def _plan_values(checker: _Checker, data: RotationPlanIn) -> list[dict[str, Any]]:
    planned = []
    for number, flight in enumerate(data.flights):
        if flight.status is not FlightStatus.planned:
            raise Invalid("a rotation plan holds planned flights only", field=f"body.flights.{number}.status")
        values = flight.model_dump()
        for key in ("planned_departure", "planned_arrival"):
            values[key] = as_utc(values[key], field=f"body.flights.{number}.{key}")
        for key in ("departure", "arrival"):
            if values[key] not in checker.airfields:
                raise Invalid(f"unknown airfield '{values[key]}'", field=f"body.flights.{number}.{key}")
        problems = flight_problems(values)
        if problems:
            raise Invalid(problems[0][1], field=f"body.flights.{number}.{problems[0][0]}")
        if values.get("unit_id") is not None and values["unit_id"] not in checker.units:
            raise Invalid(f"unit {values['unit_id']} does not exist", field=f"body.flights.{number}.unit_id")
        planned.append(values)
    return planned


def _plan_check(checker: _Checker, planned: list[dict[str, Any]]) -> PlanCheck:
    flights = [_Values(**{k: v[k] for k in _Values.__dataclass_fields__}) for v in planned]
    breach = checker.new_breach(flights)
    movements = [*checker.ledger.movements(planning=True),
                 *(m for m in (flight_movement(f, planning=True) for f in flights) if m is not None)]
    lowest = highest = None
    if flights:
        start = min(f.planned_departure for f in flights)
        end = max(f.planned_arrival for f in flights)
        moments = sorted({start, end, *(m.left_at for m in movements if start <= m.left_at <= end),
                          *(m.arrived_at for m in movements if m.arrived_at is not None and start <= m.arrived_at <= end)})
        low = strength_series(movements, moments, towards_ceiling=False)
        high = strength_series(movements, moments, towards_ceiling=True)
        lowest, highest = min(s.personnel for s in low), max(s.personnel for s in high)
    return PlanCheck(acceptable=breach is None, breach=None if breach is None else describe_breach(breach, checker.ctx),
                     lowest_personnel=lowest, highest_personnel=highest)


def check_plan(session: Session, ctx: Context, data: RotationPlanIn) -> PlanCheck:
    checker = _Checker.of(session, ctx)
    return _plan_check(checker, _plan_values(checker, data))


def create_plan(session: Session, ctx: Context, actor: str, data: RotationPlanIn) -> RotationPlan:
    """Accept a rotation plan and schedule its flights, or refuse it whole with the first breach."""
    with transaction(session, actor):
        checker = _Checker.of(session, ctx)
        planned = _plan_values(checker, data)
        verdict = _plan_check(checker, planned)
        if verdict.breach is not None:
            raise Conflict("rotation plan refused: " + verdict.breach.message)
        plan = RotationPlan(name=data.name, notes=data.notes)
        session.add(plan)
        for values in planned:
            _store(session, checker, values, plan)
    return plan


def list_plans(session: Session, limit: int = 100, offset: int = 0) -> list[RotationPlan]:
    query = select(RotationPlan).options(selectinload(RotationPlan.flights))
    return list(session.scalars(query.order_by(RotationPlan.id.desc()).limit(limit).offset(offset)))


def get_plan(session: Session, plan_id: int) -> RotationPlan:
    plan = session.get(RotationPlan, plan_id)
    if plan is None:
        raise NotFound(f"rotation plan {plan_id} not found")
    return plan


def withdraw_plan(session: Session, actor: str, plan_id: int, reason: str) -> RotationPlan:
    """Cancel the plan's flights that have not left; those already flown stay as they are."""
    with transaction(session, actor):
        plan = get_plan(session, plan_id)
        if plan.withdrawn_at is not None:
            raise Conflict(f"rotation plan {plan_id} was withdrawn at {plan.withdrawn_at:%Y-%m-%d %H:%M} UTC")
        plan.withdrawn_at, plan.withdrawn_reason = utcnow(), reason
        for flight in plan.flights:
            if flight.status is FlightStatus.planned:
                flight.status = FlightStatus.cancelled
    return plan


# --- convoys -------------------------------------------------------------------------------------

def create_convoy(session: Session, ctx: Context, actor: str, data: ConvoyIn) -> Convoy:
    with transaction(session, actor):
        values = data.model_dump()
        for key in ("departed_at", "arrived_at"):
            values[key] = as_utc(values[key], field=f"body.{key}")
            if values[key] is not None and values[key] > utcnow() + ctx.clock_skew:
                raise Invalid("is in the future: convoys are logged as they move", field=f"body.{key}")
        if values["arrived_at"] is not None and values["arrived_at"] <= values["departed_at"]:
            raise Invalid("is not after the departure", field="body.arrived_at")
        if values["escort_unit_id"] is not None and session.get(Unit, values["escort_unit_id"]) is None:
            raise Invalid(f"unit {values['escort_unit_id']} does not exist", field="body.escort_unit_id")
        if data.kind is ConvoyKind.force and data.direction is Direction.outbound:
            present = strength_at(Ledger.load(session).movements(planning=False), values["departed_at"], towards_ceiling=False)
            for measure in MEASURES:
                if values[measure] > getattr(present, measure):
                    raise Invalid(f"{values[measure]:,} {MEASURE_NAMES[measure]} would leave but only "
                                  f"{getattr(present, measure):,} are in theatre then", field=f"body.{measure}")
        convoy = Convoy(**values)
        session.add(convoy)
    return convoy


def arrive_convoy(session: Session, ctx: Context, actor: str, convoy_id: int, arrived_at: datetime) -> Convoy:
    with transaction(session, actor):
        convoy = get_convoy(session, convoy_id, None)
        if convoy.arrived_at is not None:
            raise Conflict(f"convoy {convoy_id} arrived at {convoy.arrived_at:%Y-%m-%d %H:%M} UTC")
        at = ctx.moment(arrived_at, "body.arrived_at")
        if at <= convoy.departed_at:
            raise Invalid("is not after the departure", field="body.arrived_at")
        convoy.arrived_at = at
    return convoy


def get_convoy(session: Session, convoy_id: int, readable: frozenset[Visibility] | None) -> Convoy:
    return get_visible(session, Convoy, convoy_id, readable, "convoy")


def list_convoys(session: Session, readable: frozenset[Visibility] | None, *, kind: ConvoyKind | None = None,
                 limit: int = 100, offset: int = 0) -> list[Convoy]:
    query = select(Convoy).order_by(Convoy.departed_at.desc(), Convoy.id.desc()).limit(limit).offset(offset)
    query = where_visible(query, Convoy.visibility, readable)
    if kind is not None:
        query = query.where(Convoy.kind == kind)
    return list(session.scalars(query))


# --- the minimum and the figures -------------------------------------------------------------------

def set_minimum(session: Session, actor: str, data: MinimumIn) -> StrengthMinimum:
    with transaction(session, actor):
        row = minimum(session)
        if row is None:
            row = StrengthMinimum()
            session.add(row)
        for key, value in data.model_dump().items():
            setattr(row, key, value)
    return row


def strength(session: Session, ctx: Context, at: datetime | None, readable: frozenset[Visibility] | None = None) -> StrengthAt:
    moment = ctx.moment(at)
    movements = Ledger.load(session, until=moment, readable=readable, planning=False).movements(planning=False)
    return _strength_at(session, movements, moment, internal=readable is None)


def _strength_at(session: Session, movements: list[Movement], moment: datetime, *, internal: bool) -> StrengthAt:
    """Strength at ``moment``; the minimum is the operations centre's own figure, shown to the mission's staff only."""
    return _strength(session, moment, strength_at(movements, moment, towards_ceiling=False),
                     strength_at(movements, moment, towards_ceiling=True), internal=internal)


def _strength(session: Session, moment: datetime, in_theatre: Strength, towards_ceiling: Strength, *, internal: bool) -> StrengthAt:
    limits, floor = ceilings(session), _as_strength(minimum(session)) if internal else None
    return StrengthAt(at=moment, in_theatre=vars(in_theatre), towards_ceiling=vars(towards_ceiling),
                      ceilings=None if limits is None else vars(limits), minimum=None if floor is None else vars(floor))


_BOOKS: OrderedDict[tuple[Any, ...], AirliftBook] = OrderedDict()
_BOOKS_LOCK = Lock()


def _book(session: Session, ctx: Context, readable: frozenset[Visibility] | None) -> AirliftBook:
    """The movements ``readable`` admits, arranged for figures at any moment; kept until a flight or a convoy
    changes (their versions in the database, so a change through any process counts)."""
    key = (str(session.get_bind().url), readable, ctx.zone, ctx.day_end, versions(session, "flights", "convoys"))
    with _BOOKS_LOCK:
        book = _BOOKS.get(key)
        if book is not None:
            _BOOKS.move_to_end(key)
            return book
    book = AirliftBook(Ledger.load(session, readable=readable, planning=False).movements(planning=False), ctx.day)
    with _BOOKS_LOCK:
        _BOOKS[key] = book
        while len(_BOOKS) > 8:
            _BOOKS.popitem(last=False)
    return book


def figures(session: Session, ctx: Context, at: datetime | None, readable: frozenset[Visibility] | None = None) -> AirliftFigures:
    """The airlift's figures and the build-up at a moment, from the movement records ``readable`` admits.

    Read from the book of every movement (a few binary searches); summed from the movements left by the
    moment only when a record lands before it leaves, which the book cannot place."""
    moment = ctx.moment(at)
    book = _book(session, ctx, readable)
    if not book.regular:
        return _figures_summed(session, ctx, moment, readable)
    counted = book.figures(moment)
    by_day = {d.pop("day"): d for d in counted.pop("by_day")}
    days = [] if book.first_left is None or book.first_left > moment else days_between(ctx.day(book.first_left), ctx.day(moment))
    ends = [min(reporting_day_ends_at(d, ctx.zone, ctx.day_end), moment) for d in days]
    counted["by_day"] = [{"day": d, **by_day.get(d, _EMPTY_DAY), "strength": vars(s)}
                         for d, s in zip(days, book.strength_series(ends, towards_ceiling=False))]
    return AirliftFigures(**counted, local_time=ctx.local(moment), strength=_strength(
        session, moment, book.strength_at(moment, towards_ceiling=False), book.strength_at(moment, towards_ceiling=True),
        internal=readable is None))


_EMPTY_DAY = {"flights": 0, "personnel": 0, "vehicles": 0, "tonnes": 0.0, "convoys": 0, "convoy_personnel": 0,
              "returnees": 0, "convoy_tonnes": 0.0}


def _figures_summed(session: Session, ctx: Context, moment: datetime, readable: frozenset[Visibility] | None) -> AirliftFigures:
    movements = Ledger.load(session, until=moment, readable=readable, planning=False).movements(planning=False)
    counted = airlift_figures(movements, moment, ctx.day)
    by_day = {d.pop("day"): d for d in counted.pop("by_day")}
    days = _days(ctx, movements, moment)
    ends = [min(reporting_day_ends_at(d, ctx.zone, ctx.day_end), moment) for d in days]
    build_up = strength_series(movements, ends, towards_ceiling=False)
    counted["by_day"] = [{"day": d, **by_day.get(d, _EMPTY_DAY), "strength": vars(s)} for d, s in zip(days, build_up)]
    return AirliftFigures(**counted, local_time=ctx.local(moment),
                          strength=_strength_at(session, movements, moment, internal=readable is None))


def _days(ctx: Context, movements: Sequence[Movement], moment: datetime) -> list[date]:
    starts = [m.left_at for m in movements if m.left_at <= moment]
    if not starts:
        return []
    first, last = ctx.day(min(starts)), ctx.day(moment)
    return days_between(first, last)


FIGURES_CSV_COLUMNS = ("day", "flights", "personnel", "vehicles", "tonnes", "convoys", "convoy_personnel", "returnees",
                       "convoy_tonnes", "strength_personnel", "strength_armoured", "strength_vehicles")


def figures_csv(result: AirliftFigures) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIGURES_CSV_COLUMNS)
    for d in result.by_day:
        writer.writerow([d.day.isoformat(), d.flights, d.personnel, d.vehicles, d.tonnes, d.convoys, d.convoy_personnel,
                         d.returnees, d.convoy_tonnes, d.strength.personnel, d.strength.armoured, d.strength.vehicles])
    return out.getvalue()
