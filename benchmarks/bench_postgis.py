"""Side by side: PeaceWatch's ingest on SQLite against PostgreSQL+PostGIS doing the geofence in SQL.

Run by hand, with a PostgreSQL that has PostGIS (Debian: postgresql-15-postgis-3):
    python benchmarks/bench_postgis.py --postgis postgresql://postgres@127.0.0.1:54330/postgres [--batches 60]

The same batches of 10,000 positions (400 trackers) go:
- through PeaceWatch (parse, check, geofence with Shapely on arrays, H3, alert rules, store, commit);
- into PostGIS, one statement per batch: INSERT ... SELECT ... FROM unnest(arrays) with a
  ST_Contains sub-select against the same areas, ON CONFLICT DO NOTHING, commit.
PostGIS does less (no H3, no alert rules), so the ratio flatters it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import orjson
import psycopg

sys.path.insert(0, str(Path(__file__).parent))
from bench_ingest import check, make_batches, prepare

from peacewatch.app import create_app
from peacewatch.core.settings import AlertSettings
from peacewatch.live.ingest import Ingest
from peacewatch.scenario.nk2020 import NORTH, SOUTH
from peacewatch.tracking.columns import from_rows

SETUP = """
CREATE EXTENSION IF NOT EXISTS postgis;
DROP TABLE IF EXISTS bench_positions, bench_areas;
CREATE TABLE bench_areas (id int PRIMARY KEY, geom geometry(Polygon, 4326));
CREATE INDEX ON bench_areas USING gist (geom);
CREATE TABLE bench_positions (tracker_id int, t_ms bigint, lat float8, lon float8, speed float8,
    geom geometry(Point, 4326), zone_id int, PRIMARY KEY (tracker_id, t_ms));
"""
INSERT = """
INSERT INTO bench_positions (tracker_id, t_ms, lat, lon, speed, geom, zone_id)
SELECT v.tracker, v.t, v.lat, v.lon, v.speed, p.geom,
       (SELECT a.id FROM bench_areas a WHERE ST_Contains(a.geom, p.geom) LIMIT 1)
FROM unnest(%s::int[], %s::bigint[], %s::float8[], %s::float8[], %s::float8[]) AS v(tracker, t, lat, lon, speed),
     LATERAL (SELECT ST_SetSRID(ST_MakePoint(v.lon, v.lat), 4326) AS geom) AS p
ON CONFLICT DO NOTHING
"""


def wkt(ring: list[tuple[float, float]]) -> str:
    return "POLYGON((" + ", ".join(f"{x} {y}" for x, y in ring) + "))"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgis", required=True, help="URL of a PostgreSQL database where PostGIS can be created")
    parser.add_argument("--batches", type=int, default=60)
    args = parser.parse_args()
    bodies = make_batches(400, 10_000, args.batches)
    total = 10_000 * args.batches

    settings = prepare(Path(tempfile.mkdtemp(prefix="pw-postgis-")), 400)
    app = create_app(settings)
    started, stored = time.perf_counter(), 0
    with app.state.sessionmaker() as session:
        for body in bodies:
            stored += Ingest(8, AlertSettings()).record(session, "bench", "http", from_rows(orjson.loads(body)["positions"])).stored
    ours = time.perf_counter() - started
    app.state.engine.dispose()
    check(settings, stored, total)

    with psycopg.connect(args.postgis) as conn:
        conn.execute(SETUP)
        conn.execute("INSERT INTO bench_areas VALUES (1, ST_GeomFromText(%s, 4326)), (2, ST_GeomFromText(%s, 4326))",
                     (wkt(NORTH), wkt(SOUTH)))
        conn.commit()
        started = time.perf_counter()
        for body in bodies:
            rows = orjson.loads(body)["positions"]
            tracker = [int(r["tracker"][3:]) for r in rows]
            t_ms = (np.array([r["t"][:-1] for r in rows], dtype="datetime64[ms]").astype(np.int64)).tolist()
            conn.execute(INSERT, (tracker, t_ms, [r["lat"] for r in rows], [r["lon"] for r in rows], [r["speed"] for r in rows]))
            conn.commit()
        theirs = time.perf_counter() - started
        inside = conn.execute("SELECT count(*) FROM bench_positions WHERE zone_id IS NOT NULL").fetchone()
        theirs_stored = conn.execute("SELECT count(*) FROM bench_positions").fetchone()[0]
    if theirs_stored != total:
        sys.exit(f"FAILED: PostGIS stored {theirs_stored:,} of {total:,}")
    print(f"PeaceWatch on SQLite (parse, check, Shapely geofence, H3, alerts, store): {total / ours:,.0f} positions/s")
    print(f"PostgreSQL+PostGIS (parse, INSERT with ST_Contains, store):                {total / theirs:,.0f} positions/s "
          f"({inside[0]:,} inside an area)")
    print(f"ratio: PeaceWatch is {theirs / ours:.1f}x PostGIS on the same batches, same machine, same run")


if __name__ == "__main__":
    main()
