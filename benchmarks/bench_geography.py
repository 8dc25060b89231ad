"""Throughput of the geography hot paths: importing posts, and reading them by box and date.

Run by hand, not in the test suite:
    python benchmarks/bench_geography.py [--posts 20000] [--database-url URL]

It builds a scratch SQLite database (or uses the PostgreSQL URL given, which it wipes), loads the
reference scenario, imports synthetic posts inside the North area in one transaction (the same
path as `peacewatch import`: schema validation, geometry checks, zone containment, audit), then
times bounding-box + date queries through the service and through the HTTP API.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from shapely.geometry import Polygon
from sqlalchemy import text

from peacewatch.app import create_app
from peacewatch.core.auth import User, issue_access_token
from peacewatch.core.migrate import upgrade
from peacewatch.core.settings import Settings
from peacewatch.geography.features import post_feature
from peacewatch.geography.service import import_features, list_posts
from peacewatch.models import load_all_models
from peacewatch.scenario import nk2020


def synthetic_posts(count: int, seed: int = 7) -> list[dict[str, object]]:
    rng = random.Random(seed)
    north = Polygon(nk2020.NORTH)
    minx, miny, maxx, maxy = north.bounds
    posts = []
    while len(posts) < count:
        lon, lat = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if not north.contains(Polygon([(lon, lat), (lon + 1e-6, lat), (lon, lat + 1e-6)])):
            continue
        opened = date(2020, 11, 10) + timedelta(days=rng.randrange(60))
        posts.append({
            "type": "Feature", "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
            "properties": {"code": f"B-{len(posts):06d}", "name": "bench", "zone_code": "north",
                           "opened_on": opened.isoformat(), "visibility": "public"},
        })
    return posts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="peacewatch-bench-"))
    url = args.database_url or f"sqlite:///{scratch / 'bench.db'}"
    settings = Settings(data_dir=scratch, database_url=url, secret_key="bench-" + "x" * 40)
    if url.startswith("postgresql"):
        load_all_models()
        app = create_app(settings)
        with app.state.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        app.state.engine.dispose()
    upgrade(settings.resolved_database_url)
    app = create_app(settings)
    factory = app.state.sessionmaker
    with factory() as session:
        nk2020.load(session)

    features = synthetic_posts(args.posts)
    with factory() as session:
        started = time.perf_counter()
        created, _, _ = import_features(session, "bench", "posts", features)
        elapsed = time.perf_counter() - started
    if created != len(features):
        sys.exit(f"FAILED: {created} of {len(features)} posts stored")
    print(f"import posts (validate + contain + audit, 1 transaction): {created} in {elapsed:.2f} s = {created / elapsed:,.0f} posts/s")

    rng = random.Random(11)
    windows = []
    for _ in range(args.queries):
        lon, lat = rng.uniform(46.4, 46.9), rng.uniform(39.9, 40.3)
        windows.append(((lon, lat, lon + 0.1, lat + 0.05), date(2020, 11, 10) + timedelta(days=rng.randrange(60))))
    with factory() as session:  # the answers, worked out the slow way before timing the fast one
        every = [(p.id, p.geometry.x, p.geometry.y, p.opened_on, p.closed_on) for p in list_posts(session, None, limit=10**6)]
    expected = [[i for i, x, y, opened, closed in every if minx <= x <= maxx and miny <= y <= maxy
                 and opened <= day and (closed is None or closed > day)] for (minx, miny, maxx, maxy), day in windows]
    with factory() as session:
        started, returned, answers = time.perf_counter(), 0, []
        for bbox, day in windows:
            found = list_posts(session, None, bbox=bbox, on=day, limit=10_000)
            shaped = [post_feature(p, day) for p in found]
            returned += len(shaped)
            answers.append([f["id"] for f in shaped])
        elapsed = time.perf_counter() - started
    if answers != expected:
        sys.exit("FAILED: the service's posts differ from those worked out one by one")
    print(f"service: bbox+date query and GeoJSON shaping: {args.queries / elapsed:,.0f} queries/s, "
          f"{returned / elapsed:,.0f} features/s (mean {returned / args.queries:.0f} features per query)")

    with factory() as session:
        user = session.query(User).filter_by(username="ops").one()
        headers = {"Authorization": f"Bearer {issue_access_token(user, settings.resolved_secret_key, 60)}"}
    with TestClient(app) as client:
        started, returned, answers = time.perf_counter(), 0, []
        for (minx, miny, maxx, maxy), day in windows:
            response = client.get("/api/v1/posts", params={"bbox": f"{minx},{miny},{maxx},{maxy}", "on": day.isoformat()},
                                  headers=headers)
            returned += len(response.json()["features"])
            answers.append([f["id"] for f in response.json()["features"]])
        elapsed = time.perf_counter() - started
    if answers != expected:
        sys.exit("FAILED: the API's posts differ from those worked out one by one")
    print(f"HTTP GET /api/v1/posts?bbox&on (in-process client): {args.queries / elapsed:,.0f} requests/s, "
          f"{returned / elapsed:,.0f} features/s")
    app.state.engine.dispose()


if __name__ == "__main__":
    main()
