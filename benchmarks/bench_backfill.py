"""A whole mission day backfilled: 400 trackers, a fix every 5 s for 24 h (6.9 M positions).

Run by hand:
    python benchmarks/bench_backfill.py [--trackers 400] [--hours 24] [--database-url postgresql://...]

With --database-url the day is stored in that PostgreSQL database (its public schema is dropped and
made again) right after SQLite, side by side. Each run checks that every row was stored once.

Writes the day as CSV (not timed), then times reading it, checking every row, geofencing, H3
binning, judging the alert rules and storing it, as `peacewatch backfill FILE` does.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
from pyarrow import csv

sys.path.insert(0, str(Path(__file__).parent))
from bench_ingest import START_MS, check, durability, prepare

from peacewatch.app import create_app
from peacewatch.live.backfill import backfill, read_csv
from peacewatch.live.ingest import Ingest


def write_day(path: Path, trackers: int, hours: float) -> int:
    steps = int(hours * 3600 / 5)
    n = np.tile(np.arange(trackers), steps)
    k = np.repeat(np.arange(steps), trackers)
    angle = (n * 0.7 + k * 0.01) % (2 * np.pi)
    south = n % 2 == 1
    lat = np.where(south, 39.78, 40.1) + np.where(south, 0.06, 0.08) * np.sin(angle)
    lon = np.where(south, 46.9, 46.7) + 0.1 * np.cos(angle)
    table = pa.table({
        "tracker": pa.array([f"BT-{i:04d}" for i in range(trackers)]).take(pa.array(n)),
        "t": pa.array(START_MS + k * 5000, type=pa.timestamp("ms", tz="UTC")),
        "lat": lat, "lon": lon, "speed": np.full(len(n), 9.0),
    })
    csv.write_csv(table, path)
    return len(n)


def run(path: Path, trackers: int, rows: int, database_url: str | None) -> None:
    scratch = Path(tempfile.mkdtemp(prefix="pw-backfill-"))
    settings = prepare(scratch, trackers, database_url)
    label = f"PostgreSQL ({durability(database_url)})" if database_url else "SQLite (WAL, synchronous=FULL)"
    app = create_app(settings)
    started = time.perf_counter()
    columns = read_csv(path).columns
    read = time.perf_counter() - started
    with app.state.sessionmaker() as session:
        report = backfill(session, Ingest(8, settings.alert_rules()), "bench", columns)
    elapsed = time.perf_counter() - started
    app.state.engine.dispose()
    check(settings, report.stored, rows)
    print(f"{label}: read+check {read:.1f} s; whole backfill {elapsed:.1f} s = {report.stored / elapsed:,.0f} positions/s "
          f"({report.stored:,} stored, {report.alerts} alerts)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trackers", type=int, default=400)
    parser.add_argument("--hours", type=float, default=24)
    parser.add_argument("--database-url", help="Also store the day in this PostgreSQL database (dropped and made again)")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="pw-backfill-"))
    path = scratch / "day.csv"
    rows = write_day(path, args.trackers, args.hours)
    print(f"{rows:,} positions, {path.stat().st_size / 1e6:.0f} MB of CSV")
    if not args.skip_sqlite:
        run(path, args.trackers, rows, None)
    if args.database_url:
        run(path, args.trackers, rows, args.database_url)


if __name__ == "__main__":
    main()
