"""The airlift, the convoys and the claims of the reference scenario.

The published figures are met by the flight records, not stored: 95 flights landed by 14 November
2020 at 12:00 Moscow time, 22 of them in the past 24 hours; 118 and 23 a day later; 250 by 20
November, when the deployment was reported complete with the force at its ceilings. Flights land at
Yerevan's Erebuni airfield, the force's air point of entry, from Ulyanovsk Vostochny. Tail numbers,
loads, times within each period and the convoys are synthetic.

Everything goes through the services as the demo's air-movement cell, operations centre, press
office and administrator, so the demo obeys the rules real work does: the December rotation is a
rotation plan checked against the ceilings and the minimum, then flown.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from peacewatch.airlift import airfield_register, build_up, convoy_records, flight_log_csv, flight_records, flight_rules, rotation_plans
from peacewatch.airlift.models import Airfield, ConvoyKind, Direction, FlightStatus, RotationPlan
from peacewatch.airlift.schemas import AirfieldIn, ConvoyIn, FlightIn, FlightUpdate, MinimumIn, RotationPlanIn
from peacewatch.claims import service as claims
from peacewatch.claims.models import Stance, Statement, Subject
from peacewatch.claims.schemas import StatementIn
from peacewatch.core.settings import Settings
from peacewatch.core.tabular import table_csv
from peacewatch.force.models import Unit
from peacewatch.mandate import service as mandate
from peacewatch.mandate.models import Arrangement
from peacewatch.mandate.schemas import ArrangementIn
from peacewatch.scenario.nk2020 import MANDATE

MOSCOW = ZoneInfo("Europe/Moscow")
AIR, OPERATIONS, PRESS, ADMIN = "air", "ops", "press", "admin"
AIRFIELDS = [
    AirfieldIn(code="UWLW", name="Ulyanovsk Vostochny", lat=54.401, lon=48.803),
    AirfieldIn(code="UDYE", name="Yerevan Erebuni", lat=40.123, lon=44.465),
]
ORIGIN, ENTRY = "UWLW", "UDYE"
FLIGHT_TIME = timedelta(hours=4)


def _msk(day: int, hour: int) -> datetime:
    return datetime(2020, 11, day, hour, tzinfo=MOSCOW).astimezone(UTC)


# (after, up to and including, flights landed): the periods the published figures close.
PERIODS = [
    (_msk(10, 6), _msk(13, 12), 73),
    (_msk(13, 12), _msk(14, 12), 22),  # 95 by 14 November, 22 in the past 24 hours
    (_msk(14, 12), _msk(15, 12), 23),  # 118 by 15 November, 23 in the past 24 hours
    (_msk(15, 12), _msk(20, 12), 132),  # 250 by 20 November
]
TOTALS = {"personnel": MANDATE["personnel_ceiling"], "armoured": MANDATE["armoured_vehicle_ceiling"],
          "vehicles": MANDATE["vehicle_ceiling"]}
TONNES = {"armoured": 15.4, "vehicles": 8.0, "stores": 6.0}  # a BTR-82A, a truck, a flight's stores


def _share(total: int, parts: int, index: int) -> int:
    return total * (index + 1) // parts - total * index // parts


def _landing_windows(after: datetime, until: datetime) -> list[tuple[datetime, datetime]]:
    """The parts of (after, until] between 18:30 and 12:00 Moscow time: no landings in the afternoon, so the
    figures at the noon briefing and at the end of the mission's reporting day (19:30 in Baku) agree."""
    windows = []
    day = after.astimezone(MOSCOW).date() - timedelta(days=1)
    while (opens := datetime.combine(day, time(18, 30), MOSCOW).astimezone(UTC)) < until:
        closes = datetime.combine(day + timedelta(days=1), time(12), MOSCOW).astimezone(UTC)
        if min(closes, until) > max(opens, after):
            windows.append((max(opens, after), min(closes, until)))
        day += timedelta(days=1)
    return windows


def _spread(after: datetime, until: datetime, count: int) -> list[datetime]:
    """``count`` landing times evenly spread over the landing windows of (after, until]."""
    windows = _landing_windows(after, until)
    total = sum((b - a for a, b in windows), timedelta())
    times = []
    for i in range(count):
        offset = total * (i + 0.5) / count
        for a, b in windows:
            if offset < b - a:
                times.append((a + offset).replace(second=0, microsecond=0))
                break
            offset -= b - a
    return times


def flight_log() -> str:
    """The build-up's flight log as the CSV the import takes; the flights were announced, so they are public."""
    arrivals = []
    for after, until, count in PERIODS:
        arrivals += _spread(after, until, count)
    rows = []
    for i, landed in enumerate(arrivals):
        heavy = i % 25 == 12
        load = {k: _share(v, len(arrivals), i) for k, v in TOTALS.items()}
        tonnes = round(load["armoured"] * TONNES["armoured"] + load["vehicles"] * TONNES["vehicles"] + TONNES["stores"], 1)
        tail = f"RF-82{i % 3:03d}" if heavy else f"RF-76{900 + i % 24}"
        late = timedelta(minutes=(i * 7) % 23)
        rows.append(["An-124" if heavy else "Il-76MD", tail, "inbound", "landed", ORIGIN, ENTRY,
                     (landed - FLIGHT_TIME - late).isoformat(), (landed - late).isoformat(),
                     (landed - FLIGHT_TIME).isoformat(), landed.isoformat(), load["personnel"], load["armoured"],
                     load["vehicles"], tonnes, "public"])
    return table_csv(["aircraft_type", "tail_number", "direction", "status", "departure", "arrival", "planned_departure",
                      "planned_arrival", "actual_departure", "actual_arrival", "personnel", "armoured", "vehicles", "tonnes",
                      "visibility"], rows)


# (day, kind, route, people, tonnes, vehicles): humanitarian cargo and returning civilians, synthetic figures
CONVOYS = [
    (14, ConvoyKind.returnees, "Goris - Lachin - Stepanakert", 262, 0.0, 9),
    (15, ConvoyKind.humanitarian, "Goris - Lachin - Stepanakert", 0, 36.5, 12),
    (15, ConvoyKind.returnees, "Goris - Lachin - Stepanakert", 410, 0.0, 14),
    (16, ConvoyKind.humanitarian, "Goris - Lachin - Stepanakert", 0, 52.0, 16),
    (16, ConvoyKind.returnees, "Goris - Lachin - Stepanakert", 655, 0.0, 20),
    (17, ConvoyKind.returnees, "Goris - Lachin - Stepanakert", 874, 0.0, 26),
    (18, ConvoyKind.humanitarian, "Goris - Lachin - Stepanakert", 0, 41.2, 14),
    (18, ConvoyKind.returnees, "Goris - Lachin - Stepanakert", 1021, 0.0, 31),
    (19, ConvoyKind.returnees, "Goris - Lachin - Stepanakert", 1130, 0.0, 33),
    (20, ConvoyKind.humanitarian, "Goris - Lachin - Stepanakert", 0, 60.0, 18),
    (20, ConvoyKind.returnees, "Goris - Lachin - Stepanakert", 1247, 0.0, 36),
]

ARRANGEMENT = ArrangementIn(
    name="Joint Russian-Turkish Ceasefire Monitoring Centre",
    states=["RUS", "TUR"],
    starts_on=date(2021, 1, 30),
    place="Agdam district", lat=40.05, lon=47.0,
    staff_per_state=60,
    means="remote monitoring of the ceasefire by drones",
    troops_in_areas=False,
    source="Reported opening of the joint centre, 30 January 2021 (see docs/scenario.md)",
    notes="Outside the areas of responsibility; no Turkish troops deploy in them.",
)
TURKISH_CLAIM = StatementIn(
    speaker="Ministry of National Defence", office="Ministry of National Defence of Turkey", state="TUR",
    stated_on=date(2020, 11, 14), source="press reports of 14 November 2020",
    link="docs/scenario.md#claims",
    quote="Turkish troops will take part in monitoring the ceasefire in the region.", paraphrase=True,
    subject=Subject.participation, subject_state="TUR", stance=Stance.claims,
)
KREMLIN_DENIAL = dict(
    speaker="Kremlin spokesman", office="Press Secretary of the President of Russia", state="RUS",
    stated_on=date(2020, 11, 14), source="press reports of 14 November 2020", link="docs/scenario.md#claims",
    quote="No agreement provides for Turkish troops to deploy; only Russian peacekeepers are deployed.", paraphrase=True,
    subject=Subject.participation, subject_state="TUR", stance=Stance.denies,
)


def load(session: Session, settings: Settings) -> dict[str, int]:
    """Load once: nothing is added when any airfield is already recorded."""
    if session.scalar(select(Airfield.id).limit(1)) is not None:
        return {}
    ctx = flight_rules.Context.of(settings)
    for airfield in AIRFIELDS:
        airfield_register.create_airfield(session, AIR, airfield)
    report = flight_log_csv.import_flights(session, ctx, AIR, flight_log())
    if report.rejected:
        raise RuntimeError(f"the demo flight log was refused: {report.rejected[0]}")
    for day, kind, route, people, tonnes, vehicles in CONVOYS:
        left = datetime(2020, 11, day, 7, 0, tzinfo=settings.zone) + timedelta(minutes=40 * (kind is ConvoyKind.returnees))
        convoy_records.create_convoy(session, ctx, OPERATIONS, ConvoyIn(
            kind=kind, direction=Direction.inbound, route=route, departed_at=left, arrived_at=left + timedelta(hours=5),
            personnel=people, tonnes=tonnes, vehicles=vehicles, escort_unit_id=_unit(session, "Military Police Company South"),
            visibility="public",
        ))
    build_up.set_minimum(session, OPERATIONS, MinimumIn(personnel=1800, armoured=80, vehicles=340,
                                                       reason="Posts manned and two patrols a day per area"))
    plan = _rotation(session, ctx)
    _claims(session)
    return {"flights": report.stored, "convoys": len(CONVOYS), "rotation_flights": len(plan.flights)}


def _unit(session: Session, name: str) -> int | None:
    return session.scalar(select(Unit.id).where(Unit.name == name))


def _rotation(session: Session, ctx: flight_rules.Context) -> RotationPlan:
    """December's rotation of the North military police company: the old company lands home before the new one takes off."""
    unit = _unit(session, "Military Police Company North")
    leaves = datetime(2020, 12, 10, 6, 0, tzinfo=UTC)
    common = dict(aircraft_type="Il-76MD", personnel=105, armoured=0, vehicles=0, tonnes=4.0, unit_id=unit)
    flights = [
        FlightIn(tail_number="RF-76901", direction=Direction.outbound, departure=ENTRY, arrival=ORIGIN,
                 planned_departure=leaves, planned_arrival=leaves + FLIGHT_TIME, **common),
        FlightIn(tail_number="RF-76902", direction=Direction.inbound, departure=ORIGIN, arrival=ENTRY,
                 planned_departure=leaves + FLIGHT_TIME + timedelta(hours=1),
                 planned_arrival=leaves + 2 * FLIGHT_TIME + timedelta(hours=1), **common),
    ]
    plan = rotation_plans.create_plan(session, ctx, AIR, RotationPlanIn(
        name="Rotation of Military Police Company North, December 2020", flights=flights,
        notes="One for one: 105 leave, 105 arrive once the first aircraft has landed in Ulyanovsk.",
    ))
    for flight in list(plan.flights):
        flight_records.update_flight(session, ctx, AIR, flight.id, FlightUpdate(
            status=FlightStatus.landed, actual_departure=flight.planned_departure, actual_arrival=flight.planned_arrival,
        ))
    return plan


def _claims(session: Session) -> None:
    if session.scalar(select(Arrangement.id).where(Arrangement.name == ARRANGEMENT.name)) is None:
        mandate.create_arrangement(session, ADMIN, ARRANGEMENT)
    if session.scalar(select(Statement.id).limit(1)) is not None:
        return
    claim = claims.create_statement(session, PRESS, TURKISH_CLAIM)
    claims.create_statement(session, PRESS, StatementIn(**KREMLIN_DENIAL, responds_to_id=claim.id))
