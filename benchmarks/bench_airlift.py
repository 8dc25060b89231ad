"""The airlift's hot paths: importing a flight log, the figures at a moment, checking a rotation plan.

Run by hand, not in the test suite:
    python benchmarks/bench_airlift.py [--days 365] [--per-day 40] [--moments 365]

1. Writes a synthetic log of ``days`` x ``per-day`` landed flights (inbound and outbound in
   turn, so strength stays within the ceilings) and imports it through the service into a scratch
   SQLite database with the reference scenario loaded: every row checked (airfields, capacity,
   departures against strength in theatre) and stored in one transaction. Prints rows/s.
2. Computes the figures (counts, per type and day, the build-up per day, strength) at the end of
   each of ``moments`` days, as a year of daily bulletins would. Prints figures/s.
3. Checks a two-flight plan (a unit flown in, then out) against the whole schedule, 20 times. Prints the time per check.
"""

from __future__ import annotations

import argparse
import csv
import io
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from peacewatch.airlift import airfield_register, build_up, flight_log_csv, flight_rules, rotation_plans
from peacewatch.airlift.models import Flight
from peacewatch.airlift.schemas import RotationPlanIn
from peacewatch.app import create_app
from peacewatch.core.migrate import upgrade
from peacewatch.core.settings import Settings
from peacewatch.core.visibility import STAFF
from peacewatch.scenario import airlift_demo, nk2020

START = datetime(2020, 11, 10, 6, tzinfo=UTC)


def flight_log(days: int, per_day: int) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["aircraft_type", "tail_number", "direction", "status", "departure", "arrival", "planned_departure",
                     "planned_arrival", "actual_departure", "actual_arrival", "personnel", "tonnes"])
    step = timedelta(days=1) / per_day
    for i in range(days * per_day):
        inbound = i % 2 == 0
        left = START + step * i + (timedelta(0) if inbound else timedelta(hours=5))  # out once the pair's inbound landed
        ends = ("UWLW", "UDYE") if inbound else ("UDYE", "UWLW")
        times = [left.isoformat(), (left + timedelta(hours=4)).isoformat()] * 2
        writer.writerow(["Il-76MD", f"RF-{i:06d}", "inbound" if inbound else "outbound", "landed", *ends, *times, 100, 20])
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--per-day", type=int, default=40)
    parser.add_argument("--moments", type=int, default=365)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'bench.db'}"
        upgrade(url)
        settings = Settings(data_dir=Path(scratch), database_url=url, secret_key="x" * 40)
        app = create_app(settings)
        ctx = flight_rules.Context.of(settings)
        with app.state.sessionmaker() as session:
            nk2020.load(session)
            for airfield in airlift_demo.AIRFIELDS:
                airfield_register.create_airfield(session, "bench", airfield)
            log = flight_log(args.days, args.per_day)
            began = time.perf_counter()
            report = flight_log_csv.import_flights(session, ctx, "bench", log)
            took = time.perf_counter() - began
            assert not report.rejected, report.rejected[:3]
            assert report.stored == args.days * args.per_day == len(set(report.stored_ids))
            assert session.scalar(select(func.count()).select_from(Flight).where(Flight.id.in_(report.stored_ids))) == report.stored
            print(f"import: {report.stored:,} flights checked and stored in {took:.2f} s ({report.stored / took:,.0f} rows/s)")

            moments = [START + timedelta(days=d + 1) for d in range(args.moments)]
            step = timedelta(days=1) / args.per_day
            began = time.perf_counter()
            each = []
            for moment in moments:
                one = time.perf_counter()
                figures = build_up.figures(session, ctx, moment, STAFF)
                each.append(time.perf_counter() - one)
                # what the log says had landed by then: every flight's landing is 4 h after its take-off
                landed = sum(1 for i in range(args.days * args.per_day)
                             if START + step * i + (timedelta(0) if i % 2 == 0 else timedelta(hours=5)) + timedelta(hours=4) <= moment)
                assert figures.flights == landed and figures.personnel_delivered == 100 * figures.inbound_flights, (moment, figures.flights, landed)
            took = time.perf_counter() - began
            print(f"figures: {len(moments)} moments in {took:.2f} s ({len(moments) / took:,.1f} figures/s; the first, which "
                  f"arranges the movements, {each[0] * 1000:.0f} ms; then median {statistics.median(each[1:]) * 1000:.1f} ms, "
                  f"the last {each[-1] * 1000:.1f} ms; it counts {figures.flights:,} flights over {len(figures.by_day)} days)")

            swap = START + timedelta(days=args.days + 5)
            plan = RotationPlanIn.model_validate({"name": "bench", "flights": [
                {"aircraft_type": "Il-76MD", "direction": "inbound", "departure": "UWLW", "arrival": "UDYE",
                 "planned_departure": swap.isoformat(), "planned_arrival": (swap + timedelta(hours=4)).isoformat(), "personnel": 100},
                {"aircraft_type": "Il-76MD", "direction": "outbound", "departure": "UDYE", "arrival": "UWLW",
                 "planned_departure": (swap + timedelta(hours=4)).isoformat(),
                 "planned_arrival": (swap + timedelta(hours=8)).isoformat(), "personnel": 100},
            ]})
            began = time.perf_counter()
            for _ in range(20):
                verdict = rotation_plans.check_plan(session, ctx, plan)
            took = (time.perf_counter() - began) / 20
            print(f"rotation plan check: {took * 1000:.0f} ms against {report.stored:,} flights (acceptable: {verdict.acceptable})")
        app.state.engine.dispose()


if __name__ == "__main__":
    main()
