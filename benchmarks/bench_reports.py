"""A year of daily reports for the demo mission: the situation report and the public bulletin, every format.

Run by hand, not in the test suite:
    python benchmarks/bench_reports.py [--days 365] [--busy] [--sample 20]

1. Loads the whole demo ('peacewatch demo' without serving) into a scratch SQLite database; with
   ``--busy`` adds a year of synthetic daily activity on top (flights, patrols, violations, returns,
   clearances), so that the later days are not empty.
2. Writes ``days`` daily reports from 10 November 2020 as 'peacewatch report ... --each-day' does
   (records read once, each day counted from memory), in Markdown (the default) and JSON, for both
   kinds. Prints reports/s and the time for the whole year.
3. Writes ``sample`` days in HTML and PDF (with the maps and charts) and prints the time per report,
   and what a year would take at that rate.
4. With ``--jobs N``: writes the whole year of HTML bulletins to files as 'peacewatch report bulletin
   --each-day -j N' does, N processes sharing the days.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

from scratch import demo_app
from shapely.geometry import LineString, box
from sqlalchemy import select
from sqlalchemy.orm import Session

from peacewatch.airlift.models import Airfield, Direction, Flight, FlightStatus
from peacewatch.core.visibility import Visibility
from peacewatch.demining.models import Clearance
from peacewatch.force.models import Unit, UnitType
from peacewatch.geography.models import Zone, ZoneKind
from peacewatch.incidents.models import (
    Incident,
    IncidentEvent,
    IncidentStatus,
    IncidentType,
    PlacePrecision,
    SourceKind,
    TimePrecision,
)
from peacewatch.patrols.models import Patrol, PatrolStatus
from peacewatch.publication.reports import Format, Kind, Options, each_day, write_each_day
from peacewatch.returns.models import CivilianReturn

START = date(2020, 11, 10)


def busy_year(s: Session, days: int) -> int:
    """A year of ordinary days after the demo: two flights, four patrols, a few violations, returns and clearances a day."""
    rng = random.Random(2021)
    areas = list(s.scalars(select(Zone).where(Zone.kind == ZoneKind.area_of_responsibility)))
    districts = list(s.scalars(select(Zone.id).where(Zone.kind == ZoneKind.district)))
    police = s.scalar(select(Unit.id).where(Unit.unit_type == UnitType.military_police))
    engineers = s.scalar(select(Unit.id).where(Unit.unit_type == UnitType.engineers))
    fields = {a.code: a.id for a in s.scalars(select(Airfield))}
    s.info["actor"] = "bench"
    added = 0
    for i in range(12, days):
        day = datetime.combine(START + timedelta(days=i), datetime.min.time(), tzinfo=UTC)
        for k in range(2):  # rotations in and out, a company at a time
            left = day + timedelta(hours=1 + 6 * k)
            inbound = k == 0
            s.add(Flight(aircraft_type="Il-76MD", tail_number=f"RF-B{i:03d}{k}", direction=Direction.inbound if inbound else Direction.outbound,
                         status=FlightStatus.landed, departure_id=fields["UWLW" if inbound else "UDYE"],
                         arrival_id=fields["UDYE" if inbound else "UWLW"], planned_departure=left, planned_arrival=left + timedelta(hours=4),
                         actual_departure=left, actual_arrival=left + timedelta(hours=4), personnel=60, tonnes=8.0,
                         visibility=Visibility.public))
        for area in areas:
            for k in range(2):
                start = day + timedelta(hours=4 + 5 * k)
                middle = area.geometry.centroid
                route = LineString([(middle.x - 0.05, middle.y), (middle.x + 0.05, middle.y)])
                s.add(Patrol(name=f"Bench {area.code} {i}-{k}", unit_id=police, zone_id=area.id, route=route, planned_start=start,
                             planned_end=start + timedelta(hours=4), status=PatrolStatus.completed, started_at=start,
                             ended_at=start + timedelta(hours=4), visibility=Visibility.public if k == 0 else Visibility.internal))
        for _ in range(rng.randint(0, 4)):
            at = day + timedelta(hours=rng.randint(0, 23))
            event = IncidentEvent()
            s.add(event)
            s.flush()
            area = rng.choice(areas)
            point = area.geometry.representative_point()
            s.add(Incident(event_id=event.id, reported_by="bench", type=IncidentType.ceasefire_violation,
                           time_precision=TimePrecision.exact, place_precision=PlacePrecision.exact, status=rng.choice(list(IncidentStatus)),
                           source=SourceKind.observation_post, started_at=at, ended_at=at + timedelta(minutes=10), lat=point.y,
                           lon=point.x, zone_id=area.id, district_id=rng.choice(districts), event_count=rng.randint(1, 5),
                           alleged_actors=["unknown"], visibility=rng.choice([Visibility.public, Visibility.internal])))
        s.add(CivilianReturn(returned_on=day.date(), route="Goris - Lachin - Stepanakert", people=rng.randint(50, 900),
                             visibility=Visibility.public))
        if engineers is not None:
            lon, lat = 46.7 + rng.random() * 0.3, 39.7 + rng.random() * 0.3
            s.add(Clearance(unit_id=engineers, cleared_on=day.date(), place="Bench field", geometry=box(lon, lat, lon + 0.002, lat + 0.002),
                            hectares=4.0, road_km=1.0, buildings=2, explosive_objects=rng.randint(0, 40), visibility=Visibility.public))
        added += 1
    s.commit()
    return added


def timed(label: str, count: int, action: Callable[[], Any]) -> float:
    """Time ``action``, which returns the reports it made (or how many files it wrote): one per day, none empty."""
    began = time.perf_counter()
    made = action()
    seconds = time.perf_counter() - began
    written = made if isinstance(made, int) else len([r for r in made if r])
    if written != count:
        sys.exit(f"FAILED: {label}: {written} reports made of {count}")
    print(f"{label:<48} {count:>4} reports in {seconds:6.1f} s  ({count / seconds:6.1f} reports/s)")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--busy", action="store_true", help="add a year of synthetic daily activity")
    parser.add_argument("--sample", type=int, default=20, help="days rendered in HTML and PDF")
    parser.add_argument("--jobs", type=int, default=0, help="also write a year of HTML bulletins with this many processes")
    args = parser.parse_args()
    with demo_app(say=True) as (app, settings, scratch):
        if args.busy:
            with app.state.sessionmaker() as session:
                print(f"busy year: {busy_year(session, args.days)} days of synthetic activity added")
        last = START + timedelta(days=args.days - 1)
        with app.state.sessionmaker() as session:
            for fmt in (Format.md, Format.json):
                for kind in (Kind.bulletin, Kind.sitrep):
                    options = Options(kind, fmt)
                    timed(f"{kind.value} {fmt.value}, {START} to {last}", args.days,
                          partial(lambda o: [r for _, r in each_day(session, settings, START, last, o)], options))
            sample_end = START + timedelta(days=args.sample - 1)
            for fmt in (Format.html, Format.pdf):
                for kind in (Kind.bulletin, Kind.sitrep):
                    options = Options(kind, fmt)
                    seconds = timed(f"{kind.value} {fmt.value}, first {args.sample} days", args.sample,
                                    partial(lambda o: [r for _, r in each_day(session, settings, START, sample_end, o)], options))
                    print(f"{'':<48} a year at this rate: {seconds / args.sample * args.days:6.0f} s")
            if args.jobs:
                folder = scratch / "reports"
                folder.mkdir()
                options = Options(Kind.bulletin, Format.html)
                timed(f"bulletin html to files, {args.jobs} processes", args.days,
                      lambda: write_each_day(session, settings, START, last, options, str(folder), args.jobs))


if __name__ == "__main__":
    main()
