"""Retention while positions keep arriving: how long ingest waits while a day is pruned.

Run by hand:
    python benchmarks/bench_prune.py [--trackers 400] [--hours 12] [--database-url postgresql://...]

Backfills two days (not timed), then prunes the first with `prune_positions` (patrols' tracks kept
first, audited) while a second thread stores a batch of 1,000 fixes of the third day every 50 ms
through the ingest (`live.ingest.Ingest`), timing each batch. Prints the prune's time, rows and bytes freed, and the
slowest batches during it; fails unless the first day is gone, the second whole, and every batch
acknowledged is stored. SQLite first, then PostgreSQL if --database-url names one (dropped and made again).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_backfill import write_day
from bench_ingest import START_MS, durability, prepare

from peacewatch.app import create_app
from peacewatch.live.backfill import backfill, read_csv
from peacewatch.live.ingest import Ingest
from peacewatch.patrols.service import keep_tracks
from peacewatch.tracking.columns import PositionColumns
from peacewatch.tracking.retention import prune_positions

DAY_MS = 86_400_000


def live_batch(trackers: int, step: int) -> PositionColumns:
    """1,000 fixes of the third day, 2.5 per tracker, new at each step."""
    row = step * 1000 + np.arange(1000)
    n = row % trackers
    t = START_MS + 2 * DAY_MS + row // trackers * 5000
    nan = np.full(1000, np.nan)
    return PositionColumns([f"BT-{i:04d}" for i in range(trackers)], n.astype(np.int32), t.astype(np.int64),
                           np.full(1000, 40.1), np.full(1000, 46.7), nan, np.full(1000, 9.0), nan, nan)


def run(trackers: int, hours: float, database_url: str | None) -> None:
    scratch = Path(tempfile.mkdtemp(prefix="pw-prune-"))
    settings = prepare(scratch, trackers, database_url)
    label = f"PostgreSQL ({durability(database_url)})" if database_url else "SQLite (WAL, synchronous=FULL)"
    app = create_app(settings)
    days = []
    for day in range(2):
        path = scratch / f"day{day}.csv"
        rows = write_day(path, trackers, hours)
        columns = read_csv(path).columns
        columns.t_ms += day * DAY_MS
        with app.state.sessionmaker() as session:
            backfill(session, Ingest(8, settings.alert_rules()), "bench", columns)
        days.append(rows)
    latencies: list[float] = []
    stored = 0
    pruning = threading.Event()
    done = threading.Event()

    def ingest() -> None:
        nonlocal stored
        step = 0
        with app.state.sessionmaker() as session:
            while not done.is_set():
                started = time.perf_counter()
                stored += Ingest(8, settings.alert_rules()).record(session, "bench", "http", live_batch(trackers, step)).stored
                if pruning.is_set():
                    latencies.append(time.perf_counter() - started)
                step += 1
                time.sleep(0.05)

    writer = threading.Thread(target=ingest)
    writer.start()
    first_day = datetime.fromtimestamp(START_MS // DAY_MS * DAY_MS / 1000 + 86_400, UTC)
    pruning.set()
    started = time.perf_counter()
    with app.state.sessionmaker() as session:
        report = prune_positions(session, "bench", first_day, [keep_tracks])
    elapsed = time.perf_counter() - started
    pruning.clear()
    done.set()
    writer.join()
    with app.state.sessionmaker() as session:
        left = session.connection().exec_driver_sql("SELECT count(*) FROM positions").scalar_one()
    app.state.engine.dispose()
    expected = days[1] + stored
    if report.positions != days[0] or left != expected:
        sys.exit(f"FAILED: pruned {report.positions:,} of {days[0]:,}; {left:,} left, expected {expected:,}")
    slowest = sorted(latencies)[-3:]
    print(f"{label}: pruned {report.positions:,} positions in {elapsed:.2f} s, {report.bytes_freed / 1e6:,.0f} MB freed; "
          f"{len(latencies)} batches stored meanwhile, slowest {', '.join(f'{s * 1000:.0f}' for s in slowest)} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trackers", type=int, default=400)
    parser.add_argument("--hours", type=float, default=12)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    run(args.trackers, args.hours, None)
    if args.database_url:
        run(args.trackers, args.hours, args.database_url)


if __name__ == "__main__":
    main()
