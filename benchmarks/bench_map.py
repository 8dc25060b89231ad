"""Throughput of the live map's hot paths: where every tracker is (the map's refresh and each live
event), recent tracks for the map, and the official map rendered for the press.

Run by hand, not in the test suite:
    python benchmarks/bench_map.py [--trackers 300] [--hours 24]

It builds a scratch SQLite database with the reference scenario and ``trackers`` trackers, each
reporting every 10 s for ``hours`` hours (300 trackers x 24 h = 2.6 M positions), then times
GET /api/v1/positions/latest (at the end and at a past moment), /positions/tracks, and the
official map as PNG and PDF, through the HTTP API.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient

from peacewatch.app import create_app
from peacewatch.core.auth import User, issue_access_token
from peacewatch.core.migrate import upgrade
from peacewatch.core.settings import Settings
from peacewatch.scenario import nk2020
from peacewatch.tracking.models import Tracker, TrackerKind


def timed(client: TestClient, url: str, headers: dict[str, str], runs: int) -> tuple[float, int]:
    samples = []
    size = 0
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url, headers=headers)
        samples.append(time.perf_counter() - start)
        assert response.status_code == 200, response.text
        size = len(response.content)
    return statistics.median(samples), size


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trackers", type=int, default=300)
    parser.add_argument("--hours", type=float, default=24)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="pw-bench-map-"))
    url = f"sqlite:///{root / 'bench.db'}"
    upgrade(url)
    settings = Settings(data_dir=root, database_url=url, secret_key="bench-secret-" + "x" * 40)
    app = create_app(settings)
    with app.state.sessionmaker() as session:
        nk2020.load(session)
        session.info["actor"] = "bench"
        session.add_all(Tracker(code=f"B{i:04d}", kind=TrackerKind.vehicle) for i in range(args.trackers))
        session.commit()
        ids = [t.id for t in session.query(Tracker).order_by(Tracker.id)]
        token = issue_access_token(session.query(User).filter_by(username="ops").one(), settings.resolved_secret_key, 60)
    headers = {"Authorization": f"Bearer {token}"}
    end = datetime(2020, 11, 20, tzinfo=timezone.utc)
    steps = int(args.hours * 360)
    t0_ms = int((end - timedelta(hours=args.hours)).timestamp() * 1000)
    rng = np.random.default_rng(3)
    started = time.perf_counter()
    with app.state.engine.begin() as connection:
        for tracker_id in ids:
            lat = 39.8 + np.cumsum(rng.normal(0, 2e-4, steps))
            lon = 46.7 + np.cumsum(rng.normal(0, 2e-4, steps))
            rows = [(tracker_id, t0_ms + i * 10_000, float(lat[i]), float(lon[i]), 0) for i in range(steps)]
            connection.exec_driver_sql("INSERT INTO positions (tracker_id, t_ms, lat, lon, cell) VALUES (?, ?, ?, ?, ?)", rows)
    total = len(ids) * steps
    print(f"loaded {total:,} positions of {len(ids)} trackers in {time.perf_counter() - started:.1f} s")
    with TestClient(app) as client:
        for label, url in [
            ("latest, now", f"/api/v1/positions/latest?at={end.isoformat()}"),
            ("latest, 12 h earlier", f"/api/v1/positions/latest?at={(end - timedelta(hours=12)).isoformat()}"),
            ("tracks, last 2 h", f"/api/v1/positions/tracks?until={end.isoformat()}&hours=2"),
            ("official map GeoJSON", "/api/v1/official-map?on=2020-11-18"),
            ("official map PNG", "/api/v1/official-map?on=2020-11-18&format=png"),
            ("official map PDF", "/api/v1/official-map?on=2020-11-18&format=pdf"),
        ]:
            seconds, size = timed(client, url.replace("+00:00", "Z"), headers, 5)
            print(f"{label:24s} {seconds * 1000:8.1f} ms median of 5  ({size / 1024:,.0f} KiB)")
    app.state.engine.dispose()


if __name__ == "__main__":
    main()
