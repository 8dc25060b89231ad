"""Durable position ingest: parse, validate, geofence, H3, store, commit per batch.

Run by hand:
    python benchmarks/bench_ingest.py [--trackers 400] [--batch 10000] [--batches 30] [--http] [--in-flight 2]
        [--database-url postgresql://postgres@127.0.0.1:55432/bench]

In-process it calls the same parse and record functions as POST /api/v1/positions; with --http it
starts `peacewatch serve` on a scratch data directory and posts JSON batches to it over loopback,
each batch acknowledged only after its transaction committed, judged against the alert rules.
With --database-url the same runs are made on that PostgreSQL database (its public schema is
dropped and made again: give it a scratch one) right after SQLite's, side by side.
Every run checks that each position sent was stored once: the answers' counts and the table's.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import orjson
from sqlalchemy import create_engine

from peacewatch.app import create_app
from peacewatch.core.migrate import upgrade
from peacewatch.core.settings import Settings
from peacewatch.live.ingest import Ingest
from peacewatch.scenario import nk2020
from peacewatch.tracking.columns import from_rows
from peacewatch.tracking.models import Tracker, TrackerKind

START_MS = 1605340800000  # 2020-11-14T08:00:00Z


def make_batches(trackers: int, batch: int, batches: int) -> list[bytes]:
    """Trackers circling inside the North area, one fix every 5 s each."""
    bodies = []
    step = 0
    for _ in range(batches):
        rows = []
        for i in range(batch):
            n, k = i % trackers, step + i // trackers
            angle = (n * 0.7 + k * 0.01) % (2 * math.pi)
            t = START_MS + k * 5000
            rows.append({
                "tracker": f"BT-{n:04d}",
                "t": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t / 1000)) + "Z",
                "lat": 40.1 + 0.08 * math.sin(angle), "lon": 46.7 + 0.1 * math.cos(angle), "speed": 9.0,
            })
        step += math.ceil(batch / trackers)
        bodies.append(orjson.dumps({"positions": rows}))
    return bodies


BENCH_SECRET, BENCH_CUSTODY = "bench-" + "x" * 40, "bench-custody-" + "y" * 40


def prepare(data_dir: Path, trackers: int, database_url: str | None = None) -> Settings:
    """A fresh schema with the scenario and ``trackers`` trackers: SQLite in ``data_dir``, or the PostgreSQL
    database named, whose public schema is dropped and made again (give it a scratch database)."""
    settings = Settings(data_dir=data_dir, database_url=database_url, secret_key=BENCH_SECRET, custody_key=BENCH_CUSTODY)
    if database_url:
        engine = create_engine(settings.resolved_database_url)
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        engine.dispose()
    upgrade(settings.resolved_database_url)
    app = create_app(settings)
    with app.state.sessionmaker() as session:
        nk2020.load(session)
        session.info["actor"] = "bench"
        session.add_all(Tracker(code=f"BT-{n:04d}", kind=TrackerKind.vehicle) for n in range(trackers))
        session.commit()
    app.state.engine.dispose()
    return settings


def stored_positions(settings: Settings) -> int:
    engine = create_engine(settings.resolved_database_url)
    with engine.connect() as connection:
        count = int(connection.exec_driver_sql("SELECT count(*) FROM positions").scalar_one())
    engine.dispose()
    return count


def durability(url: str) -> str:
    """The settings a commit's durability depends on, as the server reports them."""
    engine = create_engine(url)
    with engine.connect() as connection:
        shown = [f"{name}={connection.exec_driver_sql(f'SHOW {name}').scalar_one()}" for name in ("fsync", "synchronous_commit")]
    engine.dispose()
    return ", ".join(shown)


def check(settings: Settings, acknowledged: int, expected: int) -> None:
    """Every position sent was acknowledged as new and is in the table: a benchmark that lost rows fails."""
    in_table = stored_positions(settings)
    if not acknowledged == in_table == expected:
        sys.exit(f"FAILED: {expected:,} sent, {acknowledged:,} acknowledged as stored, {in_table:,} in the table")


def in_process(settings: Settings, bodies: list[bytes], expected: int) -> float:
    app = create_app(settings)
    total = 0
    started = time.perf_counter()
    with app.state.sessionmaker() as session:
        for body in bodies:
            columns = from_rows(orjson.loads(body)["positions"])
            total += Ingest(8, settings.alert_rules()).record(session, "bench", "http", columns).stored
    elapsed = time.perf_counter() - started
    app.state.engine.dispose()
    check(settings, total, expected)
    return total / elapsed


@contextmanager
def served(settings: Settings, port: int, **extra_env: str) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    """`peacewatch serve` on the scratch data directory; yields a client and the ops user's headers."""
    env = os.environ | {"PEACEWATCH_DATA_DIR": str(settings.data_dir), "PEACEWATCH_SECRET_KEY": settings.secret_key or "",
                        "PEACEWATCH_CUSTODY_KEY": settings.custody_key or "",
                        "PEACEWATCH_DATABASE_URL": settings.resolved_database_url}
    server = subprocess.Popen([sys.executable, "-m", "peacewatch", "serve", "--port", str(port)], env=env | extra_env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            for _ in range(100):
                try:
                    client.get("/healthz")
                    break
                except httpx.TransportError:
                    time.sleep(0.2)
            token = client.post("/api/v1/auth/token", data={"username": "ops", "password": "demo"}).json()["access_token"]
            yield client, {"Authorization": f"Bearer {token}"}
    finally:
        server.terminate()
        server.wait()


def over_http(settings: Settings, bodies: list[bytes], in_flight: int, expected: int, port: int = 8799) -> float:
    with served(settings, port) as (client, auth):
        headers = auth | {"Content-Type": "application/json"}

        def post(body: bytes) -> int:
            response = client.post("/api/v1/positions", content=body, headers=headers)
            response.raise_for_status()
            return int(response.json()["stored"])

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=in_flight) as pool:
            total = sum(pool.map(post, bodies))
        elapsed = time.perf_counter() - started
    check(settings, total, expected)
    return total / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trackers", type=int, default=400)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--http", action="store_true")
    parser.add_argument("--in-flight", type=int, default=1, help="Batches sent at once over HTTP")
    parser.add_argument("--database-url", help="Also run on this PostgreSQL database (dropped and made again)")
    args = parser.parse_args()
    bodies = make_batches(args.trackers, args.batch, args.batches)
    expected = args.batch * args.batches
    print(f"{len(bodies)} batches of {args.batch:,} positions from {args.trackers} trackers, "
          f"{sum(map(len, bodies)) / len(bodies) / 1e6:.1f} MB of JSON each")
    databases = [("SQLite (WAL, synchronous=FULL)", None)]
    if args.database_url:
        databases.append((f"PostgreSQL ({durability(args.database_url)})", args.database_url))
    print(f"{'database':<44} {'in-process':>14} {'HTTP, ' + str(args.in_flight) + ' in flight':>18}   positions/s, all stored once")
    for label, url in databases:
        rate = in_process(prepare(Path(tempfile.mkdtemp(prefix="pw-ingest-")), args.trackers, url), bodies, expected)
        served_rate = (over_http(prepare(Path(tempfile.mkdtemp(prefix="pw-ingest-")), args.trackers, url), bodies,
                                 args.in_flight, expected) if args.http else None)
        print(f"{label:<44} {rate:>14,.0f} {'' if served_rate is None else f'{served_rate:,.0f}':>18}")


if __name__ == "__main__":
    main()
