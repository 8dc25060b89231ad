"""An online upgrade: how long ingest waits while the schema is migrated over a large positions table (PostgreSQL).

Run by hand:
    python benchmarks/bench_upgrade.py --database-url postgresql://postgres@127.0.0.1:54329/pw_bench [--positions 10000000]

The database (dropped and made again) is brought to revision 0011, the layout of a deployment before positions
were partitioned, and filled with ``--positions`` fixes of 400 trackers and their coverage cells (not timed).
Then ``peacewatch db upgrade``'s migrations run to the head while a writer stores a batch of 100 fixes every
20 ms, as the old version's ingest does (floating-point degrees and an H3 cell); once the new layout is swapped
in, it writes as the new version does (whole 10⁻⁷ degrees), as restarted processes would. Prints the upgrade's
duration, the batches written during it and the longest and 99th-percentile time a batch took; fails unless
every row is in the new layout (the 0011 rows and every batch acknowledged), and prints what the writer was
refused (the one old-layout batch that met the swapped table, which a restarted process would not send).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from peacewatch.core.db import make_engine
from peacewatch.core.migrate import upgrade
from peacewatch.core.notify import libpq_url

TRACKERS = 400
START_MS = 1_604_966_400_000  # 2020-11-10T00:00Z, the deployment's first day
STEP_MS = 5_000  # a fix every 5 s per tracker
BATCH = 100
LIVE_MS = 1_796_000_000_000  # the writer's fixes: far after the seeded ones, on days of their own


def recreate(url: str) -> None:
    parsed = make_url(url)
    admin = libpq_url(parsed.set(database="postgres").render_as_string(hide_password=False))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{parsed.database}"')


def seed(url: str, positions: int) -> None:
    """0011's layout filled by the server itself (generate_series): the trackers, the fixes, an hour's cells each."""
    with psycopg.connect(libpq_url(url), autocommit=True) as connection:
        connection.execute(f"INSERT INTO trackers (code, name, kind, visibility, created_at, updated_at) SELECT 'UP-' || n, "
                           f"'bench ' || n, 'vehicle', 'public', now(), now() FROM generate_series(1, {TRACKERS}) AS n")
        per_tracker = positions // TRACKERS
        began = time.perf_counter()
        connection.execute(
            "INSERT INTO positions (tracker_id, t_ms, lat, lon, cell, zone_id) "
            f"SELECT k.id, {START_MS} + s * {STEP_MS}, 40.0 + (s % 1000) * 0.0001, 46.5 + k.id * 0.001, 613196075335696383, NULL "
            f"FROM trackers k CROSS JOIN generate_series(0, {per_tracker - 1}) AS s")
        connection.execute(f"INSERT INTO coverage (zone_id, hour_ms, cell) SELECT 1, {START_MS} + h::bigint * 3600000, "
                           f"613196075335696383 + c FROM generate_series(0, {per_tracker * STEP_MS // 3_600_000}) AS h "
                           "CROSS JOIN generate_series(0, 49) AS c")
        connection.execute("VACUUM ANALYZE positions")
        print(f"seeded {per_tracker * TRACKERS:,} positions of {TRACKERS} trackers in 0011's layout in "
              f"{time.perf_counter() - began:.0f} s")


class Writer:
    """A batch of fixes every 20 ms, each batch a transaction, timed; the old layout until the swap, then the new."""

    def __init__(self, url: str) -> None:
        self.url = libpq_url(url)
        self.took: list[float] = []
        self.acknowledged = 0
        self.refused: list[str] = []
        self.new_layout = False
        self.stop = threading.Event()
        self.step = 0

    def run(self) -> None:
        with psycopg.connect(self.url) as connection:
            while not self.stop.is_set():
                rows = [(1 + (self.step * BATCH + i) % TRACKERS, LIVE_MS + (self.step * BATCH + i) // TRACKERS * STEP_MS)
                        for i in range(BATCH)]
                began = time.perf_counter()
                try:
                    with connection.transaction(), connection.cursor() as cursor:
                        if self.new_layout:
                            cursor.executemany("INSERT INTO positions (tracker_id, t_ms, lat, lon) VALUES (%s, %s, 401000000, 467000000)"
                                               " ON CONFLICT DO NOTHING", rows)
                        else:
                            cursor.executemany("INSERT INTO positions (tracker_id, t_ms, lat, lon, cell) VALUES (%s, %s, 40.1, 46.7, 1)"
                                               " ON CONFLICT DO NOTHING", rows)
                    self.took.append(time.perf_counter() - began)
                    self.acknowledged += BATCH
                    self.step += 1
                except psycopg.errors.UndefinedColumn as exc:  # the new layout is in: a restarted process writes it
                    self.refused.append(str(exc).splitlines()[0])
                    self.new_layout = True
                time.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="a PostgreSQL database to drop and make again")
    parser.add_argument("--positions", type=int, default=10_000_000)
    args = parser.parse_args()
    url = args.database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    recreate(url)
    engine = make_engine(url)
    upgrade(engine, "0011")
    seed(url, args.positions)
    with psycopg.connect(libpq_url(url)) as connection:
        settings = dict(connection.execute("SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit')").fetchall())
        before = connection.execute("SELECT count(*) FROM positions").fetchone()[0]  # type: ignore[index]  # count(*) is one row
    writer = Writer(url)
    thread = threading.Thread(target=writer.run, daemon=True)
    thread.start()
    time.sleep(1)  # the writer's pace before the upgrade begins
    steady = len(writer.took)
    began = time.perf_counter()
    upgrade(engine)
    lasted = time.perf_counter() - began
    time.sleep(1)
    writer.stop.set()
    thread.join(30)
    engine.dispose()
    during = writer.took[steady:]
    with psycopg.connect(libpq_url(url)) as connection:
        after = connection.execute("SELECT count(*) FROM positions").fetchone()[0]  # type: ignore[index]  # an aggregate answers one row
        layout = connection.execute("SELECT data_type FROM information_schema.columns WHERE table_name = 'positions' "
                                    "AND column_name = 'lat'").fetchone()
        partitions = connection.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = 'positions'::regclass").fetchone()[0]  # type: ignore[index]  # an aggregate answers one row
    print(f"PostgreSQL (fsync={settings['fsync']}, synchronous_commit={settings['synchronous_commit']}): "
          f"upgrade 0011 → head over {before:,} positions took {lasted:.1f} s")
    print(f"writer: {len(during)} batches of {BATCH} during it; per batch median {statistics.median(during) * 1000:.1f} ms, "
          f"p99 {sorted(during)[int(len(during) * 0.99)] * 1000:.1f} ms, longest stall {max(during) * 1000:.0f} ms")
    print(f"refused: {writer.refused or 'nothing'}")
    assert layout == ("integer",), layout
    assert partitions > 0
    assert after == before + writer.acknowledged, (before, writer.acknowledged, after)
    assert len(writer.refused) <= 1
    print(f"checked: {after:,} positions in the partitioned layout ({partitions} days) = {before:,} before + "
          f"{writer.acknowledged:,} acknowledged during")


if __name__ == "__main__":
    main()
