"""Throughput of the live map's hot paths: where every tracker is (the map's refresh and each live
event), recent tracks for the map, and the official map rendered for the press.

Run by hand, not in the test suite:
    python benchmarks/bench_map.py [--trackers 300] [--hours 24] [--database-url postgresql://...]

It builds a scratch SQLite database (or the PostgreSQL database named: its public schema is dropped
and made again) with the reference scenario and ``trackers`` trackers, each reporting every 10 s for
``hours`` hours (300 trackers x 24 h = 2.6 M positions) through the position store, then times
GET /api/v1/positions/latest (at the end and at a past moment), /positions/tracks, and the
official map as PNG and PDF, through the HTTP API, checking that every tracker is in the answers.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from peacewatch.app import create_app
from peacewatch.core.auth import User, issue_access_token
from peacewatch.core.migrate import upgrade
from peacewatch.core.settings import AlertSettings, Settings
from peacewatch.live.ingest import Ingest
from peacewatch.scenario import nk2020
from peacewatch.tracking.columns import PositionColumns
from peacewatch.tracking.models import Tracker, TrackerKind


def timed(client: TestClient, url: str, headers: dict[str, str], runs: int) -> tuple[float, int, Any]:
    samples = []
    size = 0
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url, headers=headers)
        samples.append(time.perf_counter() - start)
        assert response.status_code == 200, response.text
        size = len(response.content)
    return statistics.median(samples), size, response


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trackers", type=int, default=300)
    parser.add_argument("--hours", type=float, default=24)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="pw-bench-map-"))
    url = args.database_url or f"sqlite:///{root / 'bench.db'}"
    settings = Settings(data_dir=root, database_url=url, secret_key="bench-secret-" + "x" * 40, custody_key="bench-custody-" + "y" * 40)
    if args.database_url:
        engine = create_engine(settings.resolved_database_url)
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        engine.dispose()
    upgrade(settings.resolved_database_url)
    app = create_app(settings)
    with app.state.sessionmaker() as session:
        nk2020.load(session)
        session.info["actor"] = "bench"
        session.add_all(Tracker(code=f"B{i:04d}", kind=TrackerKind.vehicle) for i in range(args.trackers))
        session.commit()
        token = issue_access_token(session.query(User).filter_by(username="ops").one(), settings.resolved_secret_key, 60)
    headers = {"Authorization": f"Bearer {token}"}
    end = datetime(2020, 11, 20, tzinfo=UTC)
    steps = int(args.hours * 360)
    t0_ms = int((end - timedelta(hours=args.hours)).timestamp() * 1000)
    rng = np.random.default_rng(3)
    started = time.perf_counter()
    names = [f"B{i:04d}" for i in range(args.trackers)]
    with app.state.sessionmaker() as session:
        for first in range(0, args.trackers, 50):  # 50 trackers' days a batch
            group = range(first, min(first + 50, args.trackers))
            index = np.repeat(np.array(list(group), dtype=np.int32), steps)
            t_ms = np.tile(t0_ms + np.arange(steps, dtype=np.int64) * 10_000, len(group))
            lat = 39.8 + np.concatenate([np.cumsum(rng.normal(0, 2e-4, steps)) for _ in group])
            lon = 46.7 + np.concatenate([np.cumsum(rng.normal(0, 2e-4, steps)) for _ in group])
            nan = np.full(len(index), np.nan)
            Ingest(8, AlertSettings()).record(session, "bench", "bench", PositionColumns(names, index, t_ms, lat, lon, nan, nan, nan, nan))
    total = args.trackers * steps
    print(f"loaded {total:,} positions of {args.trackers} trackers in {time.perf_counter() - started:.1f} s")
    with TestClient(app) as client:
        for label, url in [
            ("latest, now", f"/api/v1/positions/latest?at={end.isoformat()}"),
            ("latest, 12 h earlier", f"/api/v1/positions/latest?at={(end - timedelta(hours=12)).isoformat()}"),
            ("tracks, last 2 h", f"/api/v1/positions/tracks?until={end.isoformat()}&hours=2"),
            ("official map GeoJSON", "/api/v1/official-map?on=2020-11-18"),
            ("official map PNG", "/api/v1/official-map?on=2020-11-18&format=png"),
            ("official map PDF", "/api/v1/official-map?on=2020-11-18&format=pdf"),
        ]:
            seconds, size, body = timed(client, url.replace("+00:00", "Z"), headers, 5)
            if label.startswith(("latest, now", "tracks")):  # every tracker, and each track thinned to the map's 500 points
                features = body.json()["features"]
                assert len([f for f in features if f["properties"]["code"].startswith("B")]) == args.trackers, label
                assert label != "tracks, last 2 h" or all(len(f["geometry"]["coordinates"]) <= 501 for f in features)
            print(f"{label:24s} {seconds * 1000:8.1f} ms median of 5  ({size / 1024:,.0f} KiB)")
    app.state.engine.dispose()


if __name__ == "__main__":
    main()
