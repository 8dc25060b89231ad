"""Durable position ingest: parse, validate, geofence, H3, store, commit per batch.

Run by hand:
    python benchmarks/bench_ingest.py [--trackers 400] [--batch 10000] [--batches 30] [--http]

In-process it calls the same parse and record functions as POST /api/v1/positions; with --http it
starts `peacewatch serve` on a scratch data directory and posts JSON batches to it over loopback,
each batch acknowledged only after its transaction committed.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson
from sqlalchemy import create_engine

from peacewatch.app import create_app
from peacewatch.core.migrate import upgrade
from peacewatch.core.settings import Settings
from peacewatch.scenario import nk2020
from peacewatch.tracking.columns import from_rows
from peacewatch.tracking.models import Tracker, TrackerKind
from peacewatch.tracking.service import record_positions

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


def in_process(settings: Settings, bodies: list[bytes]) -> None:
    app = create_app(settings)
    total = 0
    started = time.perf_counter()
    with app.state.sessionmaker() as session:
        for body in bodies:
            columns = from_rows(orjson.loads(body)["positions"])
            total += record_positions(session, "bench", "http", columns, h3_resolution=8).stored
    elapsed = time.perf_counter() - started
    print(f"in-process parse+validate+geofence+H3+store+commit: {total:,} positions in {elapsed:.2f} s = {total / elapsed:,.0f}/s")
    app.state.engine.dispose()


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


def over_http(settings: Settings, bodies: list[bytes], in_flight: int, port: int = 8799) -> None:
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
    print(f"HTTP POST /api/v1/positions, {in_flight} batch(es) in flight (acknowledged = committed): "
          f"{total:,} positions in {elapsed:.2f} s = {total / elapsed:,.0f}/s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trackers", type=int, default=400)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--http", action="store_true")
    parser.add_argument("--in-flight", type=int, default=1, help="Batches sent at once over HTTP")
    args = parser.parse_args()
    bodies = make_batches(args.trackers, args.batch, args.batches)
    print(f"{len(bodies)} batches of {args.batch:,} positions from {args.trackers} trackers, "
          f"{sum(map(len, bodies)) / len(bodies) / 1e6:.1f} MB of JSON each")
    in_process(prepare(Path(tempfile.mkdtemp(prefix="pw-ingest-")), args.trackers), bodies)
    if args.http:
        over_http(prepare(Path(tempfile.mkdtemp(prefix="pw-ingest-")), args.trackers), bodies, args.in_flight)


if __name__ == "__main__":
    main()
