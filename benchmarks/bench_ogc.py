"""GIS and TAK clients' hot paths: OGC API items (plain, in a box, filtered), an export, and a CoT feed round.

Run by hand, not in the test suite:
    python benchmarks/bench_ogc.py [--incidents 20000] [--trackers 400] [--requests 20]
    python benchmarks/bench_ogc.py --compare-pygeoapi --database-url postgresql://postgres@127.0.0.1:5432/bench

``--compare-pygeoapi`` serves the same events from two servers, one process each, on one PostgreSQL:
PeaceWatch (``peacewatch serve``) and pygeoapi (installed by the benchmark in its own virtual
environment under ``~/.cache/peacewatch-bench/pygeoapi``, served by gunicorn, one process, four
threads) reading a PostGIS table of the events the public sees, with a GiST index. PostGIS comes
from Debian (``apt-get install postgresql-15-postgis-3``). Four clients send the same distinct
requests to each (a page, a box, a CQL2 filter); every answer's ids and count are compared, and the
requests/s and their ratio are printed.

1. Loads the demo into a scratch SQLite database, adds ``incidents`` synthetic incident reports over a
   year (each its own event) and ``trackers`` trackers with a fresh position each.
2. Times the first page of incidents (the events are built from every report, then kept until a
   report changes), then ``requests`` requests of each kind through the application (in-process
   client, as GDAL or QGIS would ask): a page of 100 incidents, the same in a box, the same with a
   CQL2 filter, a page of posts, and an export of every incident as CSV. Prints requests/s.
3. Times one round of the CoT feed for a signed-in client (what it is sent when it connects: the
   posts and every tracker's position) and a round with nothing new. Prints the time per round.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from scratch import demo_app
from sqlalchemy import select

from peacewatch.core.auth import User
from peacewatch.core.visibility import Visibility
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
from peacewatch.live.feed import Subscriber, collect
from peacewatch.tracking.models import Position, Tracker, TrackerKind

START = datetime(2020, 11, 10, tzinfo=UTC)


def add_incidents(app: FastAPI, count: int) -> None:
    rng = random.Random(7)
    with app.state.sessionmaker() as s:
        s.info["actor"] = "bench"
        areas = list(s.scalars(select(Zone).where(Zone.kind == ZoneKind.area_of_responsibility)))
        events = [IncidentEvent() for _ in range(count)]
        s.add_all(events)
        s.flush()
        for event in events:
            area = rng.choice(areas)
            minx, miny, maxx, maxy = area.geometry.bounds
            at = START + timedelta(minutes=rng.randrange(365 * 24 * 60))
            s.add(Incident(event_id=event.id, reported_by="bench", type=IncidentType.ceasefire_violation,
                           time_precision=TimePrecision.exact, place_precision=PlacePrecision.exact,
                           status=rng.choice(list(IncidentStatus)), source=SourceKind.observation_post, started_at=at,
                           ended_at=at + timedelta(minutes=10), lat=rng.uniform(miny, maxy), lon=rng.uniform(minx, maxx),
                           zone_id=area.id, event_count=rng.randint(1, 9), alleged_actors=["unknown"],
                           visibility=rng.choice([Visibility.public, Visibility.internal])))
        s.commit()


def add_trackers(app: FastAPI, count: int) -> None:
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    with app.state.sessionmaker() as s:
        s.info["actor"] = "bench"
        trackers = [Tracker(code=f"B-{i:04d}", name=f"Bench {i}", kind=TrackerKind.vehicle, visibility=Visibility.internal)
                    for i in range(count)]
        s.add_all(trackers)
        s.flush()
        s.add_all(Position(tracker_id=t.id, t_ms=now_ms - 60_000, lat=40.0 + i / 10_000, lon=46.7)
                  for i, t in enumerate(trackers))
        s.commit()


def rate(label: str, requests: int, call: Callable[[], Any]) -> None:
    began = time.perf_counter()
    for _ in range(requests):
        call()
    seconds = time.perf_counter() - began
    print(f"{label:<58} {requests / seconds:8.1f} requests/s  ({seconds / requests * 1000:7.1f} ms each)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=20_000)
    parser.add_argument("--trackers", type=int, default=400)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--compare-pygeoapi", action="store_true", help="side by side with pygeoapi on PostGIS")
    parser.add_argument("--database-url", help="PostgreSQL for --compare-pygeoapi: its public schema is dropped first")
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    if args.compare_pygeoapi:
        if not (args.database_url or "").startswith("postgresql"):
            parser.error("--compare-pygeoapi needs --database-url postgresql://...")
        from pygeoapi_peer import compare

        compare(args.database_url, args.incidents, args.requests, args.clients, add_incidents)
        return
    with demo_app() as (app, _settings, _scratch):
        add_incidents(app, args.incidents)
        add_trackers(app, args.trackers)
        print(f"demo + {args.incidents:,} incident reports + {args.trackers} trackers")
        client = TestClient(app)
        items = "/ogc/collections/incidents/items"
        client.get("/ogc/collections/posts/items").raise_for_status()  # the application warmed, not the collection
        began = time.perf_counter()
        first = client.get(items, params={"limit": 100}).json()
        print(f"{'incidents, the first page':<58} {(time.perf_counter() - began) * 1000:8.0f} ms")
        public = first["numberMatched"]
        assert len(first["features"]) == 100 and public > args.incidents // 3, public
        # each request differs (another page, box or threshold): the answers kept for a repeated request do not count
        counter = iter(range(10**6))

        def check(params: dict[str, object], least: int = 1) -> None:
            body = client.get(items, params={"limit": 100, **params}).json()
            expected = min(100, body["numberMatched"] - int(str(params.get("offset", 0))))
            assert least <= body["numberMatched"] <= public and len(body["features"]) == expected, params

        rate("incidents, a page of 100", args.requests, lambda: check({"offset": 100 * (next(counter) % 90)}))
        rate("incidents in a box, a page of 100", args.requests, lambda: check(
            {"bbox": f"46.6,{39.7 + next(counter) % 100 / 1000:.3f},46.9,40.2"}))
        rate("incidents, CQL2 filter, a page of 100", args.requests, lambda: check(
            {"filter": f"status = 'confirmed' AND event_count >= {1 + next(counter) % 5}"}))
        rate("posts, a page of 100", args.requests, lambda: client.get("/ogc/collections/posts/items", params={"limit": 100}).raise_for_status())
        rate("every public incident as CSV", max(1, args.requests // 4),
             lambda: client.get("/api/v1/exports/incidents", params={"format": "csv"}).raise_for_status())
        with app.state.sessionmaker() as session:
            observer = session.scalar(select(User).where(User.username == "observer"))
            assert observer is not None
            subscriber = Subscriber()
            subscriber.rescope(observer)
            began = time.perf_counter()
            sent = collect(session, subscriber)
            first = time.perf_counter() - began
            began = time.perf_counter()
            again = collect(session, subscriber)
            quiet = time.perf_counter() - began
        print(f"CoT feed, a client's first round: {len(sent):,} events in {first * 1000:.0f} ms; "
              f"a round with nothing new: {len(again)} events in {quiet * 1000:.0f} ms")


if __name__ == "__main__":
    main()
